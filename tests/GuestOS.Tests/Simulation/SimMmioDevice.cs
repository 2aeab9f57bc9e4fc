using System;
using System.Collections.Generic;
using GuestOS.Hal.Hosted;

namespace GuestOS.Tests.Simulation
{
    // A register-level virtio-mmio entropy device (virtio 1.2 §4.2.2), version 2 or the legacy
    // version 1 (§4.2.4) that QEMU uses by default, behind one wired interrupt line. It
    // serves its queue with the same SimVring the PCI device uses, drives its line while
    // InterruptStatus is non-zero (as QEMU's virtio_mmio_update_irq does), and records every
    // rule of §4.2.2.2 / §4.2.3 / §4.2.4 the driver breaks in SpecViolations.
    public sealed unsafe class SimMmioDevice
    {
        public ulong Base = 0x0a003e00;
        public uint Magic = 0x74726976;
        public uint Version = 2;
        public uint DeviceId = 4;
        public uint VendorId = 0x554d4551;           // "QEMU"
        public uint Line = 48;                        // interrupt line (a GIC INTID / IOAPIC GSI)
        public ulong Features;                        // offered; set by the constructor from Version
        public uint QueueNumMax = 8;
        public bool QueueLiveAtStart;                 // QueueReady / QueuePFN already non-zero
        public bool RefuseFeaturesOk;
        public uint Seed = 7;

        public readonly List<string> SpecViolations = new List<string>();
        public readonly List<string> DeviceErrors = new List<string>();
        public readonly List<byte> Produced = new List<byte>();

        public uint Status, InterruptStatus, DeviceFeaturesSel, DriverFeaturesSel, GuestPageSize, QueueSel;
        public ulong DriverFeatures;
        public uint QueueNum, QueueAlign, QueuePfn, QueueReady;
        public ulong Desc, Driver, Device;
        public long Notifies, Acks;
        public SimVring Ring;
        private bool _featuresRead0, _featuresRead1, _kicked;
        private uint _rng;

        public SimMmioDevice(uint version = 2)
        {
            Version = version;
            // QEMU 7.2's virtio-rng: INDIRECT_DESC, EVENT_IDX (+ VERSION_1, RING_RESET on v2;
            // NOTIFY_ON_EMPTY, ANY_LAYOUT on the legacy interface).
            Features = version == 2 ? (1UL << 28) | (1UL << 29) | (1UL << 32) | (1UL << 40)
                                    : (1UL << 24) | (1UL << 27) | (1UL << 28) | (1UL << 29);
            _rng = Seed * 2654435761u + 1;
        }

        public bool DriverOk => (Status & 4) != 0;
        public bool Contains(ulong addr, int width) => addr >= Base && addr + (ulong)width <= Base + 0x200;

        private void Violation(string s) { SpecViolations.Add(s); }

        public ulong Read(ulong addr, int width)
        {
            uint off = (uint)(addr - Base);
            if (off >= 0x100) return 0;                            // no device configuration for entropy
            if (width != 4 || (off & 3) != 0) Violation($"control register +0x{off:x} read with width {width} (4.2.2.2: 32-bit only)");
            switch (off)
            {
                case 0x000: return Magic;
                case 0x004: return Version;
                case 0x008: return DeviceId;
                case 0x00c: return VendorId;
                case 0x010:
                    if (DeviceFeaturesSel == 0) _featuresRead0 = true; else if (DeviceFeaturesSel == 1) _featuresRead1 = true;
                    return DeviceFeaturesSel > 1 ? 0 : (uint)(Features >> (int)(32 * DeviceFeaturesSel));
                case 0x034: return QueueSel == 0 ? QueueNumMax : 0;
                case 0x040: if (Version != 1) Violation("QueuePFN read on a version 2 device"); return QueueLiveAtStart ? 0x1234 : QueuePfn;
                case 0x044: if (Version != 2) Violation("QueueReady read on a legacy device"); return QueueLiveAtStart ? 1 : QueueReady;
                case 0x060: return InterruptStatus;
                case 0x070: return Status;
                case 0x0fc: return 0;
                default: Violation($"read of write-only or reserved register +0x{off:x}"); return 0;
            }
        }

        public void Write(ulong addr, int width, ulong value)
        {
            uint off = (uint)(addr - Base);
            uint v = (uint)value;
            if (off >= 0x100) { Violation("write to the entropy device's (empty) configuration space"); return; }
            if (width != 4 || (off & 3) != 0) Violation($"control register +0x{off:x} written with width {width} (4.2.2.2: 32-bit only)");
            switch (off)
            {
                case 0x014: DeviceFeaturesSel = v; return;
                case 0x020:
                    if ((Status & 8) != 0) Violation("DriverFeatures written after FEATURES_OK");
                    if (DriverFeaturesSel <= 1)
                        DriverFeatures = (DriverFeatures & ~(0xFFFFFFFFUL << (int)(32 * DriverFeaturesSel))) | ((ulong)v << (int)(32 * DriverFeaturesSel));
                    return;
                case 0x024: DriverFeaturesSel = v; return;
                case 0x028: if (Version != 1) Violation("GuestPageSize written on a version 2 device"); GuestPageSize = v; return;
                case 0x030: QueueSel = v; return;
                case 0x038:
                    if (v == 0 || v > QueueNumMax) Violation($"QueueNum {v} outside 1..QueueNumMax {QueueNumMax} (4.2.3.2)");
                    if ((v & (v - 1)) != 0) Violation($"QueueNum {v} is not a power of 2 (split ring, 2.7)");
                    QueueNum = v; return;
                case 0x03c: if (Version != 1) Violation("QueueAlign written on a version 2 device"); QueueAlign = v; return;
                case 0x040:
                    if (Version != 1) { Violation("QueuePFN written on a version 2 device"); return; }
                    if (v != 0 && GuestPageSize == 0) Violation("QueuePFN written before GuestPageSize (4.2.4.2)");
                    if (v != 0 && (QueueAlign == 0 || (QueueAlign & (QueueAlign - 1)) != 0)) Violation("QueuePFN written without a power-of-2 QueueAlign");
                    QueuePfn = v;
                    if (v != 0) Activate((ulong)v * GuestPageSize);
                    return;
                case 0x044:
                    if (Version != 2) { Violation("QueueReady written on a legacy device"); return; }
                    QueueReady = v;
                    if (v == 1) Activate(0);
                    return;
                case 0x050:
                    if (!DriverOk) Violation("QueueNotify before DRIVER_OK (3.1.1)");
                    if (v != 0) Violation($"QueueNotify of queue {v}, which does not exist");
                    Notifies++;
                    _kicked = true;
                    return;
                case 0x064:
                    Acks++;
                    if ((v & ~InterruptStatus) != 0) Violation($"InterruptACK 0x{v:x} acknowledges bits not in InterruptStatus 0x{InterruptStatus:x}");
                    InterruptStatus &= ~v;
                    if (InterruptStatus == 0) InterruptController.SetLine(Line, false, this);
                    return;
                case 0x070: StatusWrite((byte)v); return;
                case 0x080: Desc = (Desc & ~0xFFFFFFFFUL) | v; return;
                case 0x084: Desc = (Desc & 0xFFFFFFFFUL) | ((ulong)v << 32); return;
                case 0x090: Driver = (Driver & ~0xFFFFFFFFUL) | v; return;
                case 0x094: Driver = (Driver & 0xFFFFFFFFUL) | ((ulong)v << 32); return;
                case 0x0a0: Device = (Device & ~0xFFFFFFFFUL) | v; return;
                case 0x0a4: Device = (Device & 0xFFFFFFFFUL) | ((ulong)v << 32); return;
                default: Violation($"write of read-only or reserved register +0x{off:x}"); return;
            }
        }

        // The ring goes live: version 2 from the three addresses, version 1 from the page number
        // with the legacy layout (§2.7.2: used ring at the next QueueAlign boundary).
        private void Activate(ulong legacyBase)
        {
            if (QueueNum == 0) Violation("queue made live before QueueNum was written");
            uint num = QueueNum == 0 ? QueueNumMax : QueueNum;
            if (Version == 1)
            {
                Desc = legacyBase;
                Driver = Desc + 16UL * num;
                ulong availEnd = Driver + 2UL * (3 + num);
                Device = (availEnd + QueueAlign - 1) & ~((ulong)QueueAlign - 1);
            }
            else if (Desc % 16 != 0 || Driver % 2 != 0 || Device % 4 != 0) Violation("ring areas misaligned (2.7: 16/2/4)");
            Ring = new SimVring(DeviceErrors) { Desc = Desc, Driver = Driver, Device = Device, Size = num };
            Ring.EventIdx = (DriverFeatures & (1UL << 29)) != 0;
            Ring.IndirectDesc = (DriverFeatures & (1UL << 28)) != 0;
            Ring.Fill = Fill;
            Ring.MangleUsed = (h, w) => (h, w);
            string outside = Ring.AreaOutsideDriverMemory();
            if (outside != null) Violation($"ring area {outside} is not in driver DMA memory");
        }

        private uint Fill(IntPtr p, uint len)
        {
            byte* b = (byte*)p;
            for (uint i = 0; i < len; i++)
            {
                _rng ^= _rng << 13; _rng ^= _rng >> 17; _rng ^= _rng << 5;
                b[i] = (byte)_rng;
                Produced.Add(b[i]);
            }
            return len;
        }

        private void StatusWrite(byte v)
        {
            if (v == 0) { Reset(); return; }
            byte added = (byte)(v & ~Status);
            if ((v & Status) != Status) Violation($"status bits cleared: 0x{Status:x2} -> 0x{v:x2}");
            if ((added & 8) != 0)
            {
                if (Version == 1) Violation("FEATURES_OK on a legacy device (3.1.2: it has none)");
                if (!_featuresRead0 || !_featuresRead1) Violation("FEATURES_OK before reading both feature words");
                if ((DriverFeatures & ~Features) != 0) Violation($"driver accepted features not offered: 0x{DriverFeatures & ~Features:x}");
                if (RefuseFeaturesOk) v = (byte)(v & ~8);
            }
            if ((added & 4) != 0 && Version == 2 && (v & 8) == 0) Violation("DRIVER_OK without FEATURES_OK (3.1.1)");
            Status = v;
        }

        private void Reset()
        {
            Status = 0; InterruptStatus = 0; DriverFeatures = 0; QueueNum = 0; QueuePfn = 0; QueueReady = 0;
            Desc = Driver = Device = 0; Ring = null; _kicked = false; _featuresRead0 = _featuresRead1 = false;
            QueueLiveAtStart = false;
            InterruptController.SetLine(Line, false, this);
        }

        public void Tick()
        {
            if (!DriverOk || Ring == null || !_kicked) return;
            long before = Ring.Interrupts;
            int n = Ring.Process();
            if (n < 0) { DeviceErrors.Add("ring error"); return; }
            if (!Ring.HasWork) _kicked = false;
            if (Ring.Interrupts != before)
            {
                InterruptStatus |= 1;                        // VIRTIO_MMIO_INT_VRING
                InterruptController.SetLine(Line, true, this);
            }
        }
    }
}
