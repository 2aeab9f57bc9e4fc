// Front-end message types, with the names and numbers of QEMU's docs/interop/vhost-user.rst
// ("Front-end message types"). The backend handles the ones QEMU 7.2 sends to an rng device;
// the others are named here so that logs and errors can name them.

namespace VhostUserRng.Protocol;

public enum VhostUserRequest : uint
{
    VHOST_USER_NONE = 0,
    VHOST_USER_GET_FEATURES = 1,
    VHOST_USER_SET_FEATURES = 2,
    VHOST_USER_SET_OWNER = 3,
    VHOST_USER_RESET_OWNER = 4,
    VHOST_USER_SET_MEM_TABLE = 5,
    VHOST_USER_SET_LOG_BASE = 6,
    VHOST_USER_SET_LOG_FD = 7,
    VHOST_USER_SET_VRING_NUM = 8,
    VHOST_USER_SET_VRING_ADDR = 9,
    VHOST_USER_SET_VRING_BASE = 10,
    VHOST_USER_GET_VRING_BASE = 11,
    VHOST_USER_SET_VRING_KICK = 12,
    VHOST_USER_SET_VRING_CALL = 13,
    VHOST_USER_SET_VRING_ERR = 14,
    VHOST_USER_GET_PROTOCOL_FEATURES = 15,
    VHOST_USER_SET_PROTOCOL_FEATURES = 16,
    VHOST_USER_GET_QUEUE_NUM = 17,
    VHOST_USER_SET_VRING_ENABLE = 18,
    VHOST_USER_SEND_RARP = 19,
    VHOST_USER_NET_SET_MTU = 20,
    VHOST_USER_SET_SLAVE_REQ_FD = 21,
    VHOST_USER_IOTLB_MSG = 22,
    VHOST_USER_SET_VRING_ENDIAN = 23,
    VHOST_USER_GET_CONFIG = 24,
    VHOST_USER_SET_CONFIG = 25,
    VHOST_USER_CREATE_CRYPTO_SESSION = 26,
    VHOST_USER_CLOSE_CRYPTO_SESSION = 27,
    VHOST_USER_POSTCOPY_ADVISE = 28,
    VHOST_USER_POSTCOPY_LISTEN = 29,
    VHOST_USER_POSTCOPY_END = 30,
    VHOST_USER_GET_INFLIGHT_FD = 31,
    VHOST_USER_SET_INFLIGHT_FD = 32,
    VHOST_USER_GPU_SET_SOCKET = 33,
    VHOST_USER_RESET_DEVICE = 34,
    VHOST_USER_VRING_KICK = 35,
    VHOST_USER_GET_MAX_MEM_SLOTS = 36,
    VHOST_USER_ADD_MEM_REG = 37,
    VHOST_USER_REM_MEM_REG = 38,
    VHOST_USER_SET_STATUS = 39,
    VHOST_USER_GET_STATUS = 40,
}

public static class VhostUserRequestInfo
{
    public const VhostUserRequest Last = VhostUserRequest.VHOST_USER_GET_STATUS;

    public static bool IsKnown(uint request) => request >= 1 && request <= (uint)Last;

    /// <summary>The spec name, or "request N" for numbers the spec does not define. Written out
    /// as a switch so that NativeAOT needs no enum reflection.</summary>
    public static string Name(VhostUserRequest request) => request switch
    {
        VhostUserRequest.VHOST_USER_GET_FEATURES => "VHOST_USER_GET_FEATURES",
        VhostUserRequest.VHOST_USER_SET_FEATURES => "VHOST_USER_SET_FEATURES",
        VhostUserRequest.VHOST_USER_SET_OWNER => "VHOST_USER_SET_OWNER",
        VhostUserRequest.VHOST_USER_RESET_OWNER => "VHOST_USER_RESET_OWNER",
        VhostUserRequest.VHOST_USER_SET_MEM_TABLE => "VHOST_USER_SET_MEM_TABLE",
        VhostUserRequest.VHOST_USER_SET_LOG_BASE => "VHOST_USER_SET_LOG_BASE",
        VhostUserRequest.VHOST_USER_SET_LOG_FD => "VHOST_USER_SET_LOG_FD",
        VhostUserRequest.VHOST_USER_SET_VRING_NUM => "VHOST_USER_SET_VRING_NUM",
        VhostUserRequest.VHOST_USER_SET_VRING_ADDR => "VHOST_USER_SET_VRING_ADDR",
        VhostUserRequest.VHOST_USER_SET_VRING_BASE => "VHOST_USER_SET_VRING_BASE",
        VhostUserRequest.VHOST_USER_GET_VRING_BASE => "VHOST_USER_GET_VRING_BASE",
        VhostUserRequest.VHOST_USER_SET_VRING_KICK => "VHOST_USER_SET_VRING_KICK",
        VhostUserRequest.VHOST_USER_SET_VRING_CALL => "VHOST_USER_SET_VRING_CALL",
        VhostUserRequest.VHOST_USER_SET_VRING_ERR => "VHOST_USER_SET_VRING_ERR",
        VhostUserRequest.VHOST_USER_GET_PROTOCOL_FEATURES => "VHOST_USER_GET_PROTOCOL_FEATURES",
        VhostUserRequest.VHOST_USER_SET_PROTOCOL_FEATURES => "VHOST_USER_SET_PROTOCOL_FEATURES",
        VhostUserRequest.VHOST_USER_GET_QUEUE_NUM => "VHOST_USER_GET_QUEUE_NUM",
        VhostUserRequest.VHOST_USER_SET_VRING_ENABLE => "VHOST_USER_SET_VRING_ENABLE",
        VhostUserRequest.VHOST_USER_SEND_RARP => "VHOST_USER_SEND_RARP",
        VhostUserRequest.VHOST_USER_NET_SET_MTU => "VHOST_USER_NET_SET_MTU",
        VhostUserRequest.VHOST_USER_SET_SLAVE_REQ_FD => "VHOST_USER_SET_SLAVE_REQ_FD",
        VhostUserRequest.VHOST_USER_IOTLB_MSG => "VHOST_USER_IOTLB_MSG",
        VhostUserRequest.VHOST_USER_SET_VRING_ENDIAN => "VHOST_USER_SET_VRING_ENDIAN",
        VhostUserRequest.VHOST_USER_GET_CONFIG => "VHOST_USER_GET_CONFIG",
        VhostUserRequest.VHOST_USER_SET_CONFIG => "VHOST_USER_SET_CONFIG",
        VhostUserRequest.VHOST_USER_CREATE_CRYPTO_SESSION => "VHOST_USER_CREATE_CRYPTO_SESSION",
        VhostUserRequest.VHOST_USER_CLOSE_CRYPTO_SESSION => "VHOST_USER_CLOSE_CRYPTO_SESSION",
        VhostUserRequest.VHOST_USER_POSTCOPY_ADVISE => "VHOST_USER_POSTCOPY_ADVISE",
        VhostUserRequest.VHOST_USER_POSTCOPY_LISTEN => "VHOST_USER_POSTCOPY_LISTEN",
        VhostUserRequest.VHOST_USER_POSTCOPY_END => "VHOST_USER_POSTCOPY_END",
        VhostUserRequest.VHOST_USER_GET_INFLIGHT_FD => "VHOST_USER_GET_INFLIGHT_FD",
        VhostUserRequest.VHOST_USER_SET_INFLIGHT_FD => "VHOST_USER_SET_INFLIGHT_FD",
        VhostUserRequest.VHOST_USER_GPU_SET_SOCKET => "VHOST_USER_GPU_SET_SOCKET",
        VhostUserRequest.VHOST_USER_RESET_DEVICE => "VHOST_USER_RESET_DEVICE",
        VhostUserRequest.VHOST_USER_VRING_KICK => "VHOST_USER_VRING_KICK",
        VhostUserRequest.VHOST_USER_GET_MAX_MEM_SLOTS => "VHOST_USER_GET_MAX_MEM_SLOTS",
        VhostUserRequest.VHOST_USER_ADD_MEM_REG => "VHOST_USER_ADD_MEM_REG",
        VhostUserRequest.VHOST_USER_REM_MEM_REG => "VHOST_USER_REM_MEM_REG",
        VhostUserRequest.VHOST_USER_SET_STATUS => "VHOST_USER_SET_STATUS",
        VhostUserRequest.VHOST_USER_GET_STATUS => "VHOST_USER_GET_STATUS",
        _ => "request " + ((uint)request).ToString(),
    };

    /// <summary>Requests whose reply carries a body of its own ("Communication" in the spec):
    /// for these NEED_REPLY changes nothing, and a refusal cannot be reported in a reply.</summary>
    public static bool HasReplyBody(VhostUserRequest request) => request switch
    {
        VhostUserRequest.VHOST_USER_GET_FEATURES or
        VhostUserRequest.VHOST_USER_GET_PROTOCOL_FEATURES or
        VhostUserRequest.VHOST_USER_GET_VRING_BASE or
        VhostUserRequest.VHOST_USER_GET_QUEUE_NUM or
        VhostUserRequest.VHOST_USER_GET_CONFIG or
        VhostUserRequest.VHOST_USER_GET_INFLIGHT_FD or
        VhostUserRequest.VHOST_USER_GET_MAX_MEM_SLOTS or
        VhostUserRequest.VHOST_USER_GET_STATUS or
        VhostUserRequest.VHOST_USER_IOTLB_MSG or
        VhostUserRequest.VHOST_USER_POSTCOPY_ADVISE or
        VhostUserRequest.VHOST_USER_POSTCOPY_END or
        VhostUserRequest.VHOST_USER_CREATE_CRYPTO_SESSION => true,
        _ => false,
    };
}
