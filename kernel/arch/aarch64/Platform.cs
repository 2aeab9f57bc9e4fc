using System;
using GuestOS.Drivers.Pci;
using GuestOS.Drivers.Virtio;
using GuestOS.Hal;
using GuestOS.Kernel.Boot;

namespace GuestOS.Kernel.Arch
{
    // QEMU virt's devices as its device tree describes them. No firmware runs before us, so
    // PCI BARs are unassigned: the host bridge's `ranges` become the windows to assign from.
    internal static unsafe class Platform
    {
        // pci-host-ecam-generic: reg = ECAM; bus-range; ranges = PCI address (3 cells) -> CPU
        // address (parent's #address-cells) + size (2 cells) (IEEE 1275 PCI binding, 2.2.1.1).
        internal static PciConfigAccess PciConfig(ref BootInfo boot)
        {
            DtNode host = DeviceTree.FindCompatible("pci-host-ecam-generic"u8, 0);
            if (!DeviceTree.GetReg(host, 0, out ulong ecam, out ulong ecamSize))
            {
                Log.Write("devicetree: no pci-host-ecam-generic node: no PCI"u8); Log.Line();
                return null;
            }
            uint first = 0, last = (uint)(ecamSize >> 20) - 1;
            if (DeviceTree.GetProperty(host, "bus-range"u8, out byte* range, out int length) && length >= 8)
            {
                first = DeviceTree.Be32(range);
                last = DeviceTree.Be32(range + 4);
            }
            if (!Log.Quiet)
            {
                Log.Write("devicetree: PCIe ECAM at "u8); Log.Hex(ecam); Log.Write(", buses "u8);
                Log.Dec(first); Log.Write("-"u8); Log.Dec(last); Log.Line();
            }
            return PciConfigEcam.Map(ecam, first, last);
        }

        internal static PciHostWindows PciWindows()
        {
            DtNode host = DeviceTree.FindCompatible("pci-host-ecam-generic"u8, 0);
            if (!DeviceTree.GetProperty(host, "ranges"u8, out byte* ranges, out int length)) return null;
            PciHostWindows windows = new PciHostWindows();
            int parentCells = host.AddressCells;
            int entryBytes = (3 + parentCells + 2) * 4;
            for (int at = 0; at + entryBytes <= length; at += entryBytes)
            {
                byte* e = ranges + at;
                uint space = (DeviceTree.Be32(e) >> 24) & 3;       // phys.hi ss bits
                ulong pci = DeviceTree.ReadCells(e + 4, 2);
                ulong cpu = DeviceTree.ReadCells(e + 12, parentCells);
                ulong size = DeviceTree.ReadCells(e + 12 + parentCells * 4, 2);
                if (space == 1) { windows.IoBase = pci; windows.IoCpuBase = cpu; windows.IoSize = size; }
                else if (space == 2) { windows.Mem32Base = cpu; windows.Mem32Size = size; }
                else if (space == 3) { windows.Mem64Base = cpu; windows.Mem64Size = size; }
                if (Log.Quiet) continue;
                Log.Write("devicetree: PCI window "u8);
                Log.Write(space == 1 ? "io    "u8 : space == 2 ? "mem32 "u8 : "mem64 "u8);
                Log.Hex(cpu); Log.Write(" size "u8); Log.Hex(size); Log.Line();
            }
            return windows;
        }

        // The interrupt controller and its MSI frame (printed now; used by the MSI-X work).
        internal static void DescribeInterruptController()
        {
            DtNode gic = DeviceTree.FindCompatible("arm,cortex-a15-gic"u8, 0);
            bool v2 = gic.Found;
            if (!v2) gic = DeviceTree.FindCompatible("arm,gic-v3"u8, 0);
            if (!DeviceTree.GetReg(gic, 0, out ulong dist, out _)) { Log.Write("devicetree: no GIC"u8); Log.Line(); return; }
            DeviceTree.GetReg(gic, 1, out ulong second, out _);
            Log.Write(v2 ? "devicetree: GICv2 distributor "u8 : "devicetree: GICv3 distributor "u8); Log.Hex(dist);
            Log.Write(v2 ? ", CPU interface "u8 : ", redistributors "u8); Log.Hex(second);
            DtNode msi = DeviceTree.FindCompatible("arm,gic-v2m-frame"u8, 0);
            ReadOnlySpan<byte> msiKind = " v2m MSI frame "u8;
            if (!msi.Found) { msi = DeviceTree.FindCompatible("arm,gic-v3-its"u8, 0); msiKind = " ITS "u8; }
            if (DeviceTree.GetReg(msi, 0, out ulong msiBase, out _)) { Log.Write(","u8); Log.Write(msiKind); Log.Hex(msiBase); }
            else Log.Write(", no MSI controller"u8);
            Log.Line();
        }

        // The virtio-mmio transports: every `compatible = "virtio,mmio"` node's reg and first
        // interrupt (Linux Documentation/devicetree/bindings/virtio/mmio.yaml), in ascending
        // address order. QEMU's blob already lists them so (it creates the highest first and
        // each new node goes in front); the tree does not promise it. Found once, printed once.
        private static VirtioMmioSlot[] mmioSlots;

        internal static VirtioMmioSlot[] VirtioMmioSlots()
        {
            if (mmioSlots != null) return mmioSlots;
            mmioSlots = FindVirtioMmioSlots();
            for (int i = 0; i < mmioSlots.Length && !Log.Quiet; i++)
            {
                Log.Write("devicetree: virtio-mmio "u8); Log.Hex(mmioSlots[i].Phys); Log.Write(" size "u8); Log.Hex(mmioSlots[i].Size);
                Log.Write(", "u8);
                if (mmioSlots[i].Irq.Valid) DtInterrupts.Describe(mmioSlots[i].Irq);
                else Log.Write("no interrupt a GIC SPI can carry: polling only"u8);
                Log.Line();
            }
            return mmioSlots;
        }

        // The device-tree walk itself, uncached (the boot benchmark times it twice).
        internal static VirtioMmioSlot[] FindVirtioMmioSlots()
        {
            DtNode[] nodes = new DtNode[MmioSlots.Max];
            int count = DeviceTree.FindAllCompatible("virtio,mmio"u8, nodes);
            if (count > MmioSlots.Max)
            {
                Log.Write("devicetree: more than 32 virtio,mmio nodes: the rest ignored"u8); Log.Line();
                count = MmioSlots.Max;
            }
            VirtioMmioSlot[] slots = new VirtioMmioSlot[count];
            int kept = 0;
            for (int i = 0; i < count; i++)
            {
                DtNode node = nodes[i];
                VirtioMmioSlot slot = default;
                if (!DeviceTree.GetReg(node, 0, out slot.Phys, out slot.Size) || slot.Size == 0)
                {
                    Log.Write("devicetree: a virtio,mmio node has no reg: skipped"u8); Log.Line();
                    continue;
                }
                DtInterrupts.OfNode(node, 0, out slot.Irq);   // Valid stays false without a usable SPI
                slots[kept++] = slot;
            }
            return MmioSlots.Sorted(slots, kept);
        }
    }
}
