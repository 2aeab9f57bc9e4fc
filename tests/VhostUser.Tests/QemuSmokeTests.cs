// Real QEMU 7.2 against the backend: a vhost-user-rng-pci device on a paused machine (-S, no
// guest code runs) performs the start-up sequence at realize. The guest-driven part
// (SET_FEATURES ... at DRIVER_OK) needs a guest kernel and is covered end to end elsewhere.

using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using VhostUser.Tests.Frontend;
using Xunit;

namespace VhostUser.Tests;

public class QemuSmokeTests
{
    private static readonly string[] StartupSequence =
    {
        "VHOST_USER_GET_FEATURES", "VHOST_USER_GET_PROTOCOL_FEATURES", "VHOST_USER_SET_PROTOCOL_FEATURES",
        "VHOST_USER_GET_QUEUE_NUM", "VHOST_USER_SET_OWNER", "VHOST_USER_GET_FEATURES",
        "VHOST_USER_SET_VRING_CALL", "VHOST_USER_SET_VRING_ERR",
    };

    private static Process StartQemu(string chardev)
    {
        bool arm = RuntimeInformation.ProcessArchitecture == Architecture.Arm64;
        var start = new ProcessStartInfo(arm ? "qemu-system-aarch64" : "qemu-system-x86_64")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        string[] args =
        {
            "-M", arm ? "virt" : "q35", "-accel", "tcg", "-nodefaults", "-display", "none", "-S",
            "-m", "64M", "-object", "memory-backend-memfd,id=mem,size=64M,share=on", "-machine", "memory-backend=mem",
            "-chardev", chardev, "-device", "vhost-user-rng-pci,chardev=c0,vectors=2",
            "-monitor", "none", "-serial", "none",
        };
        foreach (string a in args) start.ArgumentList.Add(a);
        return Process.Start(start) ?? throw new InvalidOperationException("cannot start QEMU");
    }

    private static string[] RequestsLogged(BackendHarness backend) =>
        backend.Log.Lines.Where(l => l.Contains(": VHOST_USER_"))
            .Select(l => l[(l.IndexOf(": VHOST_USER_", StringComparison.Ordinal) + 2)..].Split(' ')[0])
            .ToArray();

    [Fact]
    public void Qemu_CompletesTheStartupSequence_AgainstAListeningBackend()
    {
        using var backend = new BackendHarness("-v");
        using var qemu = StartQemu($"socket,id=c0,path={backend.Socket(0)}");
        try
        {
            backend.Log.AssertContains("VHOST_USER_SET_VRING_ERR index=0 fds=1", 20_000);
            Assert.Equal(StartupSequence, RequestsLogged(backend));
            backend.Log.AssertContains("reply VHOST_USER_GET_FEATURES features=0x170000000");
        }
        finally
        {
            qemu.Kill();
            qemu.WaitForExit();
        }
        backend.Log.AssertContains("the frontend closed the connection");
        backend.AssertAlive();
    }

    [Fact]
    public void Qemu_AsServer_AcceptsARestartedBackend()
    {
        string dir = Path.Combine(Path.GetTempPath(), "vut-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, "qemu.sock");
        using var qemu = StartQemu($"socket,id=c0,path={path}0,server=on");
        try
        {
            using (var first = new BackendHarness("-s", path, "--connect", "-v"))
            {
                first.Log.AssertContains("VHOST_USER_SET_VRING_ERR index=0 fds=1", 20_000);
                Assert.Equal(StartupSequence, RequestsLogged(first));
            }   // the backend goes away...
            using var second = new BackendHarness("-s", path, "--connect", "-v");
            second.Log.AssertContains("frontend connected", 20_000);   // ...and its successor is taken back
            Assert.False(qemu.HasExited, "QEMU should survive the backend's restart");
        }
        finally
        {
            qemu.Kill();
            qemu.WaitForExit();
            Directory.Delete(dir, true);
        }
    }
}
