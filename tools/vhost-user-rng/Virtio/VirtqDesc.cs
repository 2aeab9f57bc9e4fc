// struct virtq_desc (virtio 1.2, 2.7.5 "The Virtqueue Descriptor Table"): 16 bytes,
// little-endian like every field of a VERSION_1 ring.

using System.Runtime.InteropServices;

namespace VhostUserRng.Virtio;

[StructLayout(LayoutKind.Sequential, Pack = 1, Size = 16)]
public struct VirtqDesc
{
    /// <summary>The buffer continues via the next field.</summary>
    public const ushort VIRTQ_DESC_F_NEXT = 1;
    /// <summary>Device-writable (otherwise device-readable).</summary>
    public const ushort VIRTQ_DESC_F_WRITE = 2;
    /// <summary>The buffer is a table of descriptors (2.7.5.3 "Indirect Descriptors").</summary>
    public const ushort VIRTQ_DESC_F_INDIRECT = 4;

    public ulong addr;   // guest physical address
    public uint len;
    public ushort flags;
    public ushort next;
}
