// The control path: VhostUserSession.Handle for each message QEMU 7.2 sends to an rng device,
// decoding and validation included (logging off, no socket). Messages carrying an fd include
// creating that eventfd, since the session takes ownership of it; SET_MEM_TABLE includes
// fstat, F_GET_SEALS, mmap and the munmap of the table it replaces.

using System;
using BenchmarkDotNet.Attributes;
using VhostUserRng.Backend;
using VhostUserRng.Interop;
using VhostUserRng.Protocol;
using VhostUserRng.Rng;

namespace VhostUserRng.Benchmarks;

[MemoryDiagnoser]
public class MessageBenchmarks
{
    private sealed class NoEvents : IVringEvents
    {
        public ulong WatchKick(int index, int fd, out int errno) { errno = 0; return 1; }
        public void UnwatchKick(int fd, ulong token) { }
        public void ServeLater(int index, long dueNs) { }
        public void CancelServe(int index) { }
    }

    private GuestFixture _guest = null!;
    private VhostUserSession _session = null!;
    private readonly FdList _fds = new();
    private readonly byte[] _reply = new byte[64];
    private byte[] _u64Features = null!, _u64Protocol = null!, _state0 = null!, _stateNum = null!, _stateEnable = null!, _addr = null!, _file0 = null!, _memTable = null!;

    [GlobalSetup]
    public void Setup()
    {
        _guest = new GuestFixture();
        var log = new Log(System.IO.TextWriter.Null, verbosity: 0);
        _session = new VhostUserSession("bench", log, new RngDevice(new CsprngEntropySource(), null, MonotonicClock.NowNs), new NoEvents());
        _u64Features = U64(VhostUserFeatures.Offered);
        _u64Protocol = U64(VhostUserFeatures.OfferedProtocol);
        _state0 = State(0, 0);
        _stateNum = State(0, 256);
        _stateEnable = State(0, 1);
        _addr = new byte[VhostVringAddr.Size];
        new VhostVringAddr(0, 0, GuestFixture.UserBase + GuestFixture.DescGpa, GuestFixture.UserBase + GuestFixture.UsedGpa, GuestFixture.UserBase + GuestFixture.AvailGpa, 0).Write(_addr);
        _file0 = U64(0);
        _memTable = VhostUserMemory.Encode(_guest.Table);
        // The state after DRIVER_OK's configuration, so that ring messages do real work.
        Handle(VhostUserRequest.VHOST_USER_SET_FEATURES, _u64Features);
        HandleMemTable();
        Handle(VhostUserRequest.VHOST_USER_SET_VRING_NUM, _stateNum);
        Handle(VhostUserRequest.VHOST_USER_SET_VRING_ADDR, _addr);
    }

    private static byte[] U64(ulong value)
    {
        var bytes = new byte[8];
        BitConverter.TryWriteBytes(bytes, value);
        return bytes;
    }

    private static byte[] State(uint index, uint num)
    {
        var bytes = new byte[8];
        new VhostVringState(index, num).Write(bytes);
        return bytes;
    }

    private int Handle(VhostUserRequest request, byte[] payload, bool needReply = false)
    {
        var header = new VhostUserHeader(request, VhostUserHeader.VHOST_USER_VERSION | (needReply ? VhostUserHeader.VHOST_USER_NEED_REPLY_MASK : 0), (uint)payload.Length);
        return _session.Handle(header, payload, _fds, _reply);
    }

    private int HandleWithNewEventFd(VhostUserRequest request)
    {
        _fds.CloseAll();
        _fds.Add(EventFd.Create());
        int n = Handle(request, _file0);
        _fds.CloseAll();
        return n;
    }

    private int HandleMemTable()
    {
        _fds.CloseAll();
        _fds.Add(_guest.MemFd);
        int n = Handle(VhostUserRequest.VHOST_USER_SET_MEM_TABLE, _memTable, needReply: true);
        _fds.Take(0);   // the fixture's fd: not ours to close
        _fds.CloseAll();
        return n;
    }

    [Benchmark] public int GET_FEATURES() => Handle(VhostUserRequest.VHOST_USER_GET_FEATURES, Array.Empty<byte>());
    [Benchmark] public int SET_FEATURES() => Handle(VhostUserRequest.VHOST_USER_SET_FEATURES, _u64Features);
    [Benchmark] public int GET_PROTOCOL_FEATURES() => Handle(VhostUserRequest.VHOST_USER_GET_PROTOCOL_FEATURES, Array.Empty<byte>());
    [Benchmark] public int SET_PROTOCOL_FEATURES() => Handle(VhostUserRequest.VHOST_USER_SET_PROTOCOL_FEATURES, _u64Protocol);
    [Benchmark] public int GET_QUEUE_NUM() => Handle(VhostUserRequest.VHOST_USER_GET_QUEUE_NUM, Array.Empty<byte>());
    [Benchmark] public int SET_OWNER() => Handle(VhostUserRequest.VHOST_USER_SET_OWNER, Array.Empty<byte>());
    [Benchmark] public int SET_OWNER_with_NEED_REPLY() => Handle(VhostUserRequest.VHOST_USER_SET_OWNER, Array.Empty<byte>(), needReply: true);
    [Benchmark] public int SET_MEM_TABLE() => HandleMemTable();
    [Benchmark] public int SET_VRING_NUM() => Handle(VhostUserRequest.VHOST_USER_SET_VRING_NUM, _stateNum);
    [Benchmark] public int SET_VRING_BASE() => Handle(VhostUserRequest.VHOST_USER_SET_VRING_BASE, _state0);
    [Benchmark] public int SET_VRING_ADDR() => Handle(VhostUserRequest.VHOST_USER_SET_VRING_ADDR, _addr);
    [Benchmark] public int GET_VRING_BASE() => Handle(VhostUserRequest.VHOST_USER_GET_VRING_BASE, _state0);
    [Benchmark] public int SET_VRING_ENABLE() => Handle(VhostUserRequest.VHOST_USER_SET_VRING_ENABLE, _stateEnable);
    [Benchmark] public int SET_VRING_CALL() => HandleWithNewEventFd(VhostUserRequest.VHOST_USER_SET_VRING_CALL);
    [Benchmark] public int SET_VRING_ERR() => HandleWithNewEventFd(VhostUserRequest.VHOST_USER_SET_VRING_ERR);

    /// <summary>SET_VRING_KICK then GET_VRING_BASE: start and stop, as a guest reset does.</summary>
    [Benchmark]
    public int SET_VRING_KICK_then_GET_VRING_BASE()
    {
        HandleWithNewEventFd(VhostUserRequest.VHOST_USER_SET_VRING_KICK);
        return Handle(VhostUserRequest.VHOST_USER_GET_VRING_BASE, _state0);
    }

    [Benchmark(Description = "eventfd create+close (baseline for the fd messages)")]
    public int EventFdBaseline()
    {
        int fd = EventFd.Create();
        return Libc.close(fd);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _session.Dispose();
        _guest.Dispose();
    }
}
