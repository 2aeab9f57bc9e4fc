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
        public static void PciEnable(VirtioDevice d, ushort command)
        {
            if (!Begin(d, Step.PciEnable)) return;
            Printk.Write("PCI command <- %#04x (memory decode + bus master)"u8, command);
            End(Step.PciEnable);
        }

        public static void Probe(VirtioDevice d)
        {
            if (!Begin(d, Step.Probe)) return;
            VirtioPciModern vp = d.Vp;
            Printk.Write("modern virtio-pci %s (%s): COMMON at %#x, ISR at %#x, NOTIFY at %#x (notify_off_multiplier %u)"u8,
                         VirtioIds.Name(vp.VirtioId),
                         VirtioIds.IsTransitional(d.Pci) ? "transitional id, virtio id from subsystem"u8 : "modern id 0x1040+id"u8,
                         vp.Common, vp.Isr, vp.NotifyBase, vp.NotifyOffMultiplier);
            if (vp.DeviceCap != 0) Printk.Write(", DEVICE at %#x"u8, vp.Device);
            End(Step.Probe);
        }

        public static void Reset(VirtioDevice d, ulong waitedUs)
        {
            if (!Begin(d, Step.Reset)) return;
            Printk.Write("status <- 0, read back 0 after %u us"u8, waitedUs);
            End(Step.Reset);
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
            End(step);
        }

        public static void Features(VirtioDevice d, Step step, ulong features)
        {
            if (!Begin(d, step)) return;
            Printk.Write(step == Step.DeviceFeatures ? "device features %#x = "u8 : "driver features %#x = "u8, features);
            VirtioFeatures.Print(features);
            End(step);
        }

        public static void FeaturesOkCheck(VirtioDevice d, byte status)
        {
            if (!Begin(d, Step.FeaturesOkCheck)) return;
            Printk.Write("status read back %#02x: FEATURES_OK accepted"u8, status);
            End(Step.FeaturesOkCheck);
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
            End(Step.Queue);
        }

        public static void Interrupts(VirtioDevice d)
        {
            // Polling has no Linux counterpart: Linux would take INTx, which GuestOS does not route yet.
            Step step = d.Vectors.Mode == VirtioIrqMode.Polling ? Step.Polling : Step.Interrupts;
            if (!Begin(d, step)) return;
            Log.Write(VirtioPciVectors.vp_irq_mode_name(d.Vectors.Mode));
            if (step == Step.Interrupts) Printk.Write(", %u in the table; configuration vector read back"u8, d.Vectors.TableSize);
            End(step);
        }

        public static void QueuesEnabled(VirtioDevice d, ushort queues)
        {
            if (!Begin(d, Step.QueuesEnabled)) return;
            Printk.Write("%u queue(s) enabled, last of the set-up"u8, queues);
            End(Step.QueuesEnabled);
        }

        // A warning, printed also when quiet (Linux: dev_warn in vp_find_vqs' fallbacks).
        public static void Fallback(VirtioDevice d, VirtioIrqMode mode, ReadOnlySpan<byte> why)
        {
            Prefix(d, Step.Fallback);
            Printk.Write("%s not possible: %s"u8, VirtioPciVectors.vp_irq_mode_name(mode), why);
            if (d.Vectors.TableSize != 0) Printk.Write(" (%u in the table)"u8, d.Vectors.TableSize);
            Log.Write("; falling back"u8);
            End(Step.Fallback);
        }

        public static void RngReady(VirtioDevice d, int index, uint buffers, uint size)
        {
            if (!Begin(d, Step.RngReady)) return;
            Printk.Write("virtio_rng.%u: entropy device ready, %u x %u-byte buffers, %s"u8, (ulong)index, buffers, size,
                         d.Vectors.Mode == VirtioIrqMode.Polling ? "polling"u8 : "interrupts"u8);
            End(Step.RngReady);
        }

        // Every kick ends a step (its accesses are the notification); the first one is told.
        public static void Kick(VirtioDevice d, int index, ulong buffers, bool first)
        {
            if (!first || !Begin(d, Step.Kick)) { AccessLog.Clear(); return; }
            Printk.Write("virtio_rng.%u: %u device-writable buffers made available, device notified"u8, (ulong)index, buffers);
            End(Step.Kick, Packed(d));
        }

        public static void Completion(VirtioDevice d, int index, uint length, bool first)
        {
            if (!first || !Begin(d, Step.Completion)) return;
            Printk.Write("virtio_rng.%u: first completion: %u bytes"u8, (ulong)index, length);
            End(Step.Completion, Packed(d), accesses: false);
        }

        // From interrupt context: the accesses recorded so far belong to the step in progress.
        public static void Interrupt(VirtioDevice d, uint entry, ulong count)
        {
            if (count != 1 || !Begin(d, Step.Interrupt)) return;
            Printk.Write("first interrupt: MSI-X vector %u, no register read needed to acknowledge it"u8, entry);
            End(Step.Interrupt, accesses: false);
        }

        // Also when quiet: the device failed (Linux: dev_err). stalledMs 0: it set
        // DEVICE_NEEDS_RESET; otherwise it completed nothing for that long.
        public static void Recovery(VirtioDevice d, int index, ulong stalledMs, bool givingUp)
        {
            Step step = stalledMs == 0 ? Step.NeedsReset : Step.Stalled;
            Prefix(d, step);
            if (stalledMs == 0) Printk.Write("virtio_rng.%u: device set DEVICE_NEEDS_RESET: "u8, (ulong)index);
            else Printk.Write("virtio_rng.%u: no completion after %u ms (requests still posted), no DEVICE_NEEDS_RESET: "u8, (ulong)index, stalledMs);
            Log.Write(givingUp ? "again without completing anything since the last reset; giving up on it"u8 : "resetting and re-initializing it"u8);
            End(step);
        }

        public static void Removed(VirtioDevice d, int index, uint buffers)
        {
            if (!Begin(d, Step.Removed)) return;
            Printk.Write("virtio_rng.%u: removed: device reset, then its queue and %u buffers freed"u8, (ulong)index, buffers);
            End(Step.Removed, accesses: false);
        }

        // Also when quiet (dev_err): "device lacks required features VERSION_1 [virtio_dev_probe]".
        public static void MissingFeatures(VirtioDevice d, ulong missing)
        {
            Log.Write("virtio "u8);
            d.Pci.WriteBdf();
            Log.Write(": device lacks required features "u8);
            VirtioFeatures.Print(missing);
            Log.Write(" [virtio_dev_probe]"u8);
            Log.Line();
        }

        // One dev_err-style line, printed also when quiet: "virtio 00:01.0: <text> [<linux>]".
        public static void Error(PciDevice pdev, ReadOnlySpan<byte> linux, ReadOnlySpan<byte> format,
                                 Arg a0 = default, Arg a1 = default, Arg a2 = default, Arg a3 = default)
        {
            Log.Write("virtio "u8);
            pdev.WriteBdf();
            Log.Write(": "u8);
            Printk.Write(format, a0, a1, a2, a3);
            Printk.Line(" [%s]"u8, linux);
        }

        private static bool Packed(VirtioDevice d) => VirtioFeatures.Has(d.Features, VirtioFeatures.VIRTIO_F_RING_PACKED);

        private static bool Begin(VirtioDevice d, Step step)
        {
            if (!On) { AccessLog.Clear(); return false; }
            Prefix(d, step);
            return true;
        }

        private static void Prefix(VirtioDevice d, Step step)
        {
            Log.Write("virtio "u8);
            d.Pci.WriteBdf();
            Printk.Write(": %s: "u8, Steps.Name(step));
        }

        // "  spec <section> [<linux>] | <accesses>": the accesses since the previous step.
        private static void End(Step step, bool packed = false, bool accesses = true)
        {
            Log.Write(Steps.SpecMarker);
            Printk.Write("%s [%s]"u8, Steps.Spec(step, packed), Steps.Linux(step));
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
