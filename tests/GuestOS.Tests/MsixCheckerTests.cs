using System.Linq;
using GuestOS.Drivers.Pci;
using GuestOS.Hal;
using GuestOS.Hal.Hosted;
using GuestOS.Tests.Simulation;
using Xunit;

namespace GuestOS.Tests
{
    // SimMsix's checker must be able to fail, and so must the two checks of the machine
    // around it (accesses nobody decodes, MSIs no vector was allocated for): each rule,
    // broken once through the driver's MSI-X API in a wrong order or by one access it would
    // never make, is recorded as exactly that violation and nothing else.
    public sealed class MsixCheckerTests : HalTest
    {
        private SimVirtioDevice _dev;
        private TestMachine _m;
        private PciDevice _pci;

        // An enumerated virtio function with decoding on, its MSI-X untouched (2 entries,
        // table at BAR1 + 0, PBA at BAR1 + 0x800).
        private void Function()
        {
            _dev = new SimVirtioDevice();
            _m = TestMachine.Virt(_dev);
            _pci = PciScan.Enumerate(_m.Cfg, _m.Windows).Single(x => x.VendorId == 0x1af4);
            _pci.EnableMemoryAndBusMaster();
        }

        private ulong Table => _dev.BarAddress(1);

        // pci_msix_enable: MSI-X on, the function and every entry masked.
        private PciMsix Enabled()
        {
            Function();
            PciMsix msix = PciMsix.pci_msix_enable(_pci, out _);
            Assert.NotNull(msix);
            Assert.Empty(_dev.Msix.Violations);
            return msix;
        }

        private void AssertOnly(params string[] expected)
        {
            Assert.Equal(expected, _dev.Msix.Violations);
            Assert.Empty(_dev.SpecViolations);
            Assert.Empty(InterruptController.Errors);
            Assert.Empty(_m.P.Unclaimed);
        }

        private static MsiMessage Message(uint data) => new MsiMessage { Address = InterruptController.Doorbell, Data = data };

        [Fact]
        public void MessageWrittenWhileTheEntryCanFireIsCaught()
        {
            PciMsix msix = Enabled();
            msix.pci_msix_unmask_function();                            // steps 4 and 5 ...
            msix.pci_msix_unmask(0);
            msix.pci_msix_write_msg(0, Message(0x30));                  // ... before step 3
            string e = "MSI-X entry 0 message written while the entry can fire";
            AssertOnly(e, e, e);                                        // address low, high, data
        }

        [Fact]
        public void TableWrittenWithTheWrongWidthIsCaught()
        {
            Enabled();
            Io.iowrite16(Table + 12, 1);                                // vector control as a word
            AssertOnly("MSI-X entry 0 +12 written with width 2 (must be an aligned DWORD or QWORD)");
        }

        [Theory]
        [InlineData(12UL, 2, "MSI-X table +0xc read with width 2 (must be an aligned DWORD or QWORD)")]
        [InlineData(4UL, 8, "MSI-X table +0x4 read with width 8 (must be an aligned DWORD or QWORD)")]
        [InlineData(0x800UL, 1, "MSI-X PBA +0x800 read with width 1 (must be an aligned DWORD or QWORD)")]
        public void TableOrPbaReadWithTheWrongWidthIsCaught(ulong offset, int width, string expected)
        {
            Enabled();
            if (width == 1) Io.ioread8(Table + offset);
            else if (width == 2) Io.ioread16(Table + offset);
            else Io.ioread64(Table + offset);
            AssertOnly(expected);
        }

        // The fixed rule: an aligned QWORD is as good as two DWORDs (PCI 3.0 §6.8.2).
        [Fact]
        public void AlignedQwordTableAccessIsFine()
        {
            Enabled();
            Io.iowrite64(Table + 16, InterruptController.Doorbell | 0x1234UL << 32);   // entry 1 address, masked
            Assert.Equal(InterruptController.Doorbell | 0x1234UL << 32, Io.ioread64(Table + 16));
            Assert.Equal(InterruptController.Doorbell | 0x1234UL << 32, _dev.Msix.Address(1));
            AssertOnly();
        }

        [Theory]
        [InlineData(0x800UL, "write to MSI-X PBA/unused +0x800")]       // the Pending Bit Array: read-only
        [InlineData(0x20UL, "write to MSI-X PBA/unused +0x20")]         // past the 2-entry table
        public void WriteOutsideTheTableIsCaught(ulong offset, string expected)
        {
            Enabled();
            Io.iowrite32(Table + offset, 1);
            AssertOnly(expected);
        }

        // The interrupt controller: an entry programmed with a message for a vector nobody
        // allocated (Irq.AllocateMsi) is an MSI that matches nothing.
        [Fact]
        public void MsiForAVectorNeverAllocatedIsCaught()
        {
            PciMsix msix = Enabled();
            msix.pci_msix_write_msg(0, Message(0x99));
            msix.pci_msix_unmask_function();
            msix.pci_msix_unmask(0);
            _dev.Msix.Notify(0);
            Assert.Equal(new[] { "MSI write 0x99 to 0xfee00000 matches no allocated vector" }, InterruptController.Errors);
            Assert.Empty(_dev.Msix.Violations);
        }

        // The platform: an access no function decodes.
        [Fact]
        public void AccessNobodyDecodesIsCaught()
        {
            Function();
            Io.ioread32(Table + 0x1000);                                // just past BAR1
            Assert.Equal(new[] { $"mmio read 0x{Table + 0x1000:x}/4" }, _m.P.Unclaimed);
        }
    }
}
