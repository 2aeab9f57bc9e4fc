// One virtqueue of one connection: where it is in its life, the set-up the frontend sent, and
// the SplitRing once that set-up is complete and valid.
//
// vhost-user.rst "Ring states": a ring is stopped, started but disabled, or started and
// enabled. It starts on a kick and stops on GET_VRING_BASE; SET_VRING_ENABLE enables and
// disables it, and is tracked in every state. This backend adds a fourth state, broken: the
// guest put something invalid in its ring or in the ring's addresses. A broken ring is not
// served, whatever it is sent, until GET_VRING_BASE stops it; the stop forgets the ring's size
// and addresses, so what starts it again is a complete new set-up, checked afresh.
// README.md has the table of what every message does in each state.

using VhostUserRng.Interop;
using VhostUserRng.Protocol;
using VhostUserRng.Virtio;

namespace VhostUserRng.Backend;

public enum VringPhase
{
    /// <summary>Not processed at all (vhost-user.rst); where every ring begins and every GET_VRING_BASE ends.</summary>
    Stopped,
    /// <summary>Processed while enabled; a disabled one is left alone (see <see cref="Vring.CanServe"/>).</summary>
    Started,
    /// <summary>The guest broke the ring: not processed until the frontend stops it.</summary>
    Broken,
}

public sealed class Vring
{
    public Vring(int index) => Index = index;

    public int Index { get; }

    public VringPhase Phase { get; private set; } = VringPhase.Stopped;

    /// <summary>SET_VRING_ENABLE; starts false when PROTOCOL_FEATURES is negotiated, and is kept
    /// across the phases (a ring enabled while stopped is served as soon as it starts).</summary>
    public bool Enabled { get; set; }

    /// <summary>Why the guest broke this ring, while <see cref="Phase"/> is Broken.</summary>
    public string? BrokenReason { get; private set; }

    /// <summary>The state as README.md's table names it.</summary>
    public string State => Phase switch
    {
        VringPhase.Stopped => "stopped",
        VringPhase.Started => Enabled ? "started, enabled" : "started, disabled",
        _ => "broken",
    };

    // --- the set-up -------------------------------------------------------------------------

    /// <summary>Queue size from SET_VRING_NUM; 0 until then, and again after a stop.</summary>
    public uint Num { get; set; }

    /// <summary>Next avail index from SET_VRING_BASE (or where the ring stopped).</summary>
    public ushort Base { get; set; }

    /// <summary>Ring addresses from SET_VRING_ADDR (user addresses); null until then, and again after a stop.</summary>
    public VhostVringAddr? Addr { get; set; }

    public int KickFd { get; set; } = -1;
    public ulong KickToken { get; set; }
    public int CallFd { get; set; } = -1;
    public int ErrFd { get; set; } = -1;

    /// <summary>The laid-out ring, once size, addresses and memory table are all known and valid.</summary>
    public SplitRing? Ring { get; set; }

    /// <summary>Served and found empty with kicks still off: the device polls it (RngDevice's
    /// busy polling) until it gets a buffer or the poll times out. For the log only.</summary>
    public bool Polling { get; set; }

    // --- transitions ------------------------------------------------------------------------

    /// <summary>SET_VRING_KICK. vhost-user.rst starts a ring "upon receiving a kick"; QEMU hands
    /// the kick eventfd over already signalled (virtio_bus_set_host_notifier creates it with
    /// event_notifier_init(notifier, 1)), so starting when the fd arrives is the same moment,
    /// and buffers the guest queued before are served. A broken ring does not start.</summary>
    public void Start()
    {
        if (Phase == VringPhase.Stopped) Phase = VringPhase.Started;
    }

    /// <summary>A guest error. Remembers where the guest's next buffer is (the one that broke
    /// the ring was not consumed), for GET_VRING_BASE to report.</summary>
    public void Break(string reason)
    {
        if (Ring is not null) Base = Ring.NextAvail;
        Ring = null;
        Polling = false;
        Phase = VringPhase.Broken;
        BrokenReason = reason;
    }

    /// <summary>GET_VRING_BASE, in any state: returns the next avail index and forgets the
    /// set-up, so the next start takes a new SET_VRING_NUM and SET_VRING_ADDR (QEMU's
    /// vhost_virtqueue_start always sends them), checked against the memory table of that
    /// time. Nothing of a broken set-up survives to break the ring again.</summary>
    public ushort Stop()
    {
        if (Ring is not null) Base = Ring.NextAvail;
        Ring = null;
        Polling = false;
        Num = 0;
        Addr = null;
        Phase = VringPhase.Stopped;
        BrokenReason = null;
        return Base;
    }

    public bool CanServe => Phase == VringPhase.Started && Enabled && Ring is not null;

    /// <summary>Why the ring is not served (for logs), or null if it is.</summary>
    public string? NotServingReason(bool memoryMapped) =>
        Phase == VringPhase.Broken ? $"it is broken ({BrokenReason}); the frontend must stop it (GET_VRING_BASE) and set it up again" :
        Phase == VringPhase.Stopped ? "it is stopped (no SET_VRING_KICK since it was set up)" :
        !Enabled ? "it is disabled (no SET_VRING_ENABLE 1)" :
        Ring is null ? "it is not set up (missing:" + (Num == 0 ? " SET_VRING_NUM" : "") + (Addr is null ? " SET_VRING_ADDR" : "") + (memoryMapped ? "" : " SET_MEM_TABLE") + ")" :
        null;

    public void CloseCallAndErr()
    {
        Libc.CloseIfValid(CallFd);
        Libc.CloseIfValid(ErrFd);
        CallFd = ErrFd = -1;
    }
}
