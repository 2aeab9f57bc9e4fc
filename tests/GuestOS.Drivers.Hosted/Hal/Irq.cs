using System;
using System.Collections.Generic;

namespace GuestOS.Hal
{
    // HAL contract: interrupts. Hosted: an interrupt controller in software. Simulated devices
    // raise MSIs through Hosted.InterruptController.Raise; handlers run when the "CPU" has
    // interrupts enabled, or when the driver sleeps in WaitLocalDisabled, exactly the points
    // where the kernel can take them. A sleep that reaches its deadline ends as the kernel's
    // wake-up timer ends it.
    public static class Irq
    {
        public static ulong Taken => Hosted.InterruptController.Taken;

        public static bool AllocateMsi(ushort requesterId, InterruptHandler handler, out MsiMessage message)
            => Hosted.InterruptController.Allocate(requesterId, handler, out message);

        public static bool AttachWired(WiredIrq irq, InterruptHandler handler)
            => Hosted.InterruptController.AttachWired(irq, handler);

        public static bool RoutePciIntx(ushort requesterId, byte pin, byte line, out WiredIrq irq)
            => Hosted.InterruptController.RoutePciIntx(requesterId, pin, line, out irq);

        public static void DisableLocal() => Hosted.InterruptController.DisableLocal();
        public static void EnableLocal() => Hosted.InterruptController.EnableLocal();
        public static void WaitLocalDisabled(ulong deadlineNs) => Hosted.InterruptController.WaitLocalDisabled(deadlineNs);
    }
}

namespace GuestOS.Hal.Hosted
{
    public static class InterruptController
    {
        public const ulong Doorbell = 0xFEE00000;   // like x86's MSI address window
        public const uint FirstVector = 0x30;

        // Knob: how many MSIs can still be allocated (the platform runs out of vectors).
        public static int VectorsLeft;
        // Bound on a sleep with nothing pending: a driver that sleeps when no interrupt can come
        // (a lost wake-up) sleeps until its deadline on metal (10 s by default); here the test
        // fails with this message instead. 10 ms of virtual time: less than the tests' 20 ms
        // read timeout, so a lost wake-up is reported as one, not as a timeout; a test of the
        // deadline itself uses a shorter timeout.
        public static int MaxIdleTicks;

        public static ulong Taken;
        public static ulong TimerWakeups;       // sleeps the wake-up timer ended (counted in Taken too)
        public static bool LocalEnabled;
        public static readonly List<(ushort RequesterId, uint Vector)> Allocations = new List<(ushort, uint)>();
        public static readonly List<string> Errors = new List<string>();
        private static readonly Dictionary<uint, InterruptHandler> Handlers = new Dictionary<uint, InterruptHandler>();
        private static readonly Queue<uint> Pending = new Queue<uint>();
        private static bool _inHandler;
        private static int _levelRepeats;

        public static void Reset()
        {
            VectorsLeft = 64;
            MaxIdleTicks = 10000;
            Taken = 0;
            TimerWakeups = 0;
            LocalEnabled = true;
            Allocations.Clear();
            Errors.Clear();
            Handlers.Clear();
            Pending.Clear();
            _inHandler = false;
            WiredAvailable = true;
            WiredLines.Clear();
            Asserted.Clear();
        }

        internal static bool Allocate(ushort requesterId, InterruptHandler handler, out MsiMessage message)
        {
            message = default;
            if (VectorsLeft <= 0) return false;
            VectorsLeft--;
            uint vector = FirstVector + (uint)Allocations.Count;
            Allocations.Add((requesterId, vector));
            Handlers[vector] = handler;
            message.Address = Doorbell;
            message.Data = vector;
            return true;
        }

        // ---- wired lines (IOAPIC / GIC SPI) ------------------------------------------------
        // Knob: whether the platform routes wired interrupts at all.
        public static bool WiredAvailable;
        public static readonly Dictionary<uint, WiredIrq> WiredLines = new Dictionary<uint, WiredIrq>();
        private static readonly Dictionary<uint, HashSet<object>> Asserted = new Dictionary<uint, HashSet<object>>();   // by line: who asserts it
        private const uint WiredVectorBase = 0x10000;   // keeps wired lines apart from MSI vectors

        // As the kernel's controllers: a free line takes the handler, a level line that has one
        // is shared (SharedLine), anything else is refused.
        internal static bool AttachWired(WiredIrq irq, InterruptHandler handler)
        {
            if (!WiredAvailable || !irq.Valid || handler == null) return false;
            Handlers.TryGetValue(WiredVectorBase + irq.Number, out InterruptHandler current);
            InterruptHandler attached = SharedLine.Attach(current, current == null ? irq : WiredLines[irq.Number], irq, handler, out _);
            if (attached == null) return false;
            if (current == null) WiredLines[irq.Number] = irq;
            Handlers[WiredVectorBase + irq.Number] = attached;
            return true;
        }

        // The simulated platform's routing: the interrupt line firmware wrote is the GSI (as on
        // pc and q35 without overrides), level-triggered like every PCI INTx.
        internal static bool RoutePciIntx(ushort requesterId, byte pin, byte line, out WiredIrq irq)
        {
            irq = default;
            if (!WiredAvailable || pin < 1 || pin > 4 || line == 0 || line == 0xFF) return false;
            irq.Number = line;
            irq.Level = true;
            irq.Valid = true;
            return true;
        }

        // A device drives its line: an edge line interrupts once per rising edge; a level line
        // interrupts while asserted, so a handler that does not acknowledge the device is
        // called again (and reported after 100 times, which on metal is an interrupt storm).
        // Lines are wired-OR: asserted while any device (`source`) asserts it, as PCI INTx.
        public static void SetLine(uint number, bool asserted, object source)
        {
            bool was = Asserted.ContainsKey(number);
            if (!Asserted.TryGetValue(number, out HashSet<object> by)) Asserted[number] = by = new HashSet<object>();
            if (asserted) by.Add(source); else by.Remove(source);
            if (by.Count == 0) Asserted.Remove(number);
            if (!asserted || was || !Handlers.ContainsKey(WiredVectorBase + number)) return;
            Pending.Enqueue(WiredVectorBase + number);
            if (LocalEnabled && !_inHandler) DeliverPending();
        }

        // A device's MSI write arriving at the interrupt controller.
        public static void Raise(ulong address, uint data)
        {
            if (address != Doorbell || !Handlers.ContainsKey(data))
            {
                Errors.Add($"MSI write 0x{data:x} to 0x{address:x} matches no allocated vector");
                return;
            }
            Pending.Enqueue(data);
            if (LocalEnabled && !_inHandler) DeliverPending();
        }

        internal static void DisableLocal() { LocalEnabled = false; }

        internal static void EnableLocal()
        {
            LocalEnabled = true;
            DeliverPending();
        }

        // hlt/wfi with interrupts masked: sleep until one is pending or the deadline, take it,
        // masked again.
        internal static void WaitLocalDisabled(ulong deadlineNs)
        {
            if (LocalEnabled) throw new InvalidOperationException("Irq.WaitLocalDisabled called with interrupts enabled: the wake-up can be lost");
            int idle = 0;
            while (Pending.Count == 0)
            {
                if (VirtualTime.Ns >= deadlineNs)
                {
                    if (idle > 0) { TimerWakeups++; Taken++; }   // the kernel arms no timer for a past deadline
                    return;
                }
                if (++idle > MaxIdleTicks)
                    throw new InvalidOperationException($"lost wake-up: slept {MaxIdleTicks} ticks and no interrupt is pending");
                VirtualTime.Ns += VirtualTime.RelaxNs;
                VirtualTime.Tick();
            }
            DeliverPending();
        }

        private static void DeliverPending()
        {
            _inHandler = true;
            while (Pending.Count > 0)
            {
                uint v = Pending.Dequeue();
                Taken++;
                Handlers[v].Handle();
                if (v >= WiredVectorBase && Asserted.ContainsKey(v - WiredVectorBase) && WiredLines[v - WiredVectorBase].Level)
                {
                    if (++_levelRepeats > 100) { Errors.Add($"level line {v - WiredVectorBase} still asserted after 100 handler runs: the device is never acknowledged"); Asserted.Remove(v - WiredVectorBase); }
                    else Pending.Enqueue(v);
                }
                else _levelRepeats = 0;
            }
            _inHandler = false;
        }
    }
}
