// Target "session": what each message does to the backend's state (VhostUserSession, Vring and
// the ring layout checks), driven in any order by a hostile frontend, with a guest that writes
// into its RAM and kicks in between. Messages go straight to VhostUserSession.Handle (the byte
// stream itself is the "protocol" target's), with fresh fds where a message carries some.
//
// Input: operations, each [op][length][length bytes].
//   op & 0x3F = 0: the guest writes the bytes at gpa (first u16) of its 64 KiB RAM, then kicks;
//   op & 0x3F = n: request n with those bytes as payload; bit 6 sets NEED_REPLY, bit 7 attaches
//                  fds: one per region for SET_MEM_TABLE (the RAM's sealed memfd), else one eventfd.
// Documented bad-input error: VhostUserProtocolException (the connection closes: stop). Refusals
// and broken rings are handled inside the session and must not escape it.

using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using VhostUserRng.Backend;
using VhostUserRng.Interop;
using VhostUserRng.Protocol;
using VhostUserRng.Rng;

namespace VhostUserRng.Fuzz;

public sealed unsafe class SessionTarget : IFuzzTarget
{
    public string Name => "session";

    private const int RamSize = 0x10000, F_DUPFD_CLOEXEC = 1030;
    private const ulong UserBase = 0x7f00_0000_0000;
    private static readonly int RamFd = GuestRamFd.Create(RamSize);
    private static readonly byte* Ram = (byte*)Libc.mmap(null, RamSize, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED, RamFd, 0);
    /// <summary>The backend's log at -vv, shown when replaying with FUZZ_VERBOSE=1.</summary>
    private static readonly Log Log = new(Environment.GetEnvironmentVariable("FUZZ_VERBOSE") is null ? TextWriter.Null : Console.Error, verbosity: 2);

    private sealed class NoEvents : IVringEvents
    {
        public ulong WatchKick(int index, int fd, out int errno) { errno = 0; return 1; }
        public void UnwatchKick(int fd, ulong token) { }
        public void ServeLater(int index, long dueNs) { }
        public void CancelServe(int index) { }
    }

    private sealed class Counter : IEntropySource
    {
        private byte _next;
        public string Name => "fuzz counter";
        public int Fill(Span<byte> destination)
        {
            foreach (ref byte b in destination) b = _next++;
            return destination.Length;
        }
        public void Dispose() { }
    }

    public void Run(ReadOnlySpan<byte> input)
    {
        new Span<byte>(Ram, RamSize).Clear();
        long now = 0;
        using var session = new VhostUserSession("fuzz", Log, new RngDevice(new Counter(), null, () => now += 100_000), new NoEvents());
        var fds = new FdList();
        var reply = new byte[64];
        try
        {
            while (input.Length >= 2)
            {
                byte op = input[0];
                var payload = input.Slice(2, Math.Min(input[1], input.Length - 2));
                input = input[(2 + payload.Length)..];
                var request = (VhostUserRequest)(op & 0x3F);
                if (request == VhostUserRequest.VHOST_USER_NONE)
                {
                    GuestWrites(payload);
                    session.OnKick(0);
                    session.OnServeDue(0);
                    continue;
                }
                if ((op & 0x80) != 0) AttachFds(request, payload, fds);
                uint flags = VhostUserHeader.VHOST_USER_VERSION | ((op & 0x40) != 0 ? VhostUserHeader.VHOST_USER_NEED_REPLY_MASK : 0);
                int length = session.Handle(new VhostUserHeader(request, flags, (uint)payload.Length), payload, fds, reply);
                fds.CloseAll();
                if (length > reply.Length)
                    throw new InvariantViolatedException($"{VhostUserRequestInfo.Name(request)}: a reply of {length} bytes");
            }
        }
        catch (VhostUserProtocolException)
        {
            // The connection would be closed here; the session is disposed.
        }
        finally
        {
            fds.CloseAll();
        }
    }

    private static void GuestWrites(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 2) return;
        int gpa = BinaryPrimitives.ReadUInt16LittleEndian(payload);
        var bytes = payload[2..];
        bytes[..Math.Min(bytes.Length, RamSize - gpa)].CopyTo(new Span<byte>(Ram + gpa, RamSize - gpa));
    }

    private static void AttachFds(VhostUserRequest request, ReadOnlySpan<byte> payload, FdList fds)
    {
        if (request != VhostUserRequest.VHOST_USER_SET_MEM_TABLE)
        {
            fds.Add(EventFd.Create());
            return;
        }
        uint regions = payload.Length >= 4 ? Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(payload), 8u) : 1;
        for (int i = 0; i < regions; i++) fds.Add(Libc.fcntl(RamFd, F_DUPFD_CLOEXEC, 0));
    }

    // --- Seeds: QEMU's start-up, a guest request, a stop (GET_VRING_BASE) and a restart ---

    public (string Name, byte[] Bytes)[] Seeds()
    {
        const int Fds = 0x80, NeedReply = 0x40;
        var ops = new List<byte>();
        void Op(VhostUserRequest request, int bits, ReadOnlySpan<byte> payload)
        {
            ops.Add((byte)((int)request | bits));
            ops.Add((byte)payload.Length);
            ops.AddRange(payload.ToArray());
        }
        byte[] U64(ulong value) => BitConverter.GetBytes(value);
        byte[] State(uint index, uint num) { var b = new byte[VhostVringState.Size]; new VhostVringState(index, num).Write(b); return b; }
        var addr = new byte[VhostVringAddr.Size];
        new VhostVringAddr(0, 0, UserBase, UserBase + 0x2000, UserBase + 0x1000, 0).Write(addr);
        var memTable = VhostUserMemory.Encode(new[] { new VhostUserMemoryRegion(0, RamSize, UserBase, 0) });

        void SetUp()
        {
            Op(VhostUserRequest.VHOST_USER_SET_VRING_NUM, NeedReply, State(0, 4));
            Op(VhostUserRequest.VHOST_USER_SET_VRING_BASE, NeedReply, State(0, 0));
            Op(VhostUserRequest.VHOST_USER_SET_VRING_ADDR, NeedReply, addr);
            Op(VhostUserRequest.VHOST_USER_SET_VRING_CALL, Fds | NeedReply, U64(0));
            Op(VhostUserRequest.VHOST_USER_SET_VRING_KICK, Fds | NeedReply, U64(0));
            Op(VhostUserRequest.VHOST_USER_SET_VRING_ENABLE, NeedReply, State(0, 1));
        }
        Op(VhostUserRequest.VHOST_USER_GET_FEATURES, 0, default);
        Op(VhostUserRequest.VHOST_USER_SET_FEATURES, 0, U64(VhostUserFeatures.Offered));
        Op(VhostUserRequest.VHOST_USER_SET_PROTOCOL_FEATURES, 0, U64(VhostUserFeatures.OfferedProtocol));
        Op(VhostUserRequest.VHOST_USER_SET_MEM_TABLE, Fds | NeedReply, memTable);
        SetUp();
        // The guest: descriptor 0 = 64 writable bytes at 0x3000, avail->ring[0] = 0, avail->idx = 1.
        var desc = new byte[2 + 16];
        BinaryPrimitives.WriteUInt64LittleEndian(desc.AsSpan(2), 0x3000);
        BinaryPrimitives.WriteUInt32LittleEndian(desc.AsSpan(10), 64);
        BinaryPrimitives.WriteUInt16LittleEndian(desc.AsSpan(14), 2);   // VIRTQ_DESC_F_WRITE
        Op(VhostUserRequest.VHOST_USER_NONE, 0, desc);
        Op(VhostUserRequest.VHOST_USER_NONE, 0, new byte[] { 0x00, 0x10, 0, 0, 1, 0, 0, 0 });
        Op(VhostUserRequest.VHOST_USER_GET_VRING_BASE, 0, State(0, 0));
        SetUp();
        return new[] { ("start-serve-stop-restart", ops.ToArray()) };
    }
}
