// One socket of the backend (one -s path with its index, or --fd), serving one frontend at a
// time. Three ways to meet the frontend:
//   - listen (default): QEMU's `-chardev socket,path=...` connects to us; after it leaves we
//     listen again;
//   - connect (--connect): QEMU listens (`server=on`); we connect, and reconnect whenever the
//     connection drops or QEMU is not there yet, so a restarted backend resumes service;
//   - an inherited fd (--fd): listening or already connected, as the vhost-user document's
//     "Backend program conventions" allow.
// The rate limiter belongs to the endpoint, so reconnecting does not refill it.

using System;
using VhostUserRng.Interop;
using VhostUserRng.Rng;

namespace VhostUserRng.Backend;

public sealed class Endpoint : IDisposable
{
    public enum Mode { Listen, Connect, InheritedFd }

    private const long ReconnectMinNs = 50_000_000;      // 50 ms
    private const long ReconnectMaxNs = 1_000_000_000;   // 1 s

    private readonly EventLoop _loop;
    private readonly Log _log;
    private readonly RngDevice _device;
    private readonly bool _requireSealedMemory;
    private readonly string? _path;
    private readonly Mode _mode;
    private readonly LoopTimer _reconnectTimer;
    private readonly Action _onFinished;
    private int _listenFd = -1;
    private ulong _listenToken;
    private bool _ownsSocketFile;
    private long _reconnectDelayNs = ReconnectMinNs;
    private bool _reportedWaiting;
    private Connection? _connection;
    private bool _disposed;

    public string Name { get; }

    /// <summary>True once the endpoint can never serve again (an inherited connected fd that closed).</summary>
    public bool Finished { get; private set; }

    public Connection? Connection => _connection;

    private Endpoint(EventLoop loop, Log log, RngDevice device, bool requireSealedMemory, string name, string? path, Mode mode, Action onFinished)
    {
        _loop = loop;
        _log = log;
        _device = device;
        _requireSealedMemory = requireSealedMemory;
        Name = name;
        _path = path;
        _mode = mode;
        _onFinished = onFinished;
        _reconnectTimer = loop.CreateTimer(TryConnect);
    }

    public static Endpoint Listen(EventLoop loop, Log log, RngDevice device, bool requireSealedMemory, string path)
    {
        var endpoint = new Endpoint(loop, log, device, requireSealedMemory, path, path, Mode.Listen, () => { });
        endpoint._listenFd = UnixSocket.Listen(path);
        endpoint._ownsSocketFile = true;
        endpoint.WatchListener();
        log.Info(path, "listening");
        return endpoint;
    }

    public static Endpoint Connect(EventLoop loop, Log log, RngDevice device, bool requireSealedMemory, string path)
    {
        var endpoint = new Endpoint(loop, log, device, requireSealedMemory, path, path, Mode.Connect, () => { });
        endpoint.TryConnect();
        return endpoint;
    }

    public static Endpoint FromFd(EventLoop loop, Log log, RngDevice device, bool requireSealedMemory, int fd, Action onFinished)
    {
        var endpoint = new Endpoint(loop, log, device, requireSealedMemory, $"fd {fd}", null, Mode.InheritedFd, onFinished);
        UnixSocket.SetNonBlocking(fd);
        if (UnixSocket.IsListening(fd))
        {
            endpoint._listenFd = fd;
            endpoint.WatchListener();
            log.Info(endpoint.Name, "listening on the inherited socket");
        }
        else
        {
            endpoint.Serve(fd);
        }
        return endpoint;
    }

    private void WatchListener()
    {
        _listenToken = _loop.Watch(_listenFd, OnAcceptable, out int errno);
        if (_listenToken == 0) throw new InvalidOperationException($"{Name}: epoll_ctl on the listening socket failed: {Libc.ErrnoText(errno)}");
    }

    private void OnAcceptable()
    {
        int fd = UnixSocket.Accept(_listenFd, out int errno);
        if (fd < 0)
        {
            if (errno != Libc.EAGAIN) _log.Warn(Name, $"accept failed: {Libc.ErrnoText(errno)}");
            return;
        }
        // One frontend per socket: stop accepting until this one leaves.
        _loop.Unwatch(_listenFd, _listenToken);
        _listenToken = 0;
        Serve(fd);
    }

    private void TryConnect()
    {
        if (_disposed || _connection is not null) return;
        int fd = UnixSocket.TryConnect(_path!, out int errno);
        if (fd < 0)
        {
            if (!_reportedWaiting) _log.Info(Name, $"waiting for the frontend to listen ({Libc.ErrnoText(errno)}); retrying");
            _reportedWaiting = true;
            _reconnectTimer.ArmNoLaterThan(_loop.NowNs() + _reconnectDelayNs);
            _reconnectDelayNs = Math.Min(ReconnectMaxNs, _reconnectDelayNs * 2);
            return;
        }
        _reportedWaiting = false;
        _reconnectDelayNs = ReconnectMinNs;
        Serve(fd);
    }

    private void Serve(int fd)
    {
        try
        {
            _connection = new Connection(_loop, _log, Name, fd, _device, _requireSealedMemory, OnConnectionClosed);
            _log.Info(Name, "frontend connected");
        }
        catch (InvalidOperationException e)
        {
            _log.Error(Name, e.Message);
            OnConnectionClosed();
        }
    }

    private void OnConnectionClosed()
    {
        _connection = null;
        if (_disposed) return;
        switch (_mode)
        {
            case Mode.Listen:
                WatchListener();
                break;
            case Mode.Connect:
                _log.Info(Name, "reconnecting");
                _reconnectTimer.ArmNoLaterThan(_loop.NowNs() + ReconnectMinNs);
                break;
            case Mode.InheritedFd when _listenFd >= 0:
                WatchListener();
                break;
            default:
                Finished = true;
                _onFinished();
                break;
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _connection?.Dispose();
        _connection = null;
        _loop.DestroyTimer(_reconnectTimer);
        if (_listenFd >= 0)
        {
            _loop.Unwatch(_listenFd, _listenToken);
            Libc.close(_listenFd);
            _listenFd = -1;
        }
        if (_ownsSocketFile && _path is not null) Libc.unlink(_path);
    }
}
