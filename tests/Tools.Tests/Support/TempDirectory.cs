namespace GuestOS.Tools.Tests.Support;

/// <summary>A fresh directory for one test's build products, deleted when the test ends.</summary>
public sealed class TempDirectory : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("guestos-tools-tests-").FullName;

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Leave it to the OS's temp cleaning rather than fail a test over it.
        }
    }
}
