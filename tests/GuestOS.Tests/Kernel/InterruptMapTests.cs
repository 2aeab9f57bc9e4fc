using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Text;
using GuestOS.Kernel.Boot;
using Xunit;

namespace GuestOS.Tests.Kernel;

// The kernel's device tree reader and interrupt-map decoder (kernel/boot/DeviceTree.cs,
// InterruptMap.cs) on flattened trees built here: QEMU virt's PCIe map (hw/arm/virt.c
// create_pcie_irq_map), a parent with no #address-cells, an inherited interrupt-parent, and
// malformed maps, which must be refused with a reason.
public unsafe class InterruptMapTests : IDisposable
{
    // ---- a tiny FDT writer (Devicetree Specification v0.4, chapter 5) -----------------------
    private sealed class Node(string name)
    {
        public readonly string Name = name;
        public readonly List<(string Name, byte[] Value)> Props = [];
        public readonly List<Node> Children = [];
        public Node Prop(string n, params uint[] cells)
        {
            var v = new byte[cells.Length * 4];
            for (int i = 0; i < cells.Length; i++) { v[i * 4] = (byte)(cells[i] >> 24); v[i * 4 + 1] = (byte)(cells[i] >> 16); v[i * 4 + 2] = (byte)(cells[i] >> 8); v[i * 4 + 3] = (byte)cells[i]; }
            Props.Add((n, v));
            return this;
        }
        public Node Add(Node child) { Children.Add(child); return this; }
    }

    private IntPtr blob;

    private void Load(Node root)
    {
        var structs = new List<byte>();
        var strings = new List<byte>();
        void Be(uint v) { structs.Add((byte)(v >> 24)); structs.Add((byte)(v >> 16)); structs.Add((byte)(v >> 8)); structs.Add((byte)v); }
        void Pad() { while (structs.Count % 4 != 0) structs.Add(0); }
        void Emit(Node n)
        {
            Be(1); structs.AddRange(Encoding.ASCII.GetBytes(n.Name)); structs.Add(0); Pad();
            foreach (var (name, value) in n.Props)
            {
                Be(3); Be((uint)value.Length); Be((uint)strings.Count);
                strings.AddRange(Encoding.ASCII.GetBytes(name)); strings.Add(0);
                structs.AddRange(value); Pad();
            }
            foreach (var c in n.Children) Emit(c);
            Be(2);
        }
        Emit(root);
        Be(9);
        int structOffset = 40 + 16, stringsOffset = structOffset + structs.Count, total = stringsOffset + strings.Count;
        var image = new byte[total];
        void Put(int at, uint v) { image[at] = (byte)(v >> 24); image[at + 1] = (byte)(v >> 16); image[at + 2] = (byte)(v >> 8); image[at + 3] = (byte)v; }
        Put(0, 0xd00dfeed); Put(4, (uint)total); Put(8, (uint)structOffset); Put(12, (uint)stringsOffset); Put(16, 40);
        Put(20, 17); Put(24, 16); Put(32, (uint)strings.Count); Put(36, (uint)structs.Count);
        structs.CopyTo(image, structOffset);
        strings.CopyTo(image, stringsOffset);
        blob = Marshal.AllocHGlobal(total);
        Marshal.Copy(image, 0, blob, total);
        Assert.True(DeviceTree.Init((ulong)blob));
    }

    public void Dispose() { if (blob != IntPtr.Zero) Marshal.FreeHGlobal(blob); }

    private const uint GicPhandle = 0x8002;

    // QEMU virt: 4 slots x 4 pins; device d pin p -> GIC SPI 3 + (d + p - 1) % 4, level high.
    // The GIC has #address-cells 2, so each entry carries two zero parent-address cells.
    private static Node Virt(bool withMask = true, uint parentAddressCells = 2, int dropCells = 0)
    {
        var map = new List<uint>();
        for (uint dev = 0; dev < 4; dev++)
            for (uint pin = 1; pin <= 4; pin++)
            {
                map.AddRange([dev << 11, 0, 0, pin, GicPhandle]);
                for (int i = 0; i < parentAddressCells; i++) map.Add(0);
                map.AddRange([0, 3 + (dev + pin - 1) % 4, 4]);
            }
        var gic = new Node("intc@8000000").Prop("#interrupt-cells", 3).Prop("phandle", GicPhandle);
        if (parentAddressCells != 0) gic.Prop("#address-cells", parentAddressCells);
        var pcie = new Node("pcie@10000000").Prop("#address-cells", 3).Prop("#interrupt-cells", 1)
            .Prop("interrupt-map", map.GetRange(0, map.Count - dropCells).ToArray());
        if (withMask) pcie.Prop("interrupt-map-mask", 0x1800, 0, 0, 7);
        var virtio = new Node("virtio_mmio@a000000").Prop("interrupts", 0, 16, 1);
        return new Node("").Prop("interrupt-parent", GicPhandle).Add(gic).Add(pcie).Add(virtio);
    }

    private static bool Lookup(uint device, uint pin, out uint[] specifier, out string error)
    {
        DtNode pcie = DeviceTree.FindByName("pcie"u8, 0);
        uint* child = stackalloc uint[4];
        child[0] = device << 11; child[1] = 0; child[2] = 0; child[3] = pin;
        bool ok = InterruptMap.Lookup(pcie, child, 4, out DtNode parent, out byte* cells, out int count, out ReadOnlySpan<byte> why);
        error = Encoding.ASCII.GetString(why);
        specifier = new uint[count];
        for (int i = 0; i < count; i++) specifier[i] = DeviceTree.Be32(cells + i * 4);
        if (ok) Assert.Equal(DeviceTree.FindByPhandle(GicPhandle).Offset, parent.Offset);   // the GIC node
        return ok;
    }

    [Fact]
    public void Virt_map_gives_every_device_and_pin_its_spi()
    {
        Load(Virt());
        for (uint dev = 0; dev < 8; dev++)        // devices 4-7 reach the map through the mask
            for (uint pin = 1; pin <= 4; pin++)
            {
                Assert.True(Lookup(dev, pin, out var spec, out var error), error);
                Assert.Equal(new uint[] { 0, 3 + (dev + pin - 1) % 4, 4 }, spec);
            }
    }

    // Without #address-cells on the parent its unit address has no cells (Linux
    // of_irq_parse_raw); a decoder that assumed 2 would read the wrong cells and misalign.
    [Fact]
    public void A_parent_without_address_cells_has_none_in_the_map()
    {
        Load(Virt(parentAddressCells: 0));
        Assert.True(Lookup(2, 3, out var spec, out var error), error);
        Assert.Equal(new uint[] { 0, 3 + (2 + 3 - 1) % 4, 4 }, spec);
    }

    // Without a mask every bit counts: device 5 matches nothing.
    [Fact]
    public void Without_a_mask_the_device_bits_must_match_exactly()
    {
        Load(Virt(withMask: false));
        Assert.True(Lookup(1, 1, out _, out _));
        Assert.False(Lookup(5, 1, out _, out var error));
        Assert.Equal("no interrupt-map entry matches", error);
    }

    [Fact]
    public void A_map_cut_inside_an_entry_is_refused()
    {
        Load(Virt(dropCells: 2));
        Assert.False(Lookup(3, 4, out _, out var error));   // the last entry, cut short
        Assert.Equal("interrupt-map ends inside an entry", error);
    }

    [Fact]
    public void A_map_naming_an_unknown_phandle_is_refused()
    {
        var root = Virt();
        root.Children[0].Props.RemoveAll(p => p.Name == "phandle");
        Load(root);
        Assert.False(Lookup(0, 1, out _, out var error));
        Assert.Equal("an interrupt-map entry names a phandle no node has", error);
    }

    // interrupt-parent is inherited from the root (spec 2.4.1), as on QEMU virt.
    [Fact]
    public void Interrupt_parent_is_inherited_from_an_ancestor()
    {
        Load(Virt());
        Assert.Equal(GicPhandle, DeviceTree.InterruptParent(DeviceTree.FindByName("virtio_mmio"u8, 0)));
        Assert.Equal(GicPhandle, DeviceTree.InterruptParent(DeviceTree.FindByName("pcie"u8, 0)));
    }
}
