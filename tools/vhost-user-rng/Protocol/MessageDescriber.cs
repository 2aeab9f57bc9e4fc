// One line per message, named as in the vhost-user document, with its fields decoded: what
// `-v` prints, so that a reader can follow QEMU's conversation with the backend.

using System;
using System.Buffers.Binary;
using System.Text;

namespace VhostUserRng.Protocol;

public static class MessageDescriber
{
    public static string DescribeRequest(in VhostUserHeader header, ReadOnlySpan<byte> payload, int fdCount)
    {
        var text = new StringBuilder(VhostUserRequestInfo.Name(header.Request));
        if (header.NeedReply) text.Append(" [NEED_REPLY]");
        AppendFields(text, header.Request, payload, isReply: false);
        if (fdCount > 0) text.Append(" fds=").Append(fdCount);
        return text.ToString();
    }

    public static string DescribeReply(VhostUserRequest request, ReadOnlySpan<byte> payload, bool isAck)
    {
        var text = new StringBuilder("reply ").Append(VhostUserRequestInfo.Name(request));
        if (isAck)
        {
            ulong value = BinaryPrimitives.ReadUInt64LittleEndian(payload);
            text.Append(value == 0 ? " ack=0 (success)" : $" ack={value} (failure)");
        }
        else
        {
            AppendFields(text, request, payload, isReply: true);
        }
        return text.ToString();
    }

    private static void AppendFields(StringBuilder text, VhostUserRequest request, ReadOnlySpan<byte> payload, bool isReply)
    {
        switch (request)
        {
            case VhostUserRequest.VHOST_USER_GET_FEATURES when isReply && payload.Length == 8:
            case VhostUserRequest.VHOST_USER_SET_FEATURES when payload.Length == 8:
                text.Append(" features=").Append(VhostUserFeatures.Describe(BinaryPrimitives.ReadUInt64LittleEndian(payload)));
                return;
            case VhostUserRequest.VHOST_USER_GET_PROTOCOL_FEATURES when isReply && payload.Length == 8:
            case VhostUserRequest.VHOST_USER_SET_PROTOCOL_FEATURES when payload.Length == 8:
                text.Append(" protocol_features=").Append(VhostUserFeatures.DescribeProtocol(BinaryPrimitives.ReadUInt64LittleEndian(payload)));
                return;
            case VhostUserRequest.VHOST_USER_GET_QUEUE_NUM when isReply && payload.Length == 8:
                text.Append(" queues=").Append(BinaryPrimitives.ReadUInt64LittleEndian(payload));
                return;
            case VhostUserRequest.VHOST_USER_SET_VRING_NUM when payload.Length == VhostVringState.Size:
            case VhostUserRequest.VHOST_USER_SET_VRING_BASE when payload.Length == VhostVringState.Size:
            case VhostUserRequest.VHOST_USER_GET_VRING_BASE when payload.Length == VhostVringState.Size:
            case VhostUserRequest.VHOST_USER_SET_VRING_ENABLE when payload.Length == VhostVringState.Size:
                var state = VhostVringState.Read(request, payload);
                text.Append(" index=").Append(state.Index).Append(" num=").Append(state.Num);
                return;
            case VhostUserRequest.VHOST_USER_SET_VRING_ADDR when payload.Length == VhostVringAddr.Size:
                var addr = VhostVringAddr.Read(request, payload);
                text.Append($" index={addr.Index} flags=0x{addr.Flags:x} descriptor=0x{addr.DescUserAddr:x} used=0x{addr.UsedUserAddr:x} available=0x{addr.AvailUserAddr:x} log=0x{addr.LogGuestAddr:x}");
                return;
            case VhostUserRequest.VHOST_USER_SET_VRING_KICK when payload.Length == 8:
            case VhostUserRequest.VHOST_USER_SET_VRING_CALL when payload.Length == 8:
            case VhostUserRequest.VHOST_USER_SET_VRING_ERR when payload.Length == 8:
                ulong u64 = BinaryPrimitives.ReadUInt64LittleEndian(payload);
                text.Append(" index=").Append(u64 & VhostVringFile.IndexMask);
                if ((u64 & VhostVringFile.VHOST_USER_VRING_NOFD_MASK) != 0) text.Append(" NOFD");
                if ((u64 & ~(VhostVringFile.IndexMask | VhostVringFile.VHOST_USER_VRING_NOFD_MASK)) != 0) text.Append($" (u64=0x{u64:x})");
                return;
            case VhostUserRequest.VHOST_USER_SET_MEM_TABLE when payload.Length >= VhostUserMemory.HeaderSize:
                uint count = BinaryPrimitives.ReadUInt32LittleEndian(payload);
                text.Append(" nregions=").Append(count);
                for (int i = 0; i < count && VhostUserMemory.HeaderSize + (i + 1) * VhostUserMemoryRegion.Size <= payload.Length; i++)
                {
                    var r = VhostUserMemoryRegion.Read(payload[(VhostUserMemory.HeaderSize + i * VhostUserMemoryRegion.Size)..]);
                    text.Append($" [{i}: guest_phys_addr=0x{r.GuestPhysAddr:x} memory_size=0x{r.MemorySize:x} userspace_addr=0x{r.UserspaceAddr:x} mmap_offset=0x{r.MmapOffset:x}]");
                }
                return;
            default:
                if (payload.Length > 0) text.Append(" payload=").Append(payload.Length).Append(" bytes");
                return;
        }
    }
}
