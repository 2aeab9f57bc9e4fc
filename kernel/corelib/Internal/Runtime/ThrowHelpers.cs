using GuestOS.Kernel;

namespace Internal.Runtime.CompilerHelpers
{
    // ilc calls these where C# would throw (bounds checks, failed casts, overflow). The kernel
    // has no exceptions: each one is a panic that names what went wrong.
    internal static class ThrowHelpers
    {
        internal static void ThrowIndexOutOfRangeException() => Panic.Halt("index out of range"u8);
        internal static void ThrowDivideByZeroException() => Panic.Halt("divide by zero"u8);
        internal static void ThrowOverflowException() => Panic.Halt("arithmetic overflow"u8);
        internal static void ThrowNullReferenceException() => Panic.Halt("null reference"u8);
        internal static void ThrowInvalidCastException() => Panic.Halt("invalid cast"u8);
        internal static void ThrowArrayTypeMismatchException() => Panic.Halt("array type mismatch"u8);
        internal static void ThrowPlatformNotSupportedException() => Panic.Halt("platform not supported"u8);
        internal static void ThrowNotImplementedException() => Panic.Halt("not implemented"u8);
        internal static void ThrowTypeLoadException() => Panic.Halt("type load"u8);
        internal static void ThrowTypeLoadExceptionWithArgument() => Panic.Halt("type load"u8);
        internal static void ThrowMissingMethodException() => Panic.Halt("missing method"u8);
        internal static void ThrowMissingFieldException() => Panic.Halt("missing field"u8);
        internal static void ThrowFileNotFoundException() => Panic.Halt("file not found"u8);
        internal static void ThrowInvalidProgramException() => Panic.Halt("invalid program"u8);
        internal static void ThrowInvalidProgramExceptionWithArgument() => Panic.Halt("invalid program"u8);
        internal static void ThrowMarshalDirectiveException() => Panic.Halt("marshal directive"u8);
        internal static void ThrowBadImageFormatException() => Panic.Halt("bad image format"u8);
        internal static void ThrowAmbiguousMatchException() => Panic.Halt("ambiguous match"u8);
        internal static void ThrowArgumentException() => Panic.Halt("argument"u8);
        internal static void ThrowArgumentOutOfRangeException() => Panic.Halt("argument out of range"u8);
        internal static void ThrowFeatureBodyRemoved() => Panic.Halt("feature body removed by the compiler"u8);
        internal static void ThrowInstanceBodyRemoved() => Panic.Halt("instance body removed by the compiler"u8);
        internal static void ThrowUnavailableType() => Panic.Halt("unavailable type"u8);
        internal static void ThrowNotSupportedInlineArrayEqualsGetHashCode() => Panic.Halt("inline array equality"u8);
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
            GuestOS.Kernel.Panic.Halt("dynamic interface cast"u8);
            return default;
        }
    }
}
