// Several guests at once, sockets named like vhost-device-rng's, reconnection in both
// directions, and an inherited fd.

using System.IO;
using VhostUser.Tests.Frontend;
using VhostUserRng.Interop;
using VhostUserRng.Protocol;
using Xunit;

namespace VhostUser.Tests;

public class ConnectionTests
{
    [Fact]
    public void SocketCount_CreatesIndexedSockets_EachServingItsOwnGuest()
    {
        using var backend = new BackendHarness("-c", "3");
        for (int i = 0; i < 3; i++) Assert.True(File.Exists(backend.SocketBase + i), $"{backend.SocketBase}{i} missing");
        Assert.False(File.Exists(backend.SocketBase + "3"));

        var guests = new TestGuest[3];
        try
        {
            for (int i = 0; i < 3; i++) { guests[i] = new TestGuest(backend.Socket(i)); guests[i].Start(); }
            // Interleaved: all rings live at once.
            for (int round = 0; round < 3; round++)
                foreach (var g in guests) Assert.Equal(32u, g.PostAndWait(TestGuest.BufferArea + 0x40UL * (ulong)round, 32).Len);
            Assert.NotEqual(guests[0].Ram.Read(TestGuest.BufferArea, 32), guests[1].Ram.Read(TestGuest.BufferArea, 32));
        }
        finally
        {
            foreach (var g in guests) g?.Dispose();
        }
    }

    [Fact]
    public void AfterAFrontendLeaves_TheSocketAcceptsTheNextOne()
    {
        using var backend = new BackendHarness();
        for (int i = 0; i < 3; i++)
        {
            using var guest = new TestGuest(backend.Socket(0));
            guest.Start();
            Assert.Equal(16u, guest.PostAndWait(TestGuest.BufferArea, 16).Len);
            var state = guest.StopRing();
            Assert.Equal(1u, state.Num);
        }
        backend.Log.AssertContains("the frontend closed the connection");
    }

    [Fact]
    public void ConnectMode_ReconnectsToAServerFrontend_WhichReplaysOnlyTheStartSequence()
    {
        string dir = Path.Combine(Path.GetTempPath(), "vut-" + System.Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, "qemu.sock0");
        try
        {
            ReconnectThroughServer(dir, path);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    private static void ReconnectThroughServer(string dir, string path)
    {
        // The backend starts first and waits for QEMU (server=on) to appear.
        using var backend = new BackendHarness("-s", Path.Combine(dir, "qemu.sock"), "--connect");
        backend.Log.AssertContains("waiting for the frontend to listen");
        using var server = new TestServer(path);

        using var ram = GuestRam.Create();
        using (var first = new TestGuest(server.Accept(), ram, ownsRam: false))
        {
            first.Start();
            Assert.Equal(16u, first.PostAndWait(TestGuest.BufferArea, 16).Len);
        }   // the connection drops (a backend restart, seen from QEMU, looks the same)

        backend.Log.AssertContains("reconnecting");
        using var second = new TestGuest(server.Accept(), ram, ownsRam: false);
        var f = second.Frontend;
        // QEMU 7.2 after the reconnect: no GET_FEATURES, no SET_OWNER, and NEED_REPLY on
        // SET_MEM_TABLE as negotiated before.
        Assert.Equal(0x9UL, f.GetU64(VhostUserRequest.VHOST_USER_GET_PROTOCOL_FEATURES));
        f.SetU64(VhostUserRequest.VHOST_USER_SET_PROTOCOL_FEATURES, 0x9);
        f.SetVringFd(VhostUserRequest.VHOST_USER_SET_VRING_CALL, 0, second.CallFd);
        f.SetVringFd(VhostUserRequest.VHOST_USER_SET_VRING_ERR, 0, second.ErrFd);
        second.Driver.StartAt(1);
        second.DriverOk(vringBase: 1);
        Assert.Equal(16u, second.PostAndWait(TestGuest.BufferArea, 16).Len);
        Assert.Equal((ushort)2, second.Driver.UsedIdx);
    }

    [Fact]
    public void AnInheritedConnectedFd_IsServed_AndItsCloseEndsTheBackend()
    {
        var (backendEnd, frontendEnd) = SocketPair();
        using var backend = new BackendHarness("--fd", backendEnd.ToString());
        using var guest = new TestGuest(new TestFrontend(frontendEnd));
        guest.Start();
        Assert.Equal(16u, guest.PostAndWait(TestGuest.BufferArea, 16).Len);

        guest.Frontend.Dispose();
        Assert.True(Wait.Until(() => !backend.IsRunning), "the backend should exit when its only connection closes");
    }

    [Fact]
    public void AnInheritedListeningFd_AcceptsFrontends()
    {
        string dir = Path.Combine(Path.GetTempPath(), "vut-" + System.Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, "inherited.sock");
        try
        {
            int listener = UnixSocket.Listen(path);
            using var backend = new BackendHarness("--fd", listener.ToString());
            for (int i = 0; i < 2; i++)
            {
                using var guest = new TestGuest(path);
                guest.Start();
                Assert.Equal(16u, guest.PostAndWait(TestGuest.BufferArea, 16).Len);
            }
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    private static (int, int) SocketPair()
    {
        string path = Path.Combine(Path.GetTempPath(), "vut-pair-" + System.Guid.NewGuid().ToString("N")[..10]);
        int listener = UnixSocket.Listen(path);
        int client = UnixSocket.TryConnect(path, out _);
        Assert.True(client >= 0);
        int server = -1;
        Assert.True(Wait.Until(() => (server = UnixSocket.Accept(listener, out _)) >= 0));
        Libc.close(listener);
        Libc.unlink(path);
        return (server, client);
    }
}
