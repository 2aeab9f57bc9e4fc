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

        public abstract bool Valid();

        // Take available buffers, fill them, return them used. Returns the number completed
        // (limited by max), or -1 on a ring error.
        public abstract int Process(int max = int.MaxValue);

        // Is there anything the device has not finished (so another Process would progress)?
        public abstract bool HasWork { get; }
    }
}
