using GuestOS.Kernel;

namespace Internal.Runtime.CompilerHelpers
{
    // ilc calls these where C# would throw (bounds checks, failed casts, overflow). The kernel
    // has no exceptions: each one is a panic that names what went wrong.
    internal static class ThrowHelpers
    {
        internal static void ThrowIndexOutOfRangeException() => Panic.Halt("index out of range");
        internal static void ThrowDivideByZeroException() => Panic.Halt("divide by zero");
        internal static void ThrowOverflowException() => Panic.Halt("arithmetic overflow");
        internal static void ThrowNullReferenceException() => Panic.Halt("null reference");
        internal static void ThrowInvalidCastException() => Panic.Halt("invalid cast");
        internal static void ThrowArrayTypeMismatchException() => Panic.Halt("array type mismatch");
        internal static void ThrowPlatformNotSupportedException() => Panic.Halt("platform not supported");
        internal static void ThrowNotImplementedException() => Panic.Halt("not implemented");
        internal static void ThrowTypeLoadException() => Panic.Halt("type load");
        internal static void ThrowTypeLoadExceptionWithArgument() => Panic.Halt("type load");
        internal static void ThrowMissingMethodException() => Panic.Halt("missing method");
        internal static void ThrowMissingFieldException() => Panic.Halt("missing field");
        internal static void ThrowFileNotFoundException() => Panic.Halt("file not found");
        internal static void ThrowInvalidProgramException() => Panic.Halt("invalid program");
        internal static void ThrowInvalidProgramExceptionWithArgument() => Panic.Halt("invalid program");
        internal static void ThrowMarshalDirectiveException() => Panic.Halt("marshal directive");
        internal static void ThrowBadImageFormatException() => Panic.Halt("bad image format");
        internal static void ThrowAmbiguousMatchException() => Panic.Halt("ambiguous match");
        internal static void ThrowArgumentException() => Panic.Halt("argument");
        internal static void ThrowArgumentOutOfRangeException() => Panic.Halt("argument out of range");
        internal static void ThrowFeatureBodyRemoved() => Panic.Halt("feature body removed by the compiler");
        internal static void ThrowInstanceBodyRemoved() => Panic.Halt("instance body removed by the compiler");
        internal static void ThrowUnavailableType() => Panic.Halt("unavailable type");
        internal static void ThrowNotSupportedInlineArrayEqualsGetHashCode() => Panic.Halt("inline array equality");
    }

    // ilc looks this class up by name; the kernel starts itself (kernel/runtime/), so it is empty.
    internal static partial class StartupCodeHelpers { }
}

namespace System.Runtime.InteropServices
{
    // Referenced by ilc for interface casts; the kernel has no dynamic interface casting.
    public interface IDynamicInterfaceCastable
    {
        static System.RuntimeTypeHandle GetDynamicInterfaceImplementation(object instance, System.RuntimeTypeHandle interfaceType)
        {
            GuestOS.Kernel.Panic.Halt("dynamic interface cast");
            return default;
        }
    }
}
