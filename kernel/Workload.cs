using GuestOS.Drivers;
using GuestOS.Drivers.Rng;
using GuestOS.Hal;
using GuestOS.Kernel.Arch;
using GuestOS.Kernel.Boot;

namespace GuestOS.Kernel
{
    // The kernel's job: bring up PCI and every virtio-rng device, read entropy, check it.
    //   rng.bytes=N    how many bytes to read in total (K/M/G suffixes; default 64K)
    //   rng.device=I   read only from virtio_rng.I (default: all devices, round robin)
    internal static unsafe class Workload
    {
        private const uint ChunkBytes = 4096;

        internal static void Run(ref BootInfo boot)
        {
            Drivers.Pci.PciConfigAccess config = Platform.PciConfig(ref boot);
            Drivers.Pci.PciHostWindows windows = Platform.PciWindows();
            DriverError error = DriverStack.Start(config, windows, out VirtioRng[] rngs);
            if (error == DriverError.NoVirtioDevice || error == DriverError.NoPciDevices)
                Verdict.Fail("no virtio entropy device: add -device virtio-rng-pci", ExitCode.NoDevice);
            if (error != DriverError.Ok)
                Verdict.Fail(DriverErrors.Name(error), ExitCode.Fail);

            ulong wanted = CommandLine.Number("rng.bytes", 64 * 1024);
            ulong only = CommandLine.Number("rng.device", ulong.MaxValue);
            if (only != ulong.MaxValue && only >= (ulong)rngs.Length)
                Verdict.Fail("rng.device names a device that did not come up", ExitCode.Fail);

            EntropyCheck check = new EntropyCheck(wanted);
            byte[] chunk = new byte[ChunkBytes];
            ulong start = Clock.NowNs();
            int device = only == ulong.MaxValue ? 0 : (int)only;
            fixed (byte* buffer = chunk)
            {
                while (check.Bytes < wanted)
                {
                    ulong left = wanted - check.Bytes;
                    uint want = left < ChunkBytes ? (uint)left : ChunkBytes;
                    long got = rngs[device].Read(buffer, want);
                    if (got <= 0)
                    {
                        Log.Write("virtio_rng."); Log.Dec((ulong)device); Log.Write(": read failed: ");
                        Log.Write(DriverErrors.Name((DriverError)(-got))); Log.Line();
                        Verdict.Fail("entropy read failed", ExitCode.Fail);
                    }
                    check.Add(buffer, (uint)got);
                    if (only == ulong.MaxValue) device = (device + 1) % rngs.Length;
                }
            }
            ulong elapsedUs = (Clock.NowNs() - start) / 1000;

            Log.Write("entropy: read "); Log.Dec(check.Bytes); Log.Write(" bytes from ");
            Log.Dec(only == ulong.MaxValue ? (ulong)rngs.Length : 1); Log.Write(" device(s) in ");
            Log.Dec(elapsedUs); Log.Write(" us (");
            Log.Dec(elapsedUs == 0 ? 0 : check.Bytes * 1000000 / elapsedUs / 1024); Log.Write(" KiB/s)"); Log.Line();
            for (int i = 0; i < rngs.Length; i++)
            {
                Log.Write("virtio_rng."); Log.Dec((ulong)i); Log.Write(": "); Log.Dec(rngs[i].BytesRead);
                Log.Write(" bytes in "); Log.Dec(rngs[i].Completions); Log.Write(" completions"); Log.Line();
            }
            if (!check.Report()) Verdict.Fail("the bytes read do not look random", ExitCode.Fail);
            Verdict.Pass();
        }
    }
}
