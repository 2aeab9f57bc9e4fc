using System;
using System.Linq;
using GuestOS.Drivers;
using GuestOS.Drivers.Rng;
using GuestOS.Drivers.Virtio;
using GuestOS.Hal.Hosted;
using GuestOS.Tests.Simulation;
using Xunit;

namespace GuestOS.Tests
{
    // MSI-X programming and the fallback decisions, against the simulated function's table.
    public sealed unsafe class MsixTests : HalTest
    {
        private static (VirtioRng rng, SimVirtioDevice dev) Up(SimVirtioDevice dev = null) => UpRng(dev ?? new SimVirtioDevice());

        private static byte[] Read(VirtioRng rng, uint n) => ReadAll(rng, n);

        [Fact]
        public void TableIsProgrammedMaskedThenUnmaskedEntryByEntry()
        {
            var (rng, dev) = Up();
            Assert.Equal(new[]
            {
                "ctrl enable maskall",                  // 1. on, but the function may send nothing
                "entry 0 mask", "entry 1 mask",         // 2. every entry masked
                "entry 0 msg", "entry 1 msg",           // 3. messages written while masked
                "ctrl enable",                          // 4. function mask off: entries still masked
                "entry 0 unmask", "entry 1 unmask",     // 5. live
            }, dev.Msix.Events);
            Assert.Empty(dev.Msix.Violations);          // includes "message written while the entry can fire"
            var vectors = InterruptController.Allocations.Select(a => a.Vector).ToArray();
            Assert.Equal(2, vectors.Length);
            for (int e = 0; e < 2; e++)
            {
                Assert.Equal(InterruptController.Doorbell, dev.Msix.Address(e));
                Assert.Equal(vectors[e], dev.Msix.Data(e));
            }
            Assert.Equal((ushort)0, dev.ConfigMsixVector);
            Assert.Equal((ushort)1, dev.Q(0).MsixVector);
            Assert.Equal(VirtioIrqMode.PerQueueVectors, rng.IrqMode);
            Assert.Equal((ushort)(1 << 3), InterruptController.Allocations[0].RequesterId);   // 00:01.0
        }

        [Fact]
        public void InterruptDrivenReadsGetEveryByteInOrderWithoutLostWakeUps()
        {
            var (rng, dev) = Up();
            // WaitLocalDisabled throws if the driver ever sleeps 10 ms with no interrupt pending
            // (a lost wake-up), before the 20 ms read timeout would end the sleep.
            Assert.Equal(dev.Produced.Take(300000), Read(rng, 300000));
            Assert.True(rng.Interrupts > 0);
            Assert.Equal(rng.Interrupts, InterruptController.Taken);
            Assert.Equal(0UL, rng.Vdev.Spurious);
            Assert.True(rng.Kicks < rng.Completions / 2, $"{rng.Kicks} kicks for {rng.Completions} completions");   // EVENT_IDX
            Assert.Equal(0, rng.BuffersUnaccounted);
            Assert.Empty(dev.SpecViolations);
            Assert.Empty(dev.DeviceErrors);
            Assert.Empty(InterruptController.Errors);
        }

        // The spin before sleeping (VirtioRng.SpinNs): a device that completes within it is
        // never waited on with an interrupt; one that takes longer is slept on as before. In
        // virtual time each Cpu.Relax is 1 us and one device tick, so 20 ticks fall inside the
        // 200 us spin and 1000 do not.
        [Theory]
        [InlineData(20, true)]
        [InlineData(1000, false)]
        public void TheReaderSpinsOnTheUsedRingBeforeSleeping_AndSleepsOnlyWhenTheDeviceIsSlower(int delayTicks, bool withinTheSpin)
        {
            VirtioRng.ProbeNoSpin = false;
            var (rng, dev) = Up(new SimVirtioDevice { CompletionDelayTicks = delayTicks });
            Assert.Equal(VirtioRng.SpinNs, rng.SpinTimeNs);
            Assert.Equal(dev.Produced.Take(3000000), Read(rng, 3000000));   // 3 x the 1 MiB in flight: the reader waits again and again
            if (withinTheSpin)
            {
                Assert.Equal(0UL, rng.Interrupts);
                Assert.True(rng.SpinHits >= 3, $"{rng.SpinHits} waits ended by spinning");
            }
            else
            {
                Assert.Equal(0UL, rng.SpinHits);
                Assert.True(rng.Interrupts >= 3, $"{rng.Interrupts} interrupts");
            }
            Assert.Equal(rng.Interrupts, InterruptController.Taken);
            Assert.Equal(0UL, rng.Vdev.Spurious);
            Assert.Equal(0, rng.BuffersUnaccounted);
            Assert.Empty(dev.SpecViolations);
            Assert.Empty(InterruptController.Errors);
        }

        [Fact]
        public void WithNoSpinTheReaderSleepsAtOnce()
        {
            VirtioRng.ProbeNoSpin = true;
            var (rng, dev) = Up(new SimVirtioDevice { CompletionDelayTicks = 20 });
            Assert.Equal(0UL, rng.SpinTimeNs);
            Assert.Equal(dev.Produced.Take(3000000), Read(rng, 3000000));
            Assert.Equal(0UL, rng.SpinHits);
            Assert.True(rng.Interrupts >= 3, $"{rng.Interrupts} interrupts");
        }

        // A device that stops answering while the driver sleeps on its interrupt: the wake-up
        // timer ends the sleep at the deadline, the read fails with Timeout having consumed
        // nothing, and reading goes on once the device answers again.
        [Fact]
        public void ADeviceThatStopsAnsweringEndsTheInterruptWaitAtItsDeadline()
        {
            var (rng, dev) = Up();
            Assert.Equal(dev.Produced.Take(4096), Read(rng, 4096));
            dev.NeverComplete = true;
            rng.TimeoutNs = 1000000;   // 1 ms
            byte* b = stackalloc byte[4096];
            long got;
            int read = 4096;
            ulong before = VirtualTime.Ns;
            while ((got = rng.virtio_read(b, 4096)) > 0) read += (int)got;     // what was filled already (whole buffers)
            // One deadline, a reset and re-initialisation, a second deadline: then the read fails.
            Assert.Equal(-(long)DriverError.Timeout, got);
            Assert.InRange(VirtualTime.Ns - before, 2000000UL, 2200000UL);
            Assert.Equal(2UL, InterruptController.TimerWakeups);
            Assert.Contains("stalled: virtio_rng.0: no completion after 1 ms (requests still posted), no DEVICE_NEEDS_RESET: resetting and re-initializing it", LogText);
            Assert.Contains("stalled: virtio_rng.0: no completion after 1 ms (requests still posted), no DEVICE_NEEDS_RESET: again without completing anything since the last reset; giving up on it", LogText);

            dev.NeverComplete = false;
            Assert.Equal(dev.Produced.Skip(read).Take(4096), Read(rng, 4096));
            Assert.Equal(0, rng.BuffersUnaccounted);
            Assert.Empty(dev.SpecViolations);
        }

        [Fact]
        public void OneTableEntryMeansOneSharedVector()
        {
            var (rng, dev) = Up(new SimVirtioDevice(new SimVirtioOptions { MsixVectors = 1 }));
            Assert.Contains("a vector per queue plus one for configuration changes not possible: too few MSI-X vectors (1 in the table); falling back", LogText);
            Assert.Equal(VirtioIrqMode.SharedVector, rng.IrqMode);
            Assert.Equal(((ushort)0, (ushort)0), (dev.ConfigMsixVector, dev.Q(0).MsixVector));
            Assert.Equal(dev.Produced.Take(100000), Read(rng, 100000));
            Assert.True(rng.Interrupts > 0);
            Assert.Empty(dev.Msix.Violations);
        }

        [Fact]
        public void NoMsixCapabilityMeansPolling()
        {
            var (rng, dev) = Up(new SimVirtioDevice(new SimVirtioOptions { MsixVectors = 0 }));
            Assert.Contains("not possible: no MSI-X capability; falling back", LogText);
            Assert.Equal(VirtioIrqMode.Polling, rng.IrqMode);
            Assert.Equal(dev.Produced.Take(50000), Read(rng, 50000));
            Assert.Equal(0UL, rng.Interrupts);
            Assert.Equal(0, dev.Q(0).R.Interrupts);             // polling asks for none
        }

        [Fact]
        public void PlatformOutOfInterruptsFallsBackToOneVector()
        {
            InterruptController.VectorsLeft = 1;
            var (rng, dev) = Up();
            Assert.Contains("not possible: the platform has no free MSI", LogText);
            Assert.Equal(VirtioIrqMode.SharedVector, rng.IrqMode);
            Assert.Equal(dev.Produced.Take(50000), Read(rng, 50000));
        }

        [Theory]
        [InlineData(false, "the device answered NO_VECTOR for a queue vector")]
        [InlineData(true, "the device answered NO_VECTOR for the configuration vector")]
        public void NoVectorReadBackFallsBackWithoutLeakingOrEnablingAnything(bool config, string why)
        {
            var dev = new SimVirtioDevice { RefuseQueueVector = !config, RefuseConfigVector = config };
            var (rng, _) = Up(dev);
            Assert.Contains(why, LogText);
            Assert.Equal(VirtioIrqMode.Polling, rng.IrqMode);       // both MSI-X modes refused
            Assert.False(dev.Msix.Enabled);                         // MSI-X switched off again
            Assert.Equal(1 + (int)rng.BufferCount, DmaPool.LiveCount);   // the refused rings were freed
            Assert.Equal(dev.Produced.Take(50000), Read(rng, 50000));
            Assert.Empty(dev.SpecViolations);                       // e.g. no queue enabled twice
        }

        // Without rng.bufsize, 1 MiB in flight over the buffers the negotiated queue holds, up to
        // 8 without rng.buffers (64 with it), within 16 KiB .. 1 MiB; rng.bufsize still wins.
        [Theory]
        [InlineData(4, 0u, 0u, 4u, 256u << 10)]        // vhost-user-rng-pci's queue
        [InlineData(8, 0u, 0u, 8u, 128u << 10)]        // virtio-rng-pci's
        [InlineData(64, 0u, 0u, 8u, 128u << 10)]       // virtio-mmio's: 8 of its 64 entries
        [InlineData(1, 0u, 0u, 1u, 1u << 20)]          // one buffer: all of it
        [InlineData(2, 0u, 0u, 2u, 512u << 10)]
        [InlineData(256, 0u, 32u, 32u, 32u << 10)]     // rng.buffers=32
        [InlineData(256, 0u, 100u, 64u, 16u << 10)]    // rng.buffers=100: 64 at most, no smaller than 16 KiB
        [InlineData(8, 4096u, 0u, 8u, 4096u)]          // rng.bufsize=4096
        public void DefaultBufferSizeFollowsTheNegotiatedQueueSize(ushort queueSize, uint probeSize, uint probeBuffers, uint buffers, uint size)
        {
            GuestOS.Drivers.Rng.VirtioRng.ProbeBufferSize = probeSize;
            GuestOS.Drivers.Rng.VirtioRng.ProbeBuffers = probeBuffers;
            var (rng, dev) = Up(new SimVirtioDevice(new SimVirtioOptions { QueueSize = queueSize }));
            Assert.Equal((buffers, size), (rng.BufferCount, rng.BufferSize));
            Assert.Equal(dev.Produced.Take(50000), Read(rng, 50000));
            Assert.Empty(dev.SpecViolations);
        }

        [Fact]
        public void ConfigurationInterruptWithNeedsResetIsRecovered()
        {
            var dev = new SimVirtioDevice { NeedsResetAfter = 20 };
            GuestOS.Drivers.Rng.VirtioRng.ProbeBufferSize = 16384;   // 20 completions fall inside the 600000 bytes read
            var (rng, _) = Up(dev);
            byte[] got = Read(rng, 600000);
            // Up to the reset, exactly what the device produced; filled buffers not yet read
            // are dropped by the reset, so afterwards the bytes continue from a later point.
            Assert.Equal(dev.Produced.Take(12 * 16384), got.Take(12 * 16384));
            var produced = dev.Produced.ToArray();
            int tail = IndexOf(produced, got.Skip(got.Length - 4096).ToArray());
            Assert.True(tail > 0, "the last bytes read are not what the device produced");
            Assert.Equal(1UL, rng.Resets);
            Assert.Contains("resetting and re-initializing it", LogText);
            Assert.Equal(VirtioIrqMode.PerQueueVectors, rng.IrqMode);   // vectors given to the device again
            Assert.Equal(((ushort)0, (ushort)1), (dev.ConfigMsixVector, dev.Q(0).MsixVector));
            Assert.Empty(dev.SpecViolations);
        }

        private static int IndexOf(byte[] hay, byte[] needle)
        {
            for (int i = 0; i + needle.Length <= hay.Length; i++)
                if (hay.AsSpan(i, needle.Length).SequenceEqual(needle)) return i;
            return -1;
        }

        [Fact]
        public void SpuriousInterruptIsCountedAndHarmless()
        {
            var (rng, dev) = Up();
            Read(rng, 1000);
            ulong before = rng.Vdev.Spurious;
            // The queue vector fires with nothing new in the used ring.
            InterruptController.Raise(dev.Msix.Address(1), dev.Msix.Data(1));
            Assert.Equal(before + 1, rng.Vdev.Spurious);
            Assert.Equal(dev.Produced.Skip(1000).Take(5000), Read(rng, 5000));
        }
    }
}
