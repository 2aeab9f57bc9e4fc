using System;
using GuestOS.Drivers.Pci;
using GuestOS.Hal;

namespace GuestOS.Drivers.Virtio
{
    // How a virtio-pci device interrupts us (virtio 1.2 §4.1.5.1.2, §4.1.5.3-4), best first.
    // Linux's vp_find_vqs tries per-queue vectors, then a config vector plus one shared queue
    // vector, then INTx; this kernel routes no INTx, so its last resort is polling, and its
    // middle step needs a single vector (vectors=1 devices).
    public enum VirtioIrqMode
    {
        Polling = 0,            // no interrupts: the driver polls the used ring
        SharedVector = 1,       // MSI-X entry 0 for the configuration and every queue
        PerQueueVectors = 2,    // entry 0: configuration changes; entry 1 + i: queue i
    }

    // What a virtio driver is called back for, in interrupt context with local interrupts
    // disabled (Linux: vq->callback, and virtio_driver.config_changed).
    public abstract class VirtioCallbacks
    {
        public abstract void vq_callback(Virtqueue vq);   // the device used buffers of vq
        public abstract void config_changed();           // configuration or status changed
    }

    // One MSI-X vector's handler: which sources share it (vp_vring_interrupt, vp_config_changed).
    public sealed class VirtioVectorHandler : InterruptHandler
    {
        public VirtioPciVectors Owner;
        public uint Entry;              // its MSI-X table entry
        public bool Config;             // configuration changes arrive here
        public int Queue;               // this queue's used buffers arrive here; -1 none, -2 all

        public override void Handle() { Owner.vp_interrupt(this); }
    }

    // The interrupt half of Linux's virtio_pci_common.c for one device: choose and program
    // the MSI-X vectors (vp_request_msix_vectors), tell the device which vector is which
    // (vp_modern_config_vector; queue vectors are set by setup_vq), and dispatch an interrupt
    // to the queues and the configuration callback it stands for.
    public sealed class VirtioPciVectors
    {
        public const uint ConfigEntry = 0;

        public VirtioDevice Dev;
        public VirtioIrqMode Mode;
        public ulong Interrupts;        // handler runs
        public ulong Spurious;          // ... that found no used buffer and no config change
        public uint TableSize;          // MSI-X table entries the function has (0: no MSI-X)

        private PciMsix _msix;
        private VirtioVectorHandler[] _handlers;   // by table entry
        private MsiMessage[] _messages;             // by table entry, once allocated
        private bool[] _allocated;

        public VirtioPciVectors(VirtioDevice dev)
        {
            Dev = dev;
            Mode = VirtioIrqMode.Polling;
        }

        // The vector the device should use for queue `index` in the current mode.
        public ushort vp_queue_vector(ushort index)
        {
            if (Mode == VirtioIrqMode.PerQueueVectors) return (ushort)(index + 1);
            if (Mode == VirtioIrqMode.SharedVector) return (ushort)ConfigEntry;
            return VirtioPciRegs.VIRTIO_MSI_NO_VECTOR;
        }

        // vp_request_msix_vectors for `mode` and nvqs queues: enable MSI-X with everything
        // masked, allocate a platform interrupt per entry in use, write the messages, unmask,
        // then give the device its configuration vector and read it back. False (and `why`)
        // if this mode cannot work; nothing is left unmasked then.
        public bool vp_request_msix_vectors(VirtioIrqMode mode, ushort nvqs, out ReadOnlySpan<byte> why)
        {
            why = default;
            if (_msix == null)
            {
                _msix = PciMsix.pci_msix_enable(Dev.Pci, out why);
                if (_msix == null) return false;
                TableSize = _msix.Size;
                _handlers = new VirtioVectorHandler[TableSize];
                _messages = new MsiMessage[TableSize];
                _allocated = new bool[TableSize];
            }
            uint needed = mode == VirtioIrqMode.PerQueueVectors ? 1u + nvqs : 1u;
            if (TableSize < needed) { why = "too few MSI-X vectors"u8; return false; }

            ushort requesterId = (ushort)(Dev.Pci.Bus << 8 | Dev.Pci.Dev << 3 | Dev.Pci.Fn);
            for (uint e = 0; e < needed; e++)
            {
                if (_allocated[e]) continue;
                VirtioVectorHandler h = new VirtioVectorHandler();
                h.Owner = this;
                if (!Irq.AllocateMsi(requesterId, h, out _messages[e])) { why = "the platform has no free MSI"u8; return false; }
                _handlers[e] = h;
                _allocated[e] = true;
            }
            for (uint e = 0; e < needed; e++)
            {
                VirtioVectorHandler h = _handlers[e];
                h.Entry = e;
                h.Config = e == ConfigEntry;
                h.Queue = mode == VirtioIrqMode.SharedVector ? -2 : e == ConfigEntry ? -1 : (int)e - 1;
                _msix.pci_msix_write_msg(e, _messages[e]);
            }
            _msix.pci_msix_unmask_function();
            for (uint e = 0; e < needed; e++) _msix.pci_msix_unmask(e);

            Mode = mode;
            if (Dev.Vp.vp_modern_config_vector((ushort)ConfigEntry) == VirtioPciRegs.VIRTIO_MSI_NO_VECTOR)
            {
                vp_release_msix_vectors();
                why = "the device answered NO_VECTOR for the configuration vector"u8;
                return false;
            }
            return true;
        }

        // Undo Request before trying a lesser mode: the device forgets the configuration
        // vector, every entry is masked again (vp_del_vqs for the MSI-X part).
        public void vp_release_msix_vectors()
        {
            Dev.Vp.vp_modern_config_vector(VirtioPciRegs.VIRTIO_MSI_NO_VECTOR);
            for (uint e = 0; e < TableSize; e++) _msix.pci_msix_mask(e);
            Mode = VirtioIrqMode.Polling;
        }

        // Polling: MSI-X off altogether (pci_free_irq_vectors).
        public void vp_disable_msix()
        {
            if (_msix != null) _msix.pci_msix_disable();
            Mode = VirtioIrqMode.Polling;
        }

        // vp_vring_interrupt / vp_config_changed. With one shared vector the configuration may
        // or may not have changed: the driver's config_changed looks at the status itself.
        public void vp_interrupt(VirtioVectorHandler h)
        {
            Interrupts++;
            Narration.Narrate.Interrupt(Dev, h.Entry, Interrupts);
            bool handled = false;
            if (h.Queue == -2) handled = Dev.vring_interrupt_all();
            else if (h.Queue >= 0) handled = Dev.vring_interrupt((ushort)h.Queue);
            if (h.Config && Dev.Callbacks != null)
            {
                Dev.Callbacks.config_changed();
                handled = true;
            }
            if (!handled) Spurious++;
        }

        public static ReadOnlySpan<byte> vp_irq_mode_name(VirtioIrqMode mode)
        {
            if (mode == VirtioIrqMode.PerQueueVectors) return "MSI-X, a vector per queue plus one for configuration changes"u8;
            if (mode == VirtioIrqMode.SharedVector) return "MSI-X, one vector shared by the queues and configuration changes"u8;
            return "polling (no interrupts)"u8;
        }
    }
}
