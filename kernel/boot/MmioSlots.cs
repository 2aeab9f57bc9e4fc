using GuestOS.Drivers.Virtio;

namespace GuestOS.Kernel.Boot
{
    // The virtio-mmio slots a platform description gave, as Platform.VirtioMmioSlots returns
    // them: the first `count`, in ascending address order (an insertion sort: at most 32).
    internal static class MmioSlots
    {
        // More than a platform describes (QEMU virt has 32, microvm at most 24); beyond, ignored.
        internal const int Max = 32;

        internal static VirtioMmioSlot[] Sorted(VirtioMmioSlot[] found, int count)
        {
            VirtioMmioSlot[] sorted = new VirtioMmioSlot[count];
            for (int i = 0; i < count; i++)
            {
                int at = i;
                for (; at > 0 && sorted[at - 1].Phys > found[i].Phys; at--) sorted[at] = sorted[at - 1];
                sorted[at] = found[i];
            }
            return sorted;
        }
    }
}
