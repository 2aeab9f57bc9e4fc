// The backend as its own process (the apphost built next to the tests), for what only a
// process can show: exit codes, stdout, and signals.

using System;
using System.Diagnostics;
using System.IO;
using System.Text;
using Xunit;

namespace VhostUser.Tests.Frontend;

public sealed class BackendProcess : IDisposable
{
    /// <summary>The apphost built next to the tests, or the program named by $VHOST_USER_RNG
    /// (e.g. the NativeAOT executable from `dotnet publish`).</summary>
    public static string Executable =>
        Environment.GetEnvironmentVariable("VHOST_USER_RNG") is { Length: > 0 } path
            ? path
            : Path.Combine(AppContext.BaseDirectory, "vhost-user-rng");

    private readonly StringBuilder _stderr = new();
    public Process Process { get; }

    public BackendProcess(params string[] args)
    {
        var start = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in args) start.ArgumentList.Add(a);
        Process = Process.Start(start) ?? throw new InvalidOperationException("could not start " + Executable);
        Process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_stderr) _stderr.AppendLine(e.Data); };
        Process.BeginErrorReadLine();
    }

    public string Stderr { get { lock (_stderr) return _stderr.ToString(); } }

    public string ReadStdoutToEnd() => Process.StandardOutput.ReadToEnd();

    public int WaitForExit(int timeoutMs = Wait.DefaultTimeoutMs)
    {
        Assert.True(Process.WaitForExit(timeoutMs), $"the backend did not exit; stderr:\n{Stderr}");
        Process.WaitForExit();   // flush the asynchronous stderr reader
        return Process.ExitCode;
    }

    public void Dispose()
    {
        if (!Process.HasExited) Process.Kill();
        Process.Dispose();
    }
}
