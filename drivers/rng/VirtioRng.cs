using System;
using GuestOS.Drivers.Virtio;
using GuestOS.Hal;
using GuestOS.Drivers.Narration;

namespace GuestOS.Drivers.Rng
{
    // The virtio entropy device (virtio 1.2 §5.4), after Linux's
    // drivers/char/hw_random/virtio-rng.c, but built to move entropy as fast as the host
    // delivers it. Linux keeps one 64-byte buffer posted and takes an interrupt per 64 bytes;
    // this driver keeps the whole queue populated with large device-writable buffers:
    //
    //   probe        every buffer posted, one kick                      (probe_common)
    //   interrupt    random_recv_done takes the used buffers, in order,  (random_recv_done)
    //                into a ready list; callbacks stay off until the reader sleeps again
    //   Read         copies out of the oldest ready buffer; a drained    (virtio_read,
    //                buffer goes straight back to the device              copy_data, request_entropy)
    //
    // With EVENT_IDX the device asks for a kick only when it ran dry, and interrupts only when
    // the reader is about to sleep. Before sleeping the reader spins on the used ring for up to
    // SpinNs (rng.nospin: not at all): a device working on our buffers completes one within
    // tens of microseconds, sooner than an interrupt's round trip, so a busy ring needs no
    // interrupt either (Linux: NAPI busy polling, napi_busy_loop). The device fills "one or
    // more" bytes (§5.4.6.1): short fills are normal, 0 is an error. Buffer size and count are settings (rng.bufsize,
    // rng.buffers); rng.buffers=1 rng.bufsize=64 is Linux's shape.
    //
    // Concurrency: the interrupt handler and Read both touch the ring, so Read runs with local
    // interrupts disabled and takes interrupts only inside Irq.WaitLocalDisabled (the kernel's
    // spin_lock_irqsave); the mask-check-sleep order there cannot lose a wake-up.
    public sealed unsafe class VirtioRng
    {
        public const ushort REQUESTQ = 0;
        public const uint MinBufferSize = 16384;
        public const uint MaxBufferSize = 1 << 20;
        // Default buffer size: this much in flight, over however many buffers the negotiated
        // queue holds, up to DefaultBuffers (vhost-user-rng-pci: 4 x 256 KiB; virtio-rng-pci and
        // virtio-mmio: 8 x 128 KiB). Each buffer costs at most one kick and one interrupt, and a
        // device round trip (tens to hundreds of us under TCG) must be covered by the data
        // already in flight. Not more: QEMU's TCG keeps a 256-entry software TLB (it grows only
        // when the guest flushes), so 1 MiB is about the most the copy can cycle through
        // without a TLB refill per page. Measured with 4 MiB in flight instead: the guest's
        // copy alone 0.66-0.84x, our backend's rate 0.83x on x86_64 and 0.95x on aarch64
        // (medians of 6 paired runs, busy host).
        public const uint InFlightBytes = 1 << 20;
        // Without rng.buffers: at most 8 buffers (virtio-rng-pci's queue size). More, smaller
        // ones cost more per byte: on virtio-mmio, whose queue takes 64, 64 x 16 KiB ran at
        // 0.7-0.86x of 8 x 128 KiB on both devices (5 paired runs; QEMU's device took 3-6x
        // the kicks).
        public const uint DefaultBuffers = 8;
        public const uint MaxBuffers = 64;                  // ring entries used at most (the ring is capped to this)
        public const ulong DefaultTimeoutNs = 10000000000;  // 10 s (rate-limited backends are slow)
        // Spin before sleeping: longer than a busy device takes to fill one default buffer (256
        // KiB at 2-5 GB/s), short against the interrupt-driven wait it may replace. Under TCG an
        // interrupt costs the device's eventfd write, QEMU's main loop waking to inject it and
        // the halted vCPU thread waking: 0.6-0.9 of them per MiB at full speed.
        public const ulong SpinNs = 200000;                 // 200 us
        private const uint MaxResetsWithoutProgress = 1;

        // Settings for devices as they are probed (0 / false: the default). Statics without
        // initializers: the kernel sets them from its command line, tests directly.
        public static ulong ProbeTimeoutNs;     // give up waiting for a completion after this long
        public static uint ProbeBufferSize;     // bytes per buffer
        public static uint ProbeBuffers;        // buffers in flight (0: as many as the queue holds, up to DefaultBuffers)
        public static bool ProbePolling;        // never use interrupts
        public static bool ProbeNoSpin;         // sleep at once when no completion is ready

        public int Index;               // virtio_rng.<Index>
        public VirtioDevice Vdev;
        public ulong TimeoutNs;
        public ulong SpinTimeNs;        // SpinNs, or 0 with rng.nospin
        public uint BufferSize;
        public uint BufferCount;        // buffers in use (<= queue size)

        // Statistics.
        public ulong Requests;          // buffers handed to the device
        public ulong Completions;       // buffers it gave back
        public ulong BytesRead;
        public ulong Kicks;             // available-buffer notifications actually sent
        public ulong SpinHits;          // waits ended by spinning, without an interrupt
        public ulong Resets;            // recoveries from DEVICE_NEEDS_RESET or a stall
        public ulong Dropped;           // requests a reset took back from the device uncompleted
        public ulong Interrupts { get { return Vdev.Interrupts; } }
        public VirtioIrqMode IrqMode { get { return Vdev.IrqMode; } }
        public VirtioTransport Transport { get { return Vdev.Transport; } }
        public ulong DriverOkNs;        // Clock.NowNs() when DRIVER_OK was written (first time)

        private Virtqueue _vq;
        private readonly Virtqueue[] _vqs = new Virtqueue[1];
        private readonly RngCallbacks _callbacks = new RngCallbacks();
        private DmaBuffer[] _bufs;
        private uint[] _filled;         // bytes the device wrote into buffer i
        private uint[] _ready;          // FIFO of completed buffers, oldest first
        private uint _readyHead, _readyCount;
        private uint _cur;              // the buffer being read out ...
        private uint _curOff, _curLeft; // ... where, and how much is left in it (0: none)
        private bool _zeroFill;         // a completion carried 0 bytes
        private bool _configChanged;    // set by the configuration interrupt
        private ulong _completionsAtReset;
        private DriverError _fatal;     // sticky: the device is unusable

        private sealed class RngCallbacks : VirtioCallbacks
        {
            public VirtioRng Rng;
            // NAPI style: no more interrupts until the reader sleeps again and re-arms them.
            public override void vq_callback(Virtqueue vq) { vq.virtqueue_disable_cb(); Rng.random_recv_done(); }
            public override void config_changed() { Rng._configChanged = true; }
        }

        private VirtioRng() { }

        // virtrng_probe / probe_common, with the generic steps of virtio_dev_probe around it, on
        // a device any transport found (the driver table binds virtio id 4, §5.4.1). Returns
        // null and an error if the device cannot be brought up.
        public static VirtioRng virtrng_probe(VirtioDevice vdev, int index, out DriverError err)
        {
            VirtioRng vi = new VirtioRng();
            vi._callbacks.Rng = vi;
            vi.Index = index;
            vi.Vdev = vdev;
            vi.TimeoutNs = ProbeTimeoutNs != 0 ? ProbeTimeoutNs : DefaultTimeoutNs;
            vi.SpinTimeNs = ProbeNoSpin ? 0 : SpinNs;
            vi.BufferSize = ProbeBufferSize < MaxBufferSize ? ProbeBufferSize : MaxBufferSize;   // 0: from the queue size
            vi.BufferCount = ProbeBuffers == 0 ? DefaultBuffers : ProbeBuffers < MaxBuffers ? ProbeBuffers : MaxBuffers;

            err = vi.virtrng_init();
            if (err != DriverError.Ok) return null;
            return vi;
        }

        // Bring-up steps 1-8 (§3.1.1) and the first requests; also the way back from
        // DEVICE_NEEDS_RESET. Buffers are allocated the first time, once the queue size is known.
        // No Linux counterpart by this name: virtio_dev_probe runs the generic steps around the
        // driver's probe_common, and virtio-rng never re-initialises itself.
        private DriverError virtrng_init()
        {
            DriverError err = Vdev.virtio_begin();
            if (err != DriverError.Ok) return err;      // reset failed: nothing set, nothing to undo

            // No device-specific feature bits exist for the entropy device (§5.4.3).
            err = Vdev.virtio_negotiate(0, 0);
            if (err != DriverError.Ok) return err;      // FAILED already set

            // "We expect a single virtqueue." (virtio_find_single_vq)
            err = Vdev.virtio_find_vqs(_vqs, MaxBuffers, _callbacks, ProbePolling);
            if (err != DriverError.Ok) { Vdev.virtio_fail(); return err; }
            _vq = _vqs[0];
            if (_bufs == null)
            {
                if (BufferCount > _vq.Num) BufferCount = _vq.Num;
                if (BufferSize == 0) BufferSize = virtrng_buffer_size(BufferCount);
                err = virtrng_alloc_buffers();
                if (err != DriverError.Ok) { Vdev.virtio_fail(); return err; }
            }

            Vdev.virtio_device_ready();
            if (DriverOkNs == 0) DriverOkNs = Clock.NowNs();
            BootPhases.Mark(BootPhase.BringUp);
            Narrate.RngReady(Vdev, Index, BufferCount, BufferSize);

            // "We always have a pending entropy request" (Linux 6.1 probe_common): here, all of them.
            for (uint b = 0; b < BufferCount; b++)
            {
                err = request_entropy(b);
                if (err != DriverError.Ok) return err;
            }
            return kick();
        }

        // InFlightBytes over `count` buffers, within [MinBufferSize, MaxBufferSize].
        public static uint virtrng_buffer_size(uint count)
        {
            uint size = InFlightBytes / count;
            return size < MinBufferSize ? MinBufferSize : size > MaxBufferSize ? MaxBufferSize : size;
        }

        private DriverError virtrng_alloc_buffers()
        {
            _bufs = new DmaBuffer[BufferCount];
            _filled = new uint[BufferCount];
            _ready = new uint[BufferCount];
            for (uint b = 0; b < BufferCount; b++)
            {
                _bufs[b] = Dma.AllocCoherentUninitialized(BufferSize);   // the device writes before we read
                if (_bufs[b].IsNull)
                {
                    for (uint f = 0; f < b; f++) Dma.FreeCoherent(_bufs[f]);
                    _bufs = null;
                    return DriverError.OutOfDmaMemory;
                }
            }
            return DriverError.Ok;
        }

        public DriverError LastFatalError { get { return _fatal; } }

        // Every buffer is in exactly one place: the device's hands (requested, not completed),
        // the ready list, or being read. Anything else was lost or completed twice; the
        // soak test checks this stays 0.
        public long BuffersUnaccounted
        {
            get { return (long)BufferCount - (long)(Requests - Completions - Dropped) - _readyCount - (_curLeft != 0 ? 1 : 0); }
        }

        // Which ring layout the queue uses (§2.7 split or §2.8 packed).
        public bool RingPacked { get { return VirtioFeatures.Has(Vdev.Features, VirtioFeatures.VIRTIO_F_RING_PACKED); } }

        // Read exactly len bytes into dst (Linux: virtio_read with wait=true). Returns len, or
        // a negative DriverError: -(long)DriverError.Timeout, -(long)DriverError.ZeroLengthFill,
        // a ring error... Bytes already copied when an error happens are not counted.
        // Called in process context with local interrupts enabled.
        public long virtio_read(byte* dst, uint len)
        {
            if (_fatal != DriverError.Ok) return -(long)_fatal;
            uint read = 0;
            DriverError err = DriverError.Ok;
            Irq.DisableLocal();
            while (read < len)
            {
                if (_curLeft == 0)
                {
                    err = wait_for_data();
                    if (err != DriverError.Ok) break;
                    continue;
                }
                uint n = len - read < _curLeft ? len - read : _curLeft;
                copy_data(dst + read, _bufs[_cur].Virt + _curOff, n);
                read += n;
                _curOff += n;
                _curLeft -= n;
                if (_curLeft == 0)
                {
                    // Drained: straight back to the device (the refill).
                    err = request_entropy(_cur);
                    if (err == DriverError.Ok) err = kick();
                    if (err != DriverError.Ok) break;
                }
            }
            Irq.EnableLocal();
            if (err != DriverError.Ok) return -(long)err;
            BytesRead += read;
            return read;
        }

        // copy_data's memcpy: the one copy of each byte, so its speed under TCG is the driver's
        // (drivers/Memmove.cs).
        private static void copy_data(byte* dst, byte* src, uint n) { Mem.memmove(dst, src, n); }

        // request_entropy: hand buffer b to the device (published by the next kick()).
        private DriverError request_entropy(uint b)
        {
            if (_fatal != DriverError.Ok) return _fatal;
            DriverError err = _vq.virtqueue_add_inbuf(_bufs[b].Phys, BufferSize, b);
            if (err != DriverError.Ok) return virtrng_fail(err);
            Requests++;
            return DriverError.Ok;
        }

        // virtqueue_kick: publish and notify only if the device asked for it (EVENT_IDX).
        private DriverError kick()
        {
            bool first = Kicks == 0;
            if (!_vq.virtqueue_kick_prepare()) return _vq.Broken ? virtrng_fail(DriverError.QueueBroken) : DriverError.Ok;
            if (!_vq.virtqueue_notify()) return virtrng_fail(DriverError.QueueBroken);
            Kicks++;
            Narrate.Kick(Vdev, Index, Requests, first);
            return DriverError.Ok;
        }

        // random_recv_done: take every used buffer, oldest first. Runs from the interrupt and
        // from the reader; safe to call spuriously ("We can get spurious callbacks, e.g.
        // shared IRQs + virtio_pci"). Returns true if a completion was taken.
        public bool random_recv_done()
        {
            bool any = false;
            ulong token;
            uint len;
            DriverError err;
            while (_vq.virtqueue_get_buf(out token, out len, out err))
            {
                any = true;
                Completions++;
                uint b = (uint)token;   // our own token: the ring checked the id was outstanding
                if (len == 0)
                {
                    _zeroFill = true;
                    request_entropy(b);
                    continue;
                }
                _filled[b] = len;
                _ready[(_readyHead + _readyCount) % BufferCount] = b;
                _readyCount++;
                Narrate.Completion(Vdev, Index, len, Completions == 1);
            }
            if (err != DriverError.Ok) virtrng_fail(err);
            return any;
        }

        // Until a filled buffer is ready (Linux: wait_for_completion_killable(&have_data)), or
        // TimeoutNs without one. Interrupts: re-arm callbacks, check once more, sleep until an
        // interrupt or the deadline. Polling: look, relax. Either way DEVICE_NEEDS_RESET is
        // checked at the timeout (and every 1024 polling looks), since a device that needs a
        // reset may stop completing without a config interrupt reaching us.
        private DriverError wait_for_data()
        {
            ulong deadline = Clock.NowNs() + TimeoutNs;
            uint polls = 0;
            while (true)
            {
                if (_fatal != DriverError.Ok) return _fatal;
                random_recv_done();
                if (_zeroFill)
                {
                    // §5.4.6.1 "The device MUST place one or more random bytes into the buffer".
                    _zeroFill = false;
                    Printk.Line("virtio_rng.%u: device completed a request with 0 bytes (spec 5.4.6.1 requires >= 1); request reposted"u8, (ulong)Index);
                    kick();
                    return DriverError.ZeroLengthFill;
                }
                if (_readyCount > 0)
                {
                    _cur = _ready[_readyHead];
                    _readyHead = (_readyHead + 1) % BufferCount;
                    _readyCount--;
                    _curOff = 0;
                    _curLeft = _filled[_cur];
                    return DriverError.Ok;
                }
                if (_configChanged)
                {
                    _configChanged = false;
                    if (Vdev.virtio_needs_reset()) { DriverError e = recover(stalled: false); if (e != DriverError.Ok) return e; }
                    continue;
                }
                bool timedOut = Clock.NowNs() >= deadline;
                if (timedOut || (Vdev.IrqMode == VirtioIrqMode.Polling && (++polls & 1023) == 0))
                    _configChanged = Vdev.virtio_needs_reset();
                if (_configChanged) continue;
                if (timedOut)
                {
                    // Silent without DEVICE_NEEDS_RESET: QEMU 7.2 only logs a vhost-user
                    // backend's ring error, so its guest is never told. Reset once and try again.
                    DriverError e = recover(stalled: true);
                    if (e != DriverError.Ok) return e;
                    deadline = Clock.NowNs() + TimeoutNs;
                }
                if (Vdev.IrqMode == VirtioIrqMode.Polling) Cpu.Relax();
                else if (spin_for_used(deadline)) SpinHits++;
                // virtqueue_enable_cb: false when buffers were used meanwhile; take them first.
                else if (_vq.virtqueue_enable_cb()) Irq.WaitLocalDisabled(deadline);
            }
        }

        // Spin on the used ring for up to SpinTimeNs (never past the read's deadline); true as
        // soon as the device has used a buffer. Callbacks are off meanwhile (used_event parked;
        // a wait whose enable_cb found buffers left them on), so a completion that lands while
        // we spin costs the device no notification and us no interrupt to find nothing. The
        // clock is read every 64 looks: reading it traps under TCG, a look at used->idx does not.
        private bool spin_for_used(ulong deadline)
        {
            if (SpinTimeNs == 0) return false;
            _vq.virtqueue_disable_cb();
            ulong until = Clock.NowNs() + SpinTimeNs;
            if (until > deadline) until = deadline;
            do
            {
                for (int i = 0; i < 64; i++)
                {
                    if (_vq.virtqueue_more_used()) return true;
                    Cpu.Relax();   // also a compiler barrier: used->idx is read afresh
                }
            } while (Clock.NowNs() < until);
            return false;
        }

        // §2.1.2: "the driver MUST reset the device" before using it again after
        // DEVICE_NEEDS_RESET. Reset (the device drops every buffer), free the ring, and run
        // the bring-up again; entropy not yet read is dropped. The same for a device that
        // stalled (no completion for TimeoutNs): GuestOS's policy, Linux's virtio_read waits
        // for ever. A device that needs it again before completing anything is given up on.
        private DriverError recover(bool stalled)
        {
            bool givingUp = Resets >= MaxResetsWithoutProgress && Completions == _completionsAtReset;
            Narrate.Recovery(Vdev, Index, stalled ? TimeoutNs / 1000000 : 0, givingUp);
            // A stalled device may still answer later (a rate limit): only this read fails.
            if (givingUp) return stalled ? DriverError.Timeout : virtrng_fail(DriverError.DeviceNeedsReset);
            Resets++;
            _completionsAtReset = Completions;
            DriverError err = Vdev.virtio_dev_remove();
            if (err != DriverError.Ok) return virtrng_fail(err);
            Dropped = Requests - Completions;   // the reset took every outstanding buffer back
            _readyHead = 0;
            _readyCount = 0;
            _curLeft = 0;
            _zeroFill = false;
            err = virtrng_init();
            if (err != DriverError.Ok) return virtrng_fail(err);
            return DriverError.Ok;
        }

        private DriverError virtrng_fail(DriverError e)
        {
            if (_fatal == DriverError.Ok) _fatal = e;
            return e;
        }

        // remove_common: reset the device (it stops using our memory), then free it all. After
        // a failed reset the buffers stay allocated: the device may still write them.
        public DriverError virtrng_remove()
        {
            DriverError err = Vdev.virtio_dev_remove();
            if (err == DriverError.Ok && _bufs != null)
            {
                for (uint b = 0; b < _bufs.Length; b++) Dma.FreeCoherent(_bufs[b]);
                Narrate.Removed(Vdev, Index, (uint)_bufs.Length);
            }
            _bufs = null;
            _fatal = DriverError.DeviceRemoved;
            return err;
        }
    }

    // The entropy driver in the virtio driver table (Linux: virtio_rng_driver, id_table
    // { VIRTIO_ID_RNG }): each device it binds becomes virtio_rng.<n>, in probe order.
    public sealed class VirtioRngDriver : VirtioDriver
    {
        public VirtioRng[] Bound = new VirtioRng[0];

        public override ReadOnlySpan<byte> Name { get { return "virtio_rng"u8; } }
        public override int DeviceId { get { return VirtioIds.VIRTIO_ID_RNG; } }

        public override DriverError probe(VirtioDevice vdev)
        {
            DriverError err;
            VirtioRng rng = VirtioRng.virtrng_probe(vdev, Bound.Length, out err);
            if (rng == null) return err;
            VirtioRng[] more = new VirtioRng[Bound.Length + 1];
            for (int i = 0; i < Bound.Length; i++) more[i] = Bound[i];
            more[Bound.Length] = rng;
            Bound = more;
            return DriverError.Ok;
        }
    }
}
