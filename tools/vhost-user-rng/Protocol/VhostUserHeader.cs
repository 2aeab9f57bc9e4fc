// The 12-byte message header: {u32 request, u32 flags, u32 size}, native byte order
// (vhost-user.rst "Header"). Flags: bits 0-1 version (1), bit 2 REPLY, bit 3 NEED_REPLY.

using System;
using System.Buffers.Binary;

namespace VhostUserRng.Protocol;

public readonly struct VhostUserHeader
{
    public const int Size = 12;
    public const uint VHOST_USER_VERSION = 0x1;
    public const uint VHOST_USER_VERSION_MASK = 0x3;
    public const uint VHOST_USER_REPLY_MASK = 0x1 << 2;
    public const uint VHOST_USER_NEED_REPLY_MASK = 0x1 << 3;
    private const uint KnownFlags = VHOST_USER_VERSION_MASK | VHOST_USER_REPLY_MASK | VHOST_USER_NEED_REPLY_MASK;

    /// <summary>Largest payload accepted. QEMU's largest message to an rng device is
    /// SET_MEM_TABLE with 8 regions (264 bytes); anything near this limit is hostile.</summary>
    public const uint MaxPayloadSize = 4096;

    /// <summary>Replies carry exactly version 1 and REPLY; QEMU 7.2 rejects anything else.</summary>
    public const uint ReplyFlags = VHOST_USER_VERSION | VHOST_USER_REPLY_MASK;

    public VhostUserRequest Request { get; }
    public uint Flags { get; }
    public uint PayloadSize { get; }

    public VhostUserHeader(VhostUserRequest request, uint flags, uint payloadSize)
    {
        Request = request;
        Flags = flags;
        PayloadSize = payloadSize;
    }

    public bool NeedReply => (Flags & VHOST_USER_NEED_REPLY_MASK) != 0;

    /// <summary>Decodes and validates a request header from the frontend.</summary>
    public static VhostUserHeader ParseRequest(ReadOnlySpan<byte> bytes)
    {
        uint request = BinaryPrimitives.ReadUInt32LittleEndian(bytes);
        uint flags = BinaryPrimitives.ReadUInt32LittleEndian(bytes[4..]);
        uint size = BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]);
        if ((flags & VHOST_USER_VERSION_MASK) != VHOST_USER_VERSION)
            throw new VhostUserProtocolException($"header of request {request} has version {flags & VHOST_USER_VERSION_MASK}, expected {VHOST_USER_VERSION}");
        if ((flags & ~KnownFlags) != 0)
            throw new VhostUserProtocolException($"header of request {request} sets reserved flag bits 0x{flags & ~KnownFlags:x}");
        if ((flags & VHOST_USER_REPLY_MASK) != 0)
            throw new VhostUserProtocolException($"request {request} has the REPLY flag set: the frontend sent a reply, not a request");
        if (!VhostUserRequestInfo.IsKnown(request))
            throw new VhostUserProtocolException($"unknown request {request} (payload {size} bytes)");
        if (size > MaxPayloadSize)
            throw new VhostUserProtocolException($"{VhostUserRequestInfo.Name((VhostUserRequest)request)} announces a {size}-byte payload, more than the {MaxPayloadSize} accepted");
        return new VhostUserHeader((VhostUserRequest)request, flags, size);
    }

    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)Request);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], Flags);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], PayloadSize);
    }
}
