// The conversation QEMU 7.2 has with an rng backend, replayed over a real socket, and what the
// guest gets out of it.

using System;
using VhostUser.Tests.Frontend;
using VhostUserRng.Protocol;
using VhostUserRng.Virtio;
using Xunit;

namespace VhostUser.Tests;

public class ProtocolSequenceTests
{
    [Fact]
    public void StartupSequence_IsAnsweredAsQemuExpects_AndLoggedByName()
    {
        using var backend = new BackendHarness("-v");
        using var guest = new TestGuest(backend.Socket(0));

        guest.StartupSequence();   // asserts each reply's value, request code and flags 0x5
        guest.Frontend.Sync();

        backend.Log.AssertContains("VHOST_USER_GET_FEATURES");
        backend.Log.AssertContains("reply VHOST_USER_GET_FEATURES features=0x170000000 (INDIRECT_DESC|EVENT_IDX|PROTOCOL_FEATURES|VERSION_1)");
        backend.Log.AssertContains("reply VHOST_USER_GET_PROTOCOL_FEATURES protocol_features=0x9 (MQ|REPLY_ACK)");
        backend.Log.AssertContains("VHOST_USER_SET_PROTOCOL_FEATURES protocol_features=0x9 (MQ|REPLY_ACK)");
        backend.Log.AssertContains("reply VHOST_USER_GET_QUEUE_NUM queues=1");
        backend.Log.AssertContains("VHOST_USER_SET_OWNER");
        backend.Log.AssertContains("VHOST_USER_SET_VRING_CALL index=0 fds=1");
        backend.Log.AssertContains("VHOST_USER_SET_VRING_ERR index=0 fds=1");
        Assert.True(guest.Frontend.IsSilentFor(50), "the backend sent a reply nobody asked for");
    }

    [Fact]
    public void DriverOkSequence_LogsDecodedFields()
    {
        using var backend = new BackendHarness("-v");
        using var guest = new TestGuest(backend.Socket(0));
        guest.Start();

        backend.Log.AssertContains("VHOST_USER_SET_FEATURES features=0x170000000");
        backend.Log.AssertContains($"VHOST_USER_SET_MEM_TABLE [NEED_REPLY] nregions=1 [0: guest_phys_addr=0x0 memory_size=0x100000 userspace_addr=0x{GuestRam.QemuMappingBase:x} mmap_offset=0x0] fds=1");
        backend.Log.AssertContains("reply VHOST_USER_SET_MEM_TABLE ack=0 (success)");
        backend.Log.AssertContains("VHOST_USER_SET_VRING_NUM index=0 num=4");
        backend.Log.AssertContains("VHOST_USER_SET_VRING_BASE index=0 num=0");
        backend.Log.AssertContains($"VHOST_USER_SET_VRING_ADDR index=0 flags=0x0 descriptor=0x{guest.Ram.UserAddrOf(guest.Driver.DescGpa):x}");
        backend.Log.AssertContains("VHOST_USER_SET_VRING_KICK index=0 fds=1");
        backend.Log.AssertContains("VHOST_USER_SET_VRING_ENABLE index=0 num=1");
    }

    [Fact]
    public void FullSequence_FillsTheGuestBufferWithTheSourceBytes()
    {
        using var backend = new BackendHarness("-f", "{entropy}");
        using var guest = new TestGuest(backend.Socket(0));
        guest.Start();
        guest.Ram.Fill(TestGuest.BufferArea - 16, 64 + 32, 0xAA);

        var (id, len) = guest.PostAndWait(TestGuest.BufferArea, 64);

        Assert.Equal(0u, id);
        Assert.Equal(64u, len);
        Assert.Equal(EntropyFile.Expected(0, 64), guest.Ram.Read(TestGuest.BufferArea, 64));
        Assert.All(guest.Ram.Read(TestGuest.BufferArea - 16, 16), b => Assert.Equal(0xAA, b));   // nothing before
        Assert.All(guest.Ram.Read(TestGuest.BufferArea + 64, 16), b => Assert.Equal(0xAA, b));   // nothing after
        Assert.Equal(1UL, guest.TakeCalls());

        // The next buffer continues the stream: nothing is handed out twice.
        guest.PostAndWait(TestGuest.BufferArea + 0x100, 100);
        Assert.Equal(EntropyFile.Expected(64, 100), guest.Ram.Read(TestGuest.BufferArea + 0x100, 100));
    }

    [Fact]
    public void DefaultSource_WritesRandomBytesOfTheBufferLength()
    {
        using var backend = new BackendHarness();
        using var guest = new TestGuest(backend.Socket(0));
        guest.Start();
        guest.Ram.Fill(TestGuest.BufferArea, 128, 0xAA);

        var (_, len) = guest.PostAndWait(TestGuest.BufferArea, 64);

        Assert.Equal(64u, len);
        byte[] got = guest.Ram.Read(TestGuest.BufferArea, 64);
        Assert.Contains(got, b => b != 0xAA);
        Assert.True(new System.Collections.Generic.HashSet<byte>(got).Count > 16, "64 random bytes should not repeat this much");
        Assert.All(guest.Ram.Read(TestGuest.BufferArea + 64, 64), b => Assert.Equal(0xAA, b));
    }

    [Fact]
    public void AFullRingIsServedOnOneKick()
    {
        using var backend = new BackendHarness("-f", "{entropy}");
        using var guest = new TestGuest(backend.Socket(0));
        guest.Start();
        for (ushort i = 0; i < 4; i++) guest.Driver.WriteDesc(i, TestGuest.BufferArea + 0x100UL * i, 16);

        guest.Driver.Publish(2, 0, 3, 1);
        guest.Kick();

        Assert.True(guest.Driver.WaitForUsedIdx(4));
        ushort[] order = { 2, 0, 3, 1 };
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal((order[i], 16u), guest.Driver.UsedElem(i));
            Assert.Equal(EntropyFile.Expected(16 * i, 16), guest.Ram.Read(TestGuest.BufferArea + 0x100UL * order[i], 16));
        }
    }

    [Fact]
    public void RingIndexesWrapAt65536()
    {
        using var backend = new BackendHarness();
        using var guest = new TestGuest(backend.Socket(0));
        guest.StartupSequence();
        guest.Driver.StartAt(65534);
        guest.DriverOk(vringBase: 65534);

        for (int i = 0; i < 5; i++) Assert.Equal(64u, guest.PostAndWait(TestGuest.BufferArea, 64).Len);

        Assert.Equal((ushort)3, guest.Driver.UsedIdx);
        Assert.Equal(3u, guest.StopRing().Num);
    }

    [Fact]
    public void GetVringBase_StopsTheRing_AndReportsTheNextAvailIndex()
    {
        using var backend = new BackendHarness();
        using var guest = new TestGuest(backend.Socket(0));
        guest.Start();
        for (int i = 0; i < 3; i++) guest.PostAndWait(TestGuest.BufferArea, 32);

        var state = guest.StopRing();
        Assert.Equal(new VhostVringState(0, 3), state);

        // Stopped: a new buffer and a kick are ignored.
        guest.Driver.WriteDesc(guest.NextSlot, TestGuest.BufferArea, 32);
        guest.Driver.Publish(guest.NextSlot);
        guest.Kick();
        guest.Frontend.Sync();
        Assert.Equal((ushort)3, guest.Driver.UsedIdx);

        // Restarted as QEMU does after a reset: the waiting buffer is served.
        var f = guest.Frontend;
        f.SetState(VhostUserRequest.VHOST_USER_SET_VRING_NUM, 0, 4);
        f.SetState(VhostUserRequest.VHOST_USER_SET_VRING_BASE, 0, state.Num);
        f.SetVringAddr(guest.Driver.Addr());
        f.SetVringFd(VhostUserRequest.VHOST_USER_SET_VRING_KICK, 0, guest.KickFd);
        f.SetState(VhostUserRequest.VHOST_USER_SET_VRING_ENABLE, 0, 1);
        Assert.True(guest.Driver.WaitForUsedIdx(4));
    }

    [Fact]
    public void ResetOwner_DisablesTheRings_UntilEnabledAgain()
    {
        using var backend = new BackendHarness();
        using var guest = new TestGuest(backend.Socket(0));
        guest.Start();
        guest.PostAndWait(TestGuest.BufferArea, 8);

        guest.Frontend.Send(VhostUserRequest.VHOST_USER_RESET_OWNER);
        guest.Driver.WriteDesc(guest.NextSlot, TestGuest.BufferArea, 8);
        guest.Driver.Publish(guest.NextSlot);
        guest.Kick();
        guest.Frontend.Sync();
        Assert.Equal((ushort)1, guest.Driver.UsedIdx);

        guest.Frontend.SetState(VhostUserRequest.VHOST_USER_SET_VRING_ENABLE, 0, 1);
        Assert.True(guest.Driver.WaitForUsedIdx(2));
    }

    [Fact]
    public void WithProtocolFeatures_TheRingWaitsForSetVringEnable()
    {
        using var backend = new BackendHarness();
        using var guest = new TestGuest(backend.Socket(0));
        var f = guest.Frontend;
        guest.StartupSequence();
        f.SetU64(VhostUserRequest.VHOST_USER_SET_FEATURES, VhostUserFeatures.Offered);
        f.SetMemTable(guest.Ram);
        f.SetState(VhostUserRequest.VHOST_USER_SET_VRING_NUM, 0, 4);
        f.SetVringAddr(guest.Driver.Addr());
        f.SetVringFd(VhostUserRequest.VHOST_USER_SET_VRING_KICK, 0, guest.KickFd);
        guest.Driver.WriteDesc(0, TestGuest.BufferArea, 8);
        guest.Driver.Publish(0);
        guest.Kick();
        f.Sync();
        Assert.Equal((ushort)0, guest.Driver.UsedIdx);   // started but disabled

        f.SetState(VhostUserRequest.VHOST_USER_SET_VRING_ENABLE, 0, 1);
        Assert.True(guest.Driver.WaitForUsedIdx(1));
    }

    [Fact]
    public void WithoutProtocolFeatures_TheRingStartsEnabled()
    {
        using var backend = new BackendHarness();
        using var guest = new TestGuest(backend.Socket(0));
        var f = guest.Frontend;
        f.SetU64(VhostUserRequest.VHOST_USER_SET_FEATURES, 1UL << VhostUserFeatures.VIRTIO_F_VERSION_1);
        f.SetMemTable(guest.Ram);
        f.SetState(VhostUserRequest.VHOST_USER_SET_VRING_NUM, 0, 4);
        f.SetVringAddr(guest.Driver.Addr());
        f.SetVringFd(VhostUserRequest.VHOST_USER_SET_VRING_CALL, 0, guest.CallFd);
        f.SetVringFd(VhostUserRequest.VHOST_USER_SET_VRING_KICK, 0, guest.KickFd);

        Assert.Equal(16u, guest.PostAndWait(TestGuest.BufferArea, 16).Len);
    }

    [Fact]
    public void NeedReply_IsHonouredWithoutNegotiation_AndGetRequestsGetOneReply()
    {
        using var backend = new BackendHarness();
        using var f = TestFrontend.Connect(backend.Socket(0));

        // No SET_PROTOCOL_FEATURES on this connection (QEMU after a reconnect).
        Assert.Equal(0UL, f.Request(VhostUserRequest.VHOST_USER_SET_OWNER, needReply: true).U64);
        Assert.Equal(0UL, f.SetState(VhostUserRequest.VHOST_USER_SET_VRING_NUM, 0, 4, needReply: true));

        // A GET with NEED_REPLY is answered once, with its own reply.
        Assert.Equal(VhostUserFeatures.Offered, f.Request(VhostUserRequest.VHOST_USER_GET_FEATURES, needReply: true).U64);
        Assert.Equal(1UL, f.GetU64(VhostUserRequest.VHOST_USER_GET_QUEUE_NUM));
    }

    [Fact]
    public void SetFeatures_WithUnofferedBits_IsRefusedWithAClearError()
    {
        using var backend = new BackendHarness();
        using var guest = new TestGuest(backend.Socket(0));
        var f = guest.Frontend;
        const ulong packed = 1UL << 34;

        Assert.Equal(1UL, f.SetU64(VhostUserRequest.VHOST_USER_SET_FEATURES, VhostUserFeatures.Offered | packed, needReply: true));
        backend.Log.AssertContains("bit 34 (RING_PACKED), which the backend did not offer");

        // Nothing changed: the connection serves a correct negotiation afterwards.
        guest.Start();
        Assert.Equal(8u, guest.PostAndWait(TestGuest.BufferArea, 8).Len);

        // Without NEED_REPLY (QEMU 7.2's SET_FEATURES) the refusal closes the connection.
        f.SetU64(VhostUserRequest.VHOST_USER_SET_FEATURES, VhostUserFeatures.Offered | 1UL << 33);
        Assert.True(f.WaitForClose());
        backend.Log.AssertContains("bit 33 (ACCESS_PLATFORM), which the backend did not offer");
        backend.AssertAlive();
    }

    [Fact]
    public void SetProtocolFeatures_WithUnofferedBits_IsRefused()
    {
        using var backend = new BackendHarness();
        using var f = TestFrontend.Connect(backend.Socket(0));

        Assert.NotEqual(0UL, f.SetU64(VhostUserRequest.VHOST_USER_SET_PROTOCOL_FEATURES, 0x9 | 1UL << 9, needReply: true));
        backend.Log.AssertContains("bit 9 (CONFIG), which the backend did not offer");
        f.Sync();
    }

    [Fact]
    public void ANewMemoryTable_WhileRunning_KeepsTheRingGoing()
    {
        using var backend = new BackendHarness("-f", "{entropy}");
        using var guest = new TestGuest(backend.Socket(0));
        guest.Start();
        guest.PostAndWait(TestGuest.BufferArea, 10);

        // Memory hot-plug: QEMU sends the whole table again with a region added.
        using var extra = GuestRam.Create(1 << 16);
        var regions = new[] { guest.Ram.Regions[0], new VhostUserMemoryRegion(0x4000_0000, 1 << 16, 0x7f99_0000_0000, 0) };
        Assert.Equal(0UL, guest.Frontend.SetMemTable(regions, new[] { guest.Ram.Fd, extra.Fd }));

        // A buffer in the new region, posted to the same running ring.
        guest.Driver.WriteDesc(guest.NextSlot, 0x4000_0000 + 0x100, 20);
        guest.Driver.Publish(guest.NextSlot);
        guest.Kick();
        Assert.True(guest.Driver.WaitForUsedIdx(2));
        Assert.Equal(EntropyFile.Expected(10, 20), extra.Read(0x100, 20));
    }
}
