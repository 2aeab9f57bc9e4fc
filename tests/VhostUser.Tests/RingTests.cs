// The split ring as a guest uses it: chains of several descriptors, indirect tables, buffers
// across memory regions, and EVENT_IDX notification suppression in both directions.

using VhostUser.Tests.Frontend;
using VhostUserRng.Interop;
using VhostUserRng.Memory;
using VhostUserRng.Protocol;
using VhostUserRng.Rng;
using VhostUserRng.Virtio;
using Xunit;

namespace VhostUser.Tests;

public class RingTests
{
    private const ushort W = VirtqDesc.VIRTQ_DESC_F_WRITE;
    private const ushort N = VirtqDesc.VIRTQ_DESC_F_NEXT;

    [Fact]
    public void AChainOfSeveralWritableDescriptors_IsFilledInChainOrder()
    {
        using var backend = new BackendHarness("-f", "{entropy}");
        using var guest = new TestGuest(backend.Socket(0));
        guest.Start();
        ulong a = 0x20000, b = 0x18000, c = 0x1c010;   // scattered, not ascending
        guest.Driver.WriteDesc(1, a, 10, W | N, next: 3);
        guest.Driver.WriteDesc(3, b, 20, W | N, next: 0);
        guest.Driver.WriteDesc(0, c, 34, W);

        guest.Driver.Publish(1);
        guest.Kick();

        Assert.True(guest.Driver.WaitForUsedIdx(1));
        Assert.Equal((1u, 64u), guest.Driver.UsedElem(0));
        Assert.Equal(EntropyFile.Expected(0, 10), guest.Ram.Read(a, 10));
        Assert.Equal(EntropyFile.Expected(10, 20), guest.Ram.Read(b, 20));
        Assert.Equal(EntropyFile.Expected(30, 34), guest.Ram.Read(c, 34));
    }

    [Fact]
    public void AnIndirectTable_IsFollowed()
    {
        using var backend = new BackendHarness("-f", "{entropy}");
        using var guest = new TestGuest(backend.Socket(0));
        guest.Start();
        ulong table = 0x8000;
        guest.Driver.WriteDescAt(table + 0, 0x30000, 7, W | N, next: 2);
        guest.Driver.WriteDescAt(table + 16, 0xdead_0000, 99, 0, 0);   // not in the chain: never read
        guest.Driver.WriteDescAt(table + 32, 0x31000, 9, W | N, next: 3);
        guest.Driver.WriteDescAt(table + 48, 0x32000, 16, W, 0);
        guest.Driver.WriteDesc(2, table, 64, VirtqDesc.VIRTQ_DESC_F_INDIRECT);

        guest.Driver.Publish(2);
        guest.Kick();

        Assert.True(guest.Driver.WaitForUsedIdx(1));
        Assert.Equal((2u, 32u), guest.Driver.UsedElem(0));
        Assert.Equal(EntropyFile.Expected(0, 7), guest.Ram.Read(0x30000, 7));
        Assert.Equal(EntropyFile.Expected(7, 9), guest.Ram.Read(0x31000, 9));
        Assert.Equal(EntropyFile.Expected(16, 16), guest.Ram.Read(0x32000, 16));
    }

    [Fact]
    public void DirectDescriptors_MayLeadIntoAnIndirectTable()
    {
        using var backend = new BackendHarness("-f", "{entropy}");
        using var guest = new TestGuest(backend.Socket(0));
        guest.Start();
        guest.Driver.WriteDescAt(0x8000, 0x31000, 5, W, 0);
        guest.Driver.WriteDesc(0, 0x30000, 3, W | N, next: 1);
        guest.Driver.WriteDesc(1, 0x8000, 16, VirtqDesc.VIRTQ_DESC_F_INDIRECT);

        guest.Driver.Publish(0);
        guest.Kick();

        Assert.True(guest.Driver.WaitForUsedIdx(1));
        Assert.Equal((0u, 8u), guest.Driver.UsedElem(0));
        Assert.Equal(EntropyFile.Expected(0, 3), guest.Ram.Read(0x30000, 3));
        Assert.Equal(EntropyFile.Expected(3, 5), guest.Ram.Read(0x31000, 5));
    }

    [Fact]
    public void ABufferAcrossTwoAdjacentRegions_LandsInBothMappings()
    {
        // Guest physical [0, 64K) and [64K, 128K) are adjacent, but live at file offsets 0 and
        // 128K: writing the buffer as one host range would land in the wrong place.
        var ram = GuestRam.Create(0x40000, true, (0x0, 0x10000, 0x0), (0x10000, 0x10000, 0x20000));
        using var backend = new BackendHarness("-f", "{entropy}");
        using var guest = new TestGuest(backend.Socket(0), ram);
        guest.Start();
        ulong start = 0x10000 - 40;

        Assert.Equal(100u, guest.PostAndWait(start, 100).Len);

        Assert.Equal(EntropyFile.Expected(0, 40), ram.File.Slice(0x10000 - 40, 40).ToArray());
        Assert.Equal(EntropyFile.Expected(40, 60), ram.File.Slice(0x20000, 60).ToArray());
        Assert.All(ram.File.Slice(0x10000, 60).ToArray(), b => Assert.Equal(0, b));   // the file gap stays untouched
    }

    [Fact]
    public void X86StyleMemoryTable_WithAHoleSharingOneFd_Works()
    {
        var ram = GuestRam.Create(0x200000, true, (0x0, 0xC0000, 0x0), (0x100000, 0x100000, 0x100000));
        using var backend = new BackendHarness();
        using var guest = new TestGuest(backend.Socket(0), ram);
        guest.Start();

        Assert.Equal(64u, guest.PostAndWait(0x150000, 64).Len);
    }

    [Fact]
    public void EventIdx_SuppressesCallsUntilUsedEvent_AndPublishesAvailEvent()
    {
        // Without busy polling, avail_event is published as soon as each pass empties the ring
        // (BusyPollTests has the polling case).
        using var backend = new BackendHarness("--busy-poll-us", "0");
        using var guest = new TestGuest(backend.Socket(0));
        guest.Start();   // acks EVENT_IDX

        guest.PostAndWait(TestGuest.BufferArea, 8);
        Assert.Equal(1UL, guest.TakeCalls());           // the first completion always notifies
        Assert.Equal((ushort)1, guest.Driver.AvailEvent); // "kick me when you publish entry 1"

        guest.Driver.SetUsedEvent(3);                   // "call me once used->idx passes 3"
        guest.PostAndWait(TestGuest.BufferArea, 8);
        guest.PostAndWait(TestGuest.BufferArea, 8);
        Assert.Equal(0UL, guest.TakeCalls());           // used->idx 2 and 3: suppressed
        guest.PostAndWait(TestGuest.BufferArea, 8);
        Assert.Equal(1UL, guest.TakeCalls());           // used->idx went 3 -> 4
        Assert.Equal((ushort)4, guest.Driver.AvailEvent);
    }

    [Fact]
    public void WithoutEventIdx_NoInterruptFlagSuppressesCalls()
    {
        using var backend = new BackendHarness();
        using var guest = new TestGuest(backend.Socket(0));
        guest.Start(VhostUserFeatures.Offered & ~(1UL << VhostUserFeatures.VIRTIO_RING_F_EVENT_IDX));

        guest.Driver.SetAvailFlags(SplitRing.VIRTQ_AVAIL_F_NO_INTERRUPT);
        guest.PostAndWait(TestGuest.BufferArea, 8);
        Assert.Equal(0UL, guest.TakeCalls());

        guest.Driver.SetAvailFlags(0);
        guest.PostAndWait(TestGuest.BufferArea, 8);
        Assert.Equal(1UL, guest.TakeCalls());
        Assert.Equal((ushort)0, guest.Driver.AvailEvent);   // untouched without EVENT_IDX
    }

    [Theory]
    [InlineData(65534, 2, 65534, true)]    // wrap-safe: old=65534, new=2, event=65534 must notify
    [InlineData(65535, 2, 65534, true)]
    [InlineData(2, 2, 65534, false)]        // event 2 not passed yet: new must exceed it
    [InlineData(1, 2, 65534, true)]
    [InlineData(5, 5, 4, false)]
    [InlineData(4, 5, 4, true)]
    [InlineData(3, 5, 4, false)]            // already passed before this batch
    public void NeedEvent_IsWrapSafe(ushort eventIdx, ushort newIdx, ushort oldIdx, bool expected)
    {
        Assert.Equal(expected, SplitRing.NeedEvent(eventIdx, newIdx, oldIdx));
    }

    [Fact]
    public void AHugeBuffer_GetsAtMostOneMiB_AndZeroLengthDescriptorsAreSkipped()
    {
        // RngDevice.MaxBytesPerChain bounds one fill (fairness between guests); it is 1 MiB, the
        // largest buffer GuestOS posts (it was 64 KiB, which made 1 MiB buffers slower than 256 KiB ones).
        var ram = GuestRam.Create(4 << 20);
        using var backend = new BackendHarness();
        using var guest = new TestGuest(backend.Socket(0), ram);
        guest.Start();
        guest.Driver.WriteDesc(0, 0x40000, 0, W | N, next: 1);
        guest.Driver.WriteDesc(1, 0x100000, 2 << 20, W);

        guest.Driver.Publish(0);
        guest.Kick();

        Assert.True(guest.Driver.WaitForUsedIdx(1));
        Assert.Equal((0u, 1u << 20), guest.Driver.UsedElem(0));
    }

    [Fact]
    public unsafe void APass_StopsAfterMaxBytesPerPass_AndAsksToBeServedAgainAtOnce()
    {
        // Six 1 MiB buffers: the first pass fills four (4 MiB, RngDevice.MaxBytesPerPass) and
        // asks to run again now, so that other guests' events run in between; the second pass
        // fills the other two and asks for nothing (a kick will wake it).
        const ulong MiB = 1 << 20;
        using var ram = GuestRam.Create(8 * MiB);
        var fds = new FdList();
        fds.Add(ram.Fd);   // not taken over: the mapping outlives the fd, which ram closes
        using var memory = GuestMemory.Map(ram.Regions, fds, requireSealed: true, _ => { });
        var driver = new GuestDriver(ram, num: 8);
        for (int i = 0; i < 6; i++) driver.WriteDesc(i, MiB * (ulong)(i + 1), (uint)MiB, W);
        driver.Publish(0, 1, 2, 3, 4, 5);
        var ring = new SplitRing(memory,
            memory.TranslateUser(ram.UserAddrOf(driver.DescGpa), SplitRing.DescTableSize(8)),
            memory.TranslateUser(ram.UserAddrOf(driver.AvailGpa), SplitRing.AvailRingSize(8)),
            memory.TranslateUser(ram.UserAddrOf(driver.UsedGpa), SplitRing.UsedRingSize(8)),
            8, nextAvail: 0, nextUsed: 0, eventIdx: true, indirect: false);
        var device = new RngDevice(new ConstantSource(), null, () => 42);

        var first = device.Serve(ring, memory, new DescriptorChain());
        Assert.Equal((4, 4 * MiB, 42L), (first.Completed, first.Bytes, first.RetryAtNs));
        Assert.Equal((ushort)4, driver.UsedIdx);

        var second = device.Serve(ring, memory, new DescriptorChain());
        Assert.Equal((2, 2 * MiB, RngDevice.ServeResult.NoRetry), (second.Completed, second.Bytes, second.RetryAtNs));
        for (int i = 0; i < 6; i++) Assert.Equal(((uint)i, (uint)MiB), driver.UsedElem(i));
    }

    private sealed class ConstantSource : IEntropySource
    {
        public string Name => "constant";
        public int Fill(System.Span<byte> destination) { destination.Fill(0x5a); return destination.Length; }
        public void Dispose() { }
    }
}
