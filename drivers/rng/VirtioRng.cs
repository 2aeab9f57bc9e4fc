using GuestOS.Drivers.Pci;
using GuestOS.Drivers.Virtio;
using GuestOS.Hal;

namespace GuestOS.Drivers.Rng
{
    // The virtio entropy device (virtio 1.2 §5.4), shaped like Linux's
    // drivers/char/hw_random/virtio-rng.c: one queue ("requestq"), one 64-byte device-writable
    // buffer always posted, a new request as soon as the previous data has been consumed.
    // The device fills "one or more" bytes (§5.4.6.1): short fills are normal, 0 is an error.
    //
    // Three pieces, so interrupts can replace polling later without changing the rest:
    //   request_entropy()   post the buffer and kick            (process context)
    //   random_recv_done()  take a completion from the used ring (an interrupt handler will
    //                       call this; today Wait() polls it)
    //   Wait()              until a completion arrived; today: poll + Cpu.Relax(), bounded by
    //                       TimeoutNs. With interrupts: mask, check, wait, unmask.
    public sealed unsafe class VirtioRng
    {
        public const ushort REQUESTQ = 0;
        public const uint DataSize = 64;                    // SMP_CACHE_BYTES, as Linux
        public const uint MaxQueueSize = 64;                // one buffer in flight needs no more
        public const ulong DefaultTimeoutNs = 10000000000;  // 10 s (rate-limited backends are slow)

        // Wait limit given to devices as they are probed; 0 = DefaultTimeoutNs. (A static
        // without initializer: the kernel, e.g. from its command line, or a test sets it.)
        public static ulong ProbeTimeoutNs;

        public int Index;               // virtio_rng.<Index>
        public PciDevice Pci;
        public VirtioDevice Vdev;
        public ulong TimeoutNs;

        // Statistics.
        public ulong Requests;
        public ulong Completions;
        public ulong BytesRead;

        private Virtqueue _vq;
        private DmaBuffer _data;        // the one buffer the device fills
        private bool _busy;             // a request is in the device's hands
        private bool _haveData;         // a completion arrived and is not consumed yet
        private bool _zeroFill;         // ... and it carried 0 bytes
        private uint _dataAvail;
        private uint _dataIdx;
        private DriverError _fatal;     // sticky: the device is unusable

        private VirtioRng() { }

        // The ids this driver binds (virtio 1.2 §4.1.2, §5.4.1): virtio id 4 as modern device
        // 1af4:1044 (virtio-rng-pci,disable-legacy=on; vhost-user-rng-pci) or as transitional
        // 1af4:1005 with subsystem id 4 (plain virtio-rng-pci).
        public static bool Matches(PciDevice d)
        {
            return d.HeaderType == PciRegs.PCI_HEADER_TYPE_NORMAL && VirtioIds.FromPci(d) == VirtioIds.VIRTIO_ID_RNG;
        }

        // virtrng_probe / probe_common, with the generic steps of virtio_dev_probe around it.
        // Returns null and an error if the device cannot be brought up.
        public static VirtioRng Probe(PciDevice pdev, int index, out DriverError err)
        {
            VirtioDevice vdev = VirtioDevice.Probe(pdev, out err);
            if (vdev == null) return null;

            VirtioRng vi = new VirtioRng();
            vi.Index = index;
            vi.Pci = pdev;
            vi.Vdev = vdev;
            vi.TimeoutNs = ProbeTimeoutNs != 0 ? ProbeTimeoutNs : DefaultTimeoutNs;

            err = vdev.virtio_begin();
            if (err != DriverError.Ok) return null;   // reset failed: nothing set, nothing to undo

            // No device-specific feature bits exist for the entropy device (§5.4.3).
            err = vdev.virtio_negotiate(0, 0);
            if (err != DriverError.Ok) return null;   // FAILED already set

            vi._data = Dma.AllocCoherent(DataSize);
            if (vi._data.IsNull)
            {
                vdev.virtio_fail();
                err = DriverError.OutOfDmaMemory;
                return null;
            }

            // "We expect a single virtqueue." (virtio_find_single_vq)
            err = vdev.virtio_find_vq(REQUESTQ, MaxQueueSize, out vi._vq);
            if (err != DriverError.Ok)
            {
                vdev.virtio_fail();
                Dma.FreeCoherent(vi._data);
                return null;
            }
            // Polling for now: ask the device not to raise used-buffer notifications.
            vi._vq.virtqueue_disable_cb();

            vdev.virtio_device_ready();

            if (VirtioNarration.On)
            {
                VirtioNarration.Begin(pdev);
                Log.Write("virtio_rng.");
                Log.Dec((ulong)index);
                Log.Write(": entropy device ready, ");
                Log.Dec(DataSize);
                Log.Write("-byte buffer at ");
                Log.Hex(vi._data.Phys);
                Log.Write(", polling");
                VirtioNarration.End("5.4", "virtrng_probe -> probe_common");
            }

            // "We always have a pending entropy request" (Linux 6.1 probe_common).
            err = vi.request_entropy();
            if (err != DriverError.Ok) return null;
            err = DriverError.Ok;
            return vi;
        }

        public DriverError LastFatalError { get { return _fatal; } }

        // Which ring layout the queue uses (only the narration cares).
        private bool RingPacked { get { return VirtioFeatures.Has(Vdev.Features, VirtioFeatures.VIRTIO_F_RING_PACKED); } }

        // Read exactly len bytes into dst (Linux: virtio_read with wait=true). Returns len, or
        // a negative DriverError: -(long)DriverError.Timeout, -(long)DriverError.ZeroLengthFill,
        // a ring error... Bytes already copied when an error happens are not counted.
        public long Read(byte* dst, uint len)
        {
            if (_fatal != DriverError.Ok) return -(long)_fatal;
            uint read = 0;

            // Copy what is left of the last completion first.
            if (_haveData && _dataAvail != 0)
            {
                uint chunk = copy_data(dst, len);
                read += chunk;
            }

            while (read < len)
            {
                DriverError err = Wait();
                if (err != DriverError.Ok) return -(long)err;
                if (_zeroFill)
                {
                    // §5.4.6.1 "The device MUST place one or more random bytes into the buffer".
                    _zeroFill = false;
                    _haveData = false;
                    Log.Write("virtio_rng.");
                    Log.Dec((ulong)Index);
                    Log.Write(": device completed a request with 0 bytes (spec 5.4.6.1 requires >= 1); request reposted");
                    Log.Line();
                    request_entropy();
                    return -(long)DriverError.ZeroLengthFill;
                }
                read += copy_data(dst + read, len - read);
            }
            BytesRead += read;
            return read;
        }

        // copy_data: hand out what the device wrote; once all of it is used, post the buffer again.
        private uint copy_data(byte* dst, uint size)
        {
            if (size > _dataAvail) size = _dataAvail;
            byte* src = _data.Virt + _dataIdx;
            for (uint i = 0; i < size; i++) dst[i] = src[i];
            _dataIdx += size;
            _dataAvail -= size;
            if (_dataAvail == 0)
            {
                _haveData = false;
                request_entropy();
            }
            return size;
        }

        // request_entropy: post the whole buffer as one device-writable descriptor and kick.
        public DriverError request_entropy()
        {
            if (_fatal != DriverError.Ok) return _fatal;
            if (_busy) return DriverError.Ok;
            _haveData = false;
            _dataIdx = 0;
            _dataAvail = 0;
            // "There should always be room for one buffer."
            DriverError err = _vq.virtqueue_add_inbuf(_data.Phys, DataSize, _data.Phys);
            if (err != DriverError.Ok) return Fail(err);
            _busy = true;
            Requests++;
            bool first = Requests == 1;
            bool kicked = _vq.virtqueue_kick_prepare();
            if (kicked && !_vq.virtqueue_notify()) return Fail(DriverError.QueueBroken);
            if (first && VirtioNarration.On)
            {
                bool packed = RingPacked;
                VirtioNarration.Begin(Pci);
                Log.Write("virtio_rng.");
                Log.Dec((ulong)Index);
                Log.Write(": request: ");
                Log.Dec(DataSize);
                Log.Write(packed ? "-byte device-writable descriptor made available in the packed ring, "
                                 : "-byte device-writable buffer in avail ring, ");
                Log.Write(kicked ? "notify: iowrite16 queue 0 to the notify address" : "device needs no notify (EVENT_IDX)");
                VirtioNarration.End(packed ? "2.8.21, 4.1.5.2" : "2.7.13, 4.1.5.2", "request_entropy -> virtqueue_add_inbuf, virtqueue_kick");
            }
            return DriverError.Ok;
        }

        // random_recv_done: take the completion, if there is one. Safe to call spuriously
        // ("We can get spurious callbacks, e.g. shared IRQs + virtio_pci"). Returns true if a
        // completion was taken.
        public bool random_recv_done()
        {
            ulong token;
            uint len;
            DriverError err;
            if (!_vq.virtqueue_get_buf(out token, out len, out err))
            {
                if (err != DriverError.Ok) Fail(err);
                return false;
            }
            _busy = false;
            Completions++;
            _dataIdx = 0;
            _dataAvail = len;
            _zeroFill = len == 0;
            // With interrupts this store must come after the ones above (smp_store_release).
            _haveData = true;
            if (Completions == 1 && VirtioNarration.On)
            {
                VirtioNarration.Begin(Pci);
                Log.Write("virtio_rng.");
                Log.Dec((ulong)Index);
                Log.Write(": first completion: ");
                Log.Dec(len);
                Log.Write(" bytes");
                VirtioNarration.End(RingPacked ? "2.8.22, 5.4.6" : "2.7.14, 5.4.6", "random_recv_done -> virtqueue_get_buf");
            }
            return true;
        }

        // Wait until a completion is there (Linux: wait_for_completion_killable(&have_data)).
        // Today it polls; DEVICE_NEEDS_RESET is checked every 1024 polls and at the timeout.
        public DriverError Wait()
        {
            if (_fatal != DriverError.Ok) return _fatal;
            if (_haveData) return DriverError.Ok;
            if (!_busy)
            {
                DriverError e = request_entropy();
                if (e != DriverError.Ok) return e;
            }
            ulong start = Clock.NowNs();
            uint polls = 0;
            while (!random_recv_done())
            {
                if (_fatal != DriverError.Ok) return _fatal;
                polls++;
                bool timedOut = Clock.NowNs() - start >= TimeoutNs;
                if ((polls & 1023) == 0 || timedOut)
                {
                    if (Vdev.virtio_needs_reset())
                    {
                        Log.Write("virtio_rng.");
                        Log.Dec((ulong)Index);
                        Log.Write(": device set DEVICE_NEEDS_RESET (spec 2.1.2); giving up on it");
                        Log.Line();
                        return Fail(DriverError.DeviceNeedsReset);
                    }
                }
                if (timedOut)
                {
                    Log.Write("virtio_rng.");
                    Log.Dec((ulong)Index);
                    Log.Write(": no completion after ");
                    Log.Dec(TimeoutNs / 1000000);
                    Log.Write(" ms (request still posted)");
                    Log.Line();
                    return DriverError.Timeout;
                }
                Cpu.Relax();
            }
            return DriverError.Ok;
        }

        private DriverError Fail(DriverError e)
        {
            if (_fatal == DriverError.Ok) _fatal = e;
            return e;
        }

        // remove_common: reset the device (it stops using our memory), then free it all.
        public void Remove()
        {
            DriverError err = Vdev.Remove();
            if (err == DriverError.Ok && !_data.IsNull) Dma.FreeCoherent(_data);
            _data.Virt = null;
            _fatal = DriverError.DeviceRemoved;
        }

        public void PrintName()
        {
            Log.Write("virtio_rng.");
            Log.Dec((ulong)Index);
        }
    }
}
