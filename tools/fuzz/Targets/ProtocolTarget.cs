// Target "protocol": message reassembly (MessageReader over a real AF_UNIX stream socket),
// header validation (VhostUserHeader), every payload decoder (Payloads.cs) and the -v
// describer (MessageDescriber), on a byte stream the frontend controls.
//
// Input: chunks, each [control byte][up to 64 data bytes]. Data length = (control & 0x3F) + 1;
// control >> 6 picks how many descriptors ride with the chunk (0, 1, 8 or 17: more than FdList
// holds). Each chunk is sent, then the reader reads until the socket is empty, so a message
// arrives in the pieces the fuzzer chose. Documented bad-input errors: VhostUserProtocolException
// (the connection would be closed: stop) and VhostUserRequestRefusedException (refused: next message).

using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using VhostUserRng.Interop;
using VhostUserRng.Protocol;

namespace VhostUserRng.Fuzz;

public sealed unsafe partial class ProtocolTarget : IFuzzTarget
{
    public string Name => "protocol";

    private static readonly int[] FdCounts = { 0, 1, 8, 17 };
    private static readonly int[] Descriptors = MakeDescriptors();

    private static int[] MakeDescriptors()
    {
        int fd = EventFd.Create();
        var fds = new int[17];
        Array.Fill(fds, fd);
        return fds;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int socketpair(int domain, int type, int protocol, int* sv);

    public void Run(ReadOnlySpan<byte> input)
    {
        int* sv = stackalloc int[2];
        if (socketpair(Libc.AF_UNIX, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC | Libc.SOCK_NONBLOCK, 0, sv) != 0)
            throw new InvalidOperationException($"socketpair: {Libc.LastErrorText}");
        var reader = new MessageReader();
        try
        {
            bool open = true;
            while (open && !input.IsEmpty)
            {
                byte control = input[0];
                int length = Math.Min((control & 0x3F) + 1, input.Length - 1);
                if (length > 0)
                    UnixSocket.Send(sv[1], input.Slice(1, length), Descriptors.AsSpan(0, FdCounts[control >> 6]));
                input = input[(1 + length)..];
                open = ReadAll(reader, sv[0]) != MessageReader.Status.EndOfStream;
            }
            Libc.close(sv[1]);   // the frontend hangs up: a half-received message must be an error
            sv[1] = -1;
            if (open) ReadAll(reader, sv[0]);
        }
        catch (VhostUserProtocolException)
        {
            // The backend closes this connection; nothing more is read.
        }
        finally
        {
            reader.Complete();
            Libc.CloseIfValid(sv[0]);
            Libc.CloseIfValid(sv[1]);
        }
    }

    /// <summary>Reads and decodes messages until the socket is empty or closed.</summary>
    private static MessageReader.Status ReadAll(MessageReader reader, int fd)
    {
        while (true)
        {
            var status = reader.TryRead(fd);
            if (status != MessageReader.Status.Message) return status;
            var header = reader.Header;
            if (reader.Payload.Length != header.PayloadSize)
                throw new InvariantViolatedException($"payload of {reader.Payload.Length} bytes for a header announcing {header.PayloadSize}");
            MessageDescriber.DescribeRequest(header, reader.Payload, reader.Fds.Count);
            try
            {
                Decode(header.Request, reader.Payload);
            }
            catch (VhostUserRequestRefusedException)
            {
                // Refused; the connection stays if NEED_REPLY was set.
            }
            reader.Complete();
        }
    }

    /// <summary>The payload decoding VhostUserSession does for each request.</summary>
    private static void Decode(VhostUserRequest request, ReadOnlySpan<byte> payload)
    {
        switch (request)
        {
            case VhostUserRequest.VHOST_USER_SET_FEATURES:
            case VhostUserRequest.VHOST_USER_SET_PROTOCOL_FEATURES:
                Payload.ReadU64(request, payload);
                break;
            case VhostUserRequest.VHOST_USER_SET_MEM_TABLE:
                VhostUserMemory.Read(payload);
                break;
            case VhostUserRequest.VHOST_USER_SET_VRING_NUM:
            case VhostUserRequest.VHOST_USER_SET_VRING_BASE:
            case VhostUserRequest.VHOST_USER_GET_VRING_BASE:
            case VhostUserRequest.VHOST_USER_SET_VRING_ENABLE:
                VhostVringState.Read(request, payload);
                break;
            case VhostUserRequest.VHOST_USER_SET_VRING_ADDR:
                VhostVringAddr.Read(request, payload);
                break;
            case VhostUserRequest.VHOST_USER_SET_VRING_KICK:
            case VhostUserRequest.VHOST_USER_SET_VRING_CALL:
            case VhostUserRequest.VHOST_USER_SET_VRING_ERR:
                VhostVringFile.Read(request, payload);
                break;
        }
    }

    // --- Seeds: what QEMU 7.2 sends to vhost-user-rng-pci, as one stream cut into chunks ---

    public (string Name, byte[] Bytes)[] Seeds()
    {
        var memTable = VhostUserMemory.Encode(new[] { new VhostUserMemoryRegion(0, 0x2000_0000, 0x7f12_3400_0000, 0) });
        var addr = new byte[VhostVringAddr.Size];
        new VhostVringAddr(0, 0, 0x7f12_3400_1000, 0x7f12_3400_3000, 0x7f12_3400_2000, 0).Write(addr);
        var state = new byte[VhostVringState.Size];
        new VhostVringState(0, 256).Write(state);
        var kick = BitConverter.GetBytes(0UL);
        var features = BitConverter.GetBytes(VhostUserFeatures.Offered);
        var need = VhostUserHeader.VHOST_USER_VERSION | VhostUserHeader.VHOST_USER_NEED_REPLY_MASK;

        var startup = new List<byte>();
        Message(startup, VhostUserRequest.VHOST_USER_GET_FEATURES, VhostUserHeader.VHOST_USER_VERSION, default);
        Message(startup, VhostUserRequest.VHOST_USER_SET_FEATURES, VhostUserHeader.VHOST_USER_VERSION, features);
        Message(startup, VhostUserRequest.VHOST_USER_SET_MEM_TABLE, need, memTable);
        Message(startup, VhostUserRequest.VHOST_USER_SET_VRING_NUM, need, state);
        Message(startup, VhostUserRequest.VHOST_USER_SET_VRING_ADDR, need, addr);
        Message(startup, VhostUserRequest.VHOST_USER_SET_VRING_KICK, VhostUserHeader.VHOST_USER_VERSION, kick);

        var single = new List<byte>();
        Message(single, VhostUserRequest.VHOST_USER_GET_VRING_BASE, VhostUserHeader.VHOST_USER_VERSION, state);

        return new[]
        {
            ("startup-whole-messages", Chunk(startup.ToArray(), 64, withFd: 1)),
            ("startup-in-5-byte-pieces", Chunk(startup.ToArray(), 5, withFd: 0)),
            ("get-vring-base", Chunk(single.ToArray(), 64, withFd: 0)),
        };
    }

    private static void Message(List<byte> stream, VhostUserRequest request, uint flags, ReadOnlySpan<byte> payload)
    {
        var header = new byte[VhostUserHeader.Size];
        new VhostUserHeader(request, flags, (uint)payload.Length).Write(header);
        stream.AddRange(header);
        stream.AddRange(payload.ToArray());
    }

    /// <summary>Cuts a stream into chunks of at most <paramref name="size"/> (1-64) bytes; the
    /// first carries <paramref name="withFd"/> descriptors (index into 0, 1, 8, 17).</summary>
    private static byte[] Chunk(byte[] stream, int size, int withFd)
    {
        var input = new List<byte>();
        for (int at = 0; at < stream.Length; at += size)
        {
            int n = Math.Min(size, stream.Length - at);
            input.Add((byte)((at == 0 ? withFd << 6 : 0) | (n - 1)));
            input.AddRange(stream.AsSpan(at, n).ToArray());
        }
        return input.ToArray();
    }
}
