namespace GuestOS.Hal
{
    // HAL contract: the CPU while a driver waits. Hosted: lets the simulation progress.
    public static class Cpu
    {
        public static void Relax()
        {
            Hosted.VirtualTime.Relaxes++;
            Hosted.VirtualTime.Ns += Hosted.VirtualTime.RelaxNs;
            Hosted.VirtualTime.Tick();
        }
    }
}
