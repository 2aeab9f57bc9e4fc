using System.Text;
using GuestOS.Runner;

namespace GuestOS.Tools.Tests.Runner;

public sealed class ConsoleLineSplitterTests
{
    private static readonly TimeSpan T1 = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan T2 = TimeSpan.FromMilliseconds(250);

    private static byte[] Bytes(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public void A_line_split_across_chunks_is_stamped_with_its_first_byte()
    {
        var splitter = new ConsoleLineSplitter();

        Assert.Empty(splitter.Feed(Bytes("hel"), T1));
        Assert.True(splitter.HasPartialLine);
        var lines = splitter.Feed(Bytes("lo\nnext"), T2);

        Assert.Equal([new ConsoleLine(T1, "hello")], lines);
        Assert.Equal(new ConsoleLine(T2, "next"), splitter.Flush());
        Assert.Null(splitter.Flush());
    }

    [Fact]
    public void Lines_that_arrive_in_one_chunk_share_its_stamp_and_a_later_chunk_stamps_later()
    {
        // The host cannot tell bytes of one read apart in time: this is why the runner's lines
        // are only ever non-decreasing in time, not strictly increasing.
        var splitter = new ConsoleLineSplitter();

        var lines = splitter.Feed(Bytes("one\ntwo\n"), T1).Concat(splitter.Feed(Bytes("three\n"), T2)).ToList();

        Assert.Equal([new ConsoleLine(T1, "one"), new ConsoleLine(T1, "two"), new ConsoleLine(T2, "three")], lines);
    }

    [Fact]
    public void CRLF_split_between_chunks_ends_one_line()
    {
        var splitter = new ConsoleLineSplitter();

        var lines = splitter.Feed(Bytes("a\r"), T1).Concat(splitter.Feed(Bytes("\nb\r\n"), T2)).ToList();

        Assert.Equal(["a", "b"], lines.Select(l => l.Text));
        Assert.False(splitter.HasPartialLine);
    }

    [Fact]
    public void A_UTF8_character_split_between_chunks_survives()
    {
        var splitter = new ConsoleLineSplitter();
        var bytes = Bytes("µs\n");

        var lines = splitter.Feed(bytes.AsSpan(0, 1), T1).Concat(splitter.Feed(bytes.AsSpan(1), T2)).ToList();

        Assert.Equal("µs", Assert.Single(lines).Text);
    }

    [Fact]
    public void Control_bytes_and_invalid_UTF8_become_visible_escapes()
    {
        var splitter = new ConsoleLineSplitter();

        var line = Assert.Single(splitter.Feed([0x1B, (byte)'[', (byte)'2', (byte)'J', 0x00, 0xC3, (byte)'\t', (byte)'\n'], T1));

        Assert.Equal("\\x1b[2J\\x00\uFFFD\t", line.Text);
    }

    [Fact]
    public void Empty_lines_are_kept()
    {
        var lines = new ConsoleLineSplitter().Feed(Bytes("a\n\nb\n"), T1);

        Assert.Equal(["a", "", "b"], lines.Select(l => l.Text));
    }

    [Fact]
    public void An_endless_line_is_cut_so_memory_stays_bounded()
    {
        var splitter = new ConsoleLineSplitter();

        var lines = splitter.Feed(new byte[ConsoleLineSplitter.MaxLineBytes * 2 + 5].Select(_ => (byte)'x').ToArray(), T1);

        Assert.Equal(2, lines.Count);
        Assert.All(lines, l => Assert.Equal(ConsoleLineSplitter.MaxLineBytes, l.Text.Length));
        Assert.Equal(5, splitter.Flush()!.Text.Length);
    }

    [Fact]
    public void Lines_print_with_a_dmesg_style_timestamp()
    {
        Assert.Equal("[  0.153210] text", new ConsoleLine(TimeSpan.FromTicks(1_532_100), "text").ToString());
        Assert.Equal("[ 12.000000] x", new ConsoleLine(TimeSpan.FromSeconds(12), "x").ToString());
    }
}
