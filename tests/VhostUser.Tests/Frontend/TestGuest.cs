// One guest behind one frontend connection: guest RAM, its virtqueue, the kick/call/err
// eventfds, and the message sequences QEMU 7.2 sends (notes: "Sequence QEMU 7.2 sends").

using System;
using VhostUserRng.Interop;
using VhostUserRng.Protocol;
using VhostUserRng.Virtio;
using Xunit;

namespace VhostUser.Tests.Frontend;

public sealed class TestGuest : IDisposable
{
    /// <summary>Where tests put data buffers, past the rings.</summary>
    public const ulong BufferArea = 0x10000;

    public GuestRam Ram { get; }
    public GuestDriver Driver { get; }
    public TestFrontend Frontend { get; }
    public int KickFd { get; } = EventFd.Create();
    public int CallFd { get; } = EventFd.Create();
    public int ErrFd { get; } = EventFd.Create();

    private readonly bool _ownsRam;

    public TestGuest(string socketPath, GuestRam? ram = null, ushort num = 4, bool ownsRam = true)
        : this(TestFrontend.Connect(socketPath), ram, num, ownsRam) { }

    /// <summary>A guest on <paramref name="frontend"/>; it disposes <paramref name="ram"/> unless
    /// <paramref name="ownsRam"/> is false (RAM that outlives one connection).</summary>
    public TestGuest(TestFrontend frontend, GuestRam? ram = null, ushort num = 4, bool ownsRam = true)
    {
        Frontend = frontend;
        Ram = ram ?? GuestRam.Create();
        _ownsRam = ownsRam;
        Driver = new GuestDriver(Ram, num);
    }

    /// <summary>At device realize: GET_FEATURES ... SET_VRING_ERR(0).</summary>
    public void StartupSequence()
    {
        var f = Frontend;
        Assert.Equal(0x170000000UL, f.GetU64(VhostUserRequest.VHOST_USER_GET_FEATURES));
        Assert.Equal(0x9UL, f.GetU64(VhostUserRequest.VHOST_USER_GET_PROTOCOL_FEATURES));
        f.SetU64(VhostUserRequest.VHOST_USER_SET_PROTOCOL_FEATURES, 0x9);
        Assert.Equal(1UL, f.GetU64(VhostUserRequest.VHOST_USER_GET_QUEUE_NUM));
        f.Send(VhostUserRequest.VHOST_USER_SET_OWNER);
        Assert.Equal(0x170000000UL, f.GetU64(VhostUserRequest.VHOST_USER_GET_FEATURES));
        f.SetVringFd(VhostUserRequest.VHOST_USER_SET_VRING_CALL, 0, CallFd);
        f.SetVringFd(VhostUserRequest.VHOST_USER_SET_VRING_ERR, 0, ErrFd);
    }

    /// <summary>At the guest's DRIVER_OK: SET_VRING_CALL ... SET_VRING_ENABLE 1, SET_VRING_CALL.</summary>
    public void DriverOk(ulong features = VhostUserFeatures.Offered, ushort vringBase = 0)
    {
        var f = Frontend;
        f.SetVringFd(VhostUserRequest.VHOST_USER_SET_VRING_CALL, 0, CallFd);
        f.SetU64(VhostUserRequest.VHOST_USER_SET_FEATURES, features);
        Assert.Equal(0UL, f.SetMemTable(Ram));
        f.SetState(VhostUserRequest.VHOST_USER_SET_VRING_NUM, 0, Driver.Num);
        f.SetState(VhostUserRequest.VHOST_USER_SET_VRING_BASE, 0, vringBase);
        f.SetVringAddr(Driver.Addr());
        f.SetVringFd(VhostUserRequest.VHOST_USER_SET_VRING_KICK, 0, KickFd);
        f.SetState(VhostUserRequest.VHOST_USER_SET_VRING_ENABLE, 0, 1);
        f.SetVringFd(VhostUserRequest.VHOST_USER_SET_VRING_CALL, 0, CallFd);
        f.Sync();
    }

    /// <summary>The DRIVER_OK sequence with ring addresses of the test's choosing, sent with
    /// NEED_REPLY so that the backend's verdict on them is seen; returns that ack (0 = accepted).</summary>
    public ulong DriverOkWithAddr(VhostVringAddr addr)
    {
        var f = Frontend;
        f.SetVringFd(VhostUserRequest.VHOST_USER_SET_VRING_CALL, 0, CallFd);
        f.SetU64(VhostUserRequest.VHOST_USER_SET_FEATURES, VhostUserFeatures.Offered);
        Assert.Equal(0UL, f.SetMemTable(Ram));
        f.SetState(VhostUserRequest.VHOST_USER_SET_VRING_NUM, 0, Driver.Num);
        f.SetState(VhostUserRequest.VHOST_USER_SET_VRING_BASE, 0, 0);
        ulong ack = f.SetVringAddr(addr, needReply: true)!.Value;
        f.SetVringFd(VhostUserRequest.VHOST_USER_SET_VRING_KICK, 0, KickFd);
        f.SetState(VhostUserRequest.VHOST_USER_SET_VRING_ENABLE, 0, 1);
        f.SetVringFd(VhostUserRequest.VHOST_USER_SET_VRING_CALL, 0, CallFd);
        f.Sync();
        return ack;
    }

    public void Start(ulong features = VhostUserFeatures.Offered)
    {
        StartupSequence();
        DriverOk(features);
    }

    /// <summary>At guest reset or QEMU exit: SET_VRING_ENABLE 0, GET_VRING_BASE.</summary>
    public VhostVringState StopRing()
    {
        Frontend.SetState(VhostUserRequest.VHOST_USER_SET_VRING_ENABLE, 0, 0);
        return Frontend.GetVringBase(0);
    }

    public void Kick() => Assert.Equal(0, EventFd.Signal(KickFd));

    /// <summary>Notifications received on the call eventfd since the last look.</summary>
    public ulong TakeCalls()
    {
        EventFd.Drain(CallFd, out ulong count);
        return count;
    }

    public ulong TakeErrs()
    {
        EventFd.Drain(ErrFd, out ulong count);
        return count;
    }

    /// <summary>The next free descriptor slot, for one-descriptor-per-buffer tests.</summary>
    public ushort NextSlot => (ushort)(Driver.AvailIdx % Driver.Num);

    /// <summary>Posts one device-writable buffer, kicks, and waits for it to be used.</summary>
    public (uint Id, uint Len) PostAndWait(ulong gpa, uint len)
    {
        ushort slot = NextSlot;
        Driver.WriteDesc(slot, gpa, len, VirtqDesc.VIRTQ_DESC_F_WRITE);
        ushort target = (ushort)(Driver.AvailIdx + 1);
        Driver.Publish(slot);
        Kick();
        Assert.True(Driver.WaitForUsedIdx(target), $"buffer not used: used->idx {Driver.UsedIdx}, expected {target}");
        Frontend.Sync();   // the backend has finished this pass (its call, if any, is sent)
        return Driver.UsedElem(target - 1);
    }

    public void Dispose()
    {
        Frontend.Dispose();
        if (_ownsRam) Ram.Dispose();
        Libc.close(KickFd);
        Libc.close(CallFd);
        Libc.close(ErrFd);
    }
}
