// An in-process vhost-user frontend: what QEMU 7.2 does on its side of the socket, message by
// message, with real descriptors passed by SCM_RIGHTS. It can also misbehave on purpose.

using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using VhostUserRng.Interop;
using VhostUserRng.Protocol;
using Xunit;

namespace VhostUser.Tests.Frontend;

public sealed unsafe class TestFrontend : IDisposable
{
    public readonly record struct Reply(VhostUserRequest Request, uint Flags, byte[] Payload)
    {
        public ulong U64 => BinaryPrimitives.ReadUInt64LittleEndian(Payload);
    }

    public int Fd { get; private set; }

    public TestFrontend(int connectedFd) => Fd = connectedFd;

    /// <summary>Connects to a listening backend, retrying while it starts up.</summary>
    public static TestFrontend Connect(string path, int timeoutMs = Wait.DefaultTimeoutMs)
    {
        int fd = -1;
        Assert.True(Wait.Until(() => (fd = UnixSocket.TryConnect(path, out _)) >= 0, timeoutMs), $"could not connect to {path}");
        return new TestFrontend(fd);
    }

    // --- raw messages -----------------------------------------------------------------------

    public void SendRaw(ReadOnlySpan<byte> bytes, ReadOnlySpan<int> fds = default)
    {
        int sent = UnixSocket.Send(Fd, bytes, fds, dontWait: false);
        Assert.Equal(bytes.Length, sent);
    }

    public static byte[] Encode(VhostUserRequest request, ReadOnlySpan<byte> payload, uint flags)
    {
        var bytes = new byte[VhostUserHeader.Size + payload.Length];
        new VhostUserHeader(request, flags, (uint)payload.Length).Write(bytes);
        payload.CopyTo(bytes.AsSpan(VhostUserHeader.Size));
        return bytes;
    }

    public void Send(VhostUserRequest request, ReadOnlySpan<byte> payload = default, bool needReply = false, ReadOnlySpan<int> fds = default)
    {
        uint flags = VhostUserHeader.VHOST_USER_VERSION | (needReply ? VhostUserHeader.VHOST_USER_NEED_REPLY_MASK : 0);
        SendRaw(Encode(request, payload, flags), fds);
    }

    /// <summary>Reads one reply; fails the test on timeout or end of stream.</summary>
    public Reply ReadReply(int timeoutMs = Wait.DefaultTimeoutMs)
    {
        var header = new byte[VhostUserHeader.Size];
        ReadExactly(header, timeoutMs);
        var request = (VhostUserRequest)BinaryPrimitives.ReadUInt32LittleEndian(header);
        uint flags = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(4));
        uint size = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(8));
        Assert.True(size <= 4096, $"reply size {size}");
        var payload = new byte[size];
        ReadExactly(payload, timeoutMs);
        return new Reply(request, flags, payload);
    }

    private void ReadExactly(Span<byte> buffer, int timeoutMs)
    {
        var fds = new FdList();
        int have = 0;
        while (have < buffer.Length)
        {
            Assert.True(PollReadable(timeoutMs), "timed out waiting for the backend's reply");
            int n = UnixSocket.Receive(Fd, buffer[have..], fds);
            if (n == -Libc.EAGAIN) continue;
            Assert.True(n > 0, n == 0 ? "the backend closed the connection" : $"recvmsg failed: {Libc.ErrnoText(-n)}");
            have += n;
        }
        Assert.Equal(0, fds.Count);   // the backend never sends descriptors
    }

    /// <summary>poll(2) is never restarted after a signal handler (signal(7)), and a process that
    /// also runs QEMU (Kernel.Tests, tools/bench) gets SIGCHLD whenever one exits: on EINTR,
    /// wait again for what is left of the timeout.</summary>
    private bool PollReadable(int timeoutMs)
    {
        var pfd = new Libc.pollfd { fd = Fd, events = Libc.POLLIN };
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            int left = (int)Math.Max(0, timeoutMs - clock.ElapsedMilliseconds);
            int n = Libc.poll(&pfd, 1, left);
            if (n >= 0) return n > 0;
            if (Libc.LastErrno != Libc.EINTR || left == 0) return false;
        }
    }

    /// <summary>True if the backend closes the connection within the timeout (pending replies are skipped).</summary>
    public bool WaitForClose(int timeoutMs = Wait.DefaultTimeoutMs)
    {
        var buffer = new byte[256];
        var fds = new FdList();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.ElapsedMilliseconds < timeoutMs)
        {
            if (!PollReadable(50)) continue;
            int n = UnixSocket.Receive(Fd, buffer, fds);
            fds.CloseAll();
            if (n == 0 || (n < 0 && n != -Libc.EAGAIN)) return true;
        }
        return false;
    }

    /// <summary>True if nothing arrives from the backend for <paramref name="ms"/> (no unexpected reply).</summary>
    public bool IsSilentFor(int ms) => !PollReadable(ms);

    // --- typed requests ---------------------------------------------------------------------

    public Reply Request(VhostUserRequest request, ReadOnlySpan<byte> payload = default, bool needReply = false, ReadOnlySpan<int> fds = default)
    {
        Send(request, payload, needReply, fds);
        var reply = ReadReply();
        Assert.Equal(request, reply.Request);
        Assert.Equal(VhostUserHeader.ReplyFlags, reply.Flags);   // exactly 0x5, or QEMU 7.2 rejects it
        return reply;
    }

    public ulong GetU64(VhostUserRequest request)
    {
        var reply = Request(request);
        Assert.Equal(8, reply.Payload.Length);
        return reply.U64;
    }

    /// <summary>Sends a u64 request; with <paramref name="needReply"/> returns the ack (0 = success).</summary>
    public ulong? SetU64(VhostUserRequest request, ulong value, bool needReply = false, ReadOnlySpan<int> fds = default)
    {
        Span<byte> payload = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(payload, value);
        if (!needReply) { Send(request, payload, false, fds); return null; }
        var reply = Request(request, payload, true, fds);
        Assert.Equal(8, reply.Payload.Length);
        return reply.U64;
    }

    public ulong? SetState(VhostUserRequest request, uint index, uint num, bool needReply = false)
    {
        Span<byte> payload = stackalloc byte[VhostVringState.Size];
        new VhostVringState(index, num).Write(payload);
        if (!needReply) { Send(request, payload); return null; }
        return Request(request, payload, true).U64;
    }

    public VhostVringState GetVringBase(uint index)
    {
        Span<byte> payload = stackalloc byte[VhostVringState.Size];
        new VhostVringState(index, 0).Write(payload);
        var reply = Request(VhostUserRequest.VHOST_USER_GET_VRING_BASE, payload);
        return VhostVringState.Read(VhostUserRequest.VHOST_USER_GET_VRING_BASE, reply.Payload);
    }

    public ulong? SetVringAddr(VhostVringAddr addr, bool needReply = false)
    {
        var payload = new byte[VhostVringAddr.Size];
        addr.Write(payload);
        if (!needReply) { Send(VhostUserRequest.VHOST_USER_SET_VRING_ADDR, payload); return null; }
        return Request(VhostUserRequest.VHOST_USER_SET_VRING_ADDR, payload, true).U64;
    }

    /// <summary>SET_VRING_KICK/CALL/ERR with an fd (or NOFD when <paramref name="fd"/> is -1).</summary>
    public ulong? SetVringFd(VhostUserRequest request, uint index, int fd, bool needReply = false)
    {
        var file = new VhostVringFile(index, fd < 0);
        return fd < 0
            ? SetU64(request, file.Encode(), needReply)
            : SetU64(request, file.Encode(), needReply, new[] { fd });
    }

    /// <summary>SET_MEM_TABLE with one fd per region (the memfd, repeated), NEED_REPLY as QEMU sets it.</summary>
    public ulong SetMemTable(GuestRam ram) => SetMemTable(ram.Regions, Repeat(ram.Fd, ram.Regions.Length));

    public ulong SetMemTable(VhostUserMemoryRegion[] regions, int[] fds) =>
        Request(VhostUserRequest.VHOST_USER_SET_MEM_TABLE, VhostUserMemory.Encode(regions), true, fds).U64;

    public static int[] Repeat(int fd, int count)
    {
        var fds = new int[count];
        Array.Fill(fds, fd);
        return fds;
    }

    /// <summary>A round trip: once the reply arrives, every earlier message has been handled.</summary>
    public void Sync() => Assert.Equal(VhostUserFeatures.Offered, GetU64(VhostUserRequest.VHOST_USER_GET_FEATURES));

    public void Dispose()
    {
        if (Fd >= 0) Libc.close(Fd);
        Fd = -1;
    }
}
