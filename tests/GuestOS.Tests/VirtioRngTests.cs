using System.Collections.Generic;
using System.Linq;
using GuestOS.Drivers;
using GuestOS.Drivers.Rng;
using GuestOS.Hal.Hosted;
using GuestOS.Tests.Simulation;
using Xunit;

namespace GuestOS.Tests
{
    // The driver in Linux's shape (one 64-byte buffer) and polling: every byte, request and
    // completion is easy to account for. MsixTests cover the default shape.
    public sealed unsafe class VirtioRngTests : HalTest
    {
        public VirtioRngTests() { LinuxShapePolling(); }

        private static (VirtioRng rng, SimVirtioDevice dev) Up(SimVirtioDevice dev = null, bool x86 = false)
            => UpRng(dev ?? new SimVirtioDevice(), x86);


        [Fact]
        public void ReadsExactlyTheBytesTheDeviceProducedInOrder()
        {
            var (rng, dev) = Up();
            byte[] got = ReadAll(rng, 1, 7, 64, 100, 3, 0, 200);
            Assert.Equal(375, got.Length);
            Assert.Equal(dev.Produced.Take(375), got);
            Assert.Empty(dev.SpecViolations);
            Assert.Empty(dev.DeviceErrors);
            // 6 requests of 64 bytes; 9 bytes are left over, and the next request goes out only
            // once they are used (Linux: copy_data -> request_entropy when data_avail hits 0).
            Assert.Equal(6, dev.Q(0).Ring.Completions);
            Assert.Equal(384, dev.Produced.Count);
            Assert.Equal(6, dev.Q(0).Ring.AvailIdx);
            Assert.Equal(dev.Produced.Skip(375).Take(9), ReadAll(rng, 9));
            Assert.Equal(7, dev.Q(0).Ring.AvailIdx);                                  // used up: reposted
        }

        [Fact]
        public void ShortFillsAreAcceptedAndTopUpTheRead()
        {
            var dev = new SimVirtioDevice { FillLimit = 5 };
            var (rng, _) = Up(dev);
            byte[] got = ReadAll(rng, 100);
            Assert.Equal(dev.Produced.Take(100), got);
            Assert.Equal(20UL, rng.Completions);
            Assert.Equal(21UL, rng.Requests);
        }

        [Fact]
        public void ZeroLengthCompletionIsAnErrorButNotTheEnd()
        {
            var dev = new SimVirtioDevice();
            int calls = 0;
            dev.MangleUsed = (id, len) => (id, ++calls == 2 ? 0u : len);    // second completion carries 0 bytes
            var (rng, _) = Up(dev);
            byte* b = stackalloc byte[128];
            Assert.Equal(64L, rng.virtio_read(b, 64));
            Assert.Equal(-(long)DriverError.ZeroLengthFill, rng.virtio_read(b, 10));
            Assert.Contains("completed a request with 0 bytes", LogText);
            Assert.Equal(10L, rng.virtio_read(b, 10));                             // reposted; the device behaves again
            Assert.Equal(dev.Produced.Skip(128).Take(10), new System.Span<byte>(b, 10).ToArray());
        }

        [Theory]
        [InlineData("id out of range", DriverError.UsedIdOutOfRange)]
        [InlineData("id not outstanding", DriverError.UsedIdNotOutstanding)]
        [InlineData("len too large", DriverError.UsedLenTooLarge)]
        public void MisbehavingDeviceGivesAnErrorValueAndCannotCorruptMemory(string how, DriverError expected)
        {
            var dev = new SimVirtioDevice();
            bool bad = false;
            dev.MangleUsed = (id, len) => !bad ? (id, len) : how switch
            {
                "id out of range" => (1000u, len),
                "id not outstanding" => ((id + 1) % 8, len),
                _ => (id, 4096u),
            };
            var (rng, _) = Up(dev);
            byte[] first = ReadAll(rng, 64);
            bad = true;
            byte[] dst = Enumerable.Repeat((byte)0x5C, 256).ToArray();
            fixed (byte* p = dst)
            {
                Assert.Equal(-(long)expected, rng.virtio_read(p, 128));
                Assert.Equal(-(long)expected, rng.virtio_read(p, 1));              // sticky: the queue is broken
            }
            Assert.All(dst, x => Assert.Equal(0x5C, x));                    // not a byte written
            Assert.Equal(expected, rng.LastFatalError);
            Assert.Contains("queue marked broken", LogText);
        }

        [Fact]
        public void MoreThanSixtyFiveThousandRequestsWrapTheIndices()
        {
            var dev = new SimVirtioDevice { FillLimit = 1 };                // one byte per request
            var (rng, _) = Up(dev);
            IoBus.Record = false;
            const uint n = 70000;
            byte[] buf = new byte[n];
            fixed (byte* p = buf) Assert.Equal((long)n, rng.virtio_read(p, n));
            Assert.Equal(dev.Produced.Take((int)n), buf);
            var ring = dev.Q(0).Ring;
            Assert.Equal((long)n, ring.Completions);
            Assert.Equal(unchecked((ushort)(n + 1)), ring.AvailIdx);                   // 70001 requests: wrapped once
            Assert.Equal(unchecked((ushort)n), ring.LastAvail);
            Assert.Equal(unchecked((ushort)n), ring.UsedIdx);
            Assert.Equal((long)n + 1, dev.Q(0).Notifies);                  // EVENT_IDX: an idle device wants every kick
            Assert.Empty(dev.SpecViolations);
            Assert.Empty(dev.DeviceErrors);
        }

        [Fact]
        public void TwoDevicesAreIndependent()
        {
            var a = new SimVirtioDevice(new SimVirtioOptions { Seed = 11 });
            var b = new SimVirtioDevice(new SimVirtioOptions { Seed = 22, DeviceId = 0x1005, SubsystemId = 4 });
            var m = TestMachine.Virt(a, b);
            Assert.Equal(DriverError.Ok, DriverStack.Start(m.Cfg, m.Windows, out VirtioRng[] r));
            Assert.Equal(2, r.Length);
            Assert.Equal((0, 1), (r[0].Index, r[1].Index));
            byte[] ra = ReadAll(r[0], 50, 90);
            byte[] rb = ReadAll(r[1], 30);
            byte[] ra2 = ReadAll(r[0], 10);
            Assert.Equal(a.Produced.Take(150), ra.Concat(ra2));
            Assert.Equal(b.Produced.Take(30), rb);
            Assert.NotEqual(ra.Take(30), rb);
            Assert.Empty(a.SpecViolations.Concat(b.SpecViolations));
        }

        [Fact]
        public void TransitionalIdBindsByTheSubsystemIdAndNeverTouchesLegacyRegisters()
        {
            var dev = new SimVirtioDevice(new SimVirtioOptions { DeviceId = 0x1005, SubsystemId = 4 });
            var (rng, _) = Up(dev, x86: true);
            Assert.Equal(dev.Produced.Take(40), ReadAll(rng, 40));
            Assert.Empty(dev.SpecViolations);                               // includes "legacy I/O BAR" accesses
            Assert.Contains("virtio rng (transitional)", LogText);
        }

        [Fact]
        public void VirtioDevicesOfOtherTypesAreNotBound()
        {
            var net = new SimVirtioDevice(new SimVirtioOptions { DeviceId = 0x1000, SubsystemId = 1 });
            var blk = new SimVirtioDevice(new SimVirtioOptions { DeviceId = 0x1042 });
            var m = TestMachine.Virt(net, blk);
            Assert.Equal(DriverError.NoVirtioDevice, DriverStack.Start(m.Cfg, m.Windows, out VirtioRng[] r));
            Assert.Empty(r);
            Assert.Contains("no virtio entropy device", LogText);
            Assert.Equal(0, net.Status | blk.Status);
        }

        [Fact]
        public void VhostUserRngShapedDeviceWorks()
        {
            // vhost-user-rng-pci: modern only, queue size 4, one MSI-X vector by default.
            var dev = new SimVirtioDevice(new SimVirtioOptions { QueueSize = 4, MsixVectors = 1, Features = (1UL << 28) | (1UL << 29) | (1UL << 32) });
            var (rng, _) = Up(dev);
            Assert.Equal(4, dev.Q(0).Size);
            Assert.Equal(dev.Produced.Take(300), ReadAll(rng, 300));
        }

        [Fact]
        public void WithoutEventIdxTheFlagsPathIsUsed()
        {
            var dev = new SimVirtioDevice(new SimVirtioOptions { Features = 1UL << 32 });
            var (rng, _) = Up(dev);
            Assert.Equal(1UL << 32, dev.DriverFeatures);
            Assert.Equal(dev.Produced.Take(130), ReadAll(rng, 130));
            Assert.Equal(1, dev.Q(0).Ring.AvailFlags);                      // polling: NO_INTERRUPT
            Assert.Equal(0, dev.Q(0).Ring.Interrupts);
        }

        [Fact]
        public void PollingAsksForNoInterrupts()
        {
            var (rng, dev) = Up();
            ReadAll(rng, 500);
            Assert.Equal(0, dev.Q(0).Ring.Interrupts);                      // used_event parked, never crossed
            Assert.Equal(0, dev.Isr);
        }

        [Fact]
        public void SlowDeviceIsWaitedForAndTimeoutIsRecoverable()
        {
            var dev = new SimVirtioDevice { CompletionDelayTicks = 50 };
            var (rng, _) = Up(dev);
            long relaxes = VirtualTime.Relaxes;
            Assert.Equal(dev.Produced.Take(64), ReadAll(rng, 64));
            Assert.True(VirtualTime.Relaxes - relaxes >= 50);

            dev.NeverComplete = true;
            rng.TimeoutNs = 1000000;   // 1 ms
            byte* b = stackalloc byte[64];
            ulong before = VirtualTime.Ns;
            // A first deadline resets the silent device once; after a second the read fails,
            // and so does the next read (one more deadline), without another reset.
            Assert.Equal(-(long)DriverError.Timeout, rng.virtio_read(b, 64));
            Assert.InRange(VirtualTime.Ns - before, 2000000UL, 2200000UL);
            Assert.Equal(1UL, rng.Resets);
            Assert.Contains("no completion after 1 ms (requests still posted), no DEVICE_NEEDS_RESET: resetting and re-initializing it", LogText);
            ulong requests = rng.Requests;
            Assert.Equal(-(long)DriverError.Timeout, rng.virtio_read(b, 64));
            Assert.Equal(requests, rng.Requests);                           // the buffers stayed posted, not re-added
            Assert.Equal(1UL, rng.Resets);

            dev.NeverComplete = false;
            Assert.Equal(64L, rng.virtio_read(b, 64));
            Assert.Equal(dev.Produced.Skip(64).Take(64), new System.Span<byte>(b, 64).ToArray());
            Assert.Empty(dev.SpecViolations);
        }

        [Fact]
        public void DeviceNeedsResetIsRecoveredByResetAndReinitialization()
        {
            var dev = new SimVirtioDevice { NeedsResetAfter = 3 };
            var (rng, _) = Up(dev);
            long resetsAtProbe = dev.Resets;
            Assert.Equal(dev.Produced.Take(64 * 5), ReadAll(rng, 64 * 5));   // nothing lost, nothing repeated
            Assert.Contains("needs_reset: virtio_rng.0: device set DEVICE_NEEDS_RESET: resetting and re-initializing it  spec 2.1.2 [virtio_config_changed]", LogText);
            Assert.Equal(1UL, rng.Resets);
            Assert.Equal(resetsAtProbe + 2, dev.Resets);                      // Remove's reset, then virtio_begin's
            Assert.Equal(0x0f, dev.Status);
            Assert.Empty(dev.SpecViolations);
        }

        [Fact]
        public void DeviceThatNeedsResetAgainWithoutProgressIsGivenUp()
        {
            var dev = new SimVirtioDevice { NeedsResetAfter = 0, NeedsResetEveryTime = true };
            var (rng, _) = Up(dev);
            byte* b = stackalloc byte[64];
            Assert.Equal(-(long)DriverError.DeviceNeedsReset, rng.virtio_read(b, 64));
            Assert.Contains("again without completing anything since the last reset; giving up on it", LogText);
            Assert.Equal(-(long)DriverError.DeviceNeedsReset, rng.virtio_read(b, 1));   // sticky
            Assert.Equal(DriverError.DeviceNeedsReset, rng.LastFatalError);
        }

        [Fact]
        public void CompletionProcessingIsSafeToCallSpuriously()
        {
            var (rng, dev) = Up();
            // As an interrupt handler would: nothing there yet.
            Assert.False(rng.random_recv_done());
            Assert.False(rng.random_recv_done());
            GuestOS.Hal.Cpu.Relax();                                        // device works
            Assert.True(rng.random_recv_done());                            // "interrupt" takes it
            Assert.False(rng.random_recv_done());
            Assert.Equal(dev.Produced.Take(64), ReadAll(rng, 64));
        }
    }

    public sealed unsafe class DriverStackTests : HalTest
    {
        [Fact]
        public void X86FirmwareModeKeepsFirmwareAddressesAndUsesPorts()
        {
            var dev = new SimVirtioDevice();
            var m = TestMachine.X86(dev);
            ulong bar4 = dev.BarAddress(4), bar1 = dev.BarAddress(1);
            Assert.Equal(DriverError.Ok, DriverStack.Start(m.Cfg, null, out VirtioRng[] r));
            Assert.Equal((bar4, bar1), (dev.BarAddress(4), dev.BarAddress(1)));
            Assert.Contains("BARs as firmware assigned them", LogText);
            Assert.Contains(IoBus.Trace, a => a.Space == IoSpace.Port && a.Addr == 0xCF8);
            byte* b = stackalloc byte[16];
            Assert.Equal(16L, r[0].virtio_read(b, 16));
            Assert.Equal(0x0007, dev.Command);                              // decode kept, bus master added
        }

        [Fact]
        public void Q35EcamWithFirmwareAssignedBars()
        {
            var dev = new SimVirtioDevice();
            var m = TestMachine.X86(dev);
            m.P.EcamBase = 0xB0000000;
            var cfg = GuestOS.Drivers.Pci.PciConfigEcam.Map(0xB0000000, 0, 255);
            IoBus.Trace.Clear();
            Assert.Equal(DriverError.Ok, DriverStack.Start(cfg, null, out VirtioRng[] r));
            Assert.DoesNotContain(IoBus.Trace, a => a.Space == IoSpace.Port);
            byte* b = stackalloc byte[16];
            Assert.Equal(16L, r[0].virtio_read(b, 16));
        }

        [Fact]
        public void EmptyConfigSpaceIsNoPciDevices()
        {
            var p = new SimPlatform();
            Assert.Equal(DriverError.NoPciDevices, DriverStack.Start(new GuestOS.Drivers.Pci.PciConfigPort(), null, out VirtioRng[] r));
            Assert.Empty(r);
            Assert.Contains("no device answered", LogText);
        }

        [Fact]
        public void NoRngIsNoVirtioDevice()
        {
            var m = TestMachine.Virt(new SimPciFunction(0x8086, 0x100e, 0x020000, 0, 6));
            Assert.Equal(DriverError.NoVirtioDevice, DriverStack.Start(m.Cfg, m.Windows, out _));
        }

        [Fact]
        public void OneBrokenDeviceDoesNotStopTheOther()
        {
            var bad = new SimVirtioDevice { RefuseFeaturesOk = true };
            var good = new SimVirtioDevice();
            var m = TestMachine.Virt(bad, good);
            Assert.Equal(DriverError.Ok, DriverStack.Start(m.Cfg, m.Windows, out VirtioRng[] r));
            Assert.Single(r);
            Assert.Equal(0, r[0].Index);
            Assert.Equal(2u, ((GuestOS.Drivers.Virtio.VirtioPciTransport)r[0].Transport).Pci.Dev);
            Assert.Contains("00:01.0: bring-up failed: device refused FEATURES_OK", LogText);

            HostedHal.Reset();
            var m2 = TestMachine.Virt(new SimVirtioDevice { RefuseFeaturesOk = true }, new SimVirtioDevice { ResetNeverCompletes = true, Status = 1 });
            Assert.Equal(DriverError.FeaturesRefused, DriverStack.Start(m2.Cfg, m2.Windows, out r));   // the first error
            Assert.Empty(r);
        }

        [Fact]
        public void EveryErrorHasItsOwnName()
        {
            var values = System.Enum.GetValues<DriverError>();
            var names = values.Select(v => System.Text.Encoding.ASCII.GetString(DriverErrors.Name(v))).ToList();
            Assert.DoesNotContain("unknown error", names);
            Assert.Equal(names.Count, names.Distinct().Count());
            Assert.All(values, v => Assert.InRange((int)v, 0, 0x7f));      // usable as isa-debug-exit statuses
        }
    }
}
