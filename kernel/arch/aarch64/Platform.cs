using GuestOS.Drivers.Pci;
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
            DtNode host = DeviceTree.FindCompatible("pci-host-ecam-generic", 0);
            if (!DeviceTree.GetReg(host, 0, out ulong ecam, out ulong ecamSize))
            {
                Log.Write("devicetree: no pci-host-ecam-generic node: no PCI"); Log.Line();
                return null;
            }
            uint first = 0, last = (uint)(ecamSize >> 20) - 1;
            if (DeviceTree.GetProperty(host, "bus-range", out byte* range, out int length) && length >= 8)
            {
                first = DeviceTree.Be32(range);
                last = DeviceTree.Be32(range + 4);
            }
            Log.Write("devicetree: PCIe ECAM at "); Log.Hex(ecam); Log.Write(", buses ");
            Log.Dec(first); Log.Write("-"); Log.Dec(last); Log.Line();
            return PciConfigEcam.Map(ecam, first, last);
        }

        internal static PciHostWindows PciWindows()
        {
            DtNode host = DeviceTree.FindCompatible("pci-host-ecam-generic", 0);
            if (!DeviceTree.GetProperty(host, "ranges", out byte* ranges, out int length)) return null;
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
                Log.Write("devicetree: PCI window ");
                Log.Write(space == 1 ? "io    " : space == 2 ? "mem32 " : "mem64 ");
                Log.Hex(cpu); Log.Write(" size "); Log.Hex(size); Log.Line();
            }
            return windows;
        }

        // The interrupt controller and its MSI frame (printed now; used by the MSI-X work).
        internal static void DescribeInterruptController()
        {
            DtNode gic = DeviceTree.FindCompatible("arm,cortex-a15-gic", 0);
            string kind = "GICv2";
            if (!gic.Found) { gic = DeviceTree.FindCompatible("arm,gic-v3", 0); kind = "GICv3"; }
            if (!DeviceTree.GetReg(gic, 0, out ulong dist, out _)) { Log.Write("devicetree: no GIC"); Log.Line(); return; }
            DeviceTree.GetReg(gic, 1, out ulong second, out _);
            Log.Write("devicetree: "); Log.Write(kind); Log.Write(" distributor "); Log.Hex(dist);
            Log.Write(kind == "GICv2" ? ", CPU interface " : ", redistributors "); Log.Hex(second);
            DtNode msi = DeviceTree.FindCompatible("arm,gic-v2m-frame", 0);
            string msiKind = " v2m MSI frame ";
            if (!msi.Found) { msi = DeviceTree.FindCompatible("arm,gic-v3-its", 0); msiKind = " ITS "; }
            if (DeviceTree.GetReg(msi, 0, out ulong msiBase, out _)) { Log.Write(","); Log.Write(msiKind); Log.Hex(msiBase); }
            else Log.Write(", no MSI controller");
            Log.Line();
        }
    }
}
