using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using System.Reflection.Emit;
using Xunit;

namespace GuestOS.Tests
{
    // drivers/README.md: driver code must stay inside the C# subset the kernel's corelib
    // supports, and "the hosted build cannot catch violations". This test does catch most of
    // them: it walks the IL of every type in GuestOS.Drivers.* and rejects what the subset
    // forbids (exceptions, boxing, casts/type tests, delegates, floating point, checked
    // arithmetic, static constructors, generics, interfaces) and every call into the .NET
    // library, plus any use of the hosted HAL beyond the contract in the README.
    public sealed class SubsetTests
    {
        private static readonly Assembly Drivers = typeof(GuestOS.Drivers.DriverStack).Assembly;

        private static IEnumerable<Type> DriverTypes() =>
            Drivers.GetTypes().Where(t => t.Namespace != null && t.Namespace.StartsWith("GuestOS.Drivers"));

        // The HAL contract of drivers/README.md, member by member.
        private static readonly HashSet<string> HalContract = new HashSet<string>
        {
            "Io.ioread8", "Io.ioread16", "Io.ioread32", "Io.ioread64", "Io.iowrite8", "Io.iowrite16", "Io.iowrite32", "Io.iowrite64",
            "Io.inb", "Io.inw", "Io.inl", "Io.outb", "Io.outw", "Io.outl", "Io.ioremap",
            "Barrier.mb", "Barrier.rmb", "Barrier.wmb", "Barrier.dma_rmb", "Barrier.dma_wmb", "Barrier.virt_mb",
            "DmaBuffer.Virt", "DmaBuffer.Phys", "DmaBuffer.Size", "DmaBuffer.get_IsNull",
            "Dma.AllocCoherent", "Dma.AllocCoherentUninitialized", "Dma.FreeCoherent", "Clock.NowNs", "Clock.DelayUs", "Cpu.Relax", "BootPhases.Mark",
            "Log.Quiet", "Log.Write", "Log.Hex", "Log.Dec", "Log.DecSigned", "Log.Line",
            "Irq.AllocateMsi", "Irq.DisableLocal", "Irq.EnableLocal", "Irq.WaitLocalDisabled",
            "InterruptHandler..ctor", "InterruptHandler.Handle", "MsiMessage.Address", "MsiMessage.Data",
            "Irq.AttachWired", "Irq.RoutePciIntx", "WiredIrq.Number", "WiredIrq.Level", "WiredIrq.ActiveLow", "WiredIrq.Valid",
        };

        private static readonly HashSet<string> SystemAllowed = new HashSet<string>
        {
            "System.Object..ctor", "System.String.get_Length", "System.String.get_Chars",
        };

        // Text is u8 literals: what csc emits for one (the address of the bytes it stored and
        // ReadOnlySpan<byte>'s pointer constructor) and what kernel/corelib/System/ReadOnlySpan.cs
        // offers besides. Nothing else of ReadOnlySpan exists in the kernel.
        private static readonly HashSet<string> TextAllowed = new HashSet<string>
        {
            ".ctor", "get_Length", "get_IsEmpty", "get_Item",
        };

        private static readonly Dictionary<short, OpCode> OpCodesByValue =
            typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
                .Select(f => (OpCode)f.GetValue(null)).ToDictionary(o => o.Value);

        private static readonly HashSet<string> ForbiddenOpcodes = new HashSet<string>
        {
            "throw", "rethrow", "box", "unbox", "unbox.any", "isinst", "castclass", "ldftn", "ldvirtftn",
            "ckfinite", "ldc.r4", "ldc.r8", "conv.r4", "conv.r8", "conv.r.un", "mkrefany", "refanyval", "refanytype",
            "ldtoken", "arglist", "jmp", "calli", "endfinally", "endfilter", "leave", "leave.s",
        };

        [Fact]
        public void DriverTypesUseNoForbiddenTypeFeatures()
        {
            var problems = new List<string>();
            foreach (Type t in DriverTypes())
            {
                string n = t.FullName;
                if (t.Name.Contains('<')) problems.Add($"{n}: compiler-generated type (lambda, iterator, async, closure?)");
                if (t.IsInterface) problems.Add($"{n}: interface");
                if (t.IsGenericType) problems.Add($"{n}: generic type");
                if (typeof(Delegate).IsAssignableFrom(t)) problems.Add($"{n}: delegate");
                if (t.TypeInitializer != null) problems.Add($"{n}: static constructor (static field initializer?)");
                if (!t.IsEnum && t.GetInterfaces().Length != 0) problems.Add($"{n}: implements interfaces");
                foreach (var f in t.GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
                    if (!TypeAllowed(f.FieldType)) problems.Add($"{n}.{f.Name}: field of type {f.FieldType}");
                foreach (var m in t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
                    if (m.IsGenericMethodDefinition) problems.Add($"{n}.{m.Name}: generic method");
            }
            Assert.Empty(problems);
        }

        [Fact]
        public void DriverMethodBodiesStayInsideTheSubset()
        {
            var problems = new List<string>();
            foreach (Type t in DriverTypes())
            {
                var methods = t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)
                    .Cast<MethodBase>()
                    .Concat(t.GetConstructors(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly));
                foreach (MethodBase m in methods)
                {
                    MethodBody body = m.GetMethodBody();
                    if (body == null) continue;
                    string where = $"{t.FullName}.{m.Name}";
                    if (body.ExceptionHandlingClauses.Count != 0) problems.Add($"{where}: try/catch/finally/using");
                    foreach (var local in body.LocalVariables)
                        if (!TypeAllowed(local.LocalType)) problems.Add($"{where}: local of type {local.LocalType}");
                    problems.AddRange(ScanIl(m, body.GetILAsByteArray()).Select(p => $"{where}: {p}"));
                }
            }
            Assert.Empty(problems);
        }

        // Types a driver may hold: primitives, string, pointers, arrays of allowed types, enums,
        // and the project's own types (drivers and the HAL contract's shared types).
        private static bool TypeAllowed(Type t)
        {
            if (t.IsByRef || t.IsPointer || t.IsArray) return TypeAllowed(t.GetElementType());
            if (t == typeof(float) || t == typeof(double) || t == typeof(decimal)) return false;
            if (t.IsPrimitive || t == typeof(string) || t == typeof(void) || t == typeof(ReadOnlySpan<byte>)) return true;
            if (t.Namespace != null && t.Namespace.StartsWith("GuestOS.Drivers")) return true;
            return t.FullName is "GuestOS.Hal.DmaBuffer" or "GuestOS.Hal.MsiMessage" or "GuestOS.Hal.InterruptHandler" or "GuestOS.Hal.WiredIrq";
        }

        private static IEnumerable<string> ScanIl(MethodBase m, byte[] il)
        {
            Module mod = m.Module;
            int i = 0;
            while (i < il.Length)
            {
                short value = il[i] == 0xFE ? (short)(0xFE00 | il[i + 1]) : il[i];
                i += il[i] == 0xFE ? 2 : 1;
                OpCode op = OpCodesByValue[value];
                string name = op.Name;
                if (ForbiddenOpcodes.Contains(name) || name.Contains(".ovf")) yield return $"opcode {name}";
                int operand = op.OperandType switch
                {
                    OperandType.InlineNone => 0,
                    OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                    OperandType.InlineVar => 2,
                    OperandType.InlineI8 or OperandType.InlineR => 8,
                    OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, i),
                    _ => 4,
                };
                if (op.OperandType is OperandType.InlineMethod or OperandType.InlineField or OperandType.InlineTok or OperandType.InlineType)
                {
                    int token = BitConverter.ToInt32(il, i);
                    MemberInfo mem = mod.ResolveMember(token);
                    string problem = CheckMember(mem, name);
                    if (problem != null) yield return problem;
                }
                if (op.OperandType == OperandType.InlineString) { /* string literals are fine */ }
                i += operand;
            }
        }

        private static string CheckMember(MemberInfo mem, string opcode)
        {
            Type owner = mem as Type ?? mem.DeclaringType;
            if (owner == null) return null;
            if (owner.IsArray || owner.IsPointer) return null;
            string ns = owner.Namespace ?? "";
            string key = $"{owner.Name}.{mem.Name}";
            if (mem is Type type) return TypeAllowed(type) ? null : $"{opcode} {type.FullName}";
            if (owner == typeof(ReadOnlySpan<byte>))
                return TextAllowed.Contains(mem.Name) && (mem is not ConstructorInfo c || IsPointerConstructor(c)) ? null : $"{opcode} ReadOnlySpan<byte>.{mem.Name}: not in the kernel corelib";
            if (owner.Name == "<PrivateImplementationDetails>" && opcode == "ldsflda") return null;   // a u8 literal's bytes
            if (owner.IsGenericType) return $"{opcode} generic {owner.FullName}.{mem.Name}";
            if (mem is MethodInfo mi && mi.IsGenericMethod) return $"{opcode} generic method {key}";
            if (ns.StartsWith("GuestOS.Drivers")) return null;
            if (ns == "GuestOS.Hal") return HalContract.Contains(key) ? null : $"{opcode} {key}: not part of the HAL contract";
            if (ns.StartsWith("GuestOS.Hal")) return $"{opcode} {ns}.{key}: hosted-only HAL";
            string full = $"{owner.FullName}.{mem.Name}";
            if (SystemAllowed.Contains(full)) return null;
            return $"{opcode} {full}: .NET library (not in the kernel corelib)";
        }

        private static bool IsPointerConstructor(ConstructorInfo c)
        {
            ParameterInfo[] p = c.GetParameters();
            return p.Length == 2 && p[0].ParameterType == typeof(void*) && p[1].ParameterType == typeof(int);
        }

        // The checker itself must be able to fail: feed it code that breaks the rules.
        private static class Offender
        {
            public static string Concat(string a, int b) => a + b;
            public static object Box(int x) => x;
            public static double Float(int x) => x * 1.5;
            public static void Throws() { throw new InvalidOperationException(); }
            public static int Checked(int a, int b) => checked(a + b);
            public static Func<int> Lambda(int x) => () => x;
            public static int Collections() => new List<int> { 1 }.Count;
            public static bool TypeTest(object o) => o is string;
            public static int Slice() => "text"u8.Slice(1).Length;
            public static int SpanOverArray(byte[] a) => new ReadOnlySpan<byte>(a).Length;
            public static int TextIsFine() => "text"u8.Length + "text"u8[0];
        }

        [Fact]
        public void TheCheckerCatchesOffenders()
        {
            var found = typeof(Offender).GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly)
                .ToDictionary(m => m.Name, m => ScanIl(m, m.GetMethodBody().GetILAsByteArray()).ToList());
            Assert.Contains(found["Concat"], p => p.Contains("String.Concat"));
            Assert.Contains(found["Box"], p => p.Contains("box"));
            Assert.Contains(found["Float"], p => p.Contains("conv.r8") || p.Contains("ldc.r8"));
            Assert.Contains(found["Throws"], p => p.Contains("throw"));
            Assert.Contains(found["Checked"], p => p.Contains(".ovf"));
            Assert.Contains(found["Lambda"], p => p.Contains("ldftn") || p.Contains("Func"));
            Assert.Contains(found["Collections"], p => p.Contains("List"));
            Assert.Contains(found["TypeTest"], p => p.Contains("isinst"));
            Assert.Contains(found["Slice"], p => p.Contains("ReadOnlySpan<byte>.Slice"));
            Assert.Contains(found["SpanOverArray"], p => p.Contains("ReadOnlySpan<byte>..ctor"));
            Assert.Empty(found["TextIsFine"]);
        }
    }
}
