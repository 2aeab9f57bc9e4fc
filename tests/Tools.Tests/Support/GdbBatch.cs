using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace GuestOS.Tools.Tests.Support;

/// <summary>
/// gdb-multiarch in batch mode with the same script `make debug` runs interactively
/// (tools/runner/debug.gdb), then the given commands. gdb never outlives the call: at the
/// deadline it is killed, and the test fails with what it printed so far.
/// </summary>
public static class GdbBatch
{
    public static string Script => Path.Combine(Repository.Root, "tools", "runner", "debug.gdb");

    /// <summary>Runs the commands against <paramref name="kernel"/>'s symbols; returns stdout and stderr, merged in arrival order.</summary>
    public static async Task<string> RunAsync(string kernel, IEnumerable<string> commands, TimeSpan deadline)
    {
        // -nx: no ~/.gdbinit, so the session is the script's and nothing else.
        var startInfo = new ProcessStartInfo("gdb-multiarch")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "-q", "-batch", "-nx", "-x", Script }.Concat(commands.SelectMany(c => new[] { "-ex", c })).Append(kernel))
        {
            startInfo.ArgumentList.Add(arg);
        }
        var output = new StringBuilder();
        void Append(object _, DataReceivedEventArgs e)
        {
            if (e.Data is not null)
            {
                lock (output)
                {
                    output.AppendLine(e.Data);
                }
            }
        }

        Process gdb;
        try
        {
            gdb = Process.Start(startInfo)!;
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException($"gdb-multiarch not found ({e.Message}): apt-get install gdb-multiarch", e);
        }
        using (gdb)
        {
            gdb.OutputDataReceived += Append;
            gdb.ErrorDataReceived += Append;
            gdb.BeginOutputReadLine();
            gdb.BeginErrorReadLine();
            using var timeout = new CancellationTokenSource(deadline);
            try
            {
                await gdb.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"gdb did not finish within {deadline.TotalSeconds} s; it printed:\n{Text()}");
            }
            finally
            {
                if (!gdb.HasExited)
                {
                    gdb.Kill(entireProcessTree: true);
                    gdb.WaitForExit();
                }
            }
            gdb.WaitForExit(); // the output events are drained
            return Text();
        }

        string Text()
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }
}
