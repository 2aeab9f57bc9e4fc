using System;
using GuestOS.Hal;

namespace GuestOS.Drivers.Pci
{
    // Programming a function's MSI-X table (PCI Local Bus 3.0 §6.8.2; Linux
    // drivers/pci/msi/msi.c: msix_capability_init, msix_mask_all, pci_msix_write_msg,
    // pci_msix_mask/unmask). The order is what makes it safe:
    //
    //   1. message control <- ENABLE | MASKALL   MSI-X on, but the function may send nothing
    //   2. every entry's vector control <- MASK  so no half-written entry can ever fire
    //   3. write address and data of the entries in use (each still masked)
    //   4. message control: clear MASKALL        still silent: each entry is masked
    //   5. unmask the entries in use             now, and only now, messages can be sent
    //
    // A table entry (16 bytes): +0 message address low, +4 high, +8 data, +12 vector control.
    // A masked entry that would fire sets its Pending Bit instead; the message is sent when the
    // entry is unmasked, so nothing is lost while masked.
    public sealed class PciMsix
    {
        public const uint PCI_MSIX_ENTRY_LOWER_ADDR = 0;
        public const uint PCI_MSIX_ENTRY_UPPER_ADDR = 4;
        public const uint PCI_MSIX_ENTRY_DATA = 8;
        public const uint PCI_MSIX_ENTRY_VECTOR_CTRL = 12;
        public const uint PCI_MSIX_ENTRY_CTRL_MASKBIT = 1;

        public PciDevice Pci;
        public MsixCapability Cap;
        public ulong Table;             // mapped table (Cap.TableSize entries)

        private PciMsix() { }

        // msix_capability_init: map the table, switch MSI-X on with the function masked and
        // mask every entry (steps 1 and 2). Null if the function has no MSI-X capability or its
        // table does not sit inside an assigned memory BAR; `why` says which.
        public static PciMsix pci_msix_enable(PciDevice d, out ReadOnlySpan<byte> why)
        {
            why = default;
            MsixCapability cap = MsixCapability.Read(d);
            if (cap == null) { why = "no MSI-X capability"u8; return null; }
            PciBar bar = d.Bar(cap.TableBir);
            ulong bytes = (ulong)cap.TableSize * MsixCapability.PCI_MSIX_ENTRY_SIZE;
            if (bar == null || !bar.IsImplemented || !bar.IsMemory || bar.Address == 0)
            { why = "MSI-X table BAR is not an assigned memory BAR"u8; return null; }
            if (cap.TableOffset > bar.Size || bytes > bar.Size - cap.TableOffset)
            { why = "MSI-X table extends past the end of its BAR"u8; return null; }
            ulong table = Io.ioremap(bar.CpuAddress + cap.TableOffset, bytes);
            if (table == 0) { why = "ioremap of the MSI-X table failed"u8; return null; }
            Narration.IoRegions.Add(table, bytes, Narration.IoRegionKind.MsixTable);

            PciMsix m = new PciMsix();
            m.Pci = d;
            m.Cap = cap;
            m.Table = table;
            m.SetControl(MsixCapability.PCI_MSIX_FLAGS_ENABLE | MsixCapability.PCI_MSIX_FLAGS_MASKALL, 0);
            for (uint i = 0; i < cap.TableSize; i++) m.pci_msix_mask(i);
            return m;
        }

        public uint Size { get { return Cap.TableSize; } }

        // MSI-X on again after pci_msix_disable (a device re-initialised after polling or INTx),
        // every entry masked as pci_msix_enable leaves them.
        public void pci_msix_reenable()
        {
            SetControl(MsixCapability.PCI_MSIX_FLAGS_ENABLE | MsixCapability.PCI_MSIX_FLAGS_MASKALL, 0);
            for (uint i = 0; i < Cap.TableSize; i++) pci_msix_mask(i);
        }

        // Step 3, for a masked entry (pci_msix_write_msg).
        public void pci_msix_write_msg(uint entry, MsiMessage msg)
        {
            ulong e = Entry(entry);
            Io.iowrite32(e + PCI_MSIX_ENTRY_LOWER_ADDR, (uint)msg.Address);
            Io.iowrite32(e + PCI_MSIX_ENTRY_UPPER_ADDR, (uint)(msg.Address >> 32));
            Io.iowrite32(e + PCI_MSIX_ENTRY_DATA, msg.Data);
        }

        // Step 4: the function may send messages for unmasked entries.
        public void pci_msix_unmask_function()
        {
            SetControl(0, MsixCapability.PCI_MSIX_FLAGS_MASKALL);
        }

        public void pci_msix_mask(uint entry)
        {
            ulong ctrl = Entry(entry) + PCI_MSIX_ENTRY_VECTOR_CTRL;
            Io.iowrite32(ctrl, Io.ioread32(ctrl) | PCI_MSIX_ENTRY_CTRL_MASKBIT);
        }

        // Step 5. The read back flushes the posted write (Linux: pci_msix_unmask reads the
        // vector control again), so the entry is live when this returns.
        public void pci_msix_unmask(uint entry)
        {
            ulong ctrl = Entry(entry) + PCI_MSIX_ENTRY_VECTOR_CTRL;
            Io.iowrite32(ctrl, Io.ioread32(ctrl) & ~PCI_MSIX_ENTRY_CTRL_MASKBIT);
            Io.ioread32(ctrl);
        }

        // pci_msix_shutdown: mask every entry, then switch MSI-X off (the function falls back to
        // INTx).
        public void pci_msix_disable()
        {
            for (uint i = 0; i < Cap.TableSize; i++) pci_msix_mask(i);
            SetControl(0, MsixCapability.PCI_MSIX_FLAGS_ENABLE | MsixCapability.PCI_MSIX_FLAGS_MASKALL);
        }

        // Callers pass entry < Size (they chose their vectors from it).
        private ulong Entry(uint entry)
        {
            return Table + (ulong)entry * MsixCapability.PCI_MSIX_ENTRY_SIZE;
        }

        // pci_msix_clear_and_set_ctrl: one 16-bit read-modify-write of message control.
        private void SetControl(ushort set, ushort clear)
        {
            uint at = Cap.Offset + MsixCapability.PCI_MSIX_FLAGS;
            Pci.Write16(at, (ushort)((Pci.Read16(at) & ~clear) | set));
        }
    }
}
