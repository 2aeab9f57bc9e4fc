using System.Runtime;
using System.Runtime.CompilerServices;

namespace GuestOS.Hal
{
    // Linux's barriers, each an assembly function (boot/<arch>/io.S) so that the call is also
    // a compiler barrier. See each architecture's io.S for the instruction behind each name.
    public static class Barrier
    {
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "arch_mb")] public static extern void mb();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "arch_rmb")] public static extern void rmb();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "arch_wmb")] public static extern void wmb();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "arch_dma_rmb")] public static extern void dma_rmb();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "arch_dma_wmb")] public static extern void dma_wmb();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "arch_virt_mb")] public static extern void virt_mb();
    }
}
