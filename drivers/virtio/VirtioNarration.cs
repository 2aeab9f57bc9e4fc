using System;
using GuestOS.Drivers.Pci;
using GuestOS.Hal;

namespace GuestOS.Drivers.Virtio
{
    // Boot narration for learners: each bring-up step says what it did, which section of the
    // virtio 1.2 spec asks for it and which Linux function does the same, e.g.
    //   virtio 00:01.0: status <- DRIVER_OK (0x0f) iowrite8 common+0x14  spec 3.1.1 step 8 [virtio_device_ready -> vp_modern_set_status]
    // Nothing is printed when Log.Quiet is set (errors are printed regardless, elsewhere).
    public static class VirtioNarration
    {
        public static bool On { get { return !Log.Quiet; } }

        // "virtio 00:01.0: ", which starts every line about the device: narration and errors.
        public static void Begin(PciDevice d)
        {
            Log.Write("virtio "u8);
            d.WriteBdf();
            Log.Write(": "u8);
        }

        // "  spec <section> [<linux>]" and the end of the line.
        public static void End(ReadOnlySpan<byte> spec, ReadOnlySpan<byte> linux)
        {
            Log.Write("  spec "u8);
            Log.Write(spec);
            Log.Write(" ["u8);
            Log.Write(linux);
            Log.Write(']');
            Log.Line();
        }

        // A register access in the common configuration: "iowrite8 common+0x14".
        public static void Reg(ReadOnlySpan<byte> access, uint offset)
        {
            Log.Write(' ');
            Log.Write(access);
            Log.Write(" common+"u8);
            Log.Hex(offset, 2);
        }

        public static void Status(PciDevice d, byte added, byte status, ReadOnlySpan<byte> spec, ReadOnlySpan<byte> linux)
        {
            if (!On) return;
            Begin(d);
            Log.Write("status <- "u8);
            if (added == 0) Log.Write("0 (reset)"u8);
            else
            {
                VirtioStatus.Print(added);
                Log.Write(" ("u8);
                Log.Hex(status, 2);
                Log.Write(')');
            }
            Reg("iowrite8"u8, VirtioPciRegs.VIRTIO_PCI_COMMON_STATUS);
            End(spec, linux);
        }
    }
}
