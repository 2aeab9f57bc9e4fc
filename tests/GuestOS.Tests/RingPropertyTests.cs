using System;
using System.Collections.Generic;
using System.Linq;
using CsCheck;
using GuestOS.Drivers;
using GuestOS.Drivers.Virtio;
using GuestOS.Hal;
using GuestOS.Hal.Hosted;
using GuestOS.Tests.Simulation;
using Xunit;
using Xunit.Abstractions;

namespace GuestOS.Tests
{
    // Property-based tests (CsCheck) of the guest side of both rings: SplitVirtqueue and
    // PackedVirtqueue driven by random interleavings of add (single buffers and chains), kick
    // (kick_prepare + notify), device completion (SimVring: in order; SimPackedVring: out of
    // order, buffers held back), short used lengths, get_buf, disable/enable callbacks, device
    // event suppression (EVENT_IDX on and off), reset (delete and recreate) and, for the split
    // ring, a start near the 16-bit index wrap. A model tracks what must happen; after every
    // step the queue is held to it:
    //   - every token comes back from get_buf exactly once, with the length the device reported,
    //     and none is lost (a final drain returns all that a reset did not take back);
    //   - nothing is written outside an offered buffer or the ring (DmaPool canaries; SimVring
    //     also catches a driver store into the used ring);
    //   - kick_prepare's answer equals the spec's rule, computed by the test's own reference
    //     (§2.7.10 vring_need_event / the no-notify flag; §2.8.10 + §2.8.14 off_wrap for packed);
    //   - the device's interrupt decision never fires while callbacks are disabled, and always
    //     fires for a completion when callbacks are enabled and the driver had caught up;
    //   - more_used / poll / NumFree / avail positions agree with the model.
    // Each property is shown able to fail: the same runner with a deliberately wrong model or
    // a misbehaving device (Fault) must throw CsCheckException with a shrunk counterexample.
    public sealed unsafe class RingPropertyTests : HalTest
    {
        private readonly ITestOutputHelper _out;
        public RingPropertyTests(ITestOutputHelper output) { _out = output; }

        // Cases per property (and per fault demonstration); each case is up to 120 steps. A
        // split case near the wrap first runs ~65000 buffers through, hence fewer split cases.
        private const int SplitIterations = 300;
        private const int PackedIterations = 1000;
        private const int FaultIterations = 200;

        public enum Fault
        {
            None,
            KickRuleOffByOne,        // the model's need_event tests event+1 (an off-by-one rule)
            KickRuleWithoutWrap,     // the model compares indices as plain integers, no mod 2^16
            ModelExpectsFullLength,  // the model ignores short used lengths
            DeviceWritesPastBuffer,  // the device writes one byte past each buffer it fills
            DeviceLosesBuffer,       // the device never completes a buffer (packed: holds one back)
            DeviceCompletesTwice,    // the device reports a buffer a second time
            ModelIgnoresDisable,     // the model forgets disable_cb: expects an interrupt anyway
        }

        // One step. Kind decides what; R supplies the random details (sizes, picks, values).
        public readonly struct Op
        {
            public readonly int Kind;
            public readonly uint R;
            public Op(int kind, uint r) { Kind = kind; R = r; }
            public const int Add = 0, Complete = 1, GetBuf = 2, Kick = 3, DeviceEvent = 4, DisableCb = 5, EnableCb = 6, Reset = 7;
            private static readonly string[] Names = { "add", "complete", "get_buf", "kick", "device_event", "disable_cb", "enable_cb", "reset" };
            public override string ToString() => $"{Names[Kind]}({R})";
        }

        // Resets are rare: most cases should run long enough to wrap small rings many times.
        private static readonly Gen<Op> GenOp = Gen.Select(Gen.Int[0, 99], Gen.UInt[0, 1u << 20], (k, r) =>
            new Op(k < 30 ? Op.Add : k < 50 ? Op.Complete : k < 70 ? Op.GetBuf : k < 82 ? Op.Kick
                 : k < 88 ? Op.DeviceEvent : k < 93 ? Op.DisableCb : k < 98 ? Op.EnableCb : Op.Reset, r));

        public sealed class Case
        {
            public bool Packed;
            public uint Num;
            public bool EventIdx;
            public ushort Start;     // split: avail/used index the queue is run up to first
            public Op[] Ops;
            public override string ToString() =>
                $"{(Packed ? "packed" : "split")} num={Num} event_idx={EventIdx} start={Start} ops=[{string.Join(", ", Ops)}]";
        }

        private static Gen<Case> GenCase(bool packed, bool nearWrap = false) => Gen.Select(
            packed ? Gen.UInt[1, 9] : Gen.Int[0, 4].Select(s => 1u << s),
            Gen.Bool,
            // Split only: half the cases start within 40 of the 16-bit wrap, so their adds cross
            // it; all of them when the wrap is what a check is about.
            packed ? Gen.Const(0) : nearWrap ? Gen.Int[1, 40].Select(d => 65536 - d)
                                             : Gen.Frequency((1, Gen.Const(0)), (1, Gen.Int[1, 40].Select(d => 65536 - d))),
            GenOp.Array[1, 120],
            (num, ev, start, ops) => new Case { Packed = packed, Num = num, EventIdx = ev, Start = (ushort)start, Ops = ops });

        // One thread: the hosted HAL is process-wide. A failure prints the shrunk case and a seed
        // (CsCheck_Seed=... reruns it).
        private static void Check(bool packed, Fault fault, int iterations) =>
            GenCase(packed, nearWrap: fault == Fault.KickRuleWithoutWrap)
                .Sample(c => new Run(c, fault).Execute(), iter: iterations, threads: 1, print: c => c.ToString());

        [Fact] public void SplitRingAgainstAModelDevice() => Check(packed: false, Fault.None, SplitIterations);
        [Fact] public void PackedRingAgainstAModelDevice() => Check(packed: true, Fault.None, PackedIterations);

        // Each property can fail: a wrong model or a misbehaving device makes it throw, with the
        // shrunk case in the message. `expected` is a regular expression for the failed check.
        [Theory]
        [InlineData(false, Fault.KickRuleOffByOne, "kick_prepare")]
        [InlineData(true, Fault.KickRuleOffByOne, "kick_prepare")]
        [InlineData(false, Fault.KickRuleWithoutWrap, "kick_prepare")]
        [InlineData(false, Fault.ModelExpectsFullLength, "length")]
        [InlineData(true, Fault.ModelExpectsFullLength, "length")]
        [InlineData(false, Fault.DeviceWritesPastBuffer, "written outside")]
        [InlineData(true, Fault.DeviceWritesPastBuffer, "written outside")]
        [InlineData(true, Fault.DeviceLosesBuffer, "never came back")]
        [InlineData(false, Fault.DeviceCompletesTwice, "get_buf|more_used disagrees")]   // either check may see it first
        [InlineData(true, Fault.DeviceCompletesTwice, "get_buf|more_used disagrees")]
        [InlineData(false, Fault.ModelIgnoresDisable, "interrupt")]
        [InlineData(true, Fault.ModelIgnoresDisable, "interrupt")]
        public void EachPropertyFailsOnABrokenVariant(bool packed, Fault fault, string expected)
        {
            var e = Assert.Throws<CsCheckException>(() => Check(packed, fault, FaultIterations));
            Assert.Matches(expected, e.ToString());
            Assert.Contains(packed ? "packed num=" : "split num=", e.Message);   // the shrunk case is printed
            _out.WriteLine(e.Message);
            _out.WriteLine("failed with: " + e.InnerException?.Message);
        }

        // The buffer's own record in the model.
        private sealed class Buffer
        {
            public ulong Token;
            public uint Descs;
            public uint Writable;
            public uint DeviceWrites;   // bytes the device will write (short lengths: < Writable)
        }

        // One case: the queue, its device, and the model.
        private sealed class Run
        {
            private readonly Case _c;
            private readonly Fault _f;
            private readonly List<string> _devErrors = new List<string>();
            private readonly CountingNotifier _notifier = new CountingNotifier();
            private Virtqueue _vq;
            private SimRing _dev;
            private SplitVirtqueue Split => (SplitVirtqueue)_vq;
            private PackedVirtqueue Packed => (PackedVirtqueue)_vq;
            private SimVring SDev => (SimVring)_dev;
            private SimPackedVring PDev => (SimPackedVring)_dev;

            // Model.
            private readonly Dictionary<ulong, Buffer> _outstanding = new Dictionary<ulong, Buffer>();  // token -> buffer
            private readonly Dictionary<ulong, uint> _ready = new Dictionary<ulong, uint>();            // completed, not yet taken: token -> len
            private readonly Dictionary<ulong, ulong> _tokenOfAddr = new Dictionary<ulong, ulong>();    // writable buffer address -> token
            private ulong _nextToken = 1;
            private uint _descsOut;
            private bool _cbEnabled = true;
            // Where the driver's available position is, and where it was at the last kick_prepare.
            private ushort _availIdx, _kickIdx;                       // split
            private uint _pos, _kickPos; private bool _wrap = true, _kickWrap = true; private uint _addedSinceKick;   // packed
            // The chain the device is filling (Fill sees addresses, MangleUsed ends the chain).
            private ulong _filling;
            private uint _fillLeft;
            private (uint id, uint len, uint slots)? _lastUsed;

            public Run(Case c, Fault f) { _c = c; _f = f; }

            public void Execute()
            {
                HostedHal.Reset();
                try
                {
                    Create();
                    if (!_c.Packed && _c.Start != 0) FastForward(_c.Start);
                    for (int i = 0; i < _c.Ops.Length; i++) Step(_c.Ops[i], i);
                    Drain();
                    List<string> damaged = DmaPool.CheckCanaries();
                    if (damaged.Count > 0) throw new Exception("written outside DMA allocations: " + string.Join("; ", damaged.Take(4)));
                }
                finally { HostedHal.Reset(); }
            }

            private void Create()
            {
                _vq = _c.Packed ? PackedVirtqueue.vring_create_virtqueue(0, _c.Num, _c.EventIdx, _notifier, out DriverError e)
                                : SplitVirtqueue.vring_create_virtqueue(0, _c.Num, _c.EventIdx, _notifier, out e);
                Assert.Equal(DriverError.Ok, e);
                _dev = _c.Packed ? new SimPackedVring(_devErrors) : new SimVring(_devErrors);
                _dev.Desc = _vq.DescAreaPhys; _dev.Driver = _vq.DriverAreaPhys; _dev.Device = _vq.DeviceAreaPhys;
                _dev.Size = _vq.Num; _dev.EventIdx = _c.EventIdx;
                _dev.Fill = Fill;
                _dev.MangleUsed = EndChain;
                _availIdx = _kickIdx = 0;
                _pos = _kickPos = 0; _wrap = _kickWrap = true; _addedSinceKick = 0;
                _cbEnabled = true;
                _descsOut = 0;
            }

            // Runs both sides' indices up to `start` with real traffic (the API has no other way
            // to place a queue near the wrap): batches of single buffers, added, returned by the
            // device (its PushUsed, without Process's checks, for speed), taken.
            private void FastForward(ushort start)
            {
                DmaBuffer b = Dma.AllocCoherent(8);
                for (int done = 0; done < start;)
                {
                    int k = (int)Math.Min(_c.Num, (uint)(start - done));
                    for (int i = 0; i < k; i++) Assert.Equal(DriverError.Ok, _vq.virtqueue_add_inbuf(b.Phys, 8, 1));
                    _vq.virtqueue_kick_prepare();
                    for (int i = 0; i < k; i++) SDev.PushUsed(SDev.AvailRing((uint)(SDev.LastAvail++ & (_c.Num - 1))), 8);
                    for (int i = 0; i < k; i++) Assert.True(_vq.virtqueue_get_buf(out _, out _, out _));
                    done += k;
                }
                _availIdx = _kickIdx = start;
                Assert.Equal(start, Split.AvailIdxShadow);
                Assert.Equal(start, SDev.PublishedUsedIdx);
            }

            private uint Fill(IntPtr buf, uint len)
            {
                if (!_tokenOfAddr.TryGetValue((ulong)buf, out ulong token)) throw new Exception($"device filled 0x{(ulong)buf:x}, which no outstanding buffer starts at");
                if (token != _filling) { _filling = token; _fillLeft = _outstanding[token].DeviceWrites; }
                uint n = Math.Min(len, _fillLeft);
                _fillLeft -= n;
                byte* p = (byte*)buf;
                for (uint i = 0; i < n; i++) p[i] = (byte)(token + i);
                if (_f == Fault.DeviceWritesPastBuffer) p[len] = 0x5A;
                return n;
            }

            // The device finished the chain it was filling with `written` bytes: the model learns
            // the length it reports.
            private (uint, uint) EndChain(uint id, uint written)
            {
                ulong token = _filling;
                _filling = 0;
                if (!_outstanding.ContainsKey(token) || _ready.ContainsKey(token)) throw new Exception($"device completed token {token}, which is not outstanding");
                _ready[token] = written;
                _lastUsed = (id, written, _outstanding[token].Descs);
                return (id, written);
            }

            private void Step(Op op, int n)
            {
                uint r = op.R;
                switch (op.Kind)
                {
                    case Op.Add: Add(r); break;
                    case Op.Complete: Complete(r); break;
                    case Op.GetBuf: GetBuf(); break;
                    case Op.Kick: Kick(); break;
                    case Op.DeviceEvent: DeviceEvent(r); break;
                    case Op.DisableCb: _vq.virtqueue_disable_cb(); _cbEnabled = false; break;
                    case Op.EnableCb:
                    {
                        uint last = _vq.virtqueue_enable_cb_prepare();
                        _cbEnabled = true;
                        if (_vq.virtqueue_poll(last) != (_ready.Count > 0)) throw new Exception($"step {n}: poll says {!(_ready.Count > 0)} with {_ready.Count} used buffers not taken");
                        break;
                    }
                    case Op.Reset: Reset(); break;
                }
                if (_devErrors.Count > 0) throw new Exception($"step {n} ({op}): device saw a ring error: {string.Join("; ", _devErrors)}");
                if (_vq.Broken) throw new Exception($"step {n} ({op}): queue broken: {_vq.BrokenReason}");
                if (_vq.NumFree != _vq.Num - _descsOut) throw new Exception($"step {n} ({op}): NumFree {_vq.NumFree}, model {_vq.Num - _descsOut}");
                if (_vq.virtqueue_more_used() != (_ready.Count > 0)) throw new Exception($"step {n} ({op}): more_used disagrees with {_ready.Count} used buffers not taken");
                if (!_c.Packed && Split.AvailIdxShadow != _availIdx) throw new Exception($"step {n}: avail idx {Split.AvailIdxShadow}, model {_availIdx}");
                if (_c.Packed && (Packed.NextAvailIdx != _pos || Packed.AvailWrapCounter != _wrap))
                    throw new Exception($"step {n}: next_avail {Packed.NextAvailIdx}/{Packed.AvailWrapCounter}, model {_pos}/{_wrap}");
            }

            // A chain of 0-2 readable and 1-3 writable buffers, each its own DMA allocation (so
            // the canaries fence each one); a single writable buffer half the time.
            private void Add(uint r)
            {
                uint outNum = (r & 1) == 0 ? 0 : (r >> 1) % 3;
                uint inNum = (r & 1) == 0 ? 1 : 1 + (r >> 3) % 3;
                uint total = outNum + inNum;
                ulong* addr = stackalloc ulong[(int)total];
                uint* len = stackalloc uint[(int)total];
                var b = new Buffer { Token = _nextToken, Descs = total };
                for (uint k = 0; k < total; k++)
                {
                    len[k] = 1 + (r >> (int)(5 + k)) % 40;
                    DmaBuffer d = Dma.AllocCoherent(len[k]);
                    addr[k] = d.Phys;
                    if (k >= outNum) { b.Writable += len[k]; _tokenOfAddr[d.Phys] = b.Token; }
                }
                // Short lengths: a third of the buffers get fewer bytes than they offer (maybe none).
                b.DeviceWrites = (r >> 12) % 3 == 0 ? (r >> 14) % (b.Writable + 1) : b.Writable;
                DriverError e = _vq.virtqueue_add(addr, len, outNum, inNum, b.Token);
                bool fits = total <= _vq.Num - _descsOut;
                if (!fits)
                {
                    if (e != DriverError.QueueFull) throw new Exception($"add of {total} descriptors with {_vq.Num - _descsOut} free: {e}, expected QueueFull");
                    return;
                }
                if (e != DriverError.Ok) throw new Exception($"add of {total} descriptors with {_vq.Num - _descsOut} free: {e}");
                _outstanding[b.Token] = b;
                _nextToken++;
                _descsOut += total;
                _availIdx++;
                _addedSinceKick += total;
                _pos += total;
                while (_pos >= _vq.Num) { _pos -= _vq.Num; _wrap = !_wrap; }
            }

            // The device serves up to 1-4 buffers; the packed device picks any in-flight one and
            // may hold some back so later ones overtake them.
            private void Complete(uint r)
            {
                int max = 1 + (int)(r % 4);
                if (_c.Packed)
                {
                    PDev.Pick = count => (int)((r >> 2) % (uint)count);
                    PDev.HoldBack = _f == Fault.DeviceLosesBuffer ? 1 : (int)((r >> 8) % 3);
                }
                long interruptsBefore = _dev.Interrupts;
                bool caughtUp = _ready.Count == 0;
                int done = _dev.Process(max);
                if (done < 0) return;   // the ring error is reported by Step
                if (_f == Fault.DeviceCompletesTwice && done > 0 && _lastUsed is (uint id, uint len, uint slots))
                {
                    if (_c.Packed) PDev.PushUsed(id, len, slots); else SDev.PushUsed(id, len);
                }
                bool interrupted = _dev.Interrupts > interruptsBefore;
                bool enabled = _f == Fault.ModelIgnoresDisable || _cbEnabled;
                if (!enabled && interrupted) throw new Exception("the device decided to interrupt while callbacks were disabled");
                if (enabled && caughtUp && done > 0 && !interrupted) throw new Exception($"no interrupt for {done} used buffer(s) with callbacks enabled and the driver caught up");
            }

            private void GetBuf()
            {
                bool got = _vq.virtqueue_get_buf(out ulong token, out uint len, out DriverError e);
                if (e != DriverError.Ok) throw new Exception($"get_buf failed: {e}");
                if (!got)
                {
                    if (_ready.Count > 0) throw new Exception($"get_buf found nothing, but the device completed {_ready.Count} buffer(s)");
                    return;
                }
                if (!_outstanding.TryGetValue(token, out Buffer b)) throw new Exception($"get_buf returned token {token}, which is not outstanding (twice, or never added)");
                if (!_ready.TryGetValue(token, out uint reported)) throw new Exception($"get_buf returned token {token} before the device completed it");
                uint expected = _f == Fault.ModelExpectsFullLength ? b.Writable : reported;
                if (len != expected) throw new Exception($"get_buf returned token {token} with length {len}, the device reported {expected}");
                _ready.Remove(token);
                _outstanding.Remove(token);
                _descsOut -= b.Descs;
            }

            // kick_prepare against the test's reference rule, computed from ring memory first.
            private void Kick()
            {
                bool expected = _c.Packed ? ExpectedKickPacked() : ExpectedKickSplit();
                bool kick = _vq.virtqueue_kick_prepare();
                if (kick != expected) throw new Exception($"kick_prepare said {kick}, the spec's rule {expected}");
                _kickIdx = _availIdx;
                _kickPos = _pos; _kickWrap = _wrap; _addedSinceKick = 0;
                if (kick) Assert.True(_vq.virtqueue_notify());
            }

            // §2.7.10: with EVENT_IDX, kick iff avail_event is one of the indices published
            // since the last kick; otherwise iff the device did not set VRING_USED_F_NO_NOTIFY.
            private bool ExpectedKickSplit()
            {
                if (!_c.EventIdx) return (SDev.UsedFlags & SplitVirtqueue.VRING_USED_F_NO_NOTIFY) == 0;
                ushort ev = SDev.AvailEvent;
                if (_f == Fault.KickRuleOffByOne) ev++;
                if (_f == Fault.KickRuleWithoutWrap) return _kickIdx <= ev && ev < _availIdx;
                return SimVring.NeedEvent(ev, _availIdx, _kickIdx);
            }

            // §2.8.10 / §2.8.14: ENABLE kicks, DISABLE does not, DESC (EVENT_IDX only) kicks iff
            // the slot named by off_wrap was passed. After more than a lap of descriptors the
            // slot is ambiguous and the driver kicks (a spurious kick is always allowed).
            private bool ExpectedKickPacked()
            {
                ushort flags = PDev.DeviceEventFlags, offWrap = PDev.DeviceEventOffWrap;
                if (flags != SimPackedVring.FLAG_DESC) return flags != SimPackedVring.FLAG_DISABLE;
                if (!_c.EventIdx || _addedSinceKick > _vq.Num) return true;
                if (_f == Fault.KickRuleOffByOne)
                {
                    uint off = ((offWrap & 0x7FFFu) + 1) % _vq.Num;
                    offWrap = SimPackedVring.OffWrap(off, ((offWrap & 0x8000) != 0) != (off == 0));
                }
                return SimPackedVring.NeedEvent(offWrap, _kickPos, _kickWrap, _pos, _wrap, _vq.Num);
            }

            // The device changes its notification wish (the devices also set it themselves when idle).
            private void DeviceEvent(uint r)
            {
                if (!_c.Packed)
                {
                    if (_c.EventIdx) SDev.AvailEvent = (ushort)(_availIdx + (int)(r % 9) - 4);
                    else SDev.UsedFlags = (ushort)(r & 1);
                    return;
                }
                ushort flags = (ushort)(r % (_c.EventIdx ? 3u : 2u));
                ushort offWrap = flags == SimPackedVring.FLAG_DESC ? SimPackedVring.OffWrap((r >> 2) % _vq.Num, ((r >> 12) & 1) != 0) : (ushort)0;
                PDev.SetDeviceEvent(flags, offWrap);
            }

            // Device reset, then the queue is deleted and recreated: what was outstanding is
            // the driver's again (Linux: virtqueue_detach_unused_buf), so the model drops it.
            private void Reset()
            {
                _vq.vring_del_virtqueue();
                _outstanding.Clear();
                _ready.Clear();
                _tokenOfAddr.Clear();
                Create();
            }

            // Everything still outstanding must come back: the device serves all, the driver
            // takes all (each checked by GetBuf), and then there is nothing more.
            private void Drain()
            {
                if (_c.Packed) { PDev.Pick = null; PDev.HoldBack = _f == Fault.DeviceLosesBuffer ? 1 : 0; }
                _dev.Process();
                if (_devErrors.Count > 0) throw new Exception($"drain: device saw a ring error: {string.Join("; ", _devErrors)}");
                while (_ready.Count > 0) GetBuf();   // GetBuf throws if the driver finds nothing
                GetBuf();                            // ... and if it finds more than was completed
                if (_outstanding.Count > 0)
                    throw new Exception($"token(s) {string.Join(", ", _outstanding.Keys.Take(4))} never came back");
            }
        }
    }
}
