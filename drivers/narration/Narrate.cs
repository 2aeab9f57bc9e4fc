using System;
using GuestOS.Drivers.Pci;
using GuestOS.Drivers.Virtio;
using GuestOS.Hal;

namespace GuestOS.Drivers.Narration
{
    // The boot narration: one typed event per bring-up step and per ring or interrupt event,
    // each printed as one line (format: Step.cs) that says what happened, the spec section
    // and Linux function from the step table, and the register accesses the HAL recorded
    // since the previous step (AccessLog), so the text cannot drift from what executed.
    // Driver call sites are one line per step and carry no text of their own. Nothing is
    // printed when Log.Quiet is set, except what Linux would print with dev_err/dev_warn.
    public static class Narrate
    {
        public static bool On => !Log.Quiet;

        // The device's steps start here; what happened before (enumeration) is not one of them.
        public static void PciEnable(VirtioPciTransport t, ushort command)
        {
            if (!Begin(t, Step.PciEnable)) return;
            Printk.Write(t.Kind == VirtioTransportKind.PciLegacy ? "PCI command <- %#04x (I/O + memory decode + bus master)"u8
                                                                : "PCI command <- %#04x (memory decode + bus master)"u8, command);
            End(t, Step.PciEnable);
        }

        public static void ProbePciModern(VirtioPciModernTransport t)
        {
            if (!Begin(t, Step.Probe)) return;
            VirtioPciModern vp = t.Vp;
            Printk.Write("modern virtio-pci %s (%s): COMMON at %#x, ISR at %#x, NOTIFY at %#x (notify_off_multiplier %u)"u8,
                         VirtioIds.Name(vp.VirtioId),
                         VirtioIds.IsTransitional(t.Pci) ? "transitional id, virtio id from subsystem"u8 : "modern id 0x1040+id"u8,
                         vp.Common, vp.Isr, vp.NotifyBase, vp.NotifyOffMultiplier);
            if (vp.DeviceCap != 0) Printk.Write(", DEVICE at %#x"u8, vp.Device);
            End(t, Step.Probe);
        }

        public static void ProbePciLegacy(VirtioPciLegacyTransport t)
        {
            if (!Begin(t, Step.Probe)) return;
            Printk.Write("legacy virtio-pci %s (transitional id, virtio id from subsystem): registers in I/O BAR 0 at %#x, %u bytes, %s"u8,
                         VirtioIds.Name(t.VirtioId), t.Bar0.Address, t.Bar0.Size,
                         t.Bar0.PortIo ? "port I/O"u8 : "through the host bridge's I/O window"u8);
            End(t, Step.Probe);
        }

        public static void ProbeMmio(VirtioMmioTransport t)
        {
            if (!Begin(t, Step.Probe)) return;
            Printk.Write("virtio-mmio version %u (%s) %s device, vendor %#x, registers at %#x"u8,
                         t.Version, t.Version == 1 ? "legacy"u8 : "virtio 1.x"u8, VirtioIds.Name(t.VirtioId), t.VendorId, t.Slot.Phys);
            if (t.Version == 1) Printk.Write(", GuestPageSize <- %u"u8, VirtioMmioRegs.GUEST_PAGE_SIZE);
            End(t, Step.Probe);
        }

        public static void Reset(VirtioDevice d, ulong waitedUs)
        {
            if (!Begin(d, Step.Reset)) return;
            Printk.Write("status <- 0, read back 0 after %u us"u8, waitedUs);
            End(d, Step.Reset);
        }

        // virtio_add_status: which step a status bit is.
        public static void StatusAdded(VirtioDevice d, byte bit, byte status)
        {
            Step step = bit == VirtioStatus.ACKNOWLEDGE ? Step.Acknowledge : bit == VirtioStatus.DRIVER ? Step.Driver
                      : bit == VirtioStatus.FEATURES_OK ? Step.FeaturesOk : bit == VirtioStatus.DRIVER_OK ? Step.DriverOk : Step.Failed;
            if (!Begin(d, step)) return;
            Log.Write("status <- "u8);
            VirtioStatus.Print(bit);
            Printk.Write(" (%#02x)"u8, status);
            End(d, step);
        }

        public static void Features(VirtioDevice d, Step step, ulong features)
        {
            if (!Begin(d, step)) return;
            Printk.Write(step == Step.DeviceFeatures ? "device features %#x = "u8 : "driver features %#x = "u8, features);
            VirtioFeatures.Print(features);
            End(d, step);
        }

        public static void FeaturesOkCheck(VirtioDevice d, byte status)
        {
            if (!Begin(d, Step.FeaturesOkCheck)) return;
            Printk.Write("status read back %#02x: FEATURES_OK accepted"u8, status);
            End(d, Step.FeaturesOkCheck);
        }

        public static void Queue(VirtioDevice d, Virtqueue vq, ushort deviceSize, ushort vector, ulong notifyOffset)
        {
            if (!Begin(d, Step.Queue)) return;
            Printk.Write("queue %u: size %u"u8, vq.Index, deviceSize);
            if (vq.Num != deviceSize) Printk.Write(" -> %u"u8, vq.Num);
            Printk.Write(", desc %#x driver +%#x device +%#x, %s"u8, vq.DescAreaPhys, vq.DriverAreaPhys - vq.DescAreaPhys,
                         vq.DeviceAreaPhys - vq.DescAreaPhys,
                         VirtioFeatures.Has(d.Features, VirtioFeatures.VIRTIO_F_EVENT_IDX) ? "EVENT_IDX"u8 : "no EVENT_IDX"u8);
            if (vector != VirtioPciRegs.VIRTIO_MSI_NO_VECTOR) Printk.Write(", MSI-X vector %u"u8, vector);
            Printk.Write(", notify at notify+%#x"u8, notifyOffset);
            End(d, Step.Queue);
        }

        // A legacy ring: one block, used ring page-aligned, live once its page number is written.
        public static void QueueLegacy(VirtioDevice d, Virtqueue vq, uint pfn, ushort vector)
        {
            if (!Begin(d, Step.Queue)) return;
            Printk.Write("queue %u: size %u (fixed), one ring at %#x = PFN %#x"u8, vq.Index, vq.Num, vq.DescAreaPhys, pfn);
            Printk.Write(": avail +%#x, used +%#x (page-aligned), %s"u8, vq.DriverAreaPhys - vq.DescAreaPhys, vq.DeviceAreaPhys - vq.DescAreaPhys,
                         VirtioFeatures.Has(d.Features, VirtioFeatures.VIRTIO_F_EVENT_IDX) ? "EVENT_IDX"u8 : "no EVENT_IDX"u8);
            if (vector != VirtioPciRegs.VIRTIO_MSI_NO_VECTOR) Printk.Write(", MSI-X vector %u"u8, vector);
            Log.Write(", live"u8);
            End(d, Step.Queue);
        }

        public static void QueueMmio(VirtioDevice d, VirtioMmioTransport t, Virtqueue vq, uint numMax)
        {
            if (!Begin(d, Step.Queue)) return;
            Printk.Write("queue %u: QueueNumMax %u"u8, vq.Index, numMax);
            Printk.Write(", QueueNum %u"u8, vq.Num);
            if (t.Version == 1)
                Printk.Write(", one ring at %#x = QueuePFN %#x (QueueAlign %u): avail +%#x used +%#x"u8, vq.DescAreaPhys,
                             vq.DescAreaPhys / VirtioMmioRegs.GUEST_PAGE_SIZE, VirtioMmioRegs.VIRTIO_MMIO_VRING_ALIGN,
                             vq.DriverAreaPhys - vq.DescAreaPhys, vq.DeviceAreaPhys - vq.DescAreaPhys);
            else
                Printk.Write(", desc %#x driver +%#x device +%#x, QueueReady <- 1"u8, vq.DescAreaPhys, vq.DriverAreaPhys - vq.DescAreaPhys,
                             vq.DeviceAreaPhys - vq.DescAreaPhys);
            Log.Write(VirtioFeatures.Has(d.Features, VirtioFeatures.VIRTIO_F_EVENT_IDX) ? ", EVENT_IDX"u8 : ", no EVENT_IDX"u8);
            End(d, Step.Queue);
        }

        // How the device will interrupt: MSI-X vectors, a wired line, or nothing (polling,
        // which has no Linux counterpart: Linux's last resort is INTx).
        public static void Interrupts(VirtioDevice d)
        {
            Step step = d.IrqMode == VirtioIrqMode.Polling ? Step.Polling : d.IrqMode == VirtioIrqMode.Wired ? Step.InterruptLine : Step.Interrupts;
            if (!Begin(d, step)) return;
            Log.Write(d.Transport.irq_mode_name(d.IrqMode));
            d.Transport.WriteIrqDetails(d.IrqMode);
            End(d, step);
        }

        public static void QueuesEnabled(VirtioTransport t, ushort queues)
        {
            if (!Begin(t, Step.QueuesEnabled)) return;
            Printk.Write("%u queue(s) enabled, last of the set-up"u8, queues);
            End(t, Step.QueuesEnabled);
        }

        // A warning, printed also when quiet (Linux: dev_warn in vp_find_vqs' fallbacks).
        public static void Fallback(VirtioDevice d, VirtioIrqMode mode, ReadOnlySpan<byte> why)
        {
            Prefix(d.Transport, Step.Fallback);
            Printk.Write("%s not possible: %s"u8, d.Transport.irq_mode_name(mode), why);
            if (d.Transport.MsixTableSize != 0) Printk.Write(" (%u in the table)"u8, d.Transport.MsixTableSize);
            Log.Write("; falling back"u8);
            End(d, Step.Fallback);
        }

        public static void RngReady(VirtioDevice d, int index, uint buffers, uint size)
        {
            if (!Begin(d, Step.RngReady)) return;
            Printk.Write("virtio_rng.%u: entropy device ready, %u x %u-byte buffers, %s"u8, (ulong)index, buffers, size,
                         d.IrqMode == VirtioIrqMode.Polling ? "polling"u8 : "interrupts"u8);
            End(d, Step.RngReady);
        }

        // Every kick ends a step (its accesses are the notification); the first one is told.
        public static void Kick(VirtioDevice d, int index, ulong buffers, bool first)
        {
            if (!first || !Begin(d, Step.Kick)) { AccessLog.Clear(); return; }
            Printk.Write("virtio_rng.%u: %u device-writable buffers made available, device notified"u8, (ulong)index, buffers);
            End(d, Step.Kick, Packed(d));
        }

        public static void Completion(VirtioDevice d, int index, uint length, bool first)
        {
            if (!first || !Begin(d, Step.Completion)) return;
            Printk.Write("virtio_rng.%u: first completion: %u bytes"u8, (ulong)index, length);
            End(d, Step.Completion, Packed(d), accesses: false);
        }

        // From interrupt context: the accesses recorded so far belong to the step in progress.
        // source: the MSI-X entry, or the line; isr: what acknowledging a line read.
        public static void Interrupt(VirtioDevice d, uint source, uint isr, ulong count)
        {
            if (count != 1 || !Begin(d, Step.Interrupt)) return;
            if (d.IrqMode != VirtioIrqMode.Wired)
                Printk.Write("first interrupt: MSI-X vector %u, no register read needed to acknowledge it"u8, source);
            else if (d.Transport.Kind == VirtioTransportKind.MmioModern || d.Transport.Kind == VirtioTransportKind.MmioLegacy)
                Printk.Write("first interrupt: line %u, InterruptStatus %#x written back to InterruptACK"u8, source, isr);
            else
                Printk.Write("first interrupt: line %u, ISR status %#x (reading it de-asserts INTx)"u8, source, isr);
            End(d, Step.Interrupt, accesses: false);
        }

        // Also when quiet: the device failed (Linux: dev_err). stalledMs 0: it set
        // DEVICE_NEEDS_RESET; otherwise it completed nothing for that long.
        public static void Recovery(VirtioDevice d, int index, ulong stalledMs, bool givingUp)
        {
            Step step = stalledMs == 0 ? Step.NeedsReset : Step.Stalled;
            Prefix(d.Transport, step);
            if (stalledMs == 0) Printk.Write("virtio_rng.%u: device set DEVICE_NEEDS_RESET: "u8, (ulong)index);
            else Printk.Write("virtio_rng.%u: no completion after %u ms (requests still posted), no DEVICE_NEEDS_RESET: "u8, (ulong)index, stalledMs);
            Log.Write(givingUp ? "again without completing anything since the last reset; giving up on it"u8 : "resetting and re-initializing it"u8);
            End(d, step);
        }

        public static void Removed(VirtioDevice d, int index, uint buffers)
        {
            if (!Begin(d, Step.Removed)) return;
            Printk.Write("virtio_rng.%u: removed: device reset, then its queue and %u buffers freed"u8, (ulong)index, buffers);
            End(d, Step.Removed, accesses: false);
        }

        // Also when quiet (dev_err): "device lacks required features VERSION_1 [virtio_dev_probe]".
        public static void MissingFeatures(VirtioDevice d, ulong missing)
        {
            Log.Write("virtio "u8);
            d.Transport.WriteName();
            Log.Write(": device lacks required features "u8);
            VirtioFeatures.Print(missing);
            Log.Write(" [virtio_dev_probe]"u8);
            Log.Line();
        }

        // One dev_err-style line, printed also when quiet: "virtio 00:01.0: <text> [<linux>]",
        // "virtio a003e00.virtio_mmio: <text> [<linux>]". The PCI form is for the register
        // library, which runs before its transport exists.
        public static void Error(PciDevice pdev, ReadOnlySpan<byte> linux, ReadOnlySpan<byte> format,
                                 Arg a0 = default, Arg a1 = default, Arg a2 = default, Arg a3 = default)
        {
            Log.Write("virtio "u8);
            pdev.WriteBdf();
            ErrorText(linux, format, a0, a1, a2, a3);
        }

        public static void Error(VirtioTransport t, ReadOnlySpan<byte> linux, ReadOnlySpan<byte> format,
                                 Arg a0 = default, Arg a1 = default, Arg a2 = default, Arg a3 = default)
        {
            Log.Write("virtio "u8);
            t.WriteName();
            ErrorText(linux, format, a0, a1, a2, a3);
        }

        private static void ErrorText(ReadOnlySpan<byte> linux, ReadOnlySpan<byte> format, Arg a0, Arg a1, Arg a2, Arg a3)
        {
            Log.Write(": "u8);
            Printk.Write(format, a0, a1, a2, a3);
            Printk.Line(" [%s]"u8, linux);
        }

        private static bool Packed(VirtioDevice d) => VirtioFeatures.Has(d.Features, VirtioFeatures.VIRTIO_F_RING_PACKED);

        private static bool Begin(VirtioDevice d, Step step) => Begin(d.Transport, step);

        private static bool Begin(VirtioTransport t, Step step)
        {
            if (!On) { AccessLog.Clear(); return false; }
            Prefix(t, step);
            return true;
        }

        private static void Prefix(VirtioTransport t, Step step)
        {
            Log.Write("virtio "u8);
            t.WriteName();
            Printk.Write(": %s: "u8, Steps.Name(step));
        }

        private static void End(VirtioDevice d, Step step, bool packed = false, bool accesses = true)
            => End(d.Transport, step, packed, accesses, d.IrqMode == VirtioIrqMode.Wired);

        // "  spec <section> [<linux>] | <accesses>": the accesses since the previous step.
        // The section and Linux function depend on the transport (and, for an interrupt, on
        // whether it came by a wired line).
        private static void End(VirtioTransport t, Step step, bool packed = false, bool accesses = true, bool wired = false)
        {
            Log.Write(Steps.SpecMarker);
            Printk.Write("%s [%s]"u8, Steps.Spec(step, packed, t.Kind, wired), Steps.Linux(step, t.Kind, wired));
            if (accesses && AccessLog.Count > 0)
            {
                Log.Write(Steps.AccessesMarker);
                AccessLog.WriteAll();
            }
            if (accesses) AccessLog.Clear();
            Log.Line();
        }
    }
}
