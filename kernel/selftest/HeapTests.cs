using System;
using GuestOS.Hal;
using GuestOS.Kernel.Memory;

namespace GuestOS.Kernel
{
    // `new` without a garbage collector: objects, arrays, strings and static reference fields.
    // (The strings here are string objects on purpose; the kernel's own text is u8 literals.)
    internal static class HeapTests
    {
        private sealed class Pair
        {
            public Pair Next;
            public ulong Key;
            public string Name;
            public Pair(ulong key, string name, Pair next) { Key = key; Name = name; Next = next; }
        }

        private static Pair list;                 // a GC static: needs StaticsInitializer
        private static string greeting = "static strings work";

        internal static void Run()
        {
            for (ulong i = 0; i < 1000; i++) list = new Pair(i, (i & 1) == 0 ? "even" : "odd", list);
            ulong sum = 0, count = 0, odd = 0;
            for (Pair p = list; p != null; p = p.Next)
            {
                sum += p.Key; count++;
                if (p.Name == "odd") odd++;
            }
            Check(count == 1000 && sum == 999 * 1000 / 2 && odd == 500, "linked objects"u8);

            ulong[] squares = new ulong[4096];
            for (int i = 0; i < squares.Length; i++) squares[i] = (ulong)i * (ulong)i;
            Check(squares.Length == 4096 && squares[4095] == 4095UL * 4095UL, "arrays"u8);

            Pair[] refs = new Pair[16];
            refs[3] = list;
            Check(refs[3].Key == 999 && refs[0] == null, "arrays of references"u8);

            Check(greeting.Length == 19 && greeting[0] == 's', "static string field"u8);
            ulong ram = Heap.Start;
            Check(Hal.Io.ioremap(ram, 4096) == 0, "ioremap refuses RAM (a cacheable mapping is no device mapping)"u8);
            Log.Write("heap test: "u8); Log.Dec(Heap.Used); Log.Write(" bytes used, all checks passed"u8); Log.Line();
            Verdict.Pass();
        }

        internal static void OutOfMemory()
        {
            Log.Write("test oom: allocating 1 MiB arrays until the heap is exhausted"u8); Log.Line();
            while (true) list = new Pair((ulong)new byte[1 << 20].Length, "block", list);
        }

        private static void Check(bool ok, ReadOnlySpan<byte> what)
        {
            Log.Write(ok ? "  ok   "u8 : "  FAIL "u8); Log.Write(what); Log.Line();
            if (!ok) Verdict.Fail(what, ExitCode.Fail);
        }
    }
}
