using System;
using GuestOS.Hal;
using Xunit;

namespace GuestOS.Tests
{
    // Which attachments share a wired line (SharedLine.Attach): level with level, same polarity,
    // at most 8; each interrupt runs every handler attached, in order.
    public class SharedLineTests
    {
        private sealed class Count : InterruptHandler
        {
            public int N;
            public override void Handle() => N++;
        }

        private static WiredIrq Line(bool level, bool activeLow = false) => new WiredIrq { Number = 10, Level = level, ActiveLow = activeLow, Valid = true };

        private static string Why(InterruptHandler current, WiredIrq line, WiredIrq asked)
        {
            Assert.Null(SharedLine.Attach(current, line, asked, new Count(), out ReadOnlySpan<byte> why));
            return System.Text.Encoding.ASCII.GetString(why);
        }

        [Fact]
        public void A_free_line_takes_the_handler_itself()
        {
            var h = new Count();
            Assert.Same(h, SharedLine.Attach(null, Line(false), Line(false), h, out _));
        }

        [Fact]
        public void Level_handlers_share_and_each_runs_on_every_interrupt()
        {
            Count a = new(), b = new(), c = new();
            var line = SharedLine.Attach(SharedLine.Attach(a, Line(true), Line(true), b, out _), Line(true), Line(true), c, out _);
            var shared = Assert.IsType<SharedLine>(line);
            Assert.Equal(3, shared.Count);
            shared.Handle();
            Assert.Equal((1, 1, 1), (a.N, b.N, c.N));
        }

        [Fact]
        public void Edge_lines_other_polarities_and_a_ninth_handler_are_refused()
        {
            Assert.Equal("it already has a handler, and an edge-triggered line is not shared", Why(new Count(), Line(false), Line(false)));
            Assert.Equal("it already has a handler, and an edge-triggered line is not shared", Why(new Count(), Line(true), Line(false)));
            Assert.Equal("it already has a handler, with the other polarity", Why(new Count(), Line(true), Line(true, activeLow: true)));
            InterruptHandler line = new Count();
            for (int i = 1; i < SharedLine.MaxHandlers; i++) line = SharedLine.Attach(line, Line(true), Line(true), new Count(), out _);
            Assert.Equal(SharedLine.MaxHandlers, ((SharedLine)line).Count);
            Assert.Equal("8 handlers share it already", Why(line, Line(true), Line(true)));
        }
    }
}
