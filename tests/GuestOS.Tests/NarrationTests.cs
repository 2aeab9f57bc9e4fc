extern alias runner;

using System;
using System.Collections.Generic;
using System.Linq;
using GuestOS.Drivers.Rng;
using GuestOS.Hal.Hosted;
using GuestOS.Tests.Simulation;
using Xunit;
using NarratedAccess = runner::GuestOS.Runner.NarratedAccess;
using NarrationLine = runner::GuestOS.Runner.NarrationLine;
using Step = runner::GuestOS.Drivers.Narration.Step;

namespace GuestOS.Tests
{
    // The narration is generated from the accesses that executed: for a whole bring-up, the
    // accesses the narrated lines list (read through the tools' parser, NarrationLine) are the
    // register trace the simulated bus recorded, in the same order with the same values, from
    // the first step (pci_enable) to the first kick. A step with more accesses than a line
    // lists gives their count, which must match too.
    public class NarrationTests : HalTest
    {
        public static TheoryData<bool, bool, bool> Shapes => new()
        {
            // packed ring, polling, x86 (configuration through ports 0xCF8/0xCFC)
            { false, false, false },
            { true, false, false },
            { false, true, false },
            { true, true, true },
        };

        [Theory]
        [MemberData(nameof(Shapes))]
        public void The_narrated_accesses_are_the_register_trace(bool packed, bool polling, bool x86)
        {
            VirtioRng.ProbePolling = polling;
            var dev = new SimVirtioDevice(new SimVirtioOptions { Features = new SimVirtioOptions().Features | (packed ? 1UL << 34 : 0) });
            UpRng(dev, x86);
            var lines = NarrationLine.In(LogText.Split('\n'));
            Assert.Equal(packed, LogText.Contains("RING_PACKED"));
            Assert.Equal(polling ? "polling (no interrupts)" : "MSI-X, a vector per queue plus one for configuration changes, 2 in the table; configuration vector read back",
                         lines.Single(l => l.Step == (polling ? Step.Polling : Step.Interrupts)).Text);
            string mismatch = Compare(NarratedUpToFirstKick(lines), IoBus.Trace);
            Assert.True(mismatch == null, mismatch);
        }

        // The comparison itself must be able to fail: drop, change or reorder one access of a
        // real bring-up's narration and it reports where.
        [Theory]
        [InlineData("dropped")]
        [InlineData("value changed")]
        [InlineData("register changed")]
        [InlineData("swapped")]
        public void A_narration_that_differs_from_the_trace_is_caught(string fault)
        {
            UpRng(new SimVirtioDevice(), x86: false);
            var narrated = NarratedUpToFirstKick(NarrationLine.In(LogText.Split('\n'))).ToList();
            Assert.Null(Compare(narrated, IoBus.Trace));
            int i = narrated.FindIndex(a => a != null && a.Register.StartsWith("common+0x14"));   // a device_status access
            switch (fault)
            {
                case "dropped": narrated.RemoveAt(i); break;
                case "value changed": narrated[i] = narrated[i] with { Value = narrated[i].Value ^ 1 }; break;
                case "register changed": narrated[i] = narrated[i] with { Register = "common+0x15 config_generation" }; break;
                case "swapped": (narrated[i], narrated[i + 1]) = (narrated[i + 1], narrated[i]); break;
            }
            Assert.NotNull(Compare(narrated, IoBus.Trace));
        }

        // Every access the lines list, in order, up to and including the first kick's; a line
        // that gives only a count contributes that many unknown accesses (null).
        private static IEnumerable<NarratedAccess> NarratedUpToFirstKick(IReadOnlyList<NarrationLine> lines)
        {
            Assert.Equal(Step.PciEnable, lines[0].Step);
            foreach (var line in lines)
            {
                if (line.AccessesListed) foreach (var a in line.Accesses) yield return a;
                else for (int k = 0; k < line.AccessCount; k++) yield return null;
                if (line.Step == Step.Kick) yield break;
            }
            Assert.Fail("no kick was narrated");
        }

        // null when the narrated accesses are a contiguous stretch of the trace; otherwise where
        // the longest partial match breaks.
        private static string Compare(IEnumerable<NarratedAccess> narratedAccesses, IReadOnlyList<IoAccess> trace)
        {
            var narrated = narratedAccesses.ToList();
            int best = -1, bestStart = -1;
            for (int start = 0; start + narrated.Count <= trace.Count; start++)
            {
                int k = 0;
                while (k < narrated.Count && (narrated[k] == null || Same(narrated[k], trace[start + k]))) k++;
                if (k == narrated.Count) return null;
                if (k > best) { best = k; bestStart = start; }
            }
            return best < 0 ? "the trace is shorter than the narration"
                 : $"narrated access {best} is {narrated[best]}, the trace has {trace[bestStart + best]}";
        }

        // Same operation, width, value and register: the offset the name gives within its
        // page ("common+0x14", "config 00:01.0+0x04", "msix+0x1c"), or the port.
        private static bool Same(NarratedAccess n, IoAccess t)
        {
            bool port = t.Space == IoSpace.Port;
            string op = port ? (t.Dir == IoDir.Write ? "out" : "in") + "?bw?l"[t.Width]
                             : (t.Dir == IoDir.Write ? "iowrite" : "ioread") + t.Width * 8;
            if (n.Op != op || n.Value != t.Value) return false;
            string where = n.Register.Split(' ')[0] == "config" ? n.Register.Split(' ')[1] : n.Register.Split(' ')[0];
            if (port) return where == "port" && n.Register.StartsWith($"port 0x{t.Addr:x}");
            int plus = where.LastIndexOf("+0x", StringComparison.Ordinal);
            return plus >= 0 && Convert.ToUInt64(where[(plus + 3)..], 16) == (t.Addr & 0xFFF);
        }
    }
}
