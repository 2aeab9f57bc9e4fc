// A hostile guest on one socket of a backend that serves others too (issue 16, many guests),
// shared by tests/Kernel.Tests (ManyGuestsTests) and tools/bench (many-guests), which link this
// folder's files. One round does everything the backend must survive without the other guests
// noticing: ring addresses outside the memory table, a descriptor outside guest RAM, a storm of
// resets (GET_VRING_BASE then the whole set-up again, as QEMU does on every guest reset, with a
// buffer in flight each time) and a disconnect in the middle of a stream. Recover() then
// re-initialises properly, and the guest must be served again.

using System;
using System.Diagnostics;
using VhostUserRng.Protocol;
using Xunit;

namespace VhostUser.Tests.Frontend;

public sealed class HostileStorm
{
    /// <summary>Resets per round: each one a stop and a complete new set-up.</summary>
    public const int ResetsPerRound = 20;

    private readonly string _socketPath;

    public int Rounds { get; private set; }
    public int RingsBroken { get; private set; }
    public int Resets { get; private set; }
    public int Disconnects { get; private set; }

    public HostileStorm(string socketPath) => _socketPath = socketPath;

    public void Round()
    {
        using (var guest = Connect())
        {
            // Ring addresses outside the memory table: refused (ack 1) and the ring is broken.
            var addr = guest.Driver.Addr();
            ulong outside = GuestRam.QemuMappingBase + (1UL << 30);
            Assert.NotEqual(0UL, guest.DriverOkWithAddr(addr with { DescUserAddr = outside }));
            WaitForErr(guest, "ring addresses outside the memory table");
            Reset(guest);
            Assert.Equal(64u, guest.PostAndWait(TestGuest.BufferArea, 64).Len);   // served again

            // A descriptor outside guest RAM: the ring breaks while serving.
            guest.Driver.WriteDesc(guest.NextSlot, 1UL << 32, 64);
            guest.Driver.Publish(guest.NextSlot);
            guest.Kick();
            WaitForErr(guest, "a descriptor outside guest RAM");

            // The reset storm, a buffer in flight at every reset.
            for (int i = 0; i < ResetsPerRound; i++)
            {
                Reset(guest);
                guest.Driver.WriteDesc(guest.NextSlot, TestGuest.BufferArea, 64);
                guest.Driver.Publish(guest.NextSlot);
                guest.Kick();
            }
            Reset(guest);
            Assert.Equal(64u, guest.PostAndWait(TestGuest.BufferArea, 64).Len);

            // Gone in the middle of a stream: buffers posted and kicked, then the socket closes.
            for (int i = 0; i < 2; i++)
            {
                guest.Driver.WriteDesc(guest.NextSlot, TestGuest.BufferArea + 64UL * (ulong)i, 64);
                guest.Driver.Publish(guest.NextSlot);
            }
            guest.Kick();
        }
        Disconnects++;
        Rounds++;
    }

    /// <summary>Connects again and re-initialises as QEMU does for a new guest; returns the time
    /// from the first message of that set-up to the first buffer the backend completes.</summary>
    public TimeSpan Recover()
    {
        using var guest = new TestGuest(TestFrontend.Connect(_socketPath));
        var clock = Stopwatch.StartNew();
        guest.Start();
        Assert.Equal(64u, guest.PostAndWait(TestGuest.BufferArea, 64).Len);
        var recovery = clock.Elapsed;
        Assert.Contains(guest.Ram.Read(TestGuest.BufferArea, 64), b => b != 0);
        return recovery;
    }

    private TestGuest Connect()
    {
        var guest = new TestGuest(TestFrontend.Connect(_socketPath));
        guest.StartupSequence();
        return guest;
    }

    // What a guest reset does through QEMU (vhost_virtqueue_stop, then vhost_virtqueue_start
    // after the driver re-initialises): stop, then a fresh ring from index 0.
    private void Reset(TestGuest guest)
    {
        guest.StopRing();
        guest.TakeErrs();
        guest.Driver.StartAt(0);
        guest.DriverOk();
        Resets++;
    }

    private void WaitForErr(TestGuest guest, string what)
    {
        Assert.True(Wait.Until(() => guest.TakeErrs() > 0), $"the backend did not signal the err fd for {what}");
        RingsBroken++;
    }
}
