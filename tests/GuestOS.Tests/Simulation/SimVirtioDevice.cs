using System;
using System.Collections.Generic;
using GuestOS.Hal.Hosted;

namespace GuestOS.Tests.Simulation
{
    // One virtio capability as the device advertises it (virtio 1.2 §4.1.4).
    public sealed class VirtioCapSpec
    {
        public byte CfgType;
        public byte Bar = 4;
        public uint Offset;
        public uint Length = 0x1000;
        public byte CapLen;             // 0: the right size (16, 20 for NOTIFY and PCI_CFG)
        public uint Multiplier = 4;     // NOTIFY only
        public int At = -1;             // config-space offset (-1: next free)
    }

    public sealed class SimVirtioOptions
    {
        public ushort DeviceId = 0x1044;        // modern virtio-rng; 0x1005 = transitional
        public ushort SubsystemId = 0x1100;     // QEMU: 0x1100 modern; the virtio id (4) for transitional
        public ulong Features = (1UL << 28) | (1UL << 29) | (1UL << 32) | (1UL << 40);  // QEMU 7.2 virtio-rng
        public ushort QueueSize = 8;
        public ushort NumQueues = 1;
        public ushort MsixVectors = 2;
        public ulong Bar4Size = 0x4000;
        public List<VirtioCapSpec> Caps;        // null: QEMU's layout
        public uint Seed = 1;

        public static List<VirtioCapSpec> QemuCaps(uint multiplier = 4) => new List<VirtioCapSpec>
        {
            new VirtioCapSpec { CfgType = 1, Offset = 0x0000 },
            new VirtioCapSpec { CfgType = 3, Offset = 0x1000 },
            new VirtioCapSpec { CfgType = 4, Offset = 0x2000 },
            new VirtioCapSpec { CfgType = 2, Offset = 0x3000, Multiplier = multiplier },
            new VirtioCapSpec { CfgType = 5, Bar = 0, Offset = 0, Length = 0 },
        };
    }

    // A virtio-pci modern device at register level (virtio 1.2 §4.1), the entropy device
    // behind it (§5.4), and knobs to make it misbehave. It checks the driver's side of the
    // spec as it goes and records every breach in SpecViolations.
    public sealed unsafe class SimVirtioDevice : SimPciFunction
    {
        public readonly SimVirtioOptions Opt;
        public readonly List<string> SpecViolations = new List<string>();
        public readonly List<string> DeviceErrors = new List<string>();

        // common configuration state
        public uint DeviceFeatureSelect, DriverFeatureSelect;
        public ulong DriverFeatures;
        public byte Status;
        public byte ConfigGeneration;
        public ushort QueueSelect;
        public ushort ConfigMsixVector = 0xFFFF;
        public byte Isr;
        public readonly Queue[] Queues;
        public bool FeaturesRead0, FeaturesRead1;
        public SimMsix Msix;                    // null when the function has no MSI-X (vectors=0)

        public sealed class Queue
        {
            public ushort Size, MaxSize, MsixVector = 0xFFFF, Enable, NotifyOff;
            public ulong Desc, Driver, Device;
            public bool Kicked;
            public long Notifies;
            public long KickTick;
            public SimRing R;                                   // whichever layout was negotiated
            public SimVring Ring => R as SimVring;              // split (§2.7)
            public SimPackedVring Packed => R as SimPackedVring; // packed (§2.8)
        }

        // ---- knobs ----
        public bool ResetNeverCompletes;
        public int ResetDelayTicks;             // status reads non-zero for this many ticks after reset
        public bool RefuseFeaturesOk;
        public bool NeverComplete;
        public uint FillLimit;                  // 0: fill the whole buffer; else at most this many bytes
        public Func<uint, uint, (uint id, uint len)> MangleUsed;
        public long NeedsResetAfter = -1;       // set DEVICE_NEEDS_RESET (once) after this many completions
        public bool NeedsResetEveryTime;        // ... and again after every re-initialization
        public int CompletionDelayTicks;        // ticks between a kick and the work
        public int MaxPerTick = int.MaxValue;
        public bool RefuseConfigVector, RefuseQueueVector;  // answer NO_VECTOR as a device out of resources does

        // ---- observation ----
        public readonly List<byte> Produced = new List<byte>();
        public long Ticks;
        public long Resets;
        private int _resetTicksLeft;
        private bool _resetUnconfirmed;         // 0 written to status, not yet read back as 0
        private uint _rng;

        public SimVirtioDevice(SimVirtioOptions opt = null) : base(0x1af4, (opt ?? new SimVirtioOptions()).DeviceId, 0x00ff00, 0, 6)
        {
            Opt = opt ?? new SimVirtioOptions();
            Name = $"virtio-rng {Opt.DeviceId:x4}";
            _rng = Opt.Seed * 2654435761u + 12345;
            W16(0x2C, 0x1af4);
            W16(0x2E, Opt.SubsystemId);
            Config[0x3D] = 1;   // INTA
            if (Opt.DeviceId < 0x1040) DefineBar(0, SimBarKind.Io, 0x20);   // legacy register block
            DefineBar(1, SimBarKind.Mem32, 0x1000);                           // MSI-X table + PBA
            DefineBar(4, SimBarKind.Mem64, Opt.Bar4Size, prefetchable: true); // modern registers

            Queues = new Queue[Opt.NumQueues];
            for (int i = 0; i < Queues.Length; i++)
                Queues[i] = new Queue { MaxSize = Opt.QueueSize, Size = Opt.QueueSize, NotifyOff = (ushort)i };

            foreach (var c in Opt.Caps ?? SimVirtioOptions.QemuCaps())
            {
                byte len = c.CapLen != 0 ? c.CapLen : (byte)(c.CfgType == 2 || c.CfgType == 5 ? 20 : 16);
                var body = new byte[Math.Max(18, len - 2)];
                body[0] = len;                 // cap_len
                body[1] = c.CfgType;
                body[2] = c.Bar;
                body[3] = 0;                   // id
                BitConverter.GetBytes(c.Offset).CopyTo(body, 6);
                BitConverter.GetBytes(c.Length).CopyTo(body, 10);
                if (c.CfgType == 2) BitConverter.GetBytes(c.Multiplier).CopyTo(body, 14);
                AddCapability(0x09, body, c.At);
            }
            if (Opt.MsixVectors > 0)
            {
                var msix = new byte[10];
                BitConverter.GetBytes((ushort)(Opt.MsixVectors - 1)).CopyTo(msix, 0);
                BitConverter.GetBytes(1u).CopyTo(msix, 2);           // table: BAR1 + 0
                BitConverter.GetBytes(0x800u | 1u).CopyTo(msix, 6);  // PBA: BAR1 + 0x800
                int pos = AddCapability(0x11, msix);
                WriteMask[pos + 3] = 0xC0;                           // enable + function mask
                Msix = new SimMsix(this, pos, Opt.MsixVectors);
            }
        }

        public Queue Q(int i) => Queues[i];
        public bool DriverOk => (Status & 4) != 0;
        public ulong OfferedFeatures => Opt.Features;
        public bool EventIdx => (DriverFeatures & (1UL << 29)) != 0;
        public bool RingPacked => (DriverFeatures & (1UL << 34)) != 0;
        public Func<int, int> Pick;             // packed: which in-flight buffer to complete next (out of order)
        public ulong CommonBase => BarAddress(4) + FindCapOffset(1);

        private uint FindCapOffset(byte type)
        {
            foreach (var c in Opt.Caps ?? SimVirtioOptions.QemuCaps()) if (c.CfgType == type) return c.Offset;
            return 0;
        }

        private byte NextRandom()
        {
            _rng ^= _rng << 13; _rng ^= _rng >> 17; _rng ^= _rng << 5;
            return (byte)(_rng >> 7);
        }

        private uint FillBuffer(IntPtr p, uint len)
        {
            uint n = FillLimit != 0 && FillLimit < len ? FillLimit : len;
            byte* b = (byte*)p;
            for (uint i = 0; i < n; i++) { b[i] = NextRandom(); Produced.Add(b[i]); }
            return n;
        }

        private void Violation(string s) { SpecViolations.Add(s); }

        // ---- BAR4: the modern registers (offsets as laid out by the capabilities) ------------

        private string Region(ulong off, out ulong rel)
        {
            foreach (var c in Opt.Caps ?? SimVirtioOptions.QemuCaps())
            {
                if (c.Bar != 4 || c.CfgType == 5) continue;
                if (off >= c.Offset && off < (ulong)c.Offset + c.Length)
                {
                    rel = off - c.Offset;
                    return c.CfgType switch { 1 => "common", 2 => "notify", 3 => "isr", 4 => "device", _ => "other" };
                }
            }
            rel = off;
            return "none";
        }

        private static int CommonWidth(ulong off)
        {
            if (off < 0x10) return 4;
            if (off < 0x14) return 2;
            if (off < 0x16) return 1;
            if (off < 0x20) return 2;
            if (off < 0x38) return 4;
            if (off < 0x3C) return 2;
            return 0;
        }

        public override ulong BarRead(int bar, ulong offset, int width)
        {
            if (bar == 1) return Msix != null ? Msix.Read(offset, width) : 0;
            if (bar == 0) return LegacyRead(offset, width);
            string r = Region(offset, out ulong rel);
            switch (r)
            {
                case "common": return CommonRead(rel, width);
                case "isr": { byte v = Isr; Isr = 0; InterruptController.SetLine(Config[0x3C], false, this); return v; }
                case "device": return 0;
                case "notify": Violation("read from notify region"); return 0;
            }
            return 0;
        }

        public override void BarWrite(int bar, ulong offset, int width, ulong value)
        {
            if (bar == 1) { Msix?.Write(offset, width, value); return; }
            if (bar == 0) { LegacyWrite(offset, width, value); return; }
            string r = Region(offset, out ulong rel);
            switch (r)
            {
                case "common": CommonWrite(rel, width, value); return;
                case "notify": NotifyWrite(rel, width, value); return;
                case "isr": Violation("write to ISR"); return;
            }
        }

        private Queue Selected => QueueSelect < Queues.Length ? Queues[QueueSelect] : null;

        // ---- BAR0: the legacy header (§4.1.4.8) of a transitional device -------------------
        // 32 feature bits, a fixed queue size, one ring activated by its page number (used ring
        // at the next 4096 bytes, §2.7.2), MSI-X vectors at 20/22 only while MSI-X is enabled.
        public bool Legacy;                     // the driver used BAR0 (no FEATURES_OK then)
        public uint LegacyPfn;

        private static int LegacyWidth(ulong off) => off switch
        {
            0 or 4 or 8 => 4, 12 or 14 or 16 or 20 or 22 => 2, 18 or 19 => 1, _ => 0,
        };

        private bool MsixOn => Msix != null && Msix.Enabled;

        // One driver, one interface: a transitional device driven through its modern capabilities
        // must not see legacy register accesses, and the other way round.
        public bool Modern;                     // the driver used the common configuration

        private void LegacyAccess(string what, ulong off)
        {
            Legacy = true;
            if (Modern) Violation($"legacy I/O BAR {what} +0x{off:x} on a device driven through the modern interface");
        }

        private ulong LegacyRead(ulong off, int width)
        {
            LegacyAccess("read", off);
            if (LegacyWidth(off) != width) Violation($"legacy+0x{off:x} read with width {width} (field width {LegacyWidth(off)})");
            var q = Selected;
            switch (off)
            {
                case 0: FeaturesRead0 = FeaturesRead1 = true; return (uint)Opt.Features;
                case 4: return (uint)DriverFeatures;
                case 8: return q == null ? 0 : LegacyPfn;
                case 12: return q?.MaxSize ?? 0;
                case 14: return QueueSelect;
                case 18: if (Status == 0) _resetUnconfirmed = false; return Status;
                case 19: { byte v = Isr; Isr = 0; InterruptController.SetLine(Config[0x3C], false, this); return v; }
                case 20: if (!MsixOn) Violation("legacy config_msix_vector read while MSI-X is off (it is device configuration then)"); return ConfigMsixVector;
                case 22: if (!MsixOn) Violation("legacy queue_msix_vector read while MSI-X is off"); return q?.MsixVector ?? 0xFFFF;
            }
            Violation($"legacy+0x{off:x} read");
            return 0;
        }

        private void LegacyWrite(ulong off, int width, ulong value)
        {
            LegacyAccess("write", off);
            if (LegacyWidth(off) != width) Violation($"legacy+0x{off:x} written with width {width} (field width {LegacyWidth(off)})");
            if (_resetUnconfirmed && !(off == 18 && value == 0))
                Violation($"legacy+0x{off:x} written before device_status read back 0 after the reset");
            var q = Selected;
            switch (off)
            {
                case 4:
                    if ((value & ~Opt.Features) != 0) Violation($"driver accepted features not offered: 0x{value & ~Opt.Features:x}");
                    DriverFeatures = (uint)value; return;
                case 8:
                    if (q == null) { Violation("queue_address with no such queue selected"); return; }
                    LegacyPfn = (uint)value;
                    if (value == 0) { q.R = null; q.Enable = 0; return; }
                    q.Size = q.MaxSize;
                    q.Desc = value << 12;
                    q.Driver = q.Desc + 16UL * q.Size;
                    q.Device = (q.Driver + 2UL * (3UL + q.Size) + 4095UL) & ~4095UL;
                    q.Enable = 1;
                    EnableQueue(q);
                    return;
                case 14: QueueSelect = (ushort)value; return;
                case 16: NotifyWrite(q == null ? 0UL : (ulong)q.NotifyOff * 4, 2, value); return;
                case 18: StatusWrite((byte)value); return;
                case 20: if (!MsixOn) Violation("legacy config_msix_vector written while MSI-X is off"); ConfigMsixVector = AcceptVector(value, RefuseConfigVector); return;
                case 22: if (!MsixOn) Violation("legacy queue_msix_vector written while MSI-X is off"); if (q != null) q.MsixVector = AcceptVector(value, RefuseQueueVector); return;
            }
            Violation($"write to read-only legacy+0x{off:x}");
        }

        private void CheckWidth(ulong off, int width)
        {
            int w = CommonWidth(off);
            bool ok = w == width && off % (ulong)w == 0;
            if (!ok && width == 8 && (off == 0x20 || off == 0x28 || off == 0x30)) ok = true;
            if (!ok) Violation($"common+0x{off:x2} accessed with width {width} (field width {w}{(w != 0 && off % (ulong)w != 0 ? ", misaligned" : "")}) (§4.1.3.1)");
        }

        private ulong CommonRead(ulong off, int width)
        {
            Modern = true;
            if (Legacy) Violation($"common+0x{off:x2} read on a device driven through the legacy interface");
            CheckWidth(off, width);
            var q = Selected;
            switch (off)
            {
                case 0x00: return DeviceFeatureSelect;
                case 0x04:
                    if (DeviceFeatureSelect == 0) { FeaturesRead0 = true; return (uint)Opt.Features; }
                    if (DeviceFeatureSelect == 1) { FeaturesRead1 = true; return (uint)(Opt.Features >> 32); }
                    return 0;
                case 0x08: return DriverFeatureSelect;
                case 0x0C: return DriverFeatureSelect == 0 ? (uint)DriverFeatures : DriverFeatureSelect == 1 ? (uint)(DriverFeatures >> 32) : 0u;
                case 0x10: return ConfigMsixVector;
                case 0x12: return (ulong)Queues.Length;
                case 0x14: if (Status == 0) _resetUnconfirmed = false; return Status;
                case 0x15: return ConfigGeneration;
                case 0x16: return QueueSelect;
                case 0x18: return q?.Size ?? 0;
                case 0x1A: return q?.MsixVector ?? 0xFFFF;
                case 0x1C: return q?.Enable ?? 0;
                case 0x1E: return q?.NotifyOff ?? 0;
                case 0x20: return q == null ? 0 : width == 8 ? q.Desc : (uint)q.Desc;
                case 0x24: return q == null ? 0 : (uint)(q.Desc >> 32);
                case 0x28: return q == null ? 0 : width == 8 ? q.Driver : (uint)q.Driver;
                case 0x2C: return q == null ? 0 : (uint)(q.Driver >> 32);
                case 0x30: return q == null ? 0 : width == 8 ? q.Device : (uint)q.Device;
                case 0x34: return q == null ? 0 : (uint)(q.Device >> 32);
            }
            return 0;
        }

        private void CommonWrite(ulong off, int width, ulong value)
        {
            Modern = true;
            if (Legacy) Violation($"common+0x{off:x2} written on a device driven through the legacy interface");
            CheckWidth(off, width);
            if (_resetUnconfirmed && !(off == 0x14 && value == 0))
                Violation($"common+0x{off:x2} written before device_status read back 0 after the reset (§4.1.4.3.2)");
            switch (off)
            {
                case 0x00: DeviceFeatureSelect = (uint)value; return;
                case 0x08: DriverFeatureSelect = (uint)value; return;
                case 0x0C:
                    if ((Status & 8) != 0) Violation("driver_feature written after FEATURES_OK (§3.1.1)");
                    if (DriverFeatureSelect == 0) DriverFeatures = (DriverFeatures & ~0xFFFFFFFFUL) | (uint)value;
                    else if (DriverFeatureSelect == 1) DriverFeatures = (DriverFeatures & 0xFFFFFFFFUL) | ((ulong)(uint)value << 32);
                    return;
                case 0x10: ConfigMsixVector = AcceptVector(value, RefuseConfigVector); return;
                case 0x14: StatusWrite((byte)value); return;
                case 0x16: QueueSelect = (ushort)value; return;
                case 0x18: case 0x1A: case 0x1C: case 0x20: case 0x24: case 0x28: case 0x2C: case 0x30: case 0x34:
                    QueueWrite(off, width, value);
                    return;
            }
            Violation($"write to read-only common+0x{off:x2}");
        }

        // The registers of the queue queue_select names: set up in step 7 of §3.1.1, before
        // DRIVER_OK, and each queue completely before its queue_enable (§4.1.4.3.2).
        private void QueueWrite(ulong off, int width, ulong value)
        {
            if (DriverOk) Violation($"queue register common+0x{off:x2} written after DRIVER_OK (§3.1.1 step 7)");
            var q = Selected;
            if (q == null) { Violation($"queue register common+0x{off:x2} written with queue_select {QueueSelect} >= num_queues"); return; }
            if (q.Enable == 1) Violation($"queue {QueueSelect} register common+0x{off:x2} written while the queue is enabled (§4.1.4.3.2)");
            switch (off)
            {
                case 0x18:
                    // §2.7: a split ring's size is a power of 2; §2.8: a packed ring's need not be.
                    if (value == 0 || value > q.MaxSize || (!RingPacked && (value & (value - 1)) != 0))
                        Violation($"queue_size {value} invalid (max {q.MaxSize}{(RingPacked ? "" : ", power of 2")})");
                    q.Size = (ushort)value; return;
                case 0x1A: q.MsixVector = AcceptVector(value, RefuseQueueVector); return;
                case 0x1C:
                    q.Enable = (ushort)value;
                    if (value != 1) { Violation("queue_enable written with a value other than 1 (§4.1.4.3.2)"); return; }
                    if (q.Desc == 0 || q.Driver == 0 || q.Device == 0) { Violation("queue enabled before its addresses were set (§4.1.4.3.2)"); return; }
                    EnableQueue(q);
                    return;
                case 0x20: q.Desc = width == 8 ? value : (q.Desc & ~0xFFFFFFFFUL) | (uint)value; return;
                case 0x24: q.Desc = (q.Desc & 0xFFFFFFFFUL) | ((ulong)(uint)value << 32); return;
                case 0x28: q.Driver = width == 8 ? value : (q.Driver & ~0xFFFFFFFFUL) | (uint)value; return;
                case 0x2C: q.Driver = (q.Driver & 0xFFFFFFFFUL) | ((ulong)(uint)value << 32); return;
                case 0x30: q.Device = width == 8 ? value : (q.Device & ~0xFFFFFFFFUL) | (uint)value; return;
                case 0x34: q.Device = (q.Device & 0xFFFFFFFFUL) | ((ulong)(uint)value << 32); return;
            }
        }

        // QEMU's virtio_pci_common_write: a vector the table does not have reads back NO_VECTOR.
        private ushort AcceptVector(ulong value, bool refuse)
        {
            if (value == 0xFFFF) return 0xFFFF;
            if (refuse || value >= Opt.MsixVectors) return 0xFFFF;
            return (ushort)value;
        }

        protected override void AfterConfigWrite(uint offset, int width, uint value)
        {
            if (Msix != null && offset <= Msix.CapPos + 3 && offset + width > Msix.CapPos + 2) Msix.ControlWritten();
        }

        private void EnableQueue(Queue q)
        {
            if (RingPacked)
            {
                if (q.Desc % 16 != 0 || q.Driver % 4 != 0 || q.Device % 4 != 0) Violation("ring areas misaligned (§2.8.10.1: 16/4/4)");
                q.R = new SimPackedVring(DeviceErrors) { Pick = n => Pick != null ? Pick(n) : 0 };
            }
            else
            {
                if (q.Desc % 16 != 0 || q.Driver % 2 != 0 || q.Device % 4 != 0) Violation("ring areas misaligned (§2.7: 16/2/4)");
                q.R = new SimVring(DeviceErrors);
            }
            q.R.Desc = q.Desc; q.R.Driver = q.Driver; q.R.Device = q.Device; q.R.Size = q.Size;
            q.R.EventIdx = EventIdx; q.R.IndirectDesc = (DriverFeatures & (1UL << 28)) != 0; q.R.Fill = FillBuffer;
            q.R.MangleUsed = (h, w) => MangleUsed != null ? MangleUsed(h, w) : (h, w);
            string outside = q.R.AreaOutsideDriverMemory();
            if (outside != null) Violation($"ring area {outside} is not in driver DMA memory");
        }

        private void StatusWrite(byte v)
        {
            if (v == 0)
            {
                Resets++;
                _resetUnconfirmed = true;
                if (ResetNeverCompletes) return;           // status keeps reading the old value
                if (ResetDelayTicks > 0) { _resetTicksLeft = ResetDelayTicks; return; }
                DoReset();
                return;
            }
            if ((v & Status) != Status) Violation($"status bits cleared: 0x{Status:x2} -> 0x{v:x2} (§2.1.2)");
            byte added = (byte)(v & ~Status);
            if ((added & 2) != 0 && (v & 1) == 0) Violation("DRIVER without ACKNOWLEDGE");
            if ((added & 8) != 0)
            {
                if ((v & 2) == 0) Violation("FEATURES_OK without DRIVER (§3.1.1)");
                if (!FeaturesRead0 || !FeaturesRead1) Violation("FEATURES_OK before reading both feature words");
                if ((DriverFeatures & ~Opt.Features) != 0) { Violation($"driver accepted features not offered: 0x{DriverFeatures & ~Opt.Features:x}"); v = (byte)(v & ~8); }
                if (RefuseFeaturesOk) v = (byte)(v & ~8);
            }
            if ((added & 8) != 0 && Legacy) Violation("FEATURES_OK through the legacy interface (§3.1.2: it has none)");
            if ((added & 4) != 0)
            {
                if ((v & 8) == 0 && (Status & 8) == 0 && !Legacy) Violation("DRIVER_OK without FEATURES_OK (§3.1.1)");
            }
            Status = (byte)(v | (Status & 0x40));
        }

        private void DoReset()
        {
            Status = 0;
            DriverFeatures = 0;
            LegacyPfn = 0;
            Legacy = Modern = false;
            DeviceFeatureSelect = DriverFeatureSelect = 0;
            FeaturesRead0 = FeaturesRead1 = false;
            QueueSelect = 0;
            Isr = 0;
            ConfigMsixVector = 0xFFFF;
            foreach (var q in Queues)
            {
                q.Size = q.MaxSize; q.Enable = 0; q.Desc = q.Driver = q.Device = 0; q.R = null;
                q.Kicked = false; q.MsixVector = 0xFFFF;
            }
        }

        private void NotifyWrite(ulong rel, int width, ulong value)
        {
            if (width != 2) Violation($"notify written with width {width} (must be 16-bit, §4.1.5.2)");
            if (!DriverOk) Violation("notify before DRIVER_OK (§3.1.1)");
            if (value >= (ulong)Queues.Length) { Violation($"notify of queue {value} that does not exist"); return; }
            var q = Queues[value];
            if (q.Enable != 1) Violation($"notify of queue {value} that is not enabled");
            uint mult = 4;
            foreach (var c in Opt.Caps ?? SimVirtioOptions.QemuCaps()) if (c.CfgType == 2) { mult = c.Multiplier; break; }
            if (rel != (ulong)q.NotifyOff * mult) Violation($"queue {value} notified at notify+0x{rel:x}, expected +0x{(ulong)q.NotifyOff * mult:x}");
            q.Notifies++;
            if (!q.Kicked) { q.Kicked = true; q.KickTick = Ticks; }
        }

        // virtio_error: DEVICE_NEEDS_RESET and a configuration-change notification (§2.1.2, §4.1.5.3).
        public void NeedsReset()
        {
            if ((Status & 0x40) != 0) return;
            Status |= 0x40;
            ConfigGeneration++;
            Interrupt(2, ConfigMsixVector);
        }

        // virtio_pci_notify: an MSI-X message while MSI-X is enabled, else INTx, asserted while
        // ISR status is non-zero (reading ISR clears it and de-asserts the line, 4.1.4.5);
        // PCI_COMMAND's INTx-disable bit (10) silences it.
        private void Interrupt(byte isrBit, ushort vector)
        {
            Isr |= isrBit;
            if (Msix != null && Msix.Enabled) Msix.Notify(vector);
            else if (((Config[0x05] << 8 | Config[0x04]) & 0x400) == 0 && Config[0x3D] != 0) InterruptController.SetLine(Config[0x3C], true, this);
        }

        public override void Tick()
        {
            Ticks++;
            if (_resetTicksLeft > 0 && --_resetTicksLeft == 0) DoReset();
            if (!DriverOk || (Status & 0x40) != 0 || NeverComplete) return;
            foreach (var q in Queues)
            {
                // A packed device that asked for no kicks (DISABLE) polls its ring instead.
                bool polling = q.Packed != null && q.Packed.DeviceEventFlags == SimPackedVring.FLAG_DISABLE;
                if (q.Enable != 1 || q.R == null || (!q.Kicked && !polling)) continue;
                if (Ticks - q.KickTick < CompletionDelayTicks) continue;
                int budget = MaxPerTick;
                if (NeedsResetAfter >= 0) budget = (int)Math.Min(budget, Math.Max(0, NeedsResetAfter - q.R.Completions));
                long before = q.R.Interrupts;
                int n = budget > 0 ? q.R.Process(budget) : 0;
                if (n < 0) { NeedsReset(); continue; }                   // ring error: DEVICE_NEEDS_RESET
                if (q.R.Interrupts != before) Interrupt(1, q.MsixVector);
                if (NeedsResetAfter >= 0 && q.R.Completions >= NeedsResetAfter) { if (!NeedsResetEveryTime) NeedsResetAfter = -1; NeedsReset(); }
                if (n < budget || !q.R.HasWork) q.Kicked = false;
            }
        }
    }
}
