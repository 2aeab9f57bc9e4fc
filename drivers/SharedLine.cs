using System;

namespace GuestOS.Hal
{
    // Several handlers on one level-triggered line. PCI INTx is wired-OR and shared by design
    // (PCI 3.0 2.2.6: a line stays asserted while any function asserts it), and Linux attaches
    // each driver with request_irq(..., IRQF_SHARED, ...). Every handler runs on each interrupt;
    // one whose device did not interrupt finds nothing to do (virtio: its ISR status reads 0,
    // vp_interrupt's IRQ_NONE), and the line stays asserted until every device is acknowledged.
    // Edge lines are not shared: an edge raised while another device's is handled is lost.
    // The interrupt controllers of both worlds attach through Attach (kernel/arch/*/Interrupts.cs,
    // the hosted InterruptController).
    public sealed class SharedLine : InterruptHandler
    {
        public const int MaxHandlers = 8;
        private readonly InterruptHandler[] _handlers = new InterruptHandler[MaxHandlers];
        private int _count;

        // The line's handler once `handler` attaches with the trigger and polarity `asked`, on
        // a line configured as `line` whose handler is `current` (null: a free line, which
        // takes `handler` itself). Null when refused, with why.
        public static InterruptHandler Attach(InterruptHandler current, WiredIrq line, WiredIrq asked, InterruptHandler handler,
                                              out ReadOnlySpan<byte> why)
        {
            why = default;
            if (current == null) return handler;
            if (!line.Level || !asked.Level) { why = "it already has a handler, and an edge-triggered line is not shared"u8; return null; }
            if (line.ActiveLow != asked.ActiveLow) { why = "it already has a handler, with the other polarity"u8; return null; }
            SharedLine shared = current as SharedLine;
            if (shared == null) { shared = new SharedLine(); shared.Add(current); }
            if (shared._count == MaxHandlers) { why = "8 handlers share it already"u8; return null; }
            shared.Add(handler);
            return shared;
        }

        // Stored before it is counted: an interrupt meanwhile runs the handlers already there.
        private void Add(InterruptHandler handler)
        {
            _handlers[_count] = handler;
            _count++;
        }

        public int Count => _count;

        public override void Handle()
        {
            for (int i = 0; i < _count; i++) _handlers[i].Handle();
        }
    }
}
