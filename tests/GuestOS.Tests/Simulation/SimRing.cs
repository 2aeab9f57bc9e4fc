using System;
using System.Collections.Generic;
using GuestOS.Hal.Hosted;

namespace GuestOS.Tests.Simulation
{
    // What the simulated device needs of one virtqueue, whatever its layout: SimVring (split,
    // §2.7) or SimPackedVring (packed, §2.8). Both read and write the driver's (hosted) DMA
    // memory exactly as a device would, and check every guest address against the live DMA
    // allocations first, so a buggy driver shows up as an entry in Errors, not as a crash.
    public abstract unsafe class SimRing
    {
        public ulong Desc, Driver, Device;
        public uint Size;
        public bool EventIdx;
        public bool IndirectDesc;      // VIRTIO_F_INDIRECT_DESC negotiated
        public long Completions;
        public long Interrupts;        // used-buffer notifications the device decided to send
        public long MaxChain;
        public readonly List<string> Errors;

        // Fills a device-writable buffer; returns the bytes written (<= len).
        public Func<IntPtr, uint, uint> Fill;
        // Last word on a used element: (buffer id or head, written) -> (id, len) as reported.
        public Func<uint, uint, (uint id, uint len)> MangleUsed;

        protected SimRing(List<string> errors) { Errors = errors; }

        protected T* Ptr<T>(ulong addr, ulong len) where T : unmanaged
        {
            if (!DmaPool.Contains(addr, len))
            {
                Errors.Add($"device DMA outside driver memory: 0x{addr:x} len {len}");
                return null;
            }
            return (T*)addr;
        }

        // The ring's three areas (§2.6) as this layout sizes them: (name, address, length).
        protected abstract (string name, ulong addr, ulong len)[] Areas { get; }

        // Null if every area lies in live driver DMA memory; else the first that does not.
        // Records nothing: the caller decides whose fault it is.
        public string AreaOutsideDriverMemory()
        {
            foreach (var (name, addr, len) in Areas)
                if (!DmaPool.Contains(addr, len)) return $"0x{addr:x} len {len} ({name})";
            return null;
        }

        // Before touching the ring: is it still all in driver memory? (A driver that frees it
        // while the device is live makes the device's next look a DMA outside its memory.)
        protected bool RingInDriverMemory()
        {
            string bad = AreaOutsideDriverMemory();
            if (bad != null) Errors.Add($"device DMA outside driver memory: {bad}");
            return bad == null;
        }

        // Take available buffers, fill them, return them used. Returns the number completed
        // (limited by max), or -1 on a ring error.
        public abstract int Process(int max = int.MaxValue);

        // Is there anything the device has not finished (so another Process would progress)?
        public abstract bool HasWork { get; }
    }
}
