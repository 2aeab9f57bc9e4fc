using GuestOS.Tour;

namespace GuestOS.Tools.Tests.Tour;

// gdb's `bt` lines, as recorded by real tours (the fixtures), read into frames.
public class GdbFrameTests
{
    [Fact]
    public void A_frame_with_an_address_has_function_arguments_file_and_line()
    {
        var f = GdbFrame.Parse("#2  0x0000555555d9bf69 in virtio_set_status (vdev=vdev@entry=0x555557604810, val=val@entry=15 '\\017') at ../hw/virtio/virtio.c:2504")!;
        Assert.Equal(2, f.Index);
        Assert.Equal(0x0000555555d9bf69UL, f.Address);
        Assert.Equal("virtio_set_status", f.Function);
        Assert.Equal("../hw/virtio/virtio.c", f.File);
        Assert.Equal(2504, f.Line);
        Assert.Equal("15", f.Argument("val"));                   // "val=val@entry=15 '\017'"
        Assert.Equal("0x555557604810", f.Argument("vdev"));
    }

    [Fact]
    public void An_argument_known_only_on_entry_is_read_from_its_entry_value()
    {
        var f = GdbFrame.Parse("#3  memory_region_dispatch_write (mr=mr@entry=0x5555575fcf80, addr=addr@entry=20, data=<optimized out>, data@entry=15, op=op@entry=MO_8, attrs=...) at ../softmmu/memory.c:1503")!;
        Assert.Equal("15", f.Argument("data"));
        Assert.Equal("20", f.Argument("addr"));
        var g = GdbFrame.Parse("#1  virtio_pci_common_write (opaque=0x5555575fc440, addr=<optimized out>, val=15, size=<optimized out>) at ../hw/virtio/virtio-pci.c:1370")!;
        Assert.Equal("<optimized out>", g.Argument("addr"));
        Assert.Null(g.Argument("missing"));
    }

    [Fact]
    public void Inlined_frames_have_no_address_and_frames_without_debug_information_have_no_file()
    {
        var inlined = GdbFrame.Parse("#7  full_stb_mmu (env=0x555556d428d0, addr=268435476, val=15, oi=<optimized out>, retaddr=140736146178373) at ../accel/tcg/cputlb.c:2424")!;
        Assert.Null(inlined.Address);
        Assert.Equal("full_stb_mmu", inlined.Function);
        Assert.Equal("15", inlined.Argument("val"));
        Assert.Null(inlined.Argument("mask"));

        var jit = GdbFrame.Parse("#8  0x00007fffb0000145 in code_gen_buffer ()")!;
        Assert.Null(jit.File);
        Assert.Equal("0x7fffb0000145", jit.Location);
        var lib = GdbFrame.Parse("#5  0x00007ffff7b9562b in g_main_context_dispatch () from /lib/x86_64-linux-gnu/libglib-2.0.so.0")!;
        Assert.Equal("g_main_context_dispatch", lib.Function);
        Assert.Null(lib.File);
    }

    [Fact]
    public void Arguments_with_parentheses_and_strings_do_not_end_the_argument_list_early()
    {
        var f = GdbFrame.Parse("#3  object_property_set (obj=obj@entry=0x555557604810, name=name@entry=0x5555560d0106 \"realized\", v=v@entry=0x555557606430, errp=errp@entry=0x7fffffffd5f0) at ../qom/object.c:1420")!;
        Assert.Equal("object_property_set", f.Function);
        Assert.Equal(1420, f.Line);
        var t = GdbFrame.Parse("#15 cpu_loop_exec_tb (tb_exit=0x7ffff67b4804, last_tb=<synthetic pointer>, pc=<optimized out>, tb=0x7fffb7983ac0 <code_gen_buffer+127416979>, cpu=0x555556ef79e0) at ../accel/tcg/cpu-exec.c:893")!;
        Assert.Equal("cpu_loop_exec_tb", t.Function);
        Assert.Equal("../accel/tcg/cpu-exec.c", t.File);
    }

    [Fact]
    public void A_backtrace_skips_lines_that_are_not_frames()
    {
        var frames = GdbFrame.ParseBacktrace("#0  iowrite8 () at boot/aarch64/io.S:38\n#1  0x0000000040211f64 in kernel_GuestOS_Hal_Io__iowrite8 (addr=268435476, value=15 '\\017') at /r/kernel/hal/Io.cs:18\nBacktrace stopped: previous frame identical to this frame (corrupt stack?)\n");
        Assert.Equal(["iowrite8", "kernel_GuestOS_Hal_Io__iowrite8"], frames.Select(f => f.Function));
        Assert.Equal("15", frames[1].Argument("value"));
    }

    [Fact]
    public void NativeAOT_symbols_read_as_type_and_method()
    {
        Assert.Equal("VirtioPciModern.vp_modern_set_status", TourRender.CSharpName("kernel_GuestOS_Drivers_Virtio_VirtioPciModern__vp_modern_set_status"));
        Assert.Equal("iowrite8", TourRender.CSharpName("iowrite8"));
    }
}
