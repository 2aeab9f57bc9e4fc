using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using GuestOS.Drivers.Virtio;
using GuestOS.Kernel.Arch;
using Xunit;

namespace GuestOS.Tests.Kernel;

// The kernel's AML walker (kernel/arch/x86_64/Aml.cs) on DSDT bodies built here the way QEMU's
// aml-build.c encodes them: microvm's shape (hw/i386/acpi-microvm.c), multi-byte PkgLengths,
// every interrupt flag combination, and truncated or unknown input, which must stop the walk
// with a reason instead of reading past the end or inventing a device.
public unsafe class AmlTests
{
    // ---- a tiny AML encoder (ACPI 6.5 chapter 20) ------------------------------------------
    private static byte[] Cat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();
    private static byte[] Seg(string name) => Encoding.ASCII.GetBytes(name.PadRight(4, '_'));

    private static byte[] PkgLength(int payload)
    {
        // The length includes the PkgLength bytes themselves.
        if (payload + 1 <= 0x3F) return [(byte)(payload + 1)];
        if (payload + 2 <= 0xFFF) { int n = payload + 2; return [(byte)(0x40 | (n & 0xF)), (byte)(n >> 4)]; }
        int m = payload + 3;
        return [(byte)(0x80 | (m & 0xF)), (byte)(m >> 4), (byte)(m >> 12)];
    }

    private static byte[] Pkg(byte[] op, byte[] payload) => Cat(op, PkgLength(payload.Length), payload);
    private static byte[] Scope(string name, params byte[][] terms) => Pkg([0x10], Cat(name == "\\" ? [0x5C, 0x00] : Seg(name), Cat(terms)));
    private static byte[] Device(string name, params byte[][] terms) => Pkg([0x5B, 0x82], Cat(Seg(name), Cat(terms)));
    private static byte[] Method(string name, byte[] body) => Pkg([0x14], Cat(Seg(name), [0x01], body));
    private static byte[] Name(string name, byte[] data) => Cat([0x08], Seg(name), data);
    private static byte[] Str(string s) => Cat([0x0D], Encoding.ASCII.GetBytes(s), [0]);
    private static byte[] Byte(byte b) => [0x0A, b];
    private static byte[] Buffer(byte[] bytes) => Pkg([0x11], Cat(Byte((byte)bytes.Length), bytes));
    private static byte[] U32(uint v) => BitConverter.GetBytes(v);

    private static byte[] Memory32Fixed(uint address, uint size) => Cat([0x86, 9, 0, 1], U32(address), U32(size));
    private static byte[] Interrupt(byte flags, uint gsi) => Cat([0x89, 6, 0, flags, 1], U32(gsi));
    private static readonly byte[] EndTag = [0x79, 0];
    private static byte[] Crs(params byte[][] descriptors) => Buffer(Cat(Cat(descriptors), EndTag));

    // aml_interrupt(AML_CONSUMER, AML_LEVEL, AML_ACTIVE_HIGH, AML_EXCLUSIVE): flags 0x01.
    private static byte[] VirtioDevice(int index, uint gsi, byte flags = 0x01) => Device($"VR{index:00}",
        Name("_HID", Str("LNRO0005")), Name("_UID", Byte((byte)index)), Name("_CCA", [0x01]),
        Name("_CRS", Crs(Memory32Fixed(0xFEB00000u + 512u * (uint)index, 512), Interrupt(flags, gsi))));

    // What microvm's DSDT holds around its virtio devices: fw_cfg, COM1 (EisaId _HID, an
    // integer), a GED with a Method, an OperationRegion + Field, a Mutex (pc and q35 have them
    // in their hotplug devices) and an Event, and \_S5 as a Package.
    private static byte[] MicrovmLike(params byte[][] virtio) => Cat(
        Scope("_SB",
            Device("FWCF", Name("_HID", Str("QEMU0002")), Name("_STA", Byte(0x0B)),
                   Name("_CRS", Crs([0x47, 0x01, 0x10, 0x05, 0x10, 0x05, 0x01, 0x0C]))),
            Device("COM1", Name("_HID", [0x0C, 0x41, 0xD0, 0x05, 0x01]), Name("_UID", [0x01]),
                   Name("_CRS", Crs([0x47, 0x01, 0xF8, 0x03, 0xF8, 0x03, 0x00, 0x08], [0x22, 0x10, 0x00]))),
            Device("GED_", Name("_HID", Str("ACPI0013")),
                   Cat([0x5B, 0x80], Seg("EREG"), [0x00], [0x0C], U32(0xFEA00000), Byte(4)),
                   Pkg([0x5B, 0x81], Cat(Seg("EREG"), [0x01], Seg("ESEL"), [0x20])),
                   Method("_EVT", [0xA4, 0x00]),
                   Cat([0x5B, 0x01], Seg("CPLK"), [0x00]), Cat([0x5B, 0x02], Seg("EVNT"))),
            Cat(virtio)),
        Scope("\\", Name("_S5", Pkg([0x12], [0x04, 0x0A, 0x05, 0x00, 0x00, 0x00]))));

    private static (int Count, VirtioMmioSlot[] Slots) Walk(byte[] body, int capacity = 32)
    {
        var slots = new VirtioMmioSlot[capacity];
        fixed (byte* p = body)
        {
            int count = Aml.FindDevices(p, body.Length, "LNRO0005"u8, slots);
            return (count, slots);
        }
    }

    [Fact]
    public void Finds_microvm_virtio_devices_with_memory_and_level_high_interrupt()
    {
        var (count, slots) = Walk(MicrovmLike(VirtioDevice(23, 47), VirtioDevice(22, 46)));
        Assert.Equal(0, Aml.ProblemCode);
        Assert.Equal(2, count);
        Assert.Equal(0xFEB02E00UL, slots[0].Phys);
        Assert.Equal(512UL, slots[0].Size);
        Assert.True(slots[0].Irq.Valid);
        Assert.Equal(47u, slots[0].Irq.Number);
        Assert.True(slots[0].Irq.Level);
        Assert.False(slots[0].Irq.ActiveLow);
        Assert.Equal(0xFEB02C00UL, slots[1].Phys);
        Assert.Equal(46u, slots[1].Irq.Number);
    }

    // Extended Interrupt flags (ACPI 6.5 6.4.3.6): bit 1 = edge, bit 2 = active low.
    [Theory]
    [InlineData(0x01, true, false)]
    [InlineData(0x03, false, false)]
    [InlineData(0x05, true, true)]
    [InlineData(0x07, false, true)]
    public void Decodes_trigger_and_polarity(byte flags, bool level, bool activeLow)
    {
        var (count, slots) = Walk(MicrovmLike(VirtioDevice(0, 16, flags)));
        Assert.Equal(1, count);
        Assert.Equal(level, slots[0].Irq.Level);
        Assert.Equal(activeLow, slots[0].Irq.ActiveLow);
    }

    // A device body over 63 bytes needs a two-byte PkgLength, a scope over 4095 a three-byte one.
    [Fact]
    public void Follows_multi_byte_pkg_lengths()
    {
        byte[] padding = Name("PADS", Str(new string('x', 5000)));
        var (count, slots) = Walk(Scope("_SB", padding, VirtioDevice(3, 19), Device("LONG", padding)));
        Assert.Equal(0, Aml.ProblemCode);
        Assert.Equal(1, count);
        Assert.Equal(0xFEB00600UL, slots[0].Phys);
    }

    // Only a string _HID equal to "LNRO0005" counts; a device without Memory32Fixed does not.
    [Fact]
    public void Ignores_other_hids_and_devices_without_memory()
    {
        byte[] otherHid = Device("VR01", Name("_HID", Str("LNRO0006")), Name("_CRS", Crs(Memory32Fixed(0x1000, 512), Interrupt(1, 5))));
        byte[] prefixHid = Device("VR02", Name("_HID", Str("LNRO000")), Name("_CRS", Crs(Memory32Fixed(0x2000, 512), Interrupt(1, 6))));
        byte[] noMemory = Device("VR03", Name("_HID", Str("LNRO0005")), Name("_CRS", Crs(Interrupt(1, 7))));
        var (count, _) = Walk(Scope("_SB", otherHid, prefixHid, noMemory));
        Assert.Equal(0, count);
        Assert.Equal(0, Aml.ProblemCode);
    }

    // An opcode it cannot step over (here Store, 0x70) stops that term list with its offset;
    // the devices before it are still found.
    [Fact]
    public void Stops_at_an_opcode_it_cannot_step_over()
    {
        byte[] store = [0x70, 0x01, 0x60], after = VirtioDevice(2, 18);
        byte[] body = Scope("_SB", VirtioDevice(1, 17), store, after);
        var (count, slots) = Walk(body);
        Assert.Equal(Aml.UnknownOpcode, Aml.ProblemCode);
        Assert.Equal(body.Length - after.Length - store.Length, Aml.ProblemAt);
        Assert.Equal(1, count);
        Assert.Equal(0xFEB00200UL, slots[0].Phys);
    }

    // Every prefix of a valid table: cut anywhere inside Scope (\_SB) (which holds the device),
    // the walk stops with a reason and reports nothing; cut after it, the device is whole (and
    // cut exactly between the two scopes, the shorter table is a valid one).
    [Fact]
    public void Every_truncation_is_refused_cleanly()
    {
        byte[] full = MicrovmLike(VirtioDevice(23, 47));
        int scopeEnd = full.Length - Scope("\\", Name("_S5", Pkg([0x12], [0x04, 0x0A, 0x05, 0x00, 0x00, 0x00]))).Length;
        int literalEnd = IndexOf(full, Str("LNRO0005")) + Str("LNRO0005").Length;
        for (int length = 1; length < full.Length; length++)
        {
            var (count, slots) = Walk(full[..length]);
            bool holdsHid = length >= literalEnd;   // before that the walk is skipped (below)
            if (length != scopeEnd && holdsHid) Assert.True(Aml.ProblemCode != 0, $"length {length}: a cut table walked without a problem");
            if (length < scopeEnd) Assert.True(count == 0, $"length {length}: a device from a cut scope");
            else Assert.True(count == 1 && slots[0].Phys == 0xFEB02E00 && slots[0].Irq.Number == 47, $"length {length}: the whole device was lost");
        }
    }

    // q35's DSDT has no virtio-mmio, and the walk of its ~8 KiB of AML was the costliest part
    // of the firmware phase before DRIVER_OK: a table without the _HID string is not walked at
    // all, so even an opcode the walker cannot step over is never reached.
    [Fact]
    public void A_table_without_the_hid_string_is_not_walked()
    {
        byte[] store = [0x70, 0x01, 0x60];
        var (count, _) = Walk(Scope("_SB", store, Device("COM1", Name("_HID", Str("PNP0501")))));
        Assert.Equal(0, count);
        Assert.Equal(0, Aml.ProblemCode);
        Assert.Equal(-1, Aml.ProblemAt);
    }

    // The string alone decides whether to walk, not where it sits: one inside a Method body is
    // no device, and the walk that it starts still reports none (and its own problems).
    [Fact]
    public void The_hid_string_outside_a_device_starts_a_walk_that_finds_nothing()
    {
        byte[] store = [0x70, 0x01, 0x60];
        var (count, _) = Walk(Scope("_SB", Method("_DSM", Cat([0xA4], Str("LNRO0005"))), store));
        Assert.Equal(0, count);
        Assert.Equal(Aml.UnknownOpcode, Aml.ProblemCode);
    }

    private static int IndexOf(byte[] haystack, byte[] needle)
    {
        for (int i = 0; i + needle.Length <= haystack.Length; i++)
            if (haystack.AsSpan(i, needle.Length).SequenceEqual(needle)) return i;
        return -1;
    }

    // A Buffer whose resource descriptor claims more bytes than the buffer has.
    [Fact]
    public void A_descriptor_longer_than_its_buffer_is_refused()
    {
        byte[] lying = [0x86, 0x40, 0x00, 1, 0, 0, 0, 0, 0, 0, 0, 0];
        byte[] device = Device("VR00", Name("_HID", Str("LNRO0005")), Name("_CRS", Buffer(lying)));
        var (count, _) = Walk(Scope("_SB", device));
        Assert.Equal(0, count);
        Assert.Equal(Aml.DescriptorPastEnd, Aml.ProblemCode);
    }

    // More devices than the caller's array holds: all are counted, only the first are stored.
    [Fact]
    public void Counts_devices_beyond_the_array()
    {
        var devices = Enumerable.Range(0, 5).Select(i => VirtioDevice(i, (uint)(16 + i))).ToArray();
        var (count, slots) = Walk(Scope("_SB", devices), capacity: 2);
        Assert.Equal(5, count);
        Assert.Equal(0xFEB00200UL, slots[1].Phys);
    }
}
