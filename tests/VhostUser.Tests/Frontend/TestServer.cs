// The frontend as a server (QEMU's -chardev socket,server=on): it listens, the backend connects.

using System;
using VhostUserRng.Interop;
using Xunit;

namespace VhostUser.Tests.Frontend;

public sealed unsafe class TestServer : IDisposable
{
    private readonly int _fd;
    private readonly string _path;

    public TestServer(string path)
    {
        _path = path;
        _fd = UnixSocket.Listen(path);
    }

    /// <summary>Waits for the backend to connect.</summary>
    public TestFrontend Accept(int timeoutMs = Wait.DefaultTimeoutMs)
    {
        var pfd = new Libc.pollfd { fd = _fd, events = Libc.POLLIN };
        Assert.True(Libc.poll(&pfd, 1, timeoutMs) > 0, $"the backend did not connect to {_path}");
        int fd = UnixSocket.Accept(_fd, out int errno);
        Assert.True(fd >= 0, Libc.ErrnoText(errno));
        return new TestFrontend(fd);
    }

    public void Dispose()
    {
        Libc.close(_fd);
        Libc.unlink(_path);
    }
}
