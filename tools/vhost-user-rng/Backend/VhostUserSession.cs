// The backend side of one vhost-user connection: what QEMU's messages do (vhost-user.rst
// "Front-end message types") to an entropy device with one queue, whose ring goes through the
// states of Vring.cs; README.md has the table of every message in every state.
//
// Three kinds of failure, three consequences:
//   - a malformed stream or unsupported request: VhostUserProtocolException, the connection closes;
//   - a refused request (bad values): nothing changes; NEED_REPLY gets a non-zero u64, and
//     without NEED_REPLY the connection closes, since the frontend could not otherwise know;
//   - a guest error in a ring: that ring is broken, logged, and its err fd signalled. Set-up
//     messages that break a ring, or that a broken ring cannot take, get a non-zero u64 with
//     NEED_REPLY; the connection stays, since the frontend did nothing wrong.

using System;
using System.Buffers.Binary;
using VhostUserRng.Interop;
using VhostUserRng.Memory;
using VhostUserRng.Protocol;
using VhostUserRng.Rng;
using VhostUserRng.Virtio;

namespace VhostUserRng.Backend;

public sealed unsafe class VhostUserSession : IDisposable
{
    /// <summary>The entropy device has exactly one virtqueue, "requestq" (virtio 1.2, 5.4.2).</summary>
    public const int QueueCount = 1;

    private readonly string _name;
    private readonly Log _log;
    private readonly RngDevice _device;
    private readonly IVringEvents _events;
    private readonly bool _requireSealedMemory;
    private readonly Vring[] _rings = new Vring[QueueCount];
    private readonly DescriptorChain _chain = new();
    private GuestMemory? _memory;
    private ulong _ackValue;
    private bool _disposed;

    public VhostUserSession(string name, Log log, RngDevice device, IVringEvents events, bool requireSealedMemory = true)
    {
        _name = name;
        _log = log;
        _device = device;
        _events = events;
        _requireSealedMemory = requireSealedMemory;
        for (int i = 0; i < _rings.Length; i++) _rings[i] = new Vring(i);
    }

    public ulong AckedFeatures { get; private set; }
    public ulong AckedProtocolFeatures { get; private set; }
    public bool HasOwner { get; private set; }
    public GuestMemory? Memory => _memory;
    public Vring RingState(int index) => _rings[index];

    private bool EventIdx => (AckedFeatures & 1UL << VhostUserFeatures.VIRTIO_RING_F_EVENT_IDX) != 0;
    private bool IndirectDesc => (AckedFeatures & 1UL << VhostUserFeatures.VIRTIO_RING_F_INDIRECT_DESC) != 0;

    /// <summary>
    /// Handles one request. Returns the length of the reply payload written to
    /// <paramref name="reply"/> (at least 64 bytes), or -1 if no reply is due. Descriptors in
    /// <paramref name="fds"/> that the request keeps are taken; the caller closes the rest.
    /// </summary>
    public int Handle(in VhostUserHeader header, ReadOnlySpan<byte> payload, FdList fds, Span<byte> reply)
    {
        if (_log.MessagesEnabled) _log.Message(_name, MessageDescriber.DescribeRequest(header, payload, fds.Count));
        string name = VhostUserRequestInfo.Name(header.Request);
        try
        {
            _ackValue = 0;
            int length = Dispatch(header.Request, payload, fds, reply);
            if (length >= 0) return length;
            // REPLY_ACK: honour NEED_REPLY whenever it is set, negotiated or not (QEMU may
            // set it after a reconnect without renegotiating).
            if (!header.NeedReply) return -1;
            BinaryPrimitives.WriteUInt64LittleEndian(reply, _ackValue);
            return sizeof(ulong);
        }
        catch (VhostUserRequestRefusedException e)
        {
            if (VhostUserRequestInfo.HasReplyBody(header.Request))
                throw new VhostUserProtocolException($"{e.Message}; {name} expects a reply that cannot carry a refusal");
            if (!header.NeedReply)
                throw new VhostUserProtocolException($"{e.Message}; refused without NEED_REPLY, so the frontend cannot be told");
            _log.Error(_name, $"refused: {e.Message}");
            BinaryPrimitives.WriteUInt64LittleEndian(reply, 1);
            return sizeof(ulong);
        }
    }

    private int Dispatch(VhostUserRequest request, ReadOnlySpan<byte> payload, FdList fds, Span<byte> reply)
    {
        switch (request)
        {
            case VhostUserRequest.VHOST_USER_GET_FEATURES:
                ExpectNothing(request, payload, fds);
                return WriteU64(reply, VhostUserFeatures.Offered);
            case VhostUserRequest.VHOST_USER_SET_FEATURES:
                ExpectFds(request, fds, 0);
                SetFeatures(Payload.ReadU64(request, payload));
                return -1;
            case VhostUserRequest.VHOST_USER_SET_OWNER:
                ExpectNothing(request, payload, fds);
                HasOwner = true;   // "session start"; QEMU skips it when it reconnects, so nothing depends on it
                return -1;
            case VhostUserRequest.VHOST_USER_RESET_OWNER:
                ExpectNothing(request, payload, fds);
                // Deprecated; the spec recommends ignoring it or disabling all rings.
                foreach (var ring in _rings) Disable(ring);
                return -1;
            case VhostUserRequest.VHOST_USER_SET_MEM_TABLE:
                SetMemTable(payload, fds);
                return -1;
            case VhostUserRequest.VHOST_USER_SET_VRING_NUM:
                ExpectFds(request, fds, 0);
                SetVringNum(VhostVringState.Read(request, payload));
                return -1;
            case VhostUserRequest.VHOST_USER_SET_VRING_ADDR:
                ExpectFds(request, fds, 0);
                SetVringAddr(VhostVringAddr.Read(request, payload));
                return -1;
            case VhostUserRequest.VHOST_USER_SET_VRING_BASE:
                ExpectFds(request, fds, 0);
                SetVringBase(VhostVringState.Read(request, payload));
                return -1;
            case VhostUserRequest.VHOST_USER_GET_VRING_BASE:
                ExpectFds(request, fds, 0);
                return GetVringBase(VhostVringState.Read(request, payload), reply);
            case VhostUserRequest.VHOST_USER_SET_VRING_KICK:
                SetVringKick(VhostVringFile.Read(request, payload), fds);
                return -1;
            case VhostUserRequest.VHOST_USER_SET_VRING_CALL:
            case VhostUserRequest.VHOST_USER_SET_VRING_ERR:
                SetVringNotifier(request, VhostVringFile.Read(request, payload), fds);
                return -1;
            case VhostUserRequest.VHOST_USER_GET_PROTOCOL_FEATURES:
                ExpectNothing(request, payload, fds);
                return WriteU64(reply, VhostUserFeatures.OfferedProtocol);
            case VhostUserRequest.VHOST_USER_SET_PROTOCOL_FEATURES:
                ExpectFds(request, fds, 0);
                SetProtocolFeatures(Payload.ReadU64(request, payload));
                return -1;
            case VhostUserRequest.VHOST_USER_GET_QUEUE_NUM:
                ExpectNothing(request, payload, fds);
                return WriteU64(reply, QueueCount);
            case VhostUserRequest.VHOST_USER_SET_VRING_ENABLE:
                ExpectFds(request, fds, 0);
                SetVringEnable(VhostVringState.Read(request, payload));
                return -1;
            default:
                throw new VhostUserProtocolException($"{VhostUserRequestInfo.Name(request)} is not supported: it belongs to a feature this backend does not offer (features {VhostUserFeatures.Describe(VhostUserFeatures.Offered)}, protocol features {VhostUserFeatures.DescribeProtocol(VhostUserFeatures.OfferedProtocol)})");
        }
    }

    // --- features ---------------------------------------------------------------------------

    private void SetFeatures(ulong features)
    {
        ulong unoffered = features & ~VhostUserFeatures.Offered;
        if (unoffered != 0)
            throw new VhostUserRequestRefusedException($"VHOST_USER_SET_FEATURES 0x{features:x} acknowledges {VhostUserFeatures.ListBits(unoffered)}, which the backend did not offer (it offers {VhostUserFeatures.Describe(VhostUserFeatures.Offered)}); check the device's packed=/iommu_platform= properties");
        AckedFeatures = features;
        // "If VHOST_USER_F_PROTOCOL_FEATURES has not been negotiated, the ring starts directly
        // in the enabled state."
        if ((features & 1UL << VhostUserFeatures.VHOST_USER_F_PROTOCOL_FEATURES) == 0)
            foreach (var ring in _rings) ring.Enabled = true;
        foreach (var ring in _rings) Layout(ring);
        ServeAll();
    }

    private void SetProtocolFeatures(ulong features)
    {
        ulong unoffered = features & ~VhostUserFeatures.OfferedProtocol;
        if (unoffered != 0)
            throw new VhostUserRequestRefusedException($"VHOST_USER_SET_PROTOCOL_FEATURES 0x{features:x} acknowledges {VhostUserFeatures.ListBits(unoffered, protocol: true)}, which the backend did not offer (it offers {VhostUserFeatures.DescribeProtocol(VhostUserFeatures.OfferedProtocol)})");
        AckedProtocolFeatures = features;
    }

    // --- memory -----------------------------------------------------------------------------

    private void SetMemTable(ReadOnlySpan<byte> payload, FdList fds)
    {
        var table = VhostUserMemory.Read(payload);
        var memory = GuestMemory.Map(table, fds, _requireSealedMemory, text => _log.Warn(_name, text));
        var old = _memory;
        _memory = memory;
        // The rings point into the old mappings: lay them out again in the new table before
        // unmapping (a started ring keeps its indexes).
        foreach (var ring in _rings) Layout(ring);
        old?.Dispose();
        ServeAll();
    }

    // --- ring configuration -----------------------------------------------------------------

    private Vring RingAt(VhostUserRequest request, uint index)
    {
        if (index >= _rings.Length)
            throw new VhostUserRequestRefusedException($"{VhostUserRequestInfo.Name(request)} names ring {index}, but the entropy device has {QueueCount} queue");
        return _rings[index];
    }

    private void SetVringNum(VhostVringState state)
    {
        var ring = RingAt(VhostUserRequest.VHOST_USER_SET_VRING_NUM, state.Index);
        RefuseWhileStarted(ring, VhostUserRequest.VHOST_USER_SET_VRING_NUM);
        if (state.Num == 0 || state.Num > SplitRing.MaxQueueSize || (state.Num & (state.Num - 1)) != 0)
            throw new VhostUserRequestRefusedException($"VHOST_USER_SET_VRING_NUM {state.Num}: a split queue size is a power of 2 from 1 to {SplitRing.MaxQueueSize} (virtio 1.2, 2.7)");
        if (NoEffectWhileBroken(ring, VhostUserRequest.VHOST_USER_SET_VRING_NUM)) return;
        ring.Num = state.Num;
        LayoutAndReport(ring);
    }

    private void SetVringBase(VhostVringState state)
    {
        var ring = RingAt(VhostUserRequest.VHOST_USER_SET_VRING_BASE, state.Index);
        RefuseWhileStarted(ring, VhostUserRequest.VHOST_USER_SET_VRING_BASE);
        if (state.Num > ushort.MaxValue)
            throw new VhostUserRequestRefusedException($"VHOST_USER_SET_VRING_BASE {state.Num}: a split ring index is 16 bits");
        if (NoEffectWhileBroken(ring, VhostUserRequest.VHOST_USER_SET_VRING_BASE)) return;
        ring.Base = (ushort)state.Num;
        LayoutAndReport(ring);
    }

    private void SetVringAddr(VhostVringAddr addr)
    {
        var ring = RingAt(VhostUserRequest.VHOST_USER_SET_VRING_ADDR, addr.Index);
        if (addr.Flags != 0)
            throw new VhostUserRequestRefusedException($"VHOST_USER_SET_VRING_ADDR flags 0x{addr.Flags:x}: VHOST_VRING_F_LOG needs dirty logging (VHOST_F_LOG_ALL), which the backend does not offer");
        if (NoEffectWhileBroken(ring, VhostUserRequest.VHOST_USER_SET_VRING_ADDR)) return;
        // Allowed on a started ring too ("changing some configuration aspects on the fly"): it
        // moves, keeping its indexes.
        ring.Addr = addr;
        LayoutAndReport(ring);
        Serve(ring);
    }

    private static void RefuseWhileStarted(Vring ring, VhostUserRequest request)
    {
        if (ring.Phase == VringPhase.Started)
            throw new VhostUserRequestRefusedException($"{VhostUserRequestInfo.Name(request)} for ring {ring.Index} while it is started (stop it with GET_VRING_BASE first)");
    }

    /// <summary>A broken ring takes no new set-up until it is stopped: the message changes
    /// nothing, the log says why, and a NEED_REPLY frontend is told it failed.</summary>
    private bool NoEffectWhileBroken(Vring ring, VhostUserRequest request)
    {
        if (ring.Phase != VringPhase.Broken) return false;
        _log.Warn(_name, $"vring {ring.Index}: {VhostUserRequestInfo.Name(request)} has no effect: the ring is broken ({ring.BrokenReason}). Stop it with GET_VRING_BASE, then set it up again.");
        _ackValue = 1;
        return true;
    }

    /// <summary>Layout after a set-up message; if that broke the ring, a NEED_REPLY frontend is told.</summary>
    private void LayoutAndReport(Vring ring)
    {
        Layout(ring);
        if (ring.Phase == VringPhase.Broken) _ackValue = 1;
    }

    /// <summary>
    /// Builds the SplitRing once size, addresses and memory table are all known, and again
    /// whenever one of them changes. The ring addresses are user addresses (translated through
    /// userspace_addr) and each part must lie inside one region with the alignment of virtio
    /// 1.2, 2.7, or the ring is broken. A ring sent before the memory table simply waits for it.
    /// A started ring keeps its indexes across a new memory table; otherwise it starts from
    /// SET_VRING_BASE and the guest's used->idx. A broken ring is left as it is.
    /// </summary>
    private void Layout(Vring ring)
    {
        if (ring.Phase == VringPhase.Broken) return;
        var previous = ring.Ring;
        ring.Ring = null;
        bool carryOver = ring.Phase == VringPhase.Started && previous is not null;
        if (carryOver) ring.Base = previous!.NextAvail;   // keep the progress of a running ring
        if (ring.Num == 0 || ring.Addr is not VhostVringAddr addr || _memory is null) return;

        uint num = ring.Num;
        byte* desc = _memory.TranslateUser(addr.DescUserAddr, SplitRing.DescTableSize(num));
        byte* avail = _memory.TranslateUser(addr.AvailUserAddr, SplitRing.AvailRingSize(num));
        byte* used = _memory.TranslateUser(addr.UsedUserAddr, SplitRing.UsedRingSize(num));
        string? problem =
            addr.DescUserAddr % SplitRing.DescAlign != 0 ? $"descriptor table 0x{addr.DescUserAddr:x} is not {SplitRing.DescAlign}-byte aligned" :
            addr.AvailUserAddr % SplitRing.AvailAlign != 0 ? $"available ring 0x{addr.AvailUserAddr:x} is not {SplitRing.AvailAlign}-byte aligned" :
            addr.UsedUserAddr % SplitRing.UsedAlign != 0 ? $"used ring 0x{addr.UsedUserAddr:x} is not {SplitRing.UsedAlign}-byte aligned" :
            desc == null ? $"descriptor table 0x{addr.DescUserAddr:x} ({SplitRing.DescTableSize(num)} bytes) is not inside one memory region" :
            avail == null ? $"available ring 0x{addr.AvailUserAddr:x} ({SplitRing.AvailRingSize(num)} bytes) is not inside one memory region" :
            used == null ? $"used ring 0x{addr.UsedUserAddr:x} ({SplitRing.UsedRingSize(num)} bytes) is not inside one memory region" :
            null;
        if (problem is not null) { MarkBroken(ring, problem); return; }

        ushort nextUsed = carryOver ? previous!.NextUsed : System.Threading.Volatile.Read(ref *(ushort*)(used + 2));
        ring.Ring = new SplitRing(_memory, desc, avail, used, num, ring.Base, nextUsed, EventIdx, IndirectDesc);
    }

    private int GetVringBase(VhostVringState state, Span<byte> reply)
    {
        var ring = RingAt(VhostUserRequest.VHOST_USER_GET_VRING_BASE, state.Index);
        // "stop ring upon receiving VHOST_USER_GET_VRING_BASE", in whatever state it is.
        string? brokenReason = ring.BrokenReason;
        StopKick(ring);
        _events.CancelServe(ring.Index);
        ushort nextAvail = ring.Stop();
        if (brokenReason is not null)
            _log.Info(_name, $"vring {ring.Index}: stopped; it was broken ({brokenReason}) and is served again once set up anew (SET_VRING_NUM, SET_VRING_ADDR, SET_VRING_KICK)");
        new VhostVringState(state.Index, nextAvail).Write(reply);
        return VhostVringState.Size;
    }

    private void SetVringKick(VhostVringFile file, FdList fds)
    {
        var ring = RingAt(VhostUserRequest.VHOST_USER_SET_VRING_KICK, file.Index);
        if (file.NoFd)
            throw new VhostUserRequestRefusedException($"VHOST_USER_SET_VRING_KICK for ring {file.Index} without an fd asks for polling, which this backend does not do");
        ExpectFds(VhostUserRequest.VHOST_USER_SET_VRING_KICK, fds, 1);
        ulong token = _events.WatchKick(ring.Index, fds[0], out int errno);
        if (token == 0)
            throw new VhostUserRequestRefusedException($"VHOST_USER_SET_VRING_KICK for ring {file.Index}: the fd cannot be waited on: {Libc.ErrnoText(errno)}");
        StopKick(ring);
        ring.KickFd = fds.Take(0);
        ring.KickToken = token;
        // A broken ring keeps the new fd (its kicks are logged as ignored) but does not start.
        if (NoEffectWhileBroken(ring, VhostUserRequest.VHOST_USER_SET_VRING_KICK)) return;
        ring.Start();
        Serve(ring);   // buffers may already be waiting
    }

    private void SetVringNotifier(VhostUserRequest request, VhostVringFile file, FdList fds)
    {
        var ring = RingAt(request, file.Index);
        ExpectFds(request, fds, file.NoFd ? 0 : 1);
        int fd = file.NoFd ? -1 : fds.Take(0);
        if (request == VhostUserRequest.VHOST_USER_SET_VRING_CALL)
        {
            Libc.CloseIfValid(ring.CallFd);
            ring.CallFd = fd;
        }
        else
        {
            Libc.CloseIfValid(ring.ErrFd);
            ring.ErrFd = fd;
        }
    }

    private void SetVringEnable(VhostVringState state)
    {
        var ring = RingAt(VhostUserRequest.VHOST_USER_SET_VRING_ENABLE, state.Index);
        if (state.Num > 1)
            throw new VhostUserRequestRefusedException($"VHOST_USER_SET_VRING_ENABLE {state.Num}: expected 0 or 1");
        if (state.Num == 0) { Disable(ring); return; }
        ring.Enabled = true;
        Serve(ring);
    }

    private void Disable(Vring ring)
    {
        ring.Enabled = false;
        _events.CancelServe(ring.Index);
    }

    private void StopKick(Vring ring)
    {
        if (ring.KickFd < 0) return;
        _events.UnwatchKick(ring.KickFd, ring.KickToken);
        Libc.close(ring.KickFd);
        ring.KickFd = -1;
        ring.KickToken = 0;
    }

    // --- serving ----------------------------------------------------------------------------

    /// <summary>A kick arrived on ring <paramref name="index"/>.</summary>
    public void OnKick(int index)
    {
        var ring = _rings[index];
        if (!ring.CanServe)
        {
            if (_log.RingEnabled) _log.Ring(_name, $"vring {index}: kick ignored: {ring.NotServingReason(_memory is not null)}");
            return;
        }
        if (_log.RingEnabled) _log.Ring(_name, $"vring {index}: kick");
        Serve(ring);
    }

    /// <summary>A deferred serve (rate limit, dry source, fairness) is due for ring <paramref name="index"/>.</summary>
    public void OnServeDue(int index) => Serve(_rings[index]);

    private void ServeAll()
    {
        foreach (var ring in _rings) Serve(ring);
    }

    private void Serve(Vring ring)
    {
        if (!ring.CanServe || _memory is null) return;
        RngDevice.ServeResult result;
        try
        {
            result = _device.Serve(ring.Ring!, _memory, _chain);
        }
        catch (VirtqueueException e)
        {
            MarkBroken(ring, e.Message);
            return;
        }
        if (result.Completed > 0 && _log.RingEnabled)
            _log.Ring(_name, $"vring {ring.Index}: {result.Completed} buffer(s) filled ({result.Bytes} bytes), used->idx={ring.Ring!.NextUsed}");
        if (result.Notify && ring.CallFd >= 0)
        {
            int errno = EventFd.Signal(ring.CallFd);
            if (errno != 0) _log.Warn(_name, $"vring {ring.Index}: signalling the call fd failed: {Libc.ErrnoText(errno)}");
            else if (_log.RingEnabled) _log.Ring(_name, $"vring {ring.Index}: call");
        }
        if (result.Polling)
        {
            // Empty, kicks still off: look again on the loop's next turn, after whatever
            // else is pending (other guests' kicks and messages).
            if (!ring.Polling && _log.RingEnabled)
                _log.Ring(_name, $"vring {ring.Index}: polling for more buffers, up to {_device.BusyPollNs / 1000} us, before asking for a kick");
            ring.Polling = true;
            _events.ServeLater(ring.Index, result.RetryAtNs);
            return;
        }
        if (ring.Polling && result.RetryAtNs == RngDevice.ServeResult.NoRetry && _log.RingEnabled)
            _log.Ring(_name, $"vring {ring.Index}: no buffer for {_device.BusyPollNs / 1000} us of polling; kicks re-enabled");
        ring.Polling = false;
        if (result.RetryAtNs != RngDevice.ServeResult.NoRetry)
        {
            if (_log.RingEnabled)
                _log.Ring(_name, $"vring {ring.Index}: buffers waiting (rate limit, entropy source or fairness); serving again in {Math.Max(0, result.RetryAtNs - _device.NowNs()) / 1000} us");
            _events.ServeLater(ring.Index, result.RetryAtNs);
        }
    }

    private void MarkBroken(Vring ring, string reason)
    {
        ring.Break(reason);
        _events.CancelServe(ring.Index);
        _log.Error(_name, $"vring {ring.Index} broken by the guest: {reason}. The ring is no longer served until the frontend stops it (GET_VRING_BASE) and sets it up again.");
        if (ring.ErrFd >= 0) EventFd.Signal(ring.ErrFd);
    }

    // --- helpers ----------------------------------------------------------------------------

    private static int WriteU64(Span<byte> reply, ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(reply, value);
        return sizeof(ulong);
    }

    private static void ExpectNothing(VhostUserRequest request, ReadOnlySpan<byte> payload, FdList fds)
    {
        Payload.ExpectSize(request, payload, 0);
        ExpectFds(request, fds, 0);
    }

    private static void ExpectFds(VhostUserRequest request, FdList fds, int count)
    {
        if (fds.Count != count)
            throw new VhostUserRequestRefusedException($"{VhostUserRequestInfo.Name(request)} carries {fds.Count} file descriptor(s), expected {count}");
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var ring in _rings)
        {
            StopKick(ring);
            ring.CloseCallAndErr();
            _events.CancelServe(ring.Index);
            ring.Ring = null;
        }
        _memory?.Dispose();
        _memory = null;
    }
}
