// Reassembles vhost-user messages from a non-blocking stream socket without ever reading past
// the end of the current message: descriptors (SCM_RIGHTS) travel with the bytes they were
// sent with, and a read that crossed into the next message could lose them. A frontend that
// stops in the middle of a message stalls only its own connection.

using System;
using VhostUserRng.Interop;

namespace VhostUserRng.Protocol;

public sealed class MessageReader
{
    public enum Status { Message, WouldBlock, EndOfStream }

    private readonly byte[] _headerBytes = new byte[VhostUserHeader.Size];
    private readonly byte[] _payload = new byte[VhostUserHeader.MaxPayloadSize];
    private int _headerHave;
    private int _payloadHave;
    private bool _headerComplete;

    /// <summary>The header of the message returned by the last <see cref="TryRead"/>.</summary>
    public VhostUserHeader Header { get; private set; }

    /// <summary>The payload of that message; valid until <see cref="Complete"/>.</summary>
    public ReadOnlySpan<byte> Payload => _payload.AsSpan(0, (int)Header.PayloadSize);

    /// <summary>Descriptors received with that message. Complete() closes those not taken.</summary>
    public FdList Fds { get; } = new();

    /// <summary>True if part of a message has been received and not yet completed.</summary>
    public bool InMessage => _headerHave > 0;

    /// <summary>Reads what the socket has. Throws <see cref="VhostUserProtocolException"/> for
    /// a malformed header or too many descriptors.</summary>
    public Status TryRead(int fd)
    {
        while (!_headerComplete)
        {
            int n = UnixSocket.Receive(fd, _headerBytes.AsSpan(_headerHave), Fds);
            if (n <= 0) return Stalled(n);
            _headerHave += n;
            if (_headerHave < VhostUserHeader.Size) continue;
            Header = VhostUserHeader.ParseRequest(_headerBytes);
            _headerComplete = true;
        }
        while (_payloadHave < Header.PayloadSize)
        {
            int n = UnixSocket.Receive(fd, _payload.AsSpan(_payloadHave, (int)Header.PayloadSize - _payloadHave), Fds);
            if (n <= 0) return Stalled(n);
            _payloadHave += n;
        }
        if (Fds.Overflowed)
            throw new VhostUserProtocolException($"{VhostUserRequestInfo.Name(Header.Request)} carried more than {FdList.Capacity} file descriptors");
        return Status.Message;
    }

    private Status Stalled(int result)
    {
        if (result == -Libc.EAGAIN) return Status.WouldBlock;
        if (result == 0 || result == -Libc.ECONNRESET)
        {
            if (_headerHave > 0)
                throw new VhostUserProtocolException($"connection closed in the middle of a message ({_headerHave} header and {_payloadHave} payload bytes received)");
            return Status.EndOfStream;
        }
        throw new VhostUserProtocolException($"recvmsg: {Libc.ErrnoText(-result)}");
    }

    /// <summary>Finishes the current message: closes descriptors nobody took, resets the state.</summary>
    public void Complete()
    {
        Fds.CloseAll();
        _headerHave = 0;
        _payloadHave = 0;
        _headerComplete = false;
    }
}
