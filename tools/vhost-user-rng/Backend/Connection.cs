// One frontend connection on the event loop: reads messages off the socket, hands them to the
// session, sends the replies, and routes the rings' kicks and timers. Any failure here ends
// this connection only.

using System;
using VhostUserRng.Interop;
using VhostUserRng.Protocol;
using VhostUserRng.Rng;

namespace VhostUserRng.Backend;

public sealed class Connection : IVringEvents, IDisposable
{
    /// <summary>Messages handled per wake-up before the loop serves other connections.</summary>
    private const int MaxMessagesPerWake = 64;
    private const int MaxReplyPayload = 64;

    private readonly EventLoop _loop;
    private readonly Log _log;
    private readonly string _name;
    private readonly int _fd;
    private readonly ulong _token;
    private readonly MessageReader _reader = new();
    private readonly VhostUserSession _session;
    private readonly byte[] _replyBytes = new byte[VhostUserHeader.Size + MaxReplyPayload];
    private readonly LoopTimer[] _serveTimers = new LoopTimer[VhostUserSession.QueueCount];
    private readonly Action _onClosed;
    private bool _closed;

    public Connection(EventLoop loop, Log log, string name, int fd, RngDevice device, bool requireSealedMemory, Action onClosed)
    {
        _loop = loop;
        _log = log;
        _name = name;
        _fd = fd;
        _onClosed = onClosed;
        _session = new VhostUserSession(name, log, device, this, requireSealedMemory);
        for (int i = 0; i < _serveTimers.Length; i++)
        {
            int index = i;
            _serveTimers[i] = loop.CreateTimer(() => _session.OnServeDue(index));
        }
        _token = loop.Watch(fd, OnReadable, out int errno);
        if (_token == 0)
        {
            Dispose();
            throw new InvalidOperationException($"{name}: epoll_ctl on the connection failed: {Libc.ErrnoText(errno)}");
        }
    }

    public VhostUserSession Session => _session;

    private void OnReadable()
    {
        for (int i = 0; i < MaxMessagesPerWake && !_closed; i++)
        {
            try
            {
                switch (_reader.TryRead(_fd))
                {
                    case MessageReader.Status.WouldBlock:
                        return;
                    case MessageReader.Status.EndOfStream:
                        Close("the frontend closed the connection");
                        return;
                    default:
                        HandleMessage();
                        break;
                }
            }
            catch (VhostUserProtocolException e)
            {
                _log.Error(_name, $"{e.Message}; closing the connection");
                Close(null);
            }
            catch (Exception e)
            {
                // A bug, not a frontend error; it still costs only this connection.
                _log.Error(_name, $"internal error ({e.GetType().Name}: {e.Message}); closing the connection");
                Close(null);
            }
        }
    }

    private void HandleMessage()
    {
        try
        {
            var header = _reader.Header;
            var payload = _replyBytes.AsSpan(VhostUserHeader.Size);
            int length = _session.Handle(header, _reader.Payload, _reader.Fds, payload);
            if (length >= 0) SendReply(header.Request, length);
        }
        finally
        {
            _reader.Complete();   // closes any descriptor the request did not keep
        }
    }

    private void SendReply(VhostUserRequest request, int payloadLength)
    {
        new VhostUserHeader(request, VhostUserHeader.ReplyFlags, (uint)payloadLength).Write(_replyBytes);
        if (_log.MessagesEnabled)
            _log.Message(_name, MessageDescriber.DescribeReply(request, _replyBytes.AsSpan(VhostUserHeader.Size, payloadLength), !VhostUserRequestInfo.HasReplyBody(request)));
        int total = VhostUserHeader.Size + payloadLength;
        int sent = UnixSocket.Send(_fd, _replyBytes.AsSpan(0, total));
        // A reply is tiny; if the socket cannot take it at once the frontend is not reading.
        if (sent != total)
            throw new VhostUserProtocolException(sent < 0
                ? $"sending the reply to {VhostUserRequestInfo.Name(request)} failed: {Libc.ErrnoText(-sent)}"
                : $"the frontend is not reading replies ({sent} of {total} bytes sent)");
    }

    // --- IVringEvents -----------------------------------------------------------------------

    public ulong WatchKick(int index, int fd, out int errno)
    {
        ulong token = 0;
        token = _loop.Watch(fd, () => OnKick(index, fd, token), out errno);
        return token;
    }

    private void OnKick(int index, int fd, ulong token)
    {
        if (!EventFd.Drain(fd, out _))
        {
            // A pipe or socket whose writer went away stays readable forever: stop watching it
            // rather than spin. The ring is still served on the next SET_VRING_KICK.
            _log.Warn(_name, $"vring {index}: the kick fd reports end of file or an error; it is no longer watched");
            _loop.Unwatch(fd, token);
            return;
        }
        _session.OnKick(index);
    }

    public void UnwatchKick(int fd, ulong token) => _loop.Unwatch(fd, token);

    public void ServeLater(int index, long dueNs) => _serveTimers[index].ArmNoLaterThan(dueNs);

    public void CancelServe(int index) => _serveTimers[index].Cancel();

    // --- lifetime ---------------------------------------------------------------------------

    private void Close(string? reason)
    {
        if (_closed) return;
        if (reason is not null) _log.Info(_name, reason);
        Dispose();
        _onClosed();
    }

    public void Dispose()
    {
        if (_closed) return;
        _closed = true;
        _loop.Unwatch(_fd, _token);
        _session.Dispose();
        _reader.Complete();
        foreach (var timer in _serveTimers) if (timer is not null) _loop.DestroyTimer(timer);
        Libc.close(_fd);
    }
}
