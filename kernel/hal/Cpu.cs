using GuestOS.Kernel.Arch;

namespace GuestOS.Hal
{
    // The CPU while a driver polls (Linux: cpu_relax): pause on x86, yield on arm64.
    public static class Cpu
    {
        public static void Relax() => Machine.Relax();
    }
}
