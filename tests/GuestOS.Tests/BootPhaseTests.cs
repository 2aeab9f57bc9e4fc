using System.Linq;
using GuestOS.Drivers;
using GuestOS.Drivers.Rng;
using GuestOS.Hal;
using GuestOS.Hal.Hosted;
using GuestOS.Tests.Simulation;
using Xunit;

namespace GuestOS.Tests
{
    // What the drivers contribute to the boot breakdown (Hal.BootPhases; the kernel prints it
    // under rng.bench), and what PCI enumeration leaves out of it on a firmware-assigned bus.
    public sealed unsafe class BootPhaseTests : HalTest
    {
        // q35 after SeaBIOS with a function no driver here binds (a SATA controller, decoding
        // on, one memory BAR) before the entropy device.
        private static (TestMachine m, SimPciFunction sata, SimVirtioDevice rng) Q35()
        {
            var sata = new SimPciFunction(0x8086, 0x2922, 0x010601, 0, 6);
            sata.DefineBar(5, SimBarKind.Mem32, 0x1000);
            var rng = new SimVirtioDevice();
            return (TestMachine.X86(sata, rng), sata, rng);
        }

        [Fact]
        public void The_drivers_mark_enumeration_transport_and_bring_up_in_order()
        {
            var (m, _, _) = Q35();
            Assert.Equal(DriverError.Ok, DriverStack.Start(m.Cfg, null, out VirtioRng[] r));
            Assert.Equal(new[] { BootPhase.Pci, BootPhase.Transport, BootPhase.BringUp }, BootPhases.Marks.Select(x => x.Phase));
            // Bring-up ends with the DRIVER_OK write (§3.1.1 step 8): the last access before its mark.
            var last = IoBus.Trace[BootPhases.Marks[2].TraceIndex - 1];
            Assert.Equal((IoDir.Write, 1, 0x0FUL), (last.Dir, last.Width, last.Value));
            // Enumeration is configuration space only: port 0xCF8/0xCFC here, no device register.
            Assert.All(IoBus.Trace.Take(BootPhases.Marks[0].TraceIndex), a => Assert.Equal(IoSpace.Port, a.Space));
        }

        // A device that sets DEVICE_NEEDS_RESET is brought up again (virtrng_init, DRIVER_OK
        // and all): that is not the boot, and the marks stay where the boot put them.
        [Fact]
        public void A_reinitialisation_does_not_move_a_mark()
        {
            LinuxShapePolling();   // one 64-byte buffer: a completion per read
            var m = TestMachine.X86(new SimVirtioDevice { NeedsResetAfter = 3 });
            Assert.Equal(DriverError.Ok, DriverStack.Start(m.Cfg, null, out VirtioRng[] r));
            var boot = BootPhases.Marks.ToList();
            byte* b = stackalloc byte[64];
            for (int i = 0; i < 5; i++) Assert.Equal(64L, r[0].virtio_read(b, 64));
            Assert.Equal(1UL, r[0].Resets);
            Assert.Equal(boot, BootPhases.Marks);
        }

        // Under TCG, sizing a BAR turns the function's decoding off and on, and QEMU rebuilds its
        // memory map each time: a firmware-assigned function no driver binds is left alone in a
        // quiet boot. The bound one is sized before its driver's first access.
        [Fact]
        public void Firmware_mode_sizes_only_the_bars_of_a_function_a_driver_binds()
        {
            var (m, sata, rng) = Q35();
            Log.Quiet = true;
            Assert.Equal(DriverError.Ok, DriverStack.Start(m.Cfg, null, out _));
            Assert.Empty(sata.ConfigWrites);
            Assert.Equal(0, sata.BarSizingWrites);
            Assert.True(rng.BarSizingWrites > 0);
            Assert.Equal("W16 +0x04 = 0x0", rng.ConfigWrites[0]);              // decoding off to size ...
            Assert.Equal("W16 +0x04 = 0x3", rng.ConfigWrites.SkipWhile(w => w != "W16 +0x04 = 0x0").Skip(1)
                                                .First(w => w.StartsWith("W16 +0x04")));   // ... and back, before pci_enable_device
        }

        [Fact]
        public void Lspci_sizes_them_all_and_a_function_reads_the_same_sized_late()
        {
            var (m, sata, _) = Q35();
            Assert.Equal(DriverError.Ok, DriverStack.Start(m.Cfg, null, out _));   // not quiet: lspci prints every BAR
            Assert.True(sata.BarSizingWrites > 0);
            Assert.Contains("BAR5 mem32 0xfe000000 size 0x1000", LogText);
            Assert.Equal(0x0003, sata.Command);                                  // decoding restored
        }
    }
}
