// Property-based tests (CsCheck) of the backend's device side of the split ring: SplitRing
// and RngDevice.Serve on guest RAM the test controls (a sealed memfd mapped through
// GuestMemory), against a model driver. Random interleavings of the driver adding chains
// (direct, through an indirect table, with zero-length segments), kicking by the spec's rule,
// moving used_event or the NO_INTERRUPT flag, and the device serving with an entropy source
// that may run dry and an optional rate limit on a test clock; EVENT_IDX on and off; avail/used
// indices starting near the 16-bit wrap. After every step:
//   - every available chain is used exactly once, in avail order (the device serves in order),
//     with 1 <= len <= the chain's writable bytes, and exactly len bytes written, in chain order;
//   - nothing else in guest RAM changed (a byte-for-byte image of what RAM must hold);
//   - ServeResult.Notify equals vring_need_event (§2.7.10) on used_event, computed by the
//     test's own reference, or the NO_INTERRUPT flag without EVENT_IDX (§2.7.7);
//   - no chain is stranded: a device that only serves when kicked (by the driver's §2.7.10
//     rule on avail_event) or when its retry time comes still uses every chain in the end.
// Each property is shown able to fail on a deliberately wrong model (Fault).

using System;
using System.Collections.Generic;
using System.Linq;
using CsCheck;
using VhostUser.Tests.Frontend;
using VhostUserRng.Interop;
using VhostUserRng.Memory;
using VhostUserRng.Rng;
using VhostUserRng.Virtio;
using Xunit;
using Xunit.Abstractions;

namespace VhostUser.Tests;

public sealed unsafe class SplitRingPropertyTests : IDisposable
{
    private const int Iterations = 1000;       // cases per property, each up to 100 steps (~2 s)
    private const int FaultIterations = 300;

    public enum Fault
    {
        None,
        NotifyRuleOffByOne,      // the model's need_event tests used_event+1
        NotifyRuleWithoutWrap,   // the model compares indices as plain integers
        ModelExpectsOneByteLess, // the model thinks the device wrote one byte less than it did
        ModelUndercountsWritable,// the model's writable total is one short
        ModelRereadsUsed,        // the model reads the used ring from one element back
        DriverNeverKicks,        // the driver skips every kick the rule asks for
    }

    public readonly struct Op
    {
        public readonly int Kind;
        public readonly uint R;
        public Op(int kind, uint r) { Kind = kind; R = r; }
        public const int Add = 0, Serve = 1, Kick = 2, UsedEvent = 3, Time = 4;
        private static readonly string[] Names = { "add", "serve", "kick", "used_event", "time" };
        public override string ToString() => $"{Names[Kind]}({R})";
    }

    private static readonly Gen<Op> GenOp = Gen.Select(Gen.Int[0, 99], Gen.UInt[0, 1u << 20], (k, r) =>
        new Op(k < 40 ? Op.Add : k < 70 ? Op.Serve : k < 85 ? Op.Kick : k < 93 ? Op.UsedEvent : Op.Time, r));

    public sealed class Case
    {
        public uint Num;
        public bool EventIdx;
        public bool RateLimited;
        public ushort Start;     // avail and used index the ring starts at (SET_VRING_BASE)
        public Op[] Ops = Array.Empty<Op>();
        public override string ToString() =>
            $"num={Num} event_idx={EventIdx} rate_limited={RateLimited} start={Start} ops=[{string.Join(", ", Ops)}]";
    }

    private static readonly Gen<Case> GenCase = Gen.Select(
        Gen.Int[0, 4].Select(s => 1u << s),
        Gen.Bool,
        Gen.Frequency((3, Gen.Const(false)), (1, Gen.Const(true))),
        Gen.Frequency((1, Gen.Const(0)), (1, Gen.Int[1, 40].Select(d => 65536 - d))),
        GenOp.Array[1, 100],
        (num, ev, rl, start, ops) => new Case { Num = num, EventIdx = ev, RateLimited = rl, Start = (ushort)start, Ops = ops });

    // Guest RAM: ring at 0x1000/0x2000/0x3000, indirect tables at 0x4000 + 0x100 * head, the
    // buffers of head h at 0x8000 + 0x600 * h (three segments of up to 0x1F0 bytes, 0x200 apart).
    private const ulong RamSize = 0x10000, DescGpa = 0x1000, AvailGpa = 0x2000, UsedGpa = 0x3000;
    private const byte Canary = 0xCB, Entropy = 0x11;

    private readonly GuestRam _ram = GuestRam.Create(RamSize);
    private readonly GuestMemory _memory;
    private readonly ITestOutputHelper _out;

    public SplitRingPropertyTests(ITestOutputHelper output)
    {
        _out = output;
        var fds = new FdList();
        fds.Add(_ram.Fd);
        _memory = GuestMemory.Map(_ram.Regions, fds, requireSealed: true, _ => { });
    }

    public void Dispose()
    {
        _memory.Dispose();
        _ram.Dispose();
    }

    private void Check(Fault fault, int iterations) =>
        GenCase.Sample(c => new Run(this, c, fault).Execute(), iter: iterations, threads: 1, print: c => c.ToString());

    [Fact]
    public void TheDeviceSideAgainstAModelDriver() => Check(Fault.None, Iterations);

    [Theory]
    [InlineData(Fault.NotifyRuleOffByOne, "notify")]
    [InlineData(Fault.NotifyRuleWithoutWrap, "notify")]
    [InlineData(Fault.ModelExpectsOneByteLess, "guest RAM")]
    [InlineData(Fault.ModelUndercountsWritable, "writable")]
    [InlineData(Fault.ModelRereadsUsed, "used")]
    [InlineData(Fault.DriverNeverKicks, "never used")]
    public void EachPropertyFailsOnABrokenVariant(Fault fault, string expected)
    {
        var e = Assert.Throws<CsCheckException>(() => Check(fault, FaultIterations));
        Assert.Contains(expected, e.ToString());
        Assert.Contains("num=", e.Message);   // the shrunk case is printed
        _out.WriteLine(e.Message);
        _out.WriteLine("failed with: " + e.InnerException?.Message);
    }

    /// <summary>§2.7.10 written independently of the backend's formula: moving the index from
    /// old to new passes `event` iff event is one of old, old+1, ..., new-1 (mod 2^16).</summary>
    private static bool NeedEvent(ushort ev, ushort newIdx, ushort old)
    {
        for (ushort x = old; x != newIdx; x++) if (x == ev) return true;
        return false;
    }

    /// <summary>Hands out Entropy bytes, or only `Left` of them while dry.</summary>
    private sealed class Source : IEntropySource
    {
        public long Left = long.MaxValue;
        public string Name => "model";
        public int Fill(Span<byte> destination)
        {
            int n = (int)Math.Min(destination.Length, Left);
            destination[..n].Fill(Entropy);
            Left -= n;
            return n;
        }
        public void Dispose() { }
    }

    private sealed class Chain
    {
        public ushort Head;
        public uint Descs;
        public readonly List<(ulong gpa, uint len)> Segments = new();
        public ulong Writable => (ulong)Segments.Sum(s => (long)s.len);
    }

    private sealed class Run
    {
        private readonly GuestRam _ram;
        private readonly GuestMemory _memory;
        private readonly Case _c;
        private readonly Fault _f;
        private readonly byte[] _image = new byte[RamSize];   // what guest RAM must hold
        private readonly SplitRing _ring;
        private readonly RngDevice _device;
        private readonly Source _source = new();
        private readonly DescriptorChain _chain = new();
        private long _now;

        // Model driver.
        private readonly Queue<Chain> _avail = new();           // published, not yet used, in avail order
        private readonly Stack<ushort> _freeDescs = new();
        private readonly Dictionary<ushort, ushort[]> _descsOf = new();   // head -> the descriptors of its chain
        private ushort _availIdx, _usedSeen, _kickedAt;
        private ushort? _lastSignalled;                         // used->idx at the device's last notify decision
        private bool _awake = true;                             // the device serves on its first start
        private long _retryAt = RngDevice.ServeResult.NoRetry;

        public Run(SplitRingPropertyTests t, Case c, Fault f)
        {
            _ram = t._ram;
            _memory = t._memory;
            _c = c;
            _f = f;
            new Span<byte>(_ram.Host, (int)RamSize).Clear();
            _image.AsSpan().Clear();
            for (int d = (int)c.Num - 1; d >= 0; d--) _freeDescs.Push((ushort)d);
            _availIdx = _usedSeen = _kickedAt = c.Start;
            Write16(AvailGpa + 2, c.Start);    // SET_VRING_BASE: both indices start here
            Write16(UsedGpa + 2, c.Start);
            var bucket = c.RateLimited ? new TokenBucket(200, 1_000_000, 0) : null;
            _device = new RngDevice(_source, bucket, () => _now);
            _ring = new SplitRing(_memory, _ram.HostOf(DescGpa), _ram.HostOf(AvailGpa), _ram.HostOf(UsedGpa), c.Num,
                                  nextAvail: c.Start, nextUsed: c.Start, eventIdx: c.EventIdx, indirect: true);
        }

        // Driver stores: into RAM and into the image of what RAM must hold.
        private void Write16(ulong gpa, ushort v) { _ram.WriteU16(gpa, v); BitConverter.TryWriteBytes(_image.AsSpan((int)gpa), v); }
        private void WriteDesc(ulong gpa, ulong addr, uint len, ushort flags, ushort next)
        {
            _ram.WriteU64(gpa, addr); _ram.WriteU32(gpa + 8, len); _ram.WriteU16(gpa + 12, flags); _ram.WriteU16(gpa + 14, next);
            _ram.File.Slice((int)gpa, 16).CopyTo(_image.AsSpan((int)gpa));
        }
        private void FillBytes(ulong gpa, int len, byte v) { _ram.Fill(gpa, len, v); _image.AsSpan((int)gpa, len).Fill(v); }

        public void Execute()
        {
            for (int i = 0; i < _c.Ops.Length; i++)
            {
                Op op = _c.Ops[i];
                switch (op.Kind)
                {
                    case Op.Add: Add(op.R); break;
                    case Op.Serve:
                        if (!_awake && _now < _retryAt) break;   // asleep: waits for a kick or its retry time
                        Serve(dry: (op.R & 3) == 0 ? (long)(op.R >> 2) % 64 : long.MaxValue);
                        CheckRam($"step {i} ({op})");
                        break;
                    case Op.Kick: Kick(); break;
                    case Op.UsedEvent:
                        if (_c.EventIdx) Write16(AvailGpa + 4 + 2UL * _c.Num, (ushort)(_usedSeen + (int)(op.R % 9) - 2));
                        else Write16(AvailGpa, (ushort)(op.R & SplitRing.VIRTQ_AVAIL_F_NO_INTERRUPT));
                        break;
                    case Op.Time: _now += (long)(op.R % 2_000_000); break;
                }
            }
            // The end: the driver kicks if its rule says so; the device serves when kicked or
            // when its retry comes (the clock jumps there); every chain must be used.
            Kick();
            for (int round = 0; round < 1000 && (_awake || _retryAt != RngDevice.ServeResult.NoRetry); round++)
            {
                if (!_awake) _now = Math.Max(_now, _retryAt);
                Serve(dry: long.MaxValue);
            }
            CheckRam("drain");
            if (_avail.Count > 0)
                throw new Exception($"{_avail.Count} available chain(s) never used (heads {string.Join(", ", _avail.Select(ch => ch.Head))}; avail idx {_availIdx}, avail_event {_ram.ReadU16(UsedGpa + 4 + 8UL * _c.Num)})");
        }

        // A chain of 1-3 writable segments (maybe zero-length ones, never all empty), direct or
        // through an indirect table, published at once.
        private void Add(uint r)
        {
            uint segs = 1 + r % 3;
            bool indirect = (r >> 2) % 4 == 0;
            uint descs = indirect ? 1 : segs;
            if (_freeDescs.Count < descs) return;
            var ch = new Chain { Descs = descs };
            var indexes = new ushort[descs];
            for (int k = 0; k < descs; k++) indexes[k] = _freeDescs.Pop();
            ch.Head = indexes[0];
            ulong area = 0x8000 + 0x600UL * ch.Head;
            for (uint k = 0; k < segs; k++)
            {
                uint len = (r >> (int)(4 + 3 * k)) % 8 == 0 && k > 0 ? 0 : 1 + (r >> (int)(4 + 3 * k)) % 0x1F0;
                ch.Segments.Add((area + 0x200 * k, len));
                FillBytes(area + 0x200 * k, 0x1F0, Canary);   // the buffer's old contents: not the device's
            }
            if (indirect)
            {
                ulong table = 0x4000 + 0x100UL * ch.Head;
                for (int k = 0; k < segs; k++)
                    WriteDesc(table + 16UL * (ulong)k, ch.Segments[k].gpa, ch.Segments[k].len,
                              (ushort)(VirtqDesc.VIRTQ_DESC_F_WRITE | (k + 1 < segs ? VirtqDesc.VIRTQ_DESC_F_NEXT : 0)), (ushort)(k + 1));
                WriteDesc(DescGpa + 16UL * ch.Head, table, 16 * segs, VirtqDesc.VIRTQ_DESC_F_INDIRECT, 0);
            }
            else
            {
                for (int k = 0; k < segs; k++)
                    WriteDesc(DescGpa + 16UL * indexes[k], ch.Segments[k].gpa, ch.Segments[k].len,
                              (ushort)(VirtqDesc.VIRTQ_DESC_F_WRITE | (k + 1 < segs ? VirtqDesc.VIRTQ_DESC_F_NEXT : 0)),
                              k + 1 < segs ? indexes[k + 1] : (ushort)0);
            }
            _descsOf[ch.Head] = indexes;
            Write16(AvailGpa + 4 + 2UL * (ulong)(_availIdx % _c.Num), ch.Head);
            _availIdx++;
            Write16(AvailGpa + 2, _availIdx);
            _avail.Enqueue(ch);
        }

        // §2.7.10 from the driver's side: kick iff avail_event was passed since the last kick
        // (without EVENT_IDX: unless the device set NO_NOTIFY, which this backend never does).
        private void Kick()
        {
            bool need = _c.EventIdx ? NeedEvent(_ram.ReadU16(UsedGpa + 4 + 8UL * _c.Num), _availIdx, _kickedAt)
                                    : (_ram.ReadU16(UsedGpa) & 1) == 0;
            _kickedAt = _availIdx;
            if (need && _f != Fault.DriverNeverKicks) _awake = true;
        }

        private void Serve(long dry)
        {
            _source.Left = dry;
            ushort usedEvent = _ram.ReadU16(AvailGpa + 4 + 2UL * _c.Num);
            bool noInterrupt = (_ram.ReadU16(AvailGpa) & SplitRing.VIRTQ_AVAIL_F_NO_INTERRUPT) != 0;
            var result = _device.Serve(_ring, _memory, _chain);

            // The used ring: exactly result.Completed new elements, the chains in avail order.
            ushort usedIdx = _ram.ReadU16(UsedGpa + 2);
            if ((ushort)(usedIdx - _usedSeen) != result.Completed)
                throw new Exception($"used->idx moved {(ushort)(usedIdx - _usedSeen)}, the device reports {result.Completed} completed");
            ushort from = _f == Fault.ModelRereadsUsed && result.Completed > 0 ? (ushort)(_usedSeen - 1) : _usedSeen;
            ulong bytes = 0;
            for (ushort i = from; i != usedIdx; i++)
            {
                ulong at = UsedGpa + 4 + 8UL * (ulong)(i % _c.Num);
                uint id = _ram.ReadU32(at), len = _ram.ReadU32(at + 4);
                if (!_avail.TryDequeue(out Chain? ch)) throw new Exception($"used element {i} (id {id}) with no chain available: used twice?");
                if (id != ch.Head) throw new Exception($"used element {i} names head {id}, the next available chain is {ch.Head} (lost, reordered or used twice)");
                ulong writable = _f == Fault.ModelUndercountsWritable ? ch.Writable - 1 : ch.Writable;
                if (len == 0 || len > writable) throw new Exception($"used element {i}: len {len}, chain {id} has {writable} writable bytes (must be 1..writable)");
                // The device wrote exactly the first len bytes of the chain, in order.
                ulong left = _f == Fault.ModelExpectsOneByteLess ? len - 1 : len;
                foreach (var (gpa, slen) in ch.Segments)
                {
                    int n = (int)Math.Min(slen, left);
                    _image.AsSpan((int)gpa, n).Fill(Entropy);
                    left -= (ulong)n;
                }
                bytes += len;
                BitConverter.TryWriteBytes(_image.AsSpan((int)at), id);
                BitConverter.TryWriteBytes(_image.AsSpan((int)at + 4), len);
                foreach (ushort d in _descsOf[ch.Head]) _freeDescs.Push(d);   // the driver takes it back
            }
            BitConverter.TryWriteBytes(_image.AsSpan((int)UsedGpa + 2), usedIdx);
            if (bytes != result.Bytes) throw new Exception($"used lengths add up to {bytes}, the device reports {result.Bytes} bytes");

            // The notify decision (§2.7.7, §2.7.10); the first one with EVENT_IDX always notifies.
            bool expected = false;
            if (result.Completed > 0)
            {
                ushort ev = _f == Fault.NotifyRuleOffByOne ? (ushort)(usedEvent + 1) : usedEvent;
                if (!_c.EventIdx) expected = !noInterrupt;
                else if (_lastSignalled is not ushort old) expected = true;
                else if (_f == Fault.NotifyRuleWithoutWrap) expected = old <= ev && ev < usedIdx;
                else expected = NeedEvent(ev, usedIdx, old);
                _lastSignalled = usedIdx;
            }
            if (result.Notify != expected) throw new Exception($"device notify {result.Notify}, the spec's rule {expected} (used_event {usedEvent}, used idx {usedIdx})");
            _usedSeen = usedIdx;

            // Idle with EVENT_IDX: "kick me at the next entry" (avail_event = next avail).
            ushort availEvent = _ram.ReadU16(UsedGpa + 4 + 8UL * _c.Num);
            BitConverter.TryWriteBytes(_image.AsSpan((int)(UsedGpa + 4 + 8UL * _c.Num)), availEvent);
            if (result.RetryAtNs == RngDevice.ServeResult.NoRetry && _c.EventIdx && availEvent != _availIdx)
                throw new Exception($"idle with avail_event {availEvent}, but the driver published up to {_availIdx}");
            _retryAt = result.RetryAtNs;
            _awake = false;
        }

        // Nothing in guest RAM differs from what the driver wrote and the device was allowed to.
        private void CheckRam(string where)
        {
            ReadOnlySpan<byte> ram = _ram.File;
            int same = ram.CommonPrefixLength(_image);
            if (same != ram.Length)
                throw new Exception($"{where}: guest RAM at 0x{same:x} is 0x{ram[same]:x2}, expected 0x{_image[same]:x2}");
        }
    }
}
