using GuestOS.Drivers;
using GuestOS.Drivers.Rng;
using GuestOS.Drivers.Virtio;
using GuestOS.Hal;
using GuestOS.Kernel.Arch;
using GuestOS.Kernel.Boot;

namespace GuestOS.Kernel
{
    // The kernel's job: bring up PCI and every virtio-rng device, read entropy, check it.
    //   rng.bytes=N    how many bytes to read in total (K/M/G suffixes; default 64K)
    //   rng.device=I   read only from virtio_rng.I (default: all devices, round robin)
    //   rng.bufsize=N  bytes per device-writable buffer (default: 1 MiB in flight over the queue)
    //   rng.buffers=N  buffers kept in flight (default: the whole queue, up to 8; at most 64)
    //   rng.poll       no interrupts: poll the used ring
    //   rng.nospin     sleep for a completion at once, without spinning on the used ring first
    //   rng.timeout_ms=N  fail a read that sees no completion for N ms (default 10 s)
    //   rng.bench=N    benchmark mode: read N bytes from virtio_rng.0 as fast as possible
    //   rng.seconds=N  soak: read from virtio_rng.0 for N seconds, checking buffer accounting
    //   fault=avail-head  the 20th buffer made available names a descriptor that does not
    //                  exist: the device must signal DEVICE_NEEDS_RESET (drivers/virtio/DriverFaults.cs)
    //   fault=NAME     break one more rule once, for `make check-guest` (DriverFaults lists them)
    internal static unsafe class Workload
    {
        private const uint ChunkBytes = 4096;
        private const uint BenchChunkBytes = 64 * 1024;

        internal static void Run(ref BootInfo boot)
        {
            VirtioRng.ProbeBufferSize = (uint)CommandLine.Number("rng.bufsize"u8, 0);
            VirtioRng.ProbeBuffers = (uint)CommandLine.Number("rng.buffers"u8, 0);
            VirtioRng.ProbePolling = CommandLine.Has("rng.poll"u8);
            VirtioRng.ProbeNoSpin = CommandLine.Has("rng.nospin"u8);
            VirtioRng.ProbeTimeoutNs = CommandLine.Number("rng.timeout_ms"u8, 0) * 1000000;
            if (CommandLine.Is("fault"u8, "avail-head"u8)) Drivers.Virtio.DriverFaults.AvailHeadAt = 20;
            else if (CommandLine.Has("fault"u8) && (Drivers.Virtio.DriverFaults.Active = Fault()) == Drivers.Virtio.DriverFaults.None)
            {
                Log.Write("fault= names: avail-head"u8);
                for (uint f = 1; f <= Drivers.Virtio.DriverFaults.Last; f++) { Log.Write(", "u8); Log.Write(Drivers.Virtio.DriverFaults.Name(f)); }
                Log.Line();
                Verdict.Fail("unknown fault= (its names are listed above)"u8, ExitCode.Fail);
            }

            Drivers.Pci.PciConfigAccess config = Platform.PciConfig(ref boot);
            Drivers.Pci.PciHostWindows windows = Platform.PciWindows();
            VirtioMmioSlot[] slots = Platform.VirtioMmioSlots();
            BootPhases.Mark(BootPhase.Firmware);
            DriverError error = DriverStack.Start(config, windows, slots, out VirtioRng[] rngs);
            if (error == DriverError.NoVirtioDevice || error == DriverError.NoPciDevices)
                Verdict.Fail("no virtio entropy device: add -device virtio-rng-pci (or virtio-rng-device on microvm / virt)"u8, ExitCode.NoDevice);
            if (error != DriverError.Ok)
                Verdict.Fail(DriverErrors.Name(error), ExitCode.Fail);

            ulong bench = CommandLine.Number("rng.bench"u8, 0), seconds = CommandLine.Number("rng.seconds"u8, 0);
            if (bench != 0) { Benchmark(rngs[0], bench); DiscoverAgain(ref boot, config); }
            else if (seconds != 0) Soak(rngs[0], seconds);
            else ReadAndCheck(rngs);
            Shutdown(rngs);
            Verdict.Pass();
        }

        // fault=NAME: the rule-breaking option it names (drivers/virtio/DriverFaults.cs), or 0.
        private static uint Fault()
        {
            for (uint f = 1; f <= Drivers.Virtio.DriverFaults.Last; f++)
                if (CommandLine.Is("fault"u8, Drivers.Virtio.DriverFaults.Name(f))) return f;
            return 0;
        }

        // Read rng.bytes round robin (or from rng.device only) and check that they look random.
        private static void ReadAndCheck(VirtioRng[] rngs)
        {
            ulong wanted = CommandLine.Number("rng.bytes"u8, 64 * 1024);
            ulong only = CommandLine.Number("rng.device"u8, ulong.MaxValue);
            if (only != ulong.MaxValue && only >= (ulong)rngs.Length)
                Verdict.Fail("rng.device names a device that did not come up"u8, ExitCode.Fail);

            EntropyCheck check = new EntropyCheck(wanted);
            StreamDigest[] digests = new StreamDigest[rngs.Length];
            byte[] chunk = new byte[ChunkBytes];
            ulong start = Clock.NowNs();
            int device = only == ulong.MaxValue ? 0 : (int)only;
            fixed (byte* buffer = chunk)
            {
                while (check.Bytes < wanted)
                {
                    ulong left = wanted - check.Bytes;
                    uint want = left < ChunkBytes ? (uint)left : ChunkBytes;
                    ReadOrFail(rngs[device], device, buffer, want);
                    check.Add(buffer, want);
                    digests[device].Add(buffer, want);
                    if (only == ulong.MaxValue) device = (device + 1) % rngs.Length;
                }
            }
            ulong elapsedUs = (Clock.NowNs() - start) / 1000;

            Log.Write("entropy: read "u8); Log.Dec(check.Bytes); Log.Write(" bytes from "u8);
            Log.Dec(only == ulong.MaxValue ? (ulong)rngs.Length : 1); Log.Write(" device(s) in "u8);
            Log.Dec(elapsedUs); Log.Write(" us ("u8);
            Log.Dec(elapsedUs == 0 ? 0 : check.Bytes * 1000000 / elapsedUs / 1024); Log.Write(" KiB/s)"u8); Log.Line();
            for (int i = 0; i < rngs.Length; i++) PrintStatistics(rngs[i], i);
            for (int i = 0; i < rngs.Length; i++) digests[i].Print(i);
            PrintCpuInterrupts();
            if (!check.Report()) Verdict.Fail("the bytes read do not look random"u8, ExitCode.Fail);
        }

        // Benchmark mode: the lines tools/bench parses. The window runs from just before the
        // first read to just after the last; the buffers posted at probe may already be full
        // when it opens (at most buffers x bufsize bytes, printed on the device's line).
        private static void Benchmark(VirtioRng rng, ulong total)
        {
            BootPhases.Print();
            Log.Write("BENCH-DRIVER_OK rng guest_us="u8); Log.Dec(rng.DriverOkNs / 1000);
            Log.Write(" buffers="u8); Log.Dec(rng.BufferCount); Log.Write(" bufsize="u8); Log.Dec(rng.BufferSize);
            Drivers.Virtio.VirtioIrqMode mode = rng.IrqMode;
            Log.Write(" irq="u8); Log.Write(mode == Drivers.Virtio.VirtioIrqMode.Polling ? "poll"u8 : mode == Drivers.Virtio.VirtioIrqMode.Wired ? "wired"u8 : "msix"u8);
            Log.Write(" ring="u8); Log.Write(rng.RingPacked ? "packed"u8 : "split"u8);
            Drivers.Virtio.VirtioTransportKind kind = rng.Transport.Kind;
            Log.Write(" transport="u8);
            Log.Write(kind == Drivers.Virtio.VirtioTransportKind.PciModern ? "pci"u8 : kind == Drivers.Virtio.VirtioTransportKind.PciLegacy ? "pci-legacy"u8
                      : kind == Drivers.Virtio.VirtioTransportKind.MmioModern ? "mmio"u8 : "mmio-legacy"u8);
            Log.Line();
            byte[] chunk = new byte[BenchChunkBytes];
            ulong irqs = rng.Interrupts, kicks = rng.Kicks, completions = rng.Completions;
            ulong read = 0;
            Log.Write("BENCH-START rng"u8); Log.Line();
            ulong start = Clock.NowNs();
            fixed (byte* buffer = chunk)
            {
                while (read < total)
                {
                    uint want = total - read < BenchChunkBytes ? (uint)(total - read) : BenchChunkBytes;
                    ReadOrFail(rng, 0, buffer, want);
                    read += want;
                }
            }
            ulong us = (Clock.NowNs() - start) / 1000;
            Log.Write("BENCH-END rng bytes="u8); Log.Dec(read); Log.Write(" guest_us="u8); Log.Dec(us);
            Log.Write(" irqs="u8); Log.Dec(rng.Interrupts - irqs); Log.Write(" kicks="u8); Log.Dec(rng.Kicks - kicks);
            Log.Write(" completions="u8); Log.Dec(rng.Completions - completions);
            Log.Line();
            PrintStatistics(rng, 0);
            PrintCpuInterrupts();

            // The window has no checking in it; the last chunk still has to look random.
            EntropyCheck check = new EntropyCheck(BenchChunkBytes);
            fixed (byte* buffer = chunk) check.Add(buffer, read < BenchChunkBytes ? (uint)read : BenchChunkBytes);
            if (!check.Report()) Verdict.Fail("the bytes read do not look random"u8, ExitCode.Fail);

            fixed (byte* buffer = chunk) CopyAlone(buffer, (ulong)rng.BufferCount * rng.BufferSize, read);
        }

        // The guest's own ceiling: the same copies as the window above (BenchChunkBytes at a time
        // into the same chunk, out of as much memory as the driver has in flight) with no device,
        // so the window's MB/s can be held against it:
        //   BENCH-COPY bytes=N guest_us=T
        private static void CopyAlone(byte* chunk, ulong inFlight, ulong total)
        {
            if (inFlight < BenchChunkBytes) inFlight = BenchChunkBytes;
            DmaBuffer source = Dma.AllocCoherentUninitialized(inFlight);
            if (source.IsNull) Verdict.Fail("BENCH-COPY: no memory for the source buffers"u8, ExitCode.Fail);
            ulong offset = 0, copied = 0;
            ulong start = Clock.NowNs();
            while (copied < total)
            {
                ulong n = total - copied < BenchChunkBytes ? total - copied : BenchChunkBytes;
                Mem.memmove(chunk, source.Virt + offset, (nuint)n);
                copied += n;
                offset = offset + 2 * BenchChunkBytes <= inFlight ? offset + BenchChunkBytes : 0;
            }
            ulong us = (Clock.NowNs() - start) / 1000;
            Dma.FreeCoherent(source);
            Log.Write("BENCH-COPY bytes="u8); Log.Dec(copied); Log.Write(" guest_us="u8); Log.Dec(us); Log.Line();
        }

        // rng.bench, after the window: the firmware walks and a read-only PCI enumeration once
        // more (BENCH-BOOT-AGAIN lines), to tell first-execution translation from steady cost.
        // The rescan is the first scan's work on x86; on arm64 the first one also sized and
        // assigned the BARs.
        private static void DiscoverAgain(ref BootInfo boot, Drivers.Pci.PciConfigAccess config)
        {
            ulong ticks = Timer.Ticks(), accesses = Io.Accesses;
            Platform.PciConfig(ref boot);
            Platform.PciWindows();
            Platform.FindVirtioMmioSlots();
            BootPhases.PrintAgain(BootPhase.Firmware, ticks, accesses);
            ticks = Timer.Ticks(); accesses = Io.Accesses;
            if (config != null) Drivers.Pci.PciScan.Enumerate(config, null);   // firmware mode: no BAR is sized
            BootPhases.PrintAgain(BootPhase.Pci, ticks, accesses);
        }

        // A long run: every chunk checks that no buffer was lost or completed twice (the ring
        // itself refuses a used id that is not outstanding); the first 16 MiB go through the
        // entropy check, which keeps a hash of every block and so cannot take hours of data.
        private static void Soak(VirtioRng rng, ulong seconds)
        {
            const ulong CheckedBytes = 16UL << 20;
            EntropyCheck check = new EntropyCheck(CheckedBytes);
            StreamDigest digest = default;
            byte[] chunk = new byte[BenchChunkBytes];
            ulong start = Clock.NowNs(), end = start + seconds * 1000000000UL, read = 0;
            fixed (byte* buffer = chunk)
            {
                while (Clock.NowNs() < end)
                {
                    ReadOrFail(rng, 0, buffer, BenchChunkBytes);
                    read += BenchChunkBytes;
                    if (check.Bytes < CheckedBytes) check.Add(buffer, BenchChunkBytes);
                    digest.Add(buffer, BenchChunkBytes);
                    if (rng.BuffersUnaccounted != 0)
                    {
                        Log.Write("soak: "u8); Log.DecSigned(rng.BuffersUnaccounted); Log.Write(" buffers unaccounted for after "u8);
                        Log.Dec(read); Log.Write(" bytes"u8); Log.Line();
                        Verdict.Fail("a buffer was lost or completed twice"u8, ExitCode.Fail);
                    }
                }
            }
            ulong ms = (Clock.NowNs() - start) / 1000000;
            Log.Write("soak: read "u8); Log.Dec(read); Log.Write(" bytes in "u8); Log.Dec(ms); Log.Write(" ms, "u8);
            Log.Dec(rng.Requests); Log.Write(" requests, "u8); Log.Dec(rng.Completions); Log.Write(" completions, "u8);
            Log.Dec(rng.Requests - rng.Completions - rng.Dropped); Log.Write(" in flight, "u8);
            Log.DecSigned(rng.BuffersUnaccounted); Log.Write(" buffers unaccounted for"u8); Log.Line();
            PrintStatistics(rng, 0);
            digest.Print(0);
            PrintCpuInterrupts();
            if (!check.Report()) Verdict.Fail("the bytes read do not look random"u8, ExitCode.Fail);
        }

        // Before the power-off, as Linux's remove path does (virtrng_remove -> remove_common):
        // reset each device, so that it stops using our memory, then free its ring and buffers.
        private static void Shutdown(VirtioRng[] rngs)
        {
            for (int i = 0; i < rngs.Length; i++)
                if (rngs[i].virtrng_remove() != DriverError.Ok) Verdict.Fail("a device did not reset at shutdown"u8, ExitCode.Fail);
        }

        private static void ReadOrFail(VirtioRng rng, int device, byte* buffer, uint want)
        {
            long got = rng.virtio_read(buffer, want);
            if (got == want) return;
            Log.Write("virtio_rng."u8); Log.Dec((ulong)device); Log.Write(": read failed: "u8);
            Log.Write(got < 0 ? DriverErrors.Name((DriverError)(-got)) : "short read"u8); Log.Line();
            Verdict.Fail("entropy read failed"u8, ExitCode.Fail);
        }

        // Every interrupt the CPU took, whichever device: tests compare it with the drivers' counts.
        private static void PrintCpuInterrupts()
        {
            Log.Write("interrupts: "u8); Log.Dec(Irq.Taken); Log.Write(" taken by the CPU"u8); Log.Line();
        }

        private static void PrintStatistics(VirtioRng rng, int i)
        {
            Log.Write("virtio_rng."u8); Log.Dec((ulong)i); Log.Write(": "u8); Log.Dec(rng.BytesRead);
            Log.Write(" bytes in "u8); Log.Dec(rng.Completions); Log.Write(" completions, "u8);
            Log.Dec(rng.Interrupts); Log.Write(" interrupts, "u8); Log.Dec(rng.Kicks); Log.Write(" kicks, "u8);
            Log.Dec(rng.Resets); Log.Write(" resets; "u8);
            Log.Dec(rng.BufferCount); Log.Write(" x "u8); Log.Dec(rng.BufferSize); Log.Write("-byte buffers, "u8);
            Log.Write(rng.Transport.irq_mode_name(rng.IrqMode));
            Log.Line();
        }
    }
}
