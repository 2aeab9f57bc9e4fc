using System;
using GuestOS.Hal;
using GuestOS.Kernel.Boot;
using GuestOS.Kernel.Memory;

namespace GuestOS.Kernel.Arch
{
    // The Interrupt Translation Service (ARM IHI 0069, "The ITS"): turns a device's MSI write of
    // an EventID to GITS_TRANSLATER - the device's bus tags the write with its DeviceID - into
    // an LPI on a redistributor. The mappings are tables in memory the ITS owns:
    //   DeviceID -> Device table entry -> that device's Interrupt Translation Table (ITT)
    //   EventID  -> ITT entry -> (LPI INTID, collection)
    //   collection (ICID) -> Collection table entry -> target redistributor
    // and software changes them only through commands (ItsCommandQueue): MAPD, MAPTI, MAPC.
    internal static unsafe class Its
    {
        private const ulong GITS_CTLR = 0x0000, GITS_TYPER = 0x0008, GITS_BASER = 0x0100;
        private const ulong GITS_TRANSLATER = 0x10040;         // in the second 64 KiB frame
        private const uint GITS_CTLR_ENABLED = 1u << 0, GITS_CTLR_QUIESCENT = 1u << 31;
        private const ulong GITS_TYPER_PTA = 1UL << 19;        // collections target physical addresses
        // GITS_BASER<n>: Valid [63], InnerCache [61:59], Type [58:56] (RO), Entry_Size [52:48]
        // (RO), Shareability [11:10], Page_Size [9:8], Size [7:0] (pages - 1).
        private const ulong GITS_BASER_VALID = 1UL << 63, GITS_BASER_INDIRECT = 1UL << 62;
        private const ulong InnerWriteBack = 7UL << 59, InnerShareable = 1UL << 10, ShareabilityMask = 3UL << 10;
        private const ulong BaserKeep = 7UL << 56 | 0x1FUL << 48;   // Type and Entry_Size
        private const uint TypeDevice = 1, TypeCollection = 4;
        private const uint MaxTablePages = 256;                  // what Size [7:0] can say
        // Commands (IHI 0069, "ITS command descriptions"): the opcode is DW0 [7:0].
        private const ulong INT = 0x03, SYNC = 0x05, MAPD = 0x08, MAPC = 0x09, MAPTI = 0x0A, INV = 0x0C;
        private const ulong Valid = 1UL << 63;
        private const ushort Collection = 0;                     // one CPU, one collection
        // An ITT covers the EventIDs of one device. A PCI function has at most 2048 MSI-X
        // vectors (PCIe 5.0 7.7.2.2, Table Size is 11 bits) and drivers allocate MSIs one by
        // one, so every device gets room for 2048 events (or fewer if the ITS has fewer).
        private const int MaxEventIdBits = 11;
        private const int MaxDevices = 64;

        private sealed class Device
        {
            public uint DeviceId;
            public uint NextEvent;
            public ulong Itt;
        }

        internal static ulong Phys;
        internal static ulong TranslaterPhys => Phys + GITS_TRANSLATER;
        private static ulong its, typer, target;
        private static uint deviceIdBits, deviceTableIds, eventIdBits, ittEntrySize;
        private static Device[] devices;
        private static int deviceCount;

        internal static bool Init(DtNode node)
        {
            if (!DeviceTree.GetReg(node, 0, out Phys, out ulong size)) return false;
            if ((its = Io.ioremap(Phys, size)) == 0) Panic.Halt("its: the ITS could not be mapped"u8);
            if ((Io.ioread32(its + GITS_CTLR) & GITS_CTLR_ENABLED) != 0)
                return Refuse("GITS_CTLR.Enabled is already set: its tables belong to someone else"u8);
            typer = Io.ioread64(its + GITS_TYPER);
            if ((typer & 1) == 0) return Refuse("GITS_TYPER.Physical is 0: no physical LPIs"u8);
            ittEntrySize = (uint)(typer >> 4 & 0xF) + 1;
            eventIdBits = (uint)(typer >> 8 & 0x1F) + 1;
            deviceIdBits = (uint)(typer >> 13 & 0x1F) + 1;
            if (eventIdBits > MaxEventIdBits) eventIdBits = MaxEventIdBits;

            for (uint n = 0; n < 8; n++)
                if (!SetUpTable(n)) return false;
            if (deviceTableIds == 0) return Refuse("no GITS_BASER describes a device table"u8);
            if (!ItsCommandQueue.Init(its)) return Refuse("no memory for the command queue, or it cannot be shareable"u8);
            Io.iowrite32(its + GITS_CTLR, GITS_CTLR_ENABLED);

            // The collection's target is a redistributor: its physical address if GITS_TYPER.PTA,
            // otherwise its processor number (GICR_TYPER.Processor_Number); in [51:16] either way.
            target = (typer & GITS_TYPER_PTA) != 0 ? GicV3.RedistPhys & 0xFFFFFFFFF0000UL
                                                   : (GicV3.RedistTyper >> 8 & 0xFFFF) << 16;
            ItsCommandQueue.Push(MAPC, 0, Valid | target | Collection, 0);
            ItsCommandQueue.Push(SYNC, 0, target, 0);
            ItsCommandQueue.Run("MAPC collection 0"u8);
            devices = new Device[MaxDevices];
            return true;
        }

        // One GITS_BASER<n>: the table type and entry size are the ITS's; we choose a page size
        // it accepts (4 KiB if it takes it), allocate a flat table, and mark it Valid.
        private static bool SetUpTable(uint n)
        {
            ulong register = its + GITS_BASER + n * 8;
            ulong baser = Io.ioread64(register);
            uint type = (uint)(baser >> 56 & 7);
            if (type != TypeDevice && type != TypeCollection) return true;   // unimplemented, or vPEs
            ulong entrySize = (baser >> 48 & 0x1F) + 1;

            Io.iowrite64(register, baser & BaserKeep);                       // Page_Size 0: 4 KiB
            uint pageCode = (uint)(Io.ioread64(register) >> 8 & 3);
            ulong pageSize = pageCode == 0 ? 4096UL : pageCode == 1 ? 16384UL : 65536UL;

            // Devices: every DeviceID the ITS supports, if that fits in 256 pages. Collections:
            // one page is hundreds of them; we use one.
            ulong ids = type == TypeDevice ? 1UL << (int)deviceIdBits : pageSize / entrySize;
            ulong pages = (ids * entrySize + pageSize - 1) / pageSize;
            if (pages > MaxTablePages) pages = MaxTablePages;
            ulong phys = PageAllocator.AllocateAligned(pages * pageSize / PageAllocator.PageSize, pageSize);
            if (phys == 0) return Refuse("no memory for an ITS table"u8);

            // The address is page aligned; for 64 KiB pages bits [51:48] would go in [15:12],
            // which is 0 for RAM below 2^48.
            Io.iowrite64(register, GITS_BASER_VALID | InnerWriteBack | (baser & BaserKeep) | phys |
                                   InnerShareable | (ulong)pageCode << 8 | (pages - 1));
            ulong now = Io.ioread64(register);
            if ((now & GITS_BASER_VALID) == 0 || (now & GITS_BASER_INDIRECT) != 0)
                return Refuse("a GITS_BASER did not accept a flat table"u8);
            if ((now & ShareabilityMask) == 0) return Refuse("a GITS_BASER does not accept shareable memory (cache maintenance is not written)"u8);
            if (type == TypeDevice) deviceTableIds = (uint)(pages * pageSize / entrySize);
            return true;
        }

        // Map the next EventID of `deviceId` to `lpi`: MAPD the first time (an ITT for the
        // device), then MAPTI, INV (the redistributor rereads the LPI's configuration byte) and
        // SYNC (everything done before we return). False if the device or its events run out.
        internal static bool MapEvent(uint deviceId, uint lpi, out uint eventId)
        {
            eventId = 0;
            if (devices == null || deviceId >= deviceTableIds) return false;
            Device device = Find(deviceId);
            if (device == null)
            {
                if (deviceCount == MaxDevices) return false;
                ulong ittBytes = (1UL << (int)eventIdBits) * ittEntrySize;
                ulong itt = PageAllocator.Allocate((ittBytes + PageAllocator.PageSize - 1) / PageAllocator.PageSize);
                if (itt == 0) return false;                              // (page aligned; 256 bytes is required)
                device = new Device();
                device.DeviceId = deviceId;
                device.Itt = itt;
                devices[deviceCount++] = device;
                ItsCommandQueue.Push(MAPD | (ulong)deviceId << 32, eventIdBits - 1, Valid | (itt & 0xFFFFFFFFFFF00UL), 0);
            }
            if (device.NextEvent >= 1u << (int)eventIdBits) return false;
            eventId = device.NextEvent++;
            ItsCommandQueue.Push(MAPTI | (ulong)deviceId << 32, eventId | (ulong)lpi << 32, Collection, 0);
            ItsCommandQueue.Push(INV | (ulong)deviceId << 32, eventId, 0, 0);
            ItsCommandQueue.Push(SYNC, 0, target, 0);
            ItsCommandQueue.Run("MAPD/MAPTI/INV/SYNC"u8);
            return true;
        }

        // INT: the ITS raises the LPI mapped to (DeviceID, EventID) as if the device had written
        // the EventID to GITS_TRANSLATER. For self tests: no device needed.
        internal static void Interrupt(uint deviceId, uint eventId)
        {
            ItsCommandQueue.Push(INT | (ulong)deviceId << 32, eventId, 0, 0);
            ItsCommandQueue.Push(SYNC, 0, target, 0);
            ItsCommandQueue.Run("INT/SYNC"u8);
        }

        internal static void Describe()
        {
            Log.Write("ITS "u8); Log.Hex(Phys);
            Log.Write(" (DeviceID bits "u8); Log.Dec(deviceIdBits);
            Log.Write(", EventID bits "u8); Log.Dec((typer >> 8 & 0x1F) + 1);
            Log.Write(", ITT entry "u8); Log.Dec(ittEntrySize); Log.Write(" bytes, "u8);
            Log.Dec(1UL << (int)eventIdBits); Log.Write(" events per device"u8);
            Log.Write((typer & GITS_TYPER_PTA) != 0 ? ", targets by address)"u8 : ", targets by processor number)"u8);
        }

        private static Device Find(uint deviceId)
        {
            for (int i = 0; i < deviceCount; i++)
                if (devices[i].DeviceId == deviceId) return devices[i];
            return null;
        }

        private static bool Refuse(ReadOnlySpan<byte> why)
        {
            Log.Write("its: not used: "u8); Log.Write(why); Log.Line();
            return false;
        }
    }
}
