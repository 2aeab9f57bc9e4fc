using System;
using GuestOS.Hal;
using GuestOS.Kernel.Boot;

namespace GuestOS.Kernel.Arch
{
    // Which DeviceID the ITS sees for a PCI function's MSI writes. The host bridge node says, in
    // `msi-map` (Linux Documentation/devicetree/bindings/pci/pci-msi.txt): a list of
    //     <rid-base  msi-controller-phandle  msi-base  length>
    // mapping requester IDs rid-base .. rid-base+length-1 to msi-base.. on that controller,
    // after ANDing the requester ID with `msi-map-mask` if present. Without `msi-map` the
    // DeviceID is the requester ID itself. QEMU virt maps 0..0xffff one to one onto its ITS.
    internal static unsafe class MsiMap
    {
        private const int EntryCells = 4;      // rid-base, phandle, msi-base (#msi-cells = 1), length

        internal static bool Translate(DtNode controller, ushort requesterId, out uint deviceId)
        {
            deviceId = requesterId;
            DtNode host = DeviceTree.FindCompatible("pci-host-ecam-generic"u8, 0);
            if (!DeviceTree.GetProperty(host, "msi-map"u8, out byte* map, out int length)) return true;
            if (length % (EntryCells * 4) != 0) return Refuse("msi-map is not a list of 4-cell entries"u8, requesterId);
            if (DeviceTree.GetU32(controller, "#msi-cells"u8, out uint msiCells) && msiCells != 1)
                return Refuse("the ITS node's #msi-cells is not 1"u8, requesterId);
            if (!DeviceTree.GetU32(controller, "phandle"u8, out uint phandle)) return Refuse("the ITS node has no phandle"u8, requesterId);
            uint rid = requesterId;
            if (DeviceTree.GetU32(host, "msi-map-mask"u8, out uint mask)) rid &= mask;

            for (int at = 0; at < length; at += EntryCells * 4)
            {
                uint ridBase = DeviceTree.Be32(map + at), target = DeviceTree.Be32(map + at + 4);
                uint msiBase = DeviceTree.Be32(map + at + 8), count = DeviceTree.Be32(map + at + 12);
                if (target != phandle || rid < ridBase || rid - ridBase >= count) continue;
                deviceId = msiBase + (rid - ridBase);
                return true;
            }
            return Refuse("no msi-map entry covers it"u8, requesterId);
        }

        private static bool Refuse(ReadOnlySpan<byte> why, ushort requesterId)
        {
            Log.Write("its: no DeviceID for requester "u8); Log.Hex(requesterId, 4); Log.Write(": "u8); Log.Write(why); Log.Line();
            return false;
        }
    }
}
