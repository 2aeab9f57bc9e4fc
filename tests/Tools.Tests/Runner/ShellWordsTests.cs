using GuestOS.Runner;

namespace GuestOS.Tools.Tests.Runner;

public sealed class ShellWordsTests
{
    [Theory]
    [InlineData("", new string[0])]
    [InlineData("  -s   -S ", new[] { "-s", "-S" })]
    [InlineData("-object 'rng-random,id=r,filename=/dev/urandom'", new[] { "-object", "rng-random,id=r,filename=/dev/urandom" })]
    [InlineData("-append \"console=ttyS0 quiet\"", new[] { "-append", "console=ttyS0 quiet" })]
    [InlineData("a\\ b \"x\\\"y\" 'it'\\''s' ''", new[] { "a b", "x\"y", "it's", "" })]
    [InlineData("-D\"/tmp/q log\"", new[] { "-D/tmp/q log" })]
    public void Splits_like_a_POSIX_shell(string text, string[] expected)
    {
        Assert.Equal(expected, ShellWords.Split(text));
    }

    [Theory]
    [InlineData("-object 'unterminated")]
    [InlineData("\"unterminated")]
    public void Unterminated_quotes_are_an_error(string text)
    {
        Assert.Throws<RunOptionsException>(() => ShellWords.Split(text));
    }

    [Fact]
    public void Quoting_then_splitting_gives_back_the_argv()
    {
        string[] argv = ["qemu-system-x86_64", "-append", "", "-append", "a b", "it's", "$HOME", "-M", "q35,pcie=on"];

        Assert.Equal(argv, ShellWords.Split(ShellWords.Join(argv)));
        Assert.Equal("-M q35,pcie=on", ShellWords.Join(["-M", "q35,pcie=on"]));
    }
}
