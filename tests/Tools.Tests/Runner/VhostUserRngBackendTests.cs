using System.Diagnostics;
using System.Net.Sockets;
using GuestOS.Runner;
using GuestOS.Tools.Tests.Support;

namespace GuestOS.Tools.Tests.Runner;

// The runner's handle on the vhost-user-rng backend (the executable `make` publishes, or
// $VHOST_USER_RNG) when one process serves several guests.
public sealed class VhostUserRngBackendTests
{
    private static string Backend
    {
        get
        {
            string path = Environment.GetEnvironmentVariable("VHOST_USER_RNG")
                          ?? Path.Combine(Repository.Root, "build", "vhost-user-rng", "vhost-user-rng");
            return File.Exists(path) ? path : throw new FileNotFoundException($"{path} is missing: `make build/vhost-user-rng/vhost-user-rng` builds it");
        }
    }

    [Fact]
    public async Task One_process_serves_a_socket_per_guest_and_each_guest_is_given_its_own()
    {
        await using var backend = await VhostUserRngBackend.StartAsync(Backend, socketCount: 3);

        var frontends = new List<Socket>();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                var frontend = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                frontends.Add(frontend);
                frontend.Connect(new UnixDomainSocketEndPoint(backend.SocketPathOf(i)));
                Assert.Contains($"path={backend.SocketPathOf(i)}", backend.QemuArgumentsFor(i)[1]);
            }
            var clock = Stopwatch.StartNew();
            while (backend.Log.Count(l => l.EndsWith(": frontend connected")) < 3 && clock.Elapsed < TimeSpan.FromSeconds(10))
                await Task.Delay(10);
            for (int i = 0; i < 3; i++)
                Assert.Contains($"{backend.SocketPathOf(i)}: frontend connected", backend.Log);
        }
        finally
        {
            frontends.ForEach(f => f.Dispose());
        }
        Assert.Equal(backend.QemuArguments, backend.QemuArgumentsFor(0));
        Assert.Equal(backend.SocketPath, backend.SocketPathOf(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => backend.SocketPathOf(3));
    }
}
