using System.Collections.Generic;
using System.Linq;
using GuestOS.Drivers;
using GuestOS.Drivers.Rng;
using GuestOS.Drivers.Virtio;
using GuestOS.Hal.Hosted;
using GuestOS.Tests.Simulation;
using Xunit;

namespace GuestOS.Tests
{
    public sealed unsafe class VirtioBringUpTests : HalTest
    {
        private static (DriverError e, VirtioRng[] r, SimVirtioDevice dev, TestMachine m) Boot(SimVirtioDevice dev = null)
        {
            dev ??= new SimVirtioDevice();
            var m = TestMachine.Virt(dev);
            DriverError e = DriverStack.Start(m.Cfg, m.Windows, out VirtioRng[] r);
            return (e, r, dev, m);
        }

        // What Linux 6.1 does to the common configuration of QEMU's virtio-rng-pci, in order
        // (linux-virtio-rng.md; virtio.c + virtio_pci_modern.c + virtio_pci_modern_dev.c).
        // Entries marked MSIX are the MSI-X vector programming, absent when the driver polls
        // (rng.poll); "addr" entries carry ring addresses, which differ per run.
        private static readonly (string access, bool msix)[] LinuxOrder =
        {
            ("W8 +0x14 = 0x0", false),        // virtio_reset_device -> vp_reset -> vp_modern_set_status(0)
            ("R8 +0x14 = 0x0", false),        //   while (vp_modern_get_status()) msleep(1)
            ("R8 +0x14 = 0x0", false),        // virtio_add_status(ACKNOWLEDGE): get_status ...
            ("W8 +0x14 = 0x1", false),        //   ... set_status(0 | 1)
            ("R8 +0x14 = 0x1", false),        // virtio_add_status(DRIVER)
            ("W8 +0x14 = 0x3", false),
            ("W32 +0x00 = 0x0", false),       // vp_modern_get_features: select 0
            ("R32 +0x04 = 0x30000000", false),//   bits 28, 29
            ("W32 +0x00 = 0x1", false),       //   select 1
            ("R32 +0x04 = 0x101", false),     //   bits 32, 40
            ("W32 +0x08 = 0x0", false),       // vp_modern_set_features: all four accepted
            ("W32 +0x0c = 0x30000000", false),
            ("W32 +0x08 = 0x1", false),
            ("W32 +0x0c = 0x101", false),
            ("R8 +0x14 = 0x3", false),        // virtio_features_ok: add FEATURES_OK ...
            ("W8 +0x14 = 0xb", false),
            ("R8 +0x14 = 0xb", false),        //   ... and read it back
            ("W16 +0x10 = 0x0", true),        // vp_modern_config_vector(0)
            ("R16 +0x10 = 0x0", true),
            ("R16 +0x12 = 0x1", false),       // setup_vq: index < vp_modern_get_num_queues
            ("W16 +0x16 = 0x0", false),       //   vp_modern_get_queue_size
            ("R16 +0x18 = 0x8", false),
            ("W16 +0x16 = 0x0", false),       //   vp_modern_get_queue_enable: must be 0
            ("R16 +0x1c = 0x0", false),
            ("W16 +0x16 = 0x0", false),       //   vp_active_vq: vp_modern_set_queue_size
            ("W16 +0x18 = 0x8", false),
            ("W16 +0x16 = 0x0", false),       //   vp_modern_queue_address (twopart lo/hi)
            ("W32 +0x20 = addr", false),
            ("W32 +0x24 = addr", false),
            ("W32 +0x28 = addr", false),
            ("W32 +0x2c = addr", false),
            ("W32 +0x30 = addr", false),
            ("W32 +0x34 = addr", false),
            ("W16 +0x16 = 0x0", true),        //   vp_modern_queue_vector(0, 1)
            ("W16 +0x1a = 0x1", true),
            ("R16 +0x1a = 0x1", true),
            ("W16 +0x16 = 0x0", false),       //   vp_modern_map_vq_notify -> get_queue_notify_off
            ("R16 +0x1e = 0x0", false),
            ("W16 +0x16 = 0x0", false),       // vp_modern_find_vqs: vp_modern_set_queue_enable(0, true)
            ("W16 +0x1c = 0x1", false),
            ("R8 +0x14 = 0xb", false),        // virtio_device_ready: get_status ...
            ("W8 +0x14 = 0xf", false),        //   ... one iowrite8 of 0x0f to common+0x14
        };

        [Fact]
        public void RegisterOrderIsLinuxsIncludingTheMsixVectors()
        {
            AssertLinuxOrder(withMsix: true);
        }

        [Fact]
        public void PollingDropsExactlyTheMsixSteps()
        {
            GuestOS.Drivers.Rng.VirtioRng.ProbePolling = true;
            AssertLinuxOrder(withMsix: false);
        }

        private static void AssertLinuxOrder(bool withMsix)
        {
            var (e, r, dev, m) = Boot();
            Assert.Equal(DriverError.Ok, e);
            List<string> ours = TraceQuery.Region(dev.CommonBase, 0x1000);
            // Ring addresses are run-specific: check them against what the device saw, then mask them.
            var q = dev.Q(0);
            string[] addrRegs = { "+0x20", "+0x24", "+0x28", "+0x2c", "+0x30", "+0x34" };
            ulong[] addrVals = { q.Desc & 0xFFFFFFFF, q.Desc >> 32, q.Driver & 0xFFFFFFFF, q.Driver >> 32, q.Device & 0xFFFFFFFF, q.Device >> 32 };
            for (int i = 0; i < ours.Count; i++)
            {
                int k = System.Array.FindIndex(addrRegs, a => ours[i].StartsWith("W32 " + a + " "));
                if (k < 0) continue;
                Assert.Equal($"W32 {addrRegs[k]} = 0x{addrVals[k]:x}", ours[i]);
                ours[i] = $"W32 {addrRegs[k]} = addr";
            }
            string[] expected = LinuxOrder.Where(x => withMsix || !x.msix).Select(x => x.access).ToArray();
            Assert.Equal(expected, ours.ToArray());
            Assert.Empty(dev.SpecViolations);

            // The ring parts are where Linux puts them for a queue of 8: +0 / +0x80 / +0xc0.
            Assert.Equal(0x80UL, q.Driver - q.Desc);
            Assert.Equal(0xc0UL, q.Device - q.Desc);
            Assert.Equal(0x0f, dev.Status);
            Assert.Equal(withMsix ? (ushort)0 : (ushort)0xFFFF, dev.ConfigMsixVector);
            Assert.Equal(withMsix ? (ushort)1 : (ushort)0xFFFF, q.MsixVector);
        }

        [Fact]
        public void DriverOkIsExactlyOneByteWriteAtCommonPlus14()
        {
            var (e, _, dev, _) = Boot();
            Assert.Equal(DriverError.Ok, e);
            var writes = IoBus.Trace.Where(a => a.Dir == IoDir.Write && a.Space == IoSpace.Mmio && (a.Value & 4) != 0
                                             && a.Addr >= dev.CommonBase && a.Addr < dev.CommonBase + 0x38 && a.Addr - dev.CommonBase >= 0x14 && a.Addr - dev.CommonBase < 0x16).ToList();
            Assert.Single(writes);
            Assert.Equal((dev.CommonBase + 0x14, 1, 0x0fUL), (writes[0].Addr, writes[0].Width, writes[0].Value));
            Assert.Contains("driver_ok: status <- DRIVER_OK (0x0f)  spec 3.1.1 step 8 [virtio_device_ready -> vp_modern_set_status] | ioread8 common+0x14 device_status = 0x0b, iowrite8 common+0x14 device_status = 0x0f\n", LogText);
        }

        [Fact]
        public void OnlySupportedFeaturesAreAccepted()
        {
            ulong offered = (1UL << 28) | (1UL << 29) | (1UL << 32) | (1UL << 33) | (1UL << 34) | (1UL << 35) | (1UL << 38) | (1UL << 40) | (1UL << 3);
            var (e, _, dev, _) = Boot(new SimVirtioDevice(new SimVirtioOptions { Features = offered }));
            Assert.Equal(DriverError.Ok, e);
            // RING_PACKED is taken (PackedVirtqueue); IN_ORDER, NOTIFICATION_DATA and device bit 3 are not.
            Assert.Equal((1UL << 28) | (1UL << 29) | (1UL << 32) | (1UL << 33) | (1UL << 34) | (1UL << 40), dev.DriverFeatures);
            Assert.NotNull(dev.Q(0).Packed);
        }

        [Fact]
        public void DeviceWithoutVersion1IsRefusedBeforeFeaturesOk()
        {
            var (e, r, dev, _) = Boot(new SimVirtioDevice(new SimVirtioOptions { Features = 1UL << 29 }));
            Assert.Equal(DriverError.MissingRequiredFeatures, e);
            Assert.Empty(r);
            Assert.Equal(0x83, dev.Status);                     // ACKNOWLEDGE|DRIVER|FAILED, never FEATURES_OK
            Assert.Contains("device lacks required features VERSION_1", LogText);
        }

        [Fact]
        public void FeaturesOkRefusedSetsFailedAndReportsClearly()
        {
            var dev = new SimVirtioDevice { RefuseFeaturesOk = true };
            var (e, r, _, _) = Boot(dev);
            Assert.Equal(DriverError.FeaturesRefused, e);
            Assert.Empty(r);
            Assert.Equal(0x83, dev.Status);
            Assert.Equal(0UL, dev.Q(0).Desc);                   // no queue was set up
            Assert.Contains("device refuses features 0x10130000000: status read back 0x03 without FEATURES_OK; setting FAILED", LogText);
            Assert.Contains("bring-up failed: device refused FEATURES_OK", LogText);
        }

        [Fact]
        public void ResetThatNeverCompletesTimesOut()
        {
            var dev = new SimVirtioDevice { ResetNeverCompletes = true };
            dev.Status = 0x0f;                                   // left running by a previous owner
            var (e, r, _, _) = Boot(dev);
            Assert.Equal(DriverError.ResetTimeout, e);
            Assert.Empty(r);
            Assert.True(VirtualTime.Ns >= VirtioDevice.DefaultResetTimeoutUs * 1000);
            Assert.Contains("reset did not complete: status still 0x0f after 1000000 us", LogText);
            Assert.Equal(0x0f, dev.Status);                      // nothing else was written
        }

        [Fact]
        public void SlowResetIsWaitedFor()
        {
            var dev = new SimVirtioDevice { ResetDelayTicks = 25 };
            dev.Status = 0x0f;
            var (e, r, _, _) = Boot(dev);
            Assert.Equal(DriverError.Ok, e);
            Assert.Contains("read back 0 after 250 us", LogText);
            Assert.Empty(dev.SpecViolations);
        }

        [Fact]
        public void QueueThatDoesNotExistOrHasABadSizeIsRefused()
        {
            var dev = new SimVirtioDevice();
            dev.Q(0).MaxSize = dev.Q(0).Size = 0;
            Assert.Equal(DriverError.QueueNotAvailable, Boot(dev).e);
            Assert.Equal(0x80, dev.Status & 0x80);

            var dev2 = new SimVirtioDevice();
            dev2.Q(0).MaxSize = dev2.Q(0).Size = 6;
            Assert.Equal(DriverError.QueueSizeInvalid, Boot(dev2).e);
            Assert.Contains("split ring size is not a power of 2 up to 32768 (6)", LogText);

            // The same size is fine for a packed ring (§2.8), and is what the device gets.
            var dev4 = new SimVirtioDevice(new SimVirtioOptions { Features = (1UL << 29) | (1UL << 32) | (1UL << 34), QueueSize = 6 });
            Assert.Equal(DriverError.Ok, Boot(dev4).e);
            Assert.Equal(6, dev4.Q(0).Size);
            Assert.Equal(6u, dev4.Q(0).Packed.Size);
            Assert.Empty(dev4.SpecViolations);

            var dev3 = new SimVirtioDevice(new SimVirtioOptions { NumQueues = 0 });
            Assert.Equal(DriverError.QueueNotAvailable, Boot(dev3).e);
        }

        [Fact]
        public void LargeQueueIsCappedAndTheCapIsWrittenBack()
        {
            var dev = new SimVirtioDevice(new SimVirtioOptions { QueueSize = 1024 });
            var (e, r, _, _) = Boot(dev);
            Assert.Equal(DriverError.Ok, e);
            Assert.Equal(VirtioRng.MaxBuffers, (uint)dev.Q(0).Size);
            Assert.Contains("queue 0: size 1024 -> 64", LogText);
            byte* b = stackalloc byte[10];
            Assert.Equal(10L, r[0].virtio_read(b, 10));
            Assert.Empty(dev.SpecViolations);
        }

        [Fact]
        public void OutOfDmaMemoryFailsTheDevice()
        {
            var dev = new SimVirtioDevice();
            var m = TestMachine.Virt(dev);
            DmaPool.FailAllocations = true;
            Assert.Equal(DriverError.OutOfDmaMemory, DriverStack.Start(m.Cfg, m.Windows, out _));
            Assert.Equal(0x80, dev.Status & 0x80);
        }

        [Fact]
        public void RemoveResetsTheDeviceAndFreesItsMemory()
        {
            var (e, r, dev, _) = Boot();
            Assert.Equal(DriverError.Ok, e);
            Assert.Equal(1 + (int)r[0].BufferCount, DmaPool.LiveCount);   // ring + data buffers
            Assert.Equal(8u, r[0].BufferCount);                           // the whole queue
            r[0].virtrng_remove();
            Assert.Equal(0, dev.Status);
            Assert.Equal(0, DmaPool.LiveCount);
            byte* b = stackalloc byte[1];
            Assert.Equal(-(long)DriverError.DeviceRemoved, r[0].virtio_read(b, 1));
        }

        [Fact]
        public void QuietBootPrintsNothing()
        {
            GuestOS.Hal.Log.Quiet = true;
            var (e, r, dev, _) = Boot();
            Assert.Equal(DriverError.Ok, e);
            byte* b = stackalloc byte[100];
            Assert.Equal(100L, r[0].virtio_read(b, 100));
            Assert.Equal("", LogText);
        }
    }
}
