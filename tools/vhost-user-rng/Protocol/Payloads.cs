// Payload layouts of vhost-user.rst "Payload", decoded with their sizes checked exactly.

using System;
using System.Buffers.Binary;

namespace VhostUserRng.Protocol;

/// <summary>"A vring state description": {u32 index, u32 num}.</summary>
public readonly record struct VhostVringState(uint Index, uint Num)
{
    public const int Size = 8;

    public static VhostVringState Read(VhostUserRequest request, ReadOnlySpan<byte> payload)
    {
        Payload.ExpectSize(request, payload, Size);
        return new(BinaryPrimitives.ReadUInt32LittleEndian(payload), BinaryPrimitives.ReadUInt32LittleEndian(payload[4..]));
    }

    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Index);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], Num);
    }
}

/// <summary>"A vring address description" (struct vhost_vring_addr). The three ring
/// addresses are the frontend's own virtual addresses ("user addresses").</summary>
public readonly record struct VhostVringAddr(uint Index, uint Flags, ulong DescUserAddr, ulong UsedUserAddr, ulong AvailUserAddr, ulong LogGuestAddr)
{
    public const int Size = 40;
    public const uint VHOST_VRING_F_LOG = 0x1;

    public static VhostVringAddr Read(VhostUserRequest request, ReadOnlySpan<byte> payload)
    {
        Payload.ExpectSize(request, payload, Size);
        return new(
            BinaryPrimitives.ReadUInt32LittleEndian(payload),
            BinaryPrimitives.ReadUInt32LittleEndian(payload[4..]),
            BinaryPrimitives.ReadUInt64LittleEndian(payload[8..]),
            BinaryPrimitives.ReadUInt64LittleEndian(payload[16..]),
            BinaryPrimitives.ReadUInt64LittleEndian(payload[24..]),
            BinaryPrimitives.ReadUInt64LittleEndian(payload[32..]));
    }

    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Index);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], Flags);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], DescUserAddr);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], UsedUserAddr);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[24..], AvailUserAddr);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[32..], LogGuestAddr);
    }
}

/// <summary>The u64 of SET_VRING_KICK/CALL/ERR: bits 0-7 the ring index, bit 8 "no fd".</summary>
public readonly record struct VhostVringFile(uint Index, bool NoFd)
{
    public const ulong IndexMask = 0xFF;
    public const ulong VHOST_USER_VRING_NOFD_MASK = 1UL << 8;

    public static VhostVringFile Read(VhostUserRequest request, ReadOnlySpan<byte> payload)
    {
        ulong value = Payload.ReadU64(request, payload);
        if ((value & ~(IndexMask | VHOST_USER_VRING_NOFD_MASK)) != 0)
            throw new VhostUserRequestRefusedException($"{VhostUserRequestInfo.Name(request)} 0x{value:x} sets bits other than the index (0-7) and NOFD (8)");
        return new((uint)(value & IndexMask), (value & VHOST_USER_VRING_NOFD_MASK) != 0);
    }

    public ulong Encode() => Index | (NoFd ? VHOST_USER_VRING_NOFD_MASK : 0);
}

/// <summary>One entry of "Memory regions description".</summary>
public readonly record struct VhostUserMemoryRegion(ulong GuestPhysAddr, ulong MemorySize, ulong UserspaceAddr, ulong MmapOffset)
{
    public const int Size = 32;

    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, GuestPhysAddr);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], MemorySize);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], UserspaceAddr);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[24..], MmapOffset);
    }

    public static VhostUserMemoryRegion Read(ReadOnlySpan<byte> bytes) => new(
        BinaryPrimitives.ReadUInt64LittleEndian(bytes),
        BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]),
        BinaryPrimitives.ReadUInt64LittleEndian(bytes[16..]),
        BinaryPrimitives.ReadUInt64LittleEndian(bytes[24..]));
}

/// <summary>"Memory regions description": {u32 num regions, u32 padding} + regions.</summary>
public static class VhostUserMemory
{
    public const int HeaderSize = 8;

    /// <summary>VHOST_MEMORY_BASELINE_NREGIONS: the limit without CONFIGURE_MEM_SLOTS.</summary>
    public const int MaxRegions = 8;

    public static VhostUserMemoryRegion[] Read(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < HeaderSize)
            throw new VhostUserRequestRefusedException($"VHOST_USER_SET_MEM_TABLE payload is {payload.Length} bytes, shorter than its {HeaderSize}-byte header");
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(payload);
        if (count == 0 || count > MaxRegions)
            throw new VhostUserRequestRefusedException($"VHOST_USER_SET_MEM_TABLE has {count} regions; 1 to {MaxRegions} are accepted");
        int expected = HeaderSize + (int)count * VhostUserMemoryRegion.Size;
        if (payload.Length != expected)
            throw new VhostUserRequestRefusedException($"VHOST_USER_SET_MEM_TABLE with {count} regions is {payload.Length} bytes, expected {expected}");
        var regions = new VhostUserMemoryRegion[count];
        for (int i = 0; i < regions.Length; i++)
            regions[i] = VhostUserMemoryRegion.Read(payload[(HeaderSize + i * VhostUserMemoryRegion.Size)..]);
        return regions;
    }

    public static byte[] Encode(ReadOnlySpan<VhostUserMemoryRegion> regions)
    {
        var bytes = new byte[HeaderSize + regions.Length * VhostUserMemoryRegion.Size];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, (uint)regions.Length);
        for (int i = 0; i < regions.Length; i++) regions[i].Write(bytes.AsSpan(HeaderSize + i * VhostUserMemoryRegion.Size));
        return bytes;
    }
}

public static class Payload
{
    public static void ExpectSize(VhostUserRequest request, ReadOnlySpan<byte> payload, int size)
    {
        if (payload.Length != size)
            throw new VhostUserRequestRefusedException($"{VhostUserRequestInfo.Name(request)} payload is {payload.Length} bytes, expected {size}");
    }

    public static ulong ReadU64(VhostUserRequest request, ReadOnlySpan<byte> payload)
    {
        ExpectSize(request, payload, sizeof(ulong));
        return BinaryPrimitives.ReadUInt64LittleEndian(payload);
    }
}
