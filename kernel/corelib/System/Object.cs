namespace System
{
    // Every object starts with a pointer to its MethodTable (the NativeAOT type descriptor);
    // the allocator (kernel/runtime/Allocator.cs) writes it. This layout is a contract with ilc.
    public unsafe class Object
    {
#pragma warning disable 169, 649
        internal Internal.Runtime.MethodTable* m_pMethodTable;
#pragma warning restore 169, 649

        public Object() { }
        ~Object() { }
        public virtual bool Equals(object o) => (object)this == o;
        public virtual int GetHashCode() => 0;
        public virtual string ToString() => "object";
    }

    public abstract class ValueType { }
    public abstract class Enum : ValueType { }
    public struct Void { }

    // Attributes C# itself needs.
    public abstract class Attribute { }

    [AttributeUsage(AttributeTargets.Class, Inherited = true)]
    public sealed class AttributeUsageAttribute : Attribute
    {
        public AttributeUsageAttribute(AttributeTargets validOn) { }
        public bool AllowMultiple { get; set; }
        public bool Inherited { get; set; }
    }

    public enum AttributeTargets
    {
        Assembly = 0x0001, Module = 0x0002, Class = 0x0004, Struct = 0x0008, Enum = 0x0010,
        Constructor = 0x0020, Method = 0x0040, Property = 0x0080, Field = 0x0100,
        Event = 0x0200, Interface = 0x0400, Parameter = 0x0800, Delegate = 0x1000,
        ReturnValue = 0x2000, GenericParameter = 0x4000, All = 0x7FFF,
    }

    public sealed class FlagsAttribute : Attribute { }
    public sealed class ObsoleteAttribute : Attribute
    {
        public ObsoleteAttribute() { }
        public ObsoleteAttribute(string message) { }
    }

    // Delegates are not used by kernel code, but csc requires the types to exist.
    public abstract class Delegate { }
    public abstract class MulticastDelegate : Delegate { }

    public struct RuntimeTypeHandle { }
    public struct RuntimeMethodHandle { }
    public struct RuntimeFieldHandle { }

    public abstract class Type { }
    internal sealed class RuntimeType : Type { }

    public struct Nullable<T> where T : struct
    {
        private readonly bool hasValue;
        private T value;
        public bool HasValue => hasValue;
        public T Value => value;
    }
}
