using System.Text.RegularExpressions;
using GuestOS.Runner;

namespace GuestOS.Kernel.Tests;

// The whole path in C#: the GuestOS driver -> QEMU's vhost-user-rng-pci -> our backend
// (tools/vhost-user-rng, the NativeAOT build `make test` publishes) -> the guest's interrupt.
public class VhostUserRngTests
{
    private static string Backend
    {
        get
        {
            string path = Environment.GetEnvironmentVariable("VHOST_USER_RNG")
                          ?? Path.Combine(Kernels.RepositoryRoot, "build", "vhost-user-rng", "vhost-user-rng");
            if (!File.Exists(path)) throw new FileNotFoundException($"{path} is missing: `make test` publishes it");
            return path;
        }
    }

    [Theory]
    [InlineData(TargetArch.X86_64, "q35")]
    [InlineData(TargetArch.Aarch64, "virt")]
    public async Task The_guest_reads_a_MiB_through_the_backend(TargetArch arch, string machine)
    {
        await using var backend = await VhostUserRngBackend.StartAsync(Backend);
        var run = await QemuRunner.RunAsync(Options(arch, machine, backend, "rng.bytes=1M quiet"));
        await backend.DisposeAsync();
        Assert.True(run.Passed, run.Report() + LogOf(backend));
        Assert.True(run.Printed("entropy: read 1048576 bytes from 1 device(s)"), run.Report());
        Assert.Contains(backend.Log, l => l.Contains("frontend connected"));
    }

    // QEMU listens (server=on) and the backend connects; the backend is killed while the guest
    // is reading (rate limited, so it is mid-way), and a new one resumes the service.
    [Fact]
    public async Task A_killed_backend_restarted_in_connect_mode_resumes_service()
    {
        await using var backend = await VhostUserRngBackend.StartAsync(Backend, ["--period", "100", "--max-bytes", "32768"], connectMode: true);
        var readingStarted = new TaskCompletionSource();
        var options = Options(TargetArch.X86_64, "q35", backend, "rng.bytes=512K") with
        {
            OnConsoleLine = line => { if (line.Text.Contains("first completion")) readingStarted.TrySetResult(); },
        };
        var guest = QemuRunner.RunAsync(options);
        await Task.Delay(500);                       // QEMU creates the listening socket
        await backend.StartProcessAsync();
        await readingStarted.Task.WaitAsync(TimeSpan.FromSeconds(60));
        await backend.KillAsync();
        await Task.Delay(500);
        await backend.StartProcessAsync();
        var run = await guest;
        await backend.DisposeAsync();

        Assert.True(run.Passed, run.Report() + LogOf(backend));
        Assert.Equal(2, backend.Log.Count(l => l.Contains("connected")));
    }

    private static RunOptions Options(TargetArch arch, string machine, VhostUserRngBackend backend, string append) => new()
    {
        KernelPath = Kernels.Path(arch),
        Arch = arch,
        Machine = machine,
        Append = append,
        SharedMemory = true,
        QemuExtra = backend.QemuArguments,
        Timeout = TimeSpan.FromSeconds(120),
    };

    private static string LogOf(VhostUserRngBackend backend) => "\nbackend log:\n" + string.Join('\n', backend.Log);
}
