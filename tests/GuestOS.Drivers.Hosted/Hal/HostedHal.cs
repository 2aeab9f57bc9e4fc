namespace GuestOS.Hal.Hosted
{
    // Puts the whole hosted HAL back to its initial state (call at the start of every test).
    public static class HostedHal
    {
        public static void Reset()
        {
            IoBus.Reset();
            IoBus.RemapFails = false;
            BarrierLog.Reset();
            DmaPool.Reset();
            VirtualTime.Reset();
            LogBuffer.Reset();
            InterruptController.Reset();
            BootPhases.Reset();
            // Narration records each step's accesses, as a kernel without `quiet` does.
            GuestOS.Drivers.Narration.IoRegions.Reset();
            GuestOS.Drivers.Narration.AccessLog.Configure(steps: true, rwmmio: false);
        }
    }
}
