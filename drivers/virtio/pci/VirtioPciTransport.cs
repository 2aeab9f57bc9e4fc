using System;
using GuestOS.Drivers.Narration;
using GuestOS.Drivers.Pci;
using GuestOS.Hal;

namespace GuestOS.Drivers.Virtio
{
    // What the modern and the legacy virtio-pci interface share, as Linux's
    // drivers/virtio/virtio_pci_common.c: how the device interrupts (vp_find_vqs and its
    // modes), the MSI-X vectors (vp_request_msix_vectors), INTx with the ISR status byte
    // (vp_find_vqs_intx, vp_interrupt), and the dispatch of an interrupt to the queues and
    // the configuration callback. The register layouts differ: each subclass supplies its
    // setup_vq, its vector registers and its ISR read (Linux: vp_dev->setup_vq, config_vector).
    public abstract class VirtioPciTransport : VirtioTransport
    {
        public const uint ConfigEntry = 0;          // MSI-X entry for configuration changes
        public const byte VIRTIO_PCI_ISR_QUEUE = 0x1;   // §4.1.4.5: a queue has used buffers
        public const byte VIRTIO_PCI_ISR_CONFIG = 0x2;  // §4.1.4.5: the configuration changed

        public PciDevice Pci;
        public uint TableSize;                      // MSI-X table entries (0: no MSI-X)
        public WiredIrq Intx;                       // where INTx arrives, once routed
        public byte IntxPin, IntxLine;              // configuration 0x3D (1-4 = INTA-D) and 0x3C, as read

        private VirtioDevice _vdev;
        private PciMsix _msix;
        private PciVectorHandler[] _handlers;       // by MSI-X table entry
        private MsiMessage[] _messages;             // by table entry, once allocated
        private PciIntxHandler _intx;               // attached once, kept across resets
        private bool _msixOff;                      // MSI-X switched off for INTx or polling

        public override void WriteName() { Pci.WriteBdf(); }

        // ---- what each register layout supplies ---------------------------------------
        // One queue (§4.1.5.1.3): program the ring and `vector`; NoVector if the device read
        // back VIRTIO_MSI_NO_VECTOR. Not live yet on the modern layout.
        protected abstract DriverError setup_vq(VirtioDevice vdev, ushort index, uint maxSize, ushort vector, out Virtqueue vq);
        protected abstract ushort config_vector(ushort vector);     // returns what the device read back
        protected abstract void activate_vqs(ushort nvqs);          // modern: queue_enable; legacy: nothing
        protected abstract byte isr_read();                         // reading clears it (§4.1.4.5)

        // vp_find_vqs: interrupts first, then every queue, then enable them all. Modes best
        // first: a vector per queue plus one for configuration changes, one shared vector,
        // INTx, polling. A mode fails when the function has too few MSI-X entries (or none),
        // the platform no free MSI or no route for INTx, or the device reads back NO_VECTOR;
        // nothing is enabled until a mode has worked, so falling back needs no reset.
        public override DriverError find_vqs(VirtioDevice vdev, Virtqueue[] vqs, uint maxSize, bool polling)
        {
            _vdev = vdev;
            ushort nvqs = (ushort)vqs.Length;
            VirtioIrqMode mode = polling ? VirtioIrqMode.Polling : VirtioIrqMode.PerQueueVectors;
            while (true)
            {
                ReadOnlySpan<byte> why = default;
                bool ok = mode == VirtioIrqMode.Polling ? vp_disable_interrupts()
                        : mode == VirtioIrqMode.Wired ? vp_request_intx(out why)
                        : vp_request_msix_vectors(mode, nvqs, out why);
                if (!ok)
                {
                    Narrate.Fallback(vdev, mode, why);
                    mode = mode - 1;
                    continue;
                }
                vdev.IrqMode = mode;
                Narrate.Interrupts(vdev);
                DriverError err = DriverError.Ok;
                for (ushort i = 0; i < nvqs && err == DriverError.Ok; i++)
                    err = setup_vq(vdev, i, maxSize, vp_queue_vector(mode, i), out vqs[i]);
                if (err != DriverError.Ok)
                {
                    vdev.vring_del_registered();
                    for (ushort i = 0; i < nvqs; i++) vqs[i] = null;
                    if (err != DriverError.NoVector) return err;
                    vp_release_msix_vectors();
                    Narrate.Fallback(vdev, mode, "the device answered NO_VECTOR for a queue vector"u8);
                    mode = mode - 1;
                    continue;
                }
                if (mode == VirtioIrqMode.Polling)
                    for (ushort i = 0; i < nvqs; i++) vqs[i].virtqueue_disable_cb();
                // "Select and activate all queues. Has to be done last: once we do this, there's
                // no way to go back except reset." (vp_modern_find_vqs)
                if (DriverFaults.Fire(DriverFaults.DriverOkBeforeQueueEnable)) vdev.virtio_device_ready();
                activate_vqs(nvqs);
                return DriverError.Ok;
            }
        }

        // The vector the device should use for queue `index` in `mode`.
        private static ushort vp_queue_vector(VirtioIrqMode mode, ushort index)
        {
            if (mode == VirtioIrqMode.PerQueueVectors) return (ushort)(index + 1);
            if (mode == VirtioIrqMode.SharedVector) return (ushort)ConfigEntry;
            return VirtioPciRegs.VIRTIO_MSI_NO_VECTOR;
        }

        // vp_request_msix_vectors for `mode` and nvqs queues: enable MSI-X with everything
        // masked, allocate a platform interrupt per entry in use, write the messages, unmask,
        // then give the device its configuration vector and read it back. False (and `why`)
        // if this mode cannot work; nothing is left unmasked then.
        private bool vp_request_msix_vectors(VirtioIrqMode mode, ushort nvqs, out ReadOnlySpan<byte> why)
        {
            why = default;
            if (_msix == null)
            {
                _msix = PciMsix.pci_msix_enable(Pci, out why);
                if (_msix == null) return false;
                TableSize = _msix.Size;
                _handlers = new PciVectorHandler[TableSize];
                _messages = new MsiMessage[TableSize];
            }
            else if (_msixOff) _msix.pci_msix_reenable();
            _msixOff = false;
            uint needed = mode == VirtioIrqMode.PerQueueVectors ? 1u + nvqs : 1u;
            if (TableSize < needed) { why = "too few MSI-X vectors"u8; return false; }

            for (uint e = 0; e < needed; e++)
            {
                if (_handlers[e] != null) continue;
                PciVectorHandler h = new PciVectorHandler();
                h.Owner = this;
                if (!Irq.AllocateMsi(Pci.RequesterId, h, out _messages[e])) { why = "the platform has no free MSI"u8; return false; }
                _handlers[e] = h;
            }
            for (uint e = 0; e < needed; e++)
            {
                PciVectorHandler h = _handlers[e];
                h.Entry = e;
                h.Config = e == ConfigEntry;
                h.Queue = mode == VirtioIrqMode.SharedVector ? VirtioDevice.AllQueues : e == ConfigEntry ? VirtioDevice.NoQueue : (int)e - 1;
                _msix.pci_msix_write_msg(e, _messages[e]);
            }
            _msix.pci_msix_unmask_function();
            for (uint e = 0; e < needed; e++) _msix.pci_msix_unmask(e);

            if (config_vector((ushort)ConfigEntry) == VirtioPciRegs.VIRTIO_MSI_NO_VECTOR)
            {
                vp_release_msix_vectors();
                why = "the device answered NO_VECTOR for the configuration vector"u8;
                return false;
            }
            return true;
        }

        // Undo a vector request before trying a lesser mode: the device forgets the
        // configuration vector, every entry is masked again (vp_del_vqs for the MSI-X part).
        private void vp_release_msix_vectors()
        {
            if (_msix == null) return;
            config_vector(VirtioPciRegs.VIRTIO_MSI_NO_VECTOR);
            for (uint e = 0; e < TableSize; e++) _msix.pci_msix_mask(e);
        }

        // vp_find_vqs_intx: MSI-X off (the device then raises INTx, §4.1.5.3), the pin routed
        // to a platform line from what firmware or the device tree says, handler attached.
        private bool vp_request_intx(out ReadOnlySpan<byte> why)
        {
            why = default;
            vp_disable_msix();
            if (_intx != null) return true;
            IntxPin = Pci.Read8(PciRegs.PCI_INTERRUPT_PIN);
            IntxLine = Pci.Read8(PciRegs.PCI_INTERRUPT_LINE);
            if (IntxPin < 1 || IntxPin > 4) { why = "the function has no INTx pin"u8; return false; }
            // The platform routes pins as the host bridge sees them (interrupt-map, _PRT); the
            // Interrupt Line register, where firmware wrote it, is already the routed line.
            byte rootPin = IntxPin;
            PciDevice atRoot = PciSwizzle.pci_common_swizzle(Pci, ref rootPin);
            if (!Irq.RoutePciIntx(atRoot.RequesterId, rootPin, IntxLine, out Intx)) { why = "the platform gives no route for the INTx pin"u8; return false; }
            PciIntxHandler h = new PciIntxHandler();
            h.Owner = this;
            if (!Irq.AttachWired(Intx, h)) { why = "the platform cannot attach the INTx line"u8; return false; }
            _intx = h;
            return true;
        }

        // Polling: MSI-X off altogether (pci_free_irq_vectors); an attached INTx line stays
        // attached, and its handler finds nothing to do (ISR reads 0).
        private bool vp_disable_interrupts()
        {
            vp_disable_msix();
            return true;
        }

        private void vp_disable_msix()
        {
            if (_msix == null || _msixOff) return;
            _msix.pci_msix_disable();
            _msixOff = true;
        }

        protected bool MsixEnabled { get { return _msix != null && !_msixOff; } }


        // vp_vring_interrupt / vp_config_changed for one MSI-X vector.
        internal void vp_vector_interrupt(PciVectorHandler h)
        {
            if (_vdev != null) _vdev.virtio_interrupt(h.Config, h.Queue, h.Entry, 0);
        }

        // vp_interrupt: INTx is shared and level-triggered; reading ISR status tells what
        // happened and de-asserts the line (§4.1.4.5). 0: not ours (IRQ_NONE).
        internal void vp_intx_interrupt()
        {
            byte isr = isr_read();
            if (_vdev == null) return;
            if (isr == 0) { _vdev.Spurious++; return; }
            _vdev.virtio_interrupt((isr & VIRTIO_PCI_ISR_CONFIG) != 0,
                                   (isr & VIRTIO_PCI_ISR_QUEUE) != 0 ? VirtioDevice.AllQueues : VirtioDevice.NoQueue, Intx.Number, isr);
        }

        public override uint MsixTableSize { get { return TableSize; } }

        public override void WriteIrqDetails(VirtioIrqMode mode)
        {
            if (mode == VirtioIrqMode.Wired)
            {
                Printk.Write(", INT%s# (interrupt line register %u)"u8, IntxPin == 1 ? "A"u8 : IntxPin == 2 ? "B"u8 : IntxPin == 3 ? "C"u8 : "D"u8, IntxLine);
                WriteLine(Intx);
            }
            else if (mode != VirtioIrqMode.Polling) Printk.Write(", %u in the table; configuration vector read back"u8, TableSize);
        }

        public override ReadOnlySpan<byte> irq_mode_name(VirtioIrqMode mode)
        {
            if (mode == VirtioIrqMode.PerQueueVectors) return "MSI-X, a vector per queue plus one for configuration changes"u8;
            if (mode == VirtioIrqMode.SharedVector) return "MSI-X, one vector shared by the queues and configuration changes"u8;
            if (mode == VirtioIrqMode.Wired) return "INTx, acknowledged by reading ISR status"u8;
            return "polling (no interrupts)"u8;
        }
    }

    // One MSI-X vector's handler: which sources share it.
    public sealed class PciVectorHandler : InterruptHandler
    {
        public VirtioPciTransport Owner;
        public uint Entry;              // its MSI-X table entry
        public bool Config;             // configuration changes arrive here
        public int Queue;               // the queue it stands for, or VirtioDevice.NoQueue / AllQueues

        public override void Handle() { Owner.vp_vector_interrupt(this); }
    }

    public sealed class PciIntxHandler : InterruptHandler
    {
        public VirtioPciTransport Owner;
        public override void Handle() { Owner.vp_intx_interrupt(); }
    }
}
