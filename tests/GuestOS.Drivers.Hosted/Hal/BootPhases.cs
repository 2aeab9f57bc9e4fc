using System.Collections.Generic;
using GuestOS.Drivers;

namespace GuestOS.Hal
{
    // HAL contract: when each boot phase ended (kernel/hal/BootPhases.cs). Hosted world: the
    // phases the drivers marked, in order, each with the position in IoBus.Trace it was marked
    // at, so that tests see which accesses fell into which phase. First mark of a phase only.
    public static class BootPhases
    {
        public static readonly List<(BootPhase Phase, int TraceIndex)> Marks = new List<(BootPhase, int)>();

        public static void Mark(BootPhase phase)
        {
            foreach (var m in Marks) if (m.Phase == phase) return;
            Marks.Add((phase, Hosted.IoBus.Trace.Count));
        }

        public static void Reset() { Marks.Clear(); }
    }
}
