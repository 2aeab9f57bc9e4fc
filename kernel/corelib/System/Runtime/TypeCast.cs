using GuestOS.Kernel;
using Internal.Runtime;

namespace System.Runtime
{
    // Casting helpers ilc calls by name. The kernel uses no interfaces and no covariance, so
    // a type test is a walk up the parent chain; anything richer is a panic, never a wrong
    // answer.
    #pragma warning disable CS8500 // pointers to object slots are how the runtime stores references
    internal static unsafe class TypeCast
    {
        private static bool Inherits(MethodTable* type, MethodTable* target)
        {
            for (MethodTable* t = type; t != null; t = t->RelatedType)
                if (t == target) return true;
            return false;
        }

        [RuntimeExport("RhTypeCast_IsInstanceOfClass")]
        private static object IsInstanceOfClass(MethodTable* target, object obj)
        {
            if (obj == null || Inherits(obj.m_pMethodTable, target)) return obj;
            return null;
        }

        [RuntimeExport("RhTypeCast_IsInstanceOfAny")]
        private static object IsInstanceOfAny(MethodTable* target, object obj) => IsInstanceOfClass(target, obj);
        [RuntimeExport("RhTypeCast_IsInstanceOfInterface")]
        private static object IsInstanceOfInterface(MethodTable* target, object obj)
        {
            if (obj != null) Panic.Halt("interface type test"u8);
            return null;
        }

        [RuntimeExport("RhTypeCast_CheckCastClass")]
        private static object CheckCastClass(MethodTable* target, object obj)
        {
            if (obj == null || Inherits(obj.m_pMethodTable, target)) return obj;
            Panic.Halt("invalid cast"u8);
            return null;
        }

        [RuntimeExport("RhTypeCast_CheckCastAny")]
        private static object CheckCastAny(MethodTable* target, object obj) => CheckCastClass(target, obj);
        [RuntimeExport("RhTypeCast_CheckCastInterface")]
        private static object CheckCastInterface(MethodTable* target, object obj)
        {
            if (obj != null) Panic.Halt("interface cast"u8);
            return null;
        }

        [RuntimeExport("RhTypeCast_CheckCastClassSpecial")]
        private static object CheckCastClassSpecial(MethodTable* target, object obj) => CheckCastClass(target, obj);
        private static object IsInstanceOfClassSpecial(MethodTable* target, object obj) => IsInstanceOfClass(target, obj);

        // stelem.ref: arrays of references. Covariant stores (a Derived[] seen as Base[]) are
        // rejected unless the element type matches exactly or by inheritance.
        [RuntimeExport("RhpStelemRef")]
        private static void StelemRef(object[] array, nint index, object obj)
        {
            if ((uint)index >= (uint)array.Length) Panic.Halt("index out of range"u8);
            if (obj != null && !Inherits(obj.m_pMethodTable, array.m_pMethodTable->RelatedType))
                Panic.Halt("array type mismatch"u8);
            *ElementAddress(array, index) = obj;   // not array[index] = obj: that is stelem.ref, i.e. this method
        }

        // Arrays of references: { MethodTable*, int length, int padding, elements }.
        private static object* ElementAddress(object[] array, nint index)
        {
            byte* start = *(byte**)&array;
            return (object*)(start + 16 + index * sizeof(nint));
        }

        [RuntimeExport("RhpLdelemaRef")]
        private static ref object LdelemaRef(object[] array, nint index, MethodTable* elementType)
        {
            if ((uint)index >= (uint)array.Length) Panic.Halt("index out of range"u8);
            return ref *ElementAddress(array, index);
        }

        [RuntimeExport("RhTypeCast_IsInstanceOfException")]
        private static bool IsInstanceOfException(MethodTable* target, object obj) => obj != null && Inherits(obj.m_pMethodTable, target);

        private static void CheckArrayStore(object array, object obj)
        {
            if (obj != null && !Inherits(obj.m_pMethodTable, array.m_pMethodTable->RelatedType))
                Panic.Halt("array type mismatch"u8);
        }

        private static bool AreTypesAssignable(MethodTable* source, MethodTable* target) => Inherits(source, target);
    }
}

namespace System
{
    // Bulk copies the compiler routes through the corelib (struct and array copies).
    internal static unsafe class Buffer
    {
        internal static void BulkMoveWithWriteBarrier(ref byte destination, ref byte source, nuint byteCount)
        {
            fixed (byte* d = &destination) fixed (byte* s = &source) SpanHelpers.Memmove(d, s, byteCount);
        }

        internal static void Memmove(ref byte destination, ref byte source, nuint byteCount)
            => BulkMoveWithWriteBarrier(ref destination, ref source, byteCount);
    }

    internal static unsafe class SpanHelpers
    {
        // The kernel's one memmove (drivers/Memmove.cs, shared with the hosted driver build).
        internal static void Memmove(byte* destination, byte* source, nuint count)
            => GuestOS.Drivers.Mem.memmove(destination, source, count);

        internal static void Memmove(ref byte destination, ref byte source, nuint count)
        {
            fixed (byte* d = &destination) fixed (byte* s = &source) Memmove(d, s, count);
        }

        internal static void Fill(ref byte destination, nuint count, byte value)
        {
            fixed (byte* d = &destination) for (nuint i = 0; i < count; i++) d[i] = value;
        }

        internal static void ClearWithoutReferences(ref byte destination, nuint count) => Fill(ref destination, count, 0);
        internal static void ClearWithReferences(ref nint destination, nuint pointerCount)
        {
            fixed (nint* d = &destination) for (nuint i = 0; i < pointerCount; i++) d[i] = 0;
        }
    }
}
