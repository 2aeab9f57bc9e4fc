using System.Linq;
using GuestOS.Drivers;
using GuestOS.Drivers.Rng;
using GuestOS.Drivers.Virtio;
using GuestOS.Hal.Hosted;
using GuestOS.Tests.Simulation;
using Xunit;

namespace GuestOS.Tests
{
    // virtio-pci's interrupt modes in Linux's order (vp_find_vqs: per-queue MSI-X vectors, one
    // shared vector, INTx), with polling as GuestOS's last resort; INTx through the line the
    // simulated firmware wrote (pc/q35: SeaBIOS's IRQ 10/11), level-triggered, acknowledged
    // by reading ISR status (4.1.4.5).
    public sealed unsafe class PciIntxTests : HalTest
    {
        private static (VirtioRng rng, SimVirtioDevice dev) UpX86(SimVirtioDevice dev) => UpRng(dev, x86: true);

        [Fact]
        public void NoMsixMeansIntxAcknowledgedThroughIsr()
        {
            var (rng, dev) = UpX86(new SimVirtioDevice(new SimVirtioOptions { MsixVectors = 0 }));
            Assert.Contains("MSI-X, a vector per queue plus one for configuration changes not possible: no MSI-X capability; falling back", LogText);
            Assert.Equal(VirtioIrqMode.Wired, rng.IrqMode);
            Assert.Contains("interrupt_line: INTx, acknowledged by reading ISR status, INTA# (interrupt line register 10), line 10 (level)", LogText);
            Assert.Equal(dev.Produced.Take(60000), ReadAll(rng, 60000));
            Assert.True(rng.Interrupts > 0, "no INTx arrived");
            Assert.Equal(0, dev.Isr);                                // every interrupt's ISR was read
            Assert.Empty(InterruptController.Errors);                // the level line never stayed asserted
            Assert.Empty(dev.SpecViolations);
            Assert.Equal(0xFFFF, dev.Q(0).MsixVector);               // no vector given to the device
        }

        [Fact]
        public void NoFreeMsiFallsBackPastBothMsixModesToIntx()
        {
            InterruptController.VectorsLeft = 0;
            var (rng, dev) = UpX86(new SimVirtioDevice());
            Assert.Equal(2, LogText.Split("not possible: the platform has no free MSI").Length - 1);
            Assert.Equal(VirtioIrqMode.Wired, rng.IrqMode);
            Assert.False(dev.Msix.Enabled);                          // MSI-X off: the function uses INTx
            Assert.Equal(dev.Produced.Take(30000), ReadAll(rng, 30000));
            Assert.True(rng.Interrupts > 0);
        }

        [Fact]
        public void QueueVectorRefusedFallsBackToIntx()
        {
            var dev = new SimVirtioDevice { RefuseQueueVector = true };
            var (rng, _) = UpX86(dev);
            Assert.Contains("the device answered NO_VECTOR for a queue vector", LogText);
            Assert.Equal(VirtioIrqMode.Wired, rng.IrqMode);
            Assert.Equal(dev.Produced.Take(30000), ReadAll(rng, 30000));
            Assert.Empty(dev.SpecViolations);                        // no queue enabled twice
        }

        // Two functions on IRQ 10 (slots 1 and 3; SeaBIOS alternates 10 and 11): the second
        // driver shares the line (SharedLine), both handlers run on each interrupt, and each
        // device is served although the other's ISR read does not lower the line for it.
        [Fact]
        public void TwoFunctionsShareOneIntxLine()
        {
            var a = new SimVirtioDevice(new SimVirtioOptions { MsixVectors = 0 });
            var b = new SimVirtioDevice(new SimVirtioOptions { MsixVectors = 0 });
            var m = TestMachine.X86(a, new SimVirtioDevice(), b);
            Assert.Equal(DriverError.Ok, DriverStack.Start(m.Cfg, m.Windows, out VirtioRng[] rngs));
            Assert.Equal(2, LogText.Split("line 10 (level)").Length - 1);
            VirtioRng ra = rngs.Single(r => ((VirtioPciTransport)r.Transport).Pci.Dev == 1);
            VirtioRng rb = rngs.Single(r => ((VirtioPciTransport)r.Transport).Pci.Dev == 3);
            Assert.Equal((VirtioIrqMode.Wired, VirtioIrqMode.Wired), (ra.IrqMode, rb.IrqMode));
            var gotA = new System.Collections.Generic.List<byte>();
            var gotB = new System.Collections.Generic.List<byte>();
            for (int round = 0; round < 4; round++)   // interleaved: each device's interrupts arrive while the other's driver waits
            {
                gotA.AddRange(ReadAll(ra, 20000));
                gotB.AddRange(ReadAll(rb, 20000));
            }
            Assert.Equal(a.Produced.Take(80000), gotA);
            Assert.Equal(b.Produced.Take(80000), gotB);
            Assert.True(ra.Interrupts > 0 && rb.Interrupts > 0, $"interrupts {ra.Interrupts} and {rb.Interrupts}");
            Assert.Empty(InterruptController.Errors);
            Assert.Equal(0, a.Isr);
            Assert.Equal(0, b.Isr);
        }

        [Fact]
        public void NoRouteForIntxMeansPolling()
        {
            InterruptController.WiredAvailable = false;
            var (rng, dev) = UpX86(new SimVirtioDevice(new SimVirtioOptions { MsixVectors = 0 }));
            Assert.Contains("INTx, acknowledged by reading ISR status not possible: the platform gives no route for the INTx pin; falling back", LogText);
            Assert.Equal(VirtioIrqMode.Polling, rng.IrqMode);
            Assert.Equal(dev.Produced.Take(30000), ReadAll(rng, 30000));
            Assert.Equal(0UL, rng.Interrupts);
        }

        [Fact]
        public void ConfigurationChangeArrivesByIntxToo()
        {
            var dev = new SimVirtioDevice(new SimVirtioOptions { MsixVectors = 0 }) { NeedsResetAfter = 3 };
            VirtioRng.ProbeBufferSize = 16384;                       // 3 completions inside the 100000 bytes
            var (rng, _) = UpX86(dev);
            ReadAll(rng, 100000);                                    // crosses the reset
            Assert.Equal(1UL, rng.Resets);
            Assert.Equal(VirtioIrqMode.Wired, rng.IrqMode);          // INTx again after re-initialisation
            Assert.Empty(InterruptController.Errors);
        }

        [Fact]
        public void PollingOptionNeverTouchesIntx()
        {
            VirtioRng.ProbePolling = true;
            var (rng, dev) = UpX86(new SimVirtioDevice(new SimVirtioOptions { MsixVectors = 0 }));
            Assert.Equal(VirtioIrqMode.Polling, rng.IrqMode);
            Assert.Empty(InterruptController.WiredLines);
            ReadAll(rng, 20000);
            Assert.Equal(0UL, rng.Interrupts);
        }
    }
}
