// The data path: one chain made available by the "guest", then served by RngDevice.Serve
// (read avail->idx, walk and validate the chain, fill it, publish used->idx, decide on the
// notification, re-arm avail_event with EVENT_IDX). "Zero" fills with zeros to show the
// ring's own cost; "Csprng" is the default source.

using System;
using System.Threading;
using BenchmarkDotNet.Attributes;
using VhostUserRng.Rng;
using VhostUserRng.Virtio;

namespace VhostUserRng.Benchmarks;

public enum ChainShape { OneDescriptor64, ThreeDescriptors64, Indirect4x16 }

public enum Source { Zero, Csprng }

[MemoryDiagnoser]
public unsafe class ChainBenchmarks
{
    private const ushort Num = 256;
    private GuestFixture _guest = null!;
    private SplitRing _ring = null!;
    private RngDevice _device = null!;
    private readonly DescriptorChain _chain = new();
    private ushort _availIdx;

    [Params(ChainShape.OneDescriptor64, ChainShape.ThreeDescriptors64, ChainShape.Indirect4x16)]
    public ChainShape Shape { get; set; }

    [Params(Source.Zero, Source.Csprng)]
    public Source Entropy { get; set; }

    private sealed class ZeroSource : IEntropySource
    {
        public string Name => "zeros";
        public int Fill(Span<byte> destination) { destination.Clear(); return destination.Length; }
        public void Dispose() { }
    }

    [GlobalSetup]
    public void Setup()
    {
        _guest = new GuestFixture();
        const ushort W = VirtqDesc.VIRTQ_DESC_F_WRITE, N = VirtqDesc.VIRTQ_DESC_F_NEXT;
        switch (Shape)
        {
            case ChainShape.OneDescriptor64:
                _guest.WriteDesc(GuestFixture.DescGpa, 0x10000, 64, W, 0);
                break;
            case ChainShape.ThreeDescriptors64:
                _guest.WriteDesc(GuestFixture.DescGpa, 0x10000, 16, W | N, 1);
                _guest.WriteDesc(GuestFixture.DescGpa + 16, 0x11000, 16, W | N, 2);
                _guest.WriteDesc(GuestFixture.DescGpa + 32, 0x12000, 32, W, 0);
                break;
            case ChainShape.Indirect4x16:
                for (ushort i = 0; i < 4; i++)
                    _guest.WriteDesc(0x8000 + 16UL * i, 0x10000 + 0x100UL * i, 16, (ushort)(W | (i < 3 ? N : 0)), (ushort)(i + 1));
                _guest.WriteDesc(GuestFixture.DescGpa, 0x8000, 64, VirtqDesc.VIRTQ_DESC_F_INDIRECT, 0);
                break;
        }
        var memory = _guest.Memory;
        _ring = new SplitRing(memory,
            memory.TranslateUser(GuestFixture.UserBase + GuestFixture.DescGpa, SplitRing.DescTableSize(Num)),
            memory.TranslateUser(GuestFixture.UserBase + GuestFixture.AvailGpa, SplitRing.AvailRingSize(Num)),
            memory.TranslateUser(GuestFixture.UserBase + GuestFixture.UsedGpa, SplitRing.UsedRingSize(Num)),
            Num, 0, 0, eventIdx: true, indirect: true);
        IEntropySource source = Entropy == Source.Zero ? new ZeroSource() : new CsprngEntropySource();
        _device = new RngDevice(source, bucket: null, MonotonicClock.NowNs);
    }

    [Benchmark(Description = "post one chain + Serve")]
    public int ServeOneChain()
    {
        // The guest's part: avail->ring[idx % num] = head 0, then publish avail->idx.
        byte* avail = _guest.Host + GuestFixture.AvailGpa;
        *(ushort*)(avail + 4 + 2 * (_availIdx % Num)) = 0;
        Volatile.Write(ref *(ushort*)(avail + 2), ++_availIdx);
        return _device.Serve(_ring, _guest.Memory, _chain).Completed;
    }

    [GlobalCleanup]
    public void Cleanup() => _guest.Dispose();
}
