namespace System.Runtime.CompilerServices
{
    // Attributes and marker types the C# compiler emits or requires.
    public sealed class IndexerNameAttribute : Attribute { public IndexerNameAttribute(string name) { } }
    public sealed class ExtensionAttribute : Attribute { }
    public sealed class IsReadOnlyAttribute : Attribute { }
    public sealed class IsByRefLikeAttribute : Attribute { }
    public sealed class IsUnmanagedAttribute : Attribute { }
    public sealed class RequiresLocationAttribute : Attribute { }
    public sealed class ScopedRefAttribute : Attribute { }
    public sealed class NullableAttribute : Attribute
    {
        public NullableAttribute(byte b) { }
        public NullableAttribute(byte[] b) { }
    }
    public sealed class NullableContextAttribute : Attribute { public NullableContextAttribute(byte b) { } }
    public sealed class CompilerGeneratedAttribute : Attribute { }
    public sealed class FixedBufferAttribute : Attribute { public FixedBufferAttribute(Type elementType, int length) { } }
    public sealed class UnsafeValueTypeAttribute : Attribute { }
    public sealed class RefSafetyRulesAttribute : Attribute { public RefSafetyRulesAttribute(int version) { } }
    public static class IsVolatile { }
    public static class IsConst { }

    // Marks methods ilc implements itself (e.g. Volatile, Unsafe); a contract with the compiler.
    [AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct | AttributeTargets.Method | AttributeTargets.Constructor | AttributeTargets.Field)]
    internal sealed class IntrinsicAttribute : Attribute { }

    public enum MethodImplOptions
    {
        NoInlining = 0x0008, NoOptimization = 0x0040, AggressiveInlining = 0x0100,
        InternalCall = 0x1000,
    }

    [AttributeUsage(AttributeTargets.Method | AttributeTargets.Constructor)]
    public sealed class MethodImplAttribute : Attribute
    {
        public MethodImplAttribute(MethodImplOptions options) { }
    }

    public static class RuntimeFeature
    {
        public const string UnmanagedSignatureCallingConvention = nameof(UnmanagedSignatureCallingConvention);
        public const string NumericIntPtr = nameof(NumericIntPtr);
        public const string DefaultImplementationsOfInterfaces = nameof(DefaultImplementationsOfInterfaces);
    }

    public static class RuntimeHelpers
    {
        // The offset of the first character of a string, for `fixed (char* p = str)`.
        public static unsafe int OffsetToStringData => sizeof(IntPtr) + sizeof(int);
    }

    // Static constructors that ilc could not run at compile time run lazily through here,
    // exactly once (the kernel is single-threaded while they run).
    internal static class ClassConstructorRunner
    {
        private static unsafe void CheckStaticClassConstruction(ref StaticClassConstructionContext context)
        {
            if (context.cctorMethodAddress != 0)
            {
                nint cctor = context.cctorMethodAddress;
                context.cctorMethodAddress = 0;
                ((delegate*<void>)cctor)();
            }
        }

        private static nint CheckStaticClassConstructionReturnNonGCStaticBase(ref StaticClassConstructionContext context, nint nonGcStaticBase)
        {
            CheckStaticClassConstruction(ref context);
            return nonGcStaticBase;
        }

        private static nint CheckStaticClassConstructionReturnGCStaticBase(ref StaticClassConstructionContext context, nint gcStaticBase)
        {
            CheckStaticClassConstruction(ref context);
            return gcStaticBase;
        }
    }

    // A contract with ilc: the address of the static constructor, zeroed once it has run.
    public struct StaticClassConstructionContext
    {
        public nint cctorMethodAddress;
    }
}

namespace System.Runtime
{
    // [RuntimeExport("sym")] gives a method a fixed native symbol (callable from assembly);
    // [RuntimeImport("*", "sym")] + MethodImpl(InternalCall) calls an assembly symbol with no
    // transition frame.
    [AttributeUsage(AttributeTargets.Method)]
    internal sealed class RuntimeExportAttribute : Attribute { public RuntimeExportAttribute(string entry) { } }

    [AttributeUsage(AttributeTargets.Method)]
    internal sealed class RuntimeImportAttribute : Attribute
    {
        public RuntimeImportAttribute(string lib) { }
        public RuntimeImportAttribute(string lib, string entry) { }
    }
}

namespace System.Runtime.InteropServices
{
    public enum LayoutKind { Sequential = 0, Explicit = 2, Auto = 3 }

    // The modifier csc puts on an `unmanaged` generic constraint (ReadOnlySpan<T>).
    public enum UnmanagedType { }

    [AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct)]
    public sealed class StructLayoutAttribute : Attribute
    {
        public StructLayoutAttribute(LayoutKind layoutKind) { }
        public int Pack;
        public int Size;
    }

    [AttributeUsage(AttributeTargets.Field)]
    public sealed class FieldOffsetAttribute : Attribute { public FieldOffsetAttribute(int offset) { } }

    [AttributeUsage(AttributeTargets.Method)]
    public sealed class UnmanagedCallersOnlyAttribute : Attribute
    {
        public Type[] CallConvs;
        public string EntryPoint;
    }

    public sealed class InAttribute : Attribute { }
    public sealed class OutAttribute : Attribute { }
}

namespace System.Diagnostics
{
    public sealed class ConditionalAttribute : Attribute { public ConditionalAttribute(string condition) { } }
}

namespace System.Reflection
{
    // Names the indexer (`this[...]`) of a type; csc requires it for any indexer.
    [AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct)]
    public sealed class DefaultMemberAttribute : Attribute { public DefaultMemberAttribute(string memberName) { } }
}
