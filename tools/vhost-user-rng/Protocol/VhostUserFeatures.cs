// Feature bits: the virtio ones the device offers (virtio 1.2, 6 "Reserved Feature Bits"),
// the vhost-user one that gates protocol features, and the vhost-user protocol features
// (vhost-user.rst "Protocol features").

using System.Collections.Generic;
using System.Numerics;

namespace VhostUserRng.Protocol;

public static class VhostUserFeatures
{
    public const int VIRTIO_RING_F_INDIRECT_DESC = 28;
    public const int VIRTIO_RING_F_EVENT_IDX = 29;
    public const int VHOST_USER_F_PROTOCOL_FEATURES = 30;
    public const int VIRTIO_F_VERSION_1 = 32;

    /// <summary>What GET_FEATURES answers: 0x170000000. The entropy device has no feature bits
    /// of its own (virtio 1.2, 5.4.3); QEMU 7.2 aborts without bit 30.</summary>
    public const ulong Offered =
        1UL << VIRTIO_F_VERSION_1 |
        1UL << VHOST_USER_F_PROTOCOL_FEATURES |
        1UL << VIRTIO_RING_F_EVENT_IDX |
        1UL << VIRTIO_RING_F_INDIRECT_DESC;

    public const int VHOST_USER_PROTOCOL_F_MQ = 0;
    public const int VHOST_USER_PROTOCOL_F_REPLY_ACK = 3;

    /// <summary>What GET_PROTOCOL_FEATURES answers: 0x9, as vhost-device-rng does.</summary>
    public const ulong OfferedProtocol = 1UL << VHOST_USER_PROTOCOL_F_MQ | 1UL << VHOST_USER_PROTOCOL_F_REPLY_ACK;

    private static string? VirtioBitName(int bit) => bit switch
    {
        24 => "NOTIFY_ON_EMPTY",
        27 => "ANY_LAYOUT",
        VIRTIO_RING_F_INDIRECT_DESC => "INDIRECT_DESC",
        VIRTIO_RING_F_EVENT_IDX => "EVENT_IDX",
        VHOST_USER_F_PROTOCOL_FEATURES => "PROTOCOL_FEATURES",
        VIRTIO_F_VERSION_1 => "VERSION_1",
        33 => "ACCESS_PLATFORM",
        34 => "RING_PACKED",
        35 => "IN_ORDER",
        36 => "ORDER_PLATFORM",
        37 => "SR_IOV",
        38 => "NOTIFICATION_DATA",
        39 => "NOTIF_CONFIG_DATA",
        40 => "RING_RESET",
        _ => null,
    };

    private static string? ProtocolBitName(int bit) => bit switch
    {
        0 => "MQ", 1 => "LOG_SHMFD", 2 => "RARP", 3 => "REPLY_ACK", 4 => "MTU", 5 => "SLAVE_REQ",
        6 => "CROSS_ENDIAN", 7 => "CRYPTO_SESSION", 8 => "PAGEFAULT", 9 => "CONFIG",
        10 => "SLAVE_SEND_FD", 11 => "HOST_NOTIFIER", 12 => "INFLIGHT_SHMFD", 13 => "RESET_DEVICE",
        14 => "INBAND_NOTIFICATIONS", 15 => "CONFIGURE_MEM_SLOTS", 16 => "STATUS",
        _ => null,
    };

    /// <summary>"0x170000000 (INDIRECT_DESC|EVENT_IDX|PROTOCOL_FEATURES|VERSION_1)".</summary>
    public static string Describe(ulong features) => Describe(features, VirtioBitName);

    public static string DescribeProtocol(ulong features) => Describe(features, ProtocolBitName);

    /// <summary>Bit numbers and names, e.g. "34 (RING_PACKED)", for error messages.</summary>
    public static string ListBits(ulong bits, bool protocol = false)
    {
        var parts = new List<string>();
        while (bits != 0)
        {
            int bit = BitOperations.TrailingZeroCount(bits);
            bits &= bits - 1;
            string? name = protocol ? ProtocolBitName(bit) : VirtioBitName(bit);
            parts.Add(name is null ? $"bit {bit}" : $"bit {bit} ({name})");
        }
        return string.Join(", ", parts);
    }

    private static string Describe(ulong features, System.Func<int, string?> nameOf)
    {
        var names = new List<string>();
        for (ulong rest = features; rest != 0; rest &= rest - 1)
        {
            int bit = BitOperations.TrailingZeroCount(rest);
            names.Add(nameOf(bit) ?? $"bit{bit}");
        }
        return names.Count == 0 ? "0x0" : $"0x{features:x} ({string.Join("|", names)})";
    }
}
