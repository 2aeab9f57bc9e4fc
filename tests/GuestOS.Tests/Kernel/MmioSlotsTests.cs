using System.Linq;
using GuestOS.Drivers.Virtio;
using GuestOS.Kernel.Boot;
using Xunit;

namespace GuestOS.Tests.Kernel;

// Platform.VirtioMmioSlots returns the slots in ascending address order whatever order the
// device tree or DSDT listed them in (QEMU happens to list them ascending on virt, so the
// boot tests alone could not tell a missing sort).
public class MmioSlotsTests
{
    [Fact]
    public void Slots_come_out_in_ascending_address_order_and_only_the_found_ones()
    {
        ulong[] order = [0xa000400, 0xa000000, 0xa003e00, 0xa000200, 0xdead0000];
        var found = new VirtioMmioSlot[order.Length];
        for (int i = 0; i < order.Length; i++) { found[i].Phys = order[i]; found[i].Irq.Number = (uint)i; }
        VirtioMmioSlot[] sorted = MmioSlots.Sorted(found, 4);
        Assert.Equal(new ulong[] { 0xa000000, 0xa000200, 0xa000400, 0xa003e00 }, sorted.Select(s => s.Phys));
        Assert.Equal(new uint[] { 1, 3, 0, 2 }, sorted.Select(s => s.Irq.Number));   // each slot keeps its own line
    }
}
