using GuestOS.Hal;
using GuestOS.Kernel.Boot;

namespace GuestOS.Kernel
{
    // What the kernel does after boot when no test= is given.
    internal static class Workload
    {
        internal static void Run(ref BootInfo boot)
        {
            Log.Write("boot complete"); Log.Line();
            Verdict.Pass();
        }
    }
}
