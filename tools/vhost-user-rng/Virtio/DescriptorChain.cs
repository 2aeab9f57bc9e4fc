// What the device learned from one descriptor chain, each descriptor having been read exactly
// once (the guest may rewrite the table meanwhile; only our copies are used): the
// device-writable segments and what else the chain contained.

namespace VhostUserRng.Virtio;

public sealed class DescriptorChain
{
    private ulong[] _addr = new ulong[8];
    private uint[] _len = new uint[8];

    private ulong _collectLimit;

    public ushort Head { get; private set; }

    /// <summary>Bytes of the collected segments: collection stops once this reaches the limit
    /// given to Reset (a device may use less than the whole buffer), validation does not.</summary>
    public ulong CollectedBytes { get; private set; }

    /// <summary>Number of device-writable segments collected (zero-length ones are skipped).</summary>
    public int SegmentCount { get; private set; }

    /// <summary>Sum of all device-writable lengths in the chain (may exceed what was collected).</summary>
    public ulong WritableBytes { get; private set; }

    /// <summary>Device-readable descriptors seen, and the first one's position in the chain.</summary>
    public int ReadableDescriptors { get; private set; }
    public int FirstReadablePosition { get; private set; } = -1;

    /// <summary>Descriptors visited, counting indirect table entries.</summary>
    public int DescriptorCount { get; private set; }

    public ulong SegmentAddr(int i) => _addr[i];
    public uint SegmentLength(int i) => _len[i];

    internal void Reset(ushort head, ulong collectLimit)
    {
        Head = head;
        _collectLimit = collectLimit;
        CollectedBytes = 0;
        SegmentCount = 0;
        WritableBytes = 0;
        ReadableDescriptors = 0;
        FirstReadablePosition = -1;
        DescriptorCount = 0;
    }

    internal void AddWritable(ulong addr, uint len)
    {
        DescriptorCount++;
        WritableBytes += len;
        if (len == 0 || CollectedBytes >= _collectLimit) return;
        if (SegmentCount == _addr.Length)
        {
            System.Array.Resize(ref _addr, _addr.Length * 2);
            System.Array.Resize(ref _len, _len.Length * 2);
        }
        _addr[SegmentCount] = addr;
        _len[SegmentCount] = len;
        SegmentCount++;
        CollectedBytes += len;
    }

    internal void AddReadable()
    {
        if (ReadableDescriptors++ == 0) FirstReadablePosition = DescriptorCount;
        DescriptorCount++;
    }
}
