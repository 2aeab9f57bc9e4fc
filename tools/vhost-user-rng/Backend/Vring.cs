// What the backend knows about one virtqueue of one connection: the vhost-user ring state
// (vhost-user.rst "Ring states": stopped, started but disabled, started and enabled) plus the
// configuration the frontend sent, and the SplitRing once all of it is known.

using VhostUserRng.Interop;
using VhostUserRng.Protocol;
using VhostUserRng.Virtio;

namespace VhostUserRng.Backend;

public sealed class Vring
{
    public Vring(int index) => Index = index;

    public int Index { get; }

    /// <summary>Queue size from SET_VRING_NUM; 0 until then.</summary>
    public uint Num { get; set; }

    /// <summary>Next avail index from SET_VRING_BASE (or from the last stop).</summary>
    public ushort Base { get; set; }

    /// <summary>Ring addresses from SET_VRING_ADDR (user addresses).</summary>
    public VhostVringAddr? Addr { get; set; }

    public int KickFd { get; set; } = -1;
    public ulong KickToken { get; set; }
    public int CallFd { get; set; } = -1;
    public int ErrFd { get; set; } = -1;

    /// <summary>Started by SET_VRING_KICK, stopped by GET_VRING_BASE.</summary>
    public bool Started { get; set; }

    /// <summary>SET_VRING_ENABLE; starts false when PROTOCOL_FEATURES is negotiated.</summary>
    public bool Enabled { get; set; }

    /// <summary>Why the guest broke this ring; null while healthy. Cleared when the ring stops.</summary>
    public string? BrokenReason { get; set; }

    /// <summary>The laid-out ring, once size, addresses and memory table are all known and valid.</summary>
    public SplitRing? Ring { get; set; }

    public bool CanServe => Started && Enabled && Ring is not null && BrokenReason is null;

    /// <summary>Why the ring is not served (for logs), or null if it is.</summary>
    public string? NotServingReason =>
        BrokenReason is not null ? "it is broken" :
        !Started ? "it is stopped (no SET_VRING_KICK yet)" :
        !Enabled ? "it is disabled (no SET_VRING_ENABLE 1 yet)" :
        Ring is null ? "it is not configured (needs SET_VRING_NUM, SET_VRING_ADDR and SET_MEM_TABLE)" :
        null;

    public void CloseCallAndErr()
    {
        Libc.CloseIfValid(CallFd);
        Libc.CloseIfValid(ErrFd);
        CallFd = ErrFd = -1;
    }
}
