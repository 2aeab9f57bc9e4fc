// Hostile or broken frontends: malformed messages, bad memory tables, wrong descriptors. A
// framing error closes that connection; a refused request with NEED_REPLY gets a non-zero ack
// and changes nothing. Either way the process and the other guest carry on.

using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Linq;
using VhostUser.Tests.Frontend;
using VhostUserRng.Interop;
using VhostUserRng.Protocol;
using Xunit;

namespace VhostUser.Tests;

public class HostileFrontendTests
{
    private const uint V1 = VhostUserHeader.VHOST_USER_VERSION;

    private static byte[] Header(uint request, uint flags, uint size, int payloadBytes = 0)
    {
        var bytes = new byte[12 + payloadBytes];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, request);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), flags);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), size);
        return bytes;
    }

    private static byte[] State(uint request, uint index, uint num, uint flags = V1)
    {
        var bytes = Header(request, flags, 8, 8);
        new VhostVringState(index, num).Write(bytes.AsSpan(12));
        return bytes;
    }

    // --- framing errors: the connection is closed ------------------------------------------

    public static TheoryData<string> ClosingCases() => new()
    {
        "oversized payload", "unknown request", "request 0", "version 0", "reserved flag bits",
        "REPLY flag on a request", "unsupported request GET_CONFIG", "unsupported request SET_LOG_BASE",
        "stray fd on a GET", "ring index out of range on a GET", "more than 16 fds",
        "refusal without NEED_REPLY",
    };

    [Theory]
    [MemberData(nameof(ClosingCases))]
    public void AFramingError_ClosesOnlyThatConnection(string name)
    {
        using var two = new TwoGuests();
        using var f = TestFrontend.Connect(two.HostileSocket);
        int eventFd = EventFd.Create();
        try
        {
            string expected;
            switch (name)
            {
                case "oversized payload":
                    f.SendRaw(Header(1, V1, 4097));
                    expected = "VHOST_USER_GET_FEATURES announces a 4097-byte payload, more than the 4096 accepted";
                    break;
                case "unknown request":
                    f.SendRaw(Header(99, V1, 0));
                    expected = "unknown request 99";
                    break;
                case "request 0":
                    f.SendRaw(Header(0, V1, 0));
                    expected = "unknown request 0";
                    break;
                case "version 0":
                    f.SendRaw(Header(1, 0, 0));
                    expected = "has version 0, expected 1";
                    break;
                case "reserved flag bits":
                    f.SendRaw(Header(1, V1 | 0x10, 0));
                    expected = "sets reserved flag bits 0x10";
                    break;
                case "REPLY flag on a request":
                    f.SendRaw(Header(1, VhostUserHeader.ReplyFlags, 0));
                    expected = "has the REPLY flag set";
                    break;
                case "unsupported request GET_CONFIG":
                    f.SendRaw(Header(24, V1, 12, 12));
                    expected = "VHOST_USER_GET_CONFIG is not supported";
                    break;
                case "unsupported request SET_LOG_BASE":
                    f.SendRaw(Header(6, V1, 16, 16), new[] { eventFd });
                    expected = "VHOST_USER_SET_LOG_BASE is not supported";
                    break;
                case "stray fd on a GET":
                    f.SendRaw(Header(1, V1, 0), new[] { eventFd });
                    expected = "VHOST_USER_GET_FEATURES carries 1 file descriptor(s), expected 0; VHOST_USER_GET_FEATURES expects a reply";
                    break;
                case "ring index out of range on a GET":
                    f.SendRaw(State(11, 3, 0));
                    expected = "VHOST_USER_GET_VRING_BASE names ring 3, but the entropy device has 1 queue";
                    break;
                case "more than 16 fds":
                    f.SendRaw(VhostUserMemoryTable(1), TestFrontend.Repeat(eventFd, 17));
                    expected = "carried more than 16 file descriptors";
                    break;
                case "refusal without NEED_REPLY":
                    f.SendRaw(State(8, 0, 3));   // SET_VRING_NUM 3, no NEED_REPLY
                    expected = "refused without NEED_REPLY, so the frontend cannot be told";
                    break;
                default:
                    throw new ArgumentException(name);
            }
            Assert.True(f.WaitForClose(), "the backend kept the connection open");
            two.Backend.Log.AssertContains(expected);
            two.Backend.Log.AssertContains("closing the connection");
            two.AssertOthersUnharmed();
            // The socket takes the next frontend.
            using var next = new TestGuest(two.HostileSocket);
            next.Start();
            Assert.Equal(8u, next.PostAndWait(TestGuest.BufferArea, 8).Len);
        }
        finally
        {
            Libc.close(eventFd);
        }
    }

    private static byte[] VhostUserMemoryTable(int regions)
    {
        var table = new VhostUserMemoryRegion[regions];
        for (int i = 0; i < regions; i++) table[i] = new VhostUserMemoryRegion((ulong)i << 20, 1 << 20, 0x7f00_0000_0000 + ((ulong)i << 20), 0);
        return TestFrontend.Encode(VhostUserRequest.VHOST_USER_SET_MEM_TABLE, VhostUserMemory.Encode(table), V1 | VhostUserHeader.VHOST_USER_NEED_REPLY_MASK);
    }

    [Fact]
    public void AMessageCutShort_ThenClosed_IsReportedAndForgotten()
    {
        using var two = new TwoGuests();
        var f = TestFrontend.Connect(two.HostileSocket);
        f.SendRaw(State(8, 0, 4).AsSpan(0, 16));   // header + half the payload
        f.Dispose();
        two.Backend.Log.AssertContains("connection closed in the middle of a message (12 header and 4 payload bytes received)");
        two.AssertOthersUnharmed();
    }

    [Fact]
    public void AFrontendStallingMidMessage_DelaysNoOne_AndIsServedWhenItResumes()
    {
        using var two = new TwoGuests();
        using var f = TestFrontend.Connect(two.HostileSocket);
        byte[] message = Header(1, V1, 0);

        f.SendRaw(message.AsSpan(0, 5));            // 5 of 12 header bytes, then silence
        two.AssertOthersUnharmed();
        f.SendRaw(message.AsSpan(5, 4));
        two.AssertOthersUnharmed();
        f.SendRaw(message.AsSpan(9));

        var reply = f.ReadReply();
        Assert.Equal(VhostUserRequest.VHOST_USER_GET_FEATURES, reply.Request);
        Assert.Equal(VhostUserFeatures.Offered, reply.U64);
    }

    // --- refused requests: NEED_REPLY gets a non-zero ack, nothing changes -------------------

    private sealed record Refusal(Func<TestGuest, ulong> Send, string Expected);

    private static ulong MemTable(TestGuest g, int[]? fds, params VhostUserMemoryRegion[] regions) =>
        g.Frontend.SetMemTable(regions, fds ?? TestFrontend.Repeat(g.Ram.Fd, regions.Length));

    private static VhostUserMemoryRegion Region(ulong gpa, ulong size, ulong user, ulong offset) => new(gpa, size, user, offset);

    private static ulong SendWithFds(TestGuest g, VhostUserRequest request, ulong value, params int[] fds) =>
        g.Frontend.SetU64(request, value, needReply: true, fds)!.Value;

    private static readonly Dictionary<string, Refusal> Refusals = new()
    {
        ["memory table with zero regions"] = new(g => MemTable(g, Array.Empty<int>()), "VHOST_USER_SET_MEM_TABLE has 0 regions; 1 to 8 are accepted"),
        ["memory table with nine regions"] = new(g =>
        {
            var regions = new VhostUserMemoryRegion[9];
            for (int i = 0; i < 9; i++) regions[i] = Region((ulong)i * 0x10000, 0x10000, GuestRam.QemuMappingBase + (ulong)i * 0x10000, (ulong)i * 0x10000);
            return MemTable(g, null, regions);
        }, "VHOST_USER_SET_MEM_TABLE has 9 regions; 1 to 8 are accepted"),
        ["memory table payload shorter than its count"] = new(g =>
        {
            byte[] payload = VhostUserMemory.Encode(new[] { Region(0, 0x100000, GuestRam.QemuMappingBase, 0) });
            BinaryPrimitives.WriteUInt32LittleEndian(payload, 2);
            return g.Frontend.Request(VhostUserRequest.VHOST_USER_SET_MEM_TABLE, payload, true, new[] { g.Ram.Fd, g.Ram.Fd }).U64;
        }, "VHOST_USER_SET_MEM_TABLE with 2 regions is 40 bytes, expected 72"),
        ["fewer fds than regions"] = new(g => MemTable(g, new[] { g.Ram.Fd },
            Region(0, 0x80000, GuestRam.QemuMappingBase, 0), Region(0x80000, 0x80000, GuestRam.QemuMappingBase + 0x80000, 0x80000)),
            "describes 2 regions but carries 1 file descriptors"),
        ["more fds than regions"] = new(g => MemTable(g, new[] { g.Ram.Fd, g.Ram.Fd }, Region(0, 0x100000, GuestRam.QemuMappingBase, 0)),
            "describes 1 regions but carries 2 file descriptors"),
        ["region of size zero"] = new(g => MemTable(g, null, Region(0, 0, GuestRam.QemuMappingBase, 0)), "region 0 has size 0"),
        ["guest address range wrapping 2^64"] = new(g => MemTable(g, null, Region(0xFFFF_FFFF_FFFF_F000, 0x2000, GuestRam.QemuMappingBase, 0)),
            "guest_phys_addr 0xfffffffffffff000 + memory_size 0x2000 wraps past 2^64"),
        ["user address range wrapping 2^64"] = new(g => MemTable(g, null, Region(0, 0x2000, 0xFFFF_FFFF_FFFF_F000, 0)),
            "userspace_addr 0xfffffffffffff000 + memory_size 0x2000 wraps past 2^64"),
        ["mmap offset beyond any file"] = new(g => MemTable(g, null, Region(0, 0x2000, GuestRam.QemuMappingBase, 0x7FFF_FFFF_FFFF_F000)),
            "exceeds the largest file offset"),
        ["overlapping guest ranges"] = new(g => MemTable(g, null,
            Region(0, 0x80000, GuestRam.QemuMappingBase, 0), Region(0x40000, 0x80000, GuestRam.QemuMappingBase + 0x80000, 0x80000)),
            "regions 0 and 1 overlap in guest_phys_addr (0x0-0x7ffff and 0x40000-0xbffff)"),
        ["overlapping user ranges"] = new(g => MemTable(g, null,
            Region(0, 0x80000, GuestRam.QemuMappingBase, 0), Region(0x80000, 0x80000, GuestRam.QemuMappingBase + 0x1000, 0x80000)),
            "overlap in userspace_addr"),
        ["fd shorter than the region"] = new(g => MemTable(g, null, Region(0, 0x200000, GuestRam.QemuMappingBase, 0)),
            "its fd is 0x100000 bytes but the region needs mmap_offset 0x0 + memory_size 0x200000 = 0x200000; mapping it would fault (SIGBUS)"),
        ["region past the end of the fd"] = new(g => MemTable(g, null, Region(0, 0x100000, GuestRam.QemuMappingBase, 0x1000)),
            "= 0x101000; mapping it would fault (SIGBUS)"),
        ["fd that is not memory"] = new(g => MemTable(g, new[] { g.KickFd }, Region(0, 0x1000, GuestRam.QemuMappingBase, 0)),
            "its fd is 0x0 bytes"),
        ["unsealed memfd"] = new(g =>
        {
            using var unsealed = GuestRam.Create(1 << 20, sealed_: false);
            return MemTable(g, new[] { unsealed.Fd }, unsealed.Regions);
        }, "its fd is not sealed against shrinking (F_SEAL_SHRINK)"),
        ["queue size not a power of 2"] = new(g => g.Frontend.SetState(VhostUserRequest.VHOST_USER_SET_VRING_NUM, 0, 3, true)!.Value,
            "VHOST_USER_SET_VRING_NUM 3: a split queue size is a power of 2 from 1 to 32768"),
        ["queue size 0"] = new(g => g.Frontend.SetState(VhostUserRequest.VHOST_USER_SET_VRING_NUM, 0, 0, true)!.Value, "VHOST_USER_SET_VRING_NUM 0:"),
        ["queue size 65536"] = new(g => g.Frontend.SetState(VhostUserRequest.VHOST_USER_SET_VRING_NUM, 0, 65536, true)!.Value, "VHOST_USER_SET_VRING_NUM 65536:"),
        ["ring index out of range"] = new(g => g.Frontend.SetState(VhostUserRequest.VHOST_USER_SET_VRING_NUM, 1, 4, true)!.Value,
            "VHOST_USER_SET_VRING_NUM names ring 1, but the entropy device has 1 queue"),
        ["truncated payload"] = new(g => g.Frontend.Request(VhostUserRequest.VHOST_USER_SET_VRING_NUM, new byte[4], true).U64,
            "VHOST_USER_SET_VRING_NUM payload is 4 bytes, expected 8"),
        ["payload on a request without one"] = new(g => g.Frontend.Request(VhostUserRequest.VHOST_USER_SET_OWNER, new byte[8], true).U64,
            "VHOST_USER_SET_OWNER payload is 8 bytes, expected 0"),
        ["stray fd"] = new(g => g.Frontend.Request(VhostUserRequest.VHOST_USER_SET_OWNER, default, true, new[] { g.KickFd }).U64,
            "VHOST_USER_SET_OWNER carries 1 file descriptor(s), expected 0"),
        ["vring base beyond 16 bits"] = new(g => g.Frontend.SetState(VhostUserRequest.VHOST_USER_SET_VRING_BASE, 0, 70000, true)!.Value,
            "VHOST_USER_SET_VRING_BASE 70000: a split ring index is 16 bits"),
        ["kick without fd (polling)"] = new(g => g.Frontend.SetVringFd(VhostUserRequest.VHOST_USER_SET_VRING_KICK, 0, -1, true)!.Value,
            "without an fd asks for polling"),
        ["kick fd that epoll cannot watch"] = new(g => SendWithFds(g, VhostUserRequest.VHOST_USER_SET_VRING_KICK, 0, g.Ram.Fd),
            "VHOST_USER_SET_VRING_KICK for ring 0: the fd cannot be waited on"),
        ["kick with two fds"] = new(g => SendWithFds(g, VhostUserRequest.VHOST_USER_SET_VRING_KICK, 0, g.KickFd, g.KickFd),
            "VHOST_USER_SET_VRING_KICK carries 2 file descriptor(s), expected 1"),
        ["call marked NOFD but carrying an fd"] = new(g => SendWithFds(g, VhostUserRequest.VHOST_USER_SET_VRING_CALL, 0x100, g.CallFd),
            "VHOST_USER_SET_VRING_CALL carries 1 file descriptor(s), expected 0"),
        ["reserved bits in a vring file"] = new(g => SendWithFds(g, VhostUserRequest.VHOST_USER_SET_VRING_CALL, 0x200, g.CallFd),
            "VHOST_USER_SET_VRING_CALL 0x200 sets bits other than the index (0-7) and NOFD (8)"),
        ["vring address with the log flag"] = new(g => g.Frontend.SetVringAddr(g.Driver.Addr() with { Flags = 1 }, true)!.Value,
            "VHOST_VRING_F_LOG needs dirty logging"),
        ["vring enable 2"] = new(g => g.Frontend.SetState(VhostUserRequest.VHOST_USER_SET_VRING_ENABLE, 0, 2, true)!.Value,
            "VHOST_USER_SET_VRING_ENABLE 2: expected 0 or 1"),
    };

    public static TheoryData<string> RefusalNames()
    {
        var data = new TheoryData<string>();
        foreach (string name in Refusals.Keys) data.Add(name);
        return data;
    }

    [Theory]
    [MemberData(nameof(RefusalNames))]
    public void ARefusedRequest_GetsANonZeroAck_AndChangesNothing(string name)
    {
        var refusal = Refusals[name];
        using var two = new TwoGuests();
        using var guest = new TestGuest(two.HostileSocket);
        guest.StartupSequence();

        Assert.NotEqual(0UL, refusal.Send(guest));

        two.Backend.Log.AssertContains("refused: ");
        two.Backend.Log.AssertContains(refusal.Expected);
        // Nothing changed: the same connection completes a correct DRIVER_OK and is served.
        guest.DriverOk();
        Assert.Equal(16u, guest.PostAndWait(TestGuest.BufferArea, 16).Len);
        two.AssertOthersUnharmed();
    }

    [Fact]
    public void ChangingTheQueueSizeOfAStartedRing_IsRefused()
    {
        using var backend = new BackendHarness();
        using var guest = new TestGuest(backend.Socket(0));
        guest.Start();

        Assert.Equal(1UL, guest.Frontend.SetState(VhostUserRequest.VHOST_USER_SET_VRING_NUM, 0, 8, true));
        Assert.Equal(1UL, guest.Frontend.SetState(VhostUserRequest.VHOST_USER_SET_VRING_BASE, 0, 2, true));
        backend.Log.AssertContains("VHOST_USER_SET_VRING_NUM for ring 0 while it is started");
        Assert.Equal(16u, guest.PostAndWait(TestGuest.BufferArea, 16).Len);
    }

    [Fact]
    public void UnsealedMemory_IsAcceptedWithAWarning_WhenAllowed()
    {
        using var backend = new BackendHarness("--allow-unsealed-memory");
        using var guest = new TestGuest(backend.Socket(0), GuestRam.Create(1 << 20, sealed_: false));
        guest.Start();

        backend.Log.AssertContains("warning: VHOST_USER_SET_MEM_TABLE region 0: its fd is not sealed against shrinking");
        Assert.Equal(16u, guest.PostAndWait(TestGuest.BufferArea, 16).Len);
    }

    // --- out-of-order and odd sequences --------------------------------------------------------

    [Fact]
    public void AKickBeforeTheMemoryTable_IsHarmless()
    {
        using var two = new TwoGuests("-vv");
        using var guest = new TestGuest(two.HostileSocket);
        var f = guest.Frontend;
        guest.StartupSequence();
        f.SetState(VhostUserRequest.VHOST_USER_SET_VRING_NUM, 0, 4);
        f.SetVringFd(VhostUserRequest.VHOST_USER_SET_VRING_KICK, 0, guest.KickFd);
        f.SetState(VhostUserRequest.VHOST_USER_SET_VRING_ENABLE, 0, 1);
        guest.Driver.WriteDesc(0, TestGuest.BufferArea, 16);
        guest.Driver.Publish(0);
        guest.Kick();
        two.Backend.Log.AssertContains("vring 0: kick ignored: it is not set up (missing: SET_VRING_ADDR SET_MEM_TABLE)");
        f.Sync();
        two.AssertOthersUnharmed();

        // The rest of the configuration arrives; the waiting buffer is then served.
        f.SetU64(VhostUserRequest.VHOST_USER_SET_FEATURES, VhostUserFeatures.Offered);
        f.SetVringAddr(guest.Driver.Addr());
        Assert.Equal(0UL, f.SetMemTable(guest.Ram));
        Assert.True(guest.Driver.WaitForUsedIdx(1));
        Assert.Equal((0u, 16u), guest.Driver.UsedElem(0));
        Assert.Equal(16u, guest.PostAndWait(TestGuest.BufferArea, 16).Len);
    }

    [Fact]
    public void RingAddressesBeforeTheMemoryTable_WaitForIt()
    {
        using var backend = new BackendHarness();
        using var guest = new TestGuest(backend.Socket(0));
        var f = guest.Frontend;
        guest.StartupSequence();
        f.SetU64(VhostUserRequest.VHOST_USER_SET_FEATURES, VhostUserFeatures.Offered);
        f.SetState(VhostUserRequest.VHOST_USER_SET_VRING_NUM, 0, 4);
        Assert.Equal(0UL, f.SetVringAddr(guest.Driver.Addr(), needReply: true));
        f.SetVringFd(VhostUserRequest.VHOST_USER_SET_VRING_KICK, 0, guest.KickFd);
        f.SetState(VhostUserRequest.VHOST_USER_SET_VRING_ENABLE, 0, 1);
        Assert.Equal(0UL, f.SetMemTable(guest.Ram));

        Assert.Equal(16u, guest.PostAndWait(TestGuest.BufferArea, 16).Len);
        Assert.DoesNotContain("broken", backend.Log.ToString());
    }

    [Fact]
    public void AKickFdWhoseWriterIsGone_IsDroppedInsteadOfSpinning()
    {
        using var two = new TwoGuests();
        using var guest = new TestGuest(two.HostileSocket);
        guest.Start();
        var (read, write) = TestLibc.Pipe();
        guest.Frontend.SetVringFd(VhostUserRequest.VHOST_USER_SET_VRING_KICK, 0, read);
        Libc.close(read);
        Libc.close(write);   // the backend's copy now reads end-of-file forever

        two.Backend.Log.AssertContains("vring 0: the kick fd reports end of file or an error; it is no longer watched");
        two.AssertOthersUnharmed();
        // A working kick fd brings the ring back.
        guest.Frontend.SetVringFd(VhostUserRequest.VHOST_USER_SET_VRING_KICK, 0, guest.KickFd);
        Assert.Equal(16u, guest.PostAndWait(TestGuest.BufferArea, 16).Len);
    }
}

/// <summary>Tests that count this process's open descriptors must not overlap with others.</summary>
[CollectionDefinition("fd accounting", DisableParallelization = true)]
public class FdAccountingCollection { }

[Collection("fd accounting")]
public class DescriptorLeakTests
{
    [Fact]
    public void DescriptorsOfRefusedAndClosedMessages_AreAllClosed()
    {
        using var backend = new BackendHarness();
        using var guest = new TestGuest(backend.Socket(0));
        guest.Start();
        guest.Frontend.Sync();
        var baseline = TestLibc.BackendKindFds();

        for (int i = 0; i < 20; i++)
        {
            // Refused with stray descriptors, and replaced notifiers and tables: none may leak.
            Assert.Equal(1UL, guest.Frontend.Request(VhostUserRequest.VHOST_USER_SET_OWNER, default, true, new[] { guest.KickFd, guest.CallFd }).U64);
            Assert.NotEqual(0UL, guest.Frontend.SetMemTable(new[] { new VhostUserMemoryRegion(0, 0x200000, GuestRam.QemuMappingBase, 0) }, new[] { guest.Ram.Fd }));
            guest.Frontend.SetVringFd(VhostUserRequest.VHOST_USER_SET_VRING_CALL, 0, guest.CallFd);
            guest.Frontend.SetVringFd(VhostUserRequest.VHOST_USER_SET_VRING_KICK, 0, guest.KickFd);
            Assert.Equal(0UL, guest.Frontend.SetMemTable(guest.Ram));
        }
        guest.Frontend.Sync();
        Assert.Equal(baseline, TestLibc.BackendKindFds());

        // A connection that goes away releases everything it held: its socket and the kick,
        // call and err eventfds (and our end of the socket).
        guest.Frontend.Dispose();
        var released = new SortedDictionary<string, int>(baseline) { ["socket"] = baseline["socket"] - 2, ["eventfd"] = baseline["eventfd"] - 3 };
        Assert.True(Wait.Until(() => released.SequenceEqual(TestLibc.BackendKindFds())),
            $"expected {TestLibc.Describe(released)} after the close, have {TestLibc.Describe(TestLibc.BackendKindFds())}");
    }
}
