using System.Runtime;
using Internal.Runtime;
using GuestOS.Kernel.Memory;

namespace GuestOS.Kernel.Runtime
{
    // What `new` compiles to (.NET 10 helper names). Objects are { MethodTable*, fields };
    // arrays and strings also carry a length after the MethodTable pointer.
    internal static unsafe class Allocator
    {
        [RuntimeExport("RhpNewFast")]
        private static void* RhpNewFast(MethodTable* type)
        {
            void** obj = (void**)Heap.Allocate(type->BaseSize);
            *obj = type;
            return obj;
        }

        [RuntimeExport("RhpNewFinalizable")]
        private static void* RhpNewFinalizable(MethodTable* type) => RhpNewFast(type);

        [RuntimeExport("RhpNewArrayFast")]
        private static void* RhpNewArrayFast(MethodTable* type, int length) => NewArray(type, length);

        [RuntimeExport("RhpNewPtrArrayFast")]
        private static void* RhpNewPtrArrayFast(MethodTable* type, int length) => NewArray(type, length);

        [RuntimeExport("RhpNewArray")]
        private static void* RhpNewArray(MethodTable* type, int length) => NewArray(type, length);

        [RuntimeExport("RhNewString")]
        private static void* RhNewString(MethodTable* type, int length) => NewArray(type, length);

        private static void* NewArray(MethodTable* type, int length)
        {
            if (length < 0) Panic.Halt("negative array length");
            ulong bytes = type->BaseSize + (ulong)length * type->ComponentSize;
            void** obj = (void**)Heap.Allocate(bytes);
            *obj = type;
            *(int*)(obj + 1) = length;
            return obj;
        }

        // Used by GC-static initialization to allocate the holder objects.
        internal static object NewObject(MethodTable* type)
        {
            void* p = RhpNewFast(type);
            return *(object*)&p;
        }
    }

    // Write barriers: without a GC there are no cards to mark, so a barrier is a store.
    // (RhpByRefAssignRef has a special register convention and lives in boot/<arch>/runtime.S.)
    internal static unsafe class WriteBarriers
    {
        [RuntimeExport("RhpAssignRef")]
        private static void RhpAssignRef(void** destination, void* reference) => *destination = reference;

        [RuntimeExport("RhpCheckedAssignRef")]
        private static void RhpCheckedAssignRef(void** destination, void* reference) => *destination = reference;
    }

    // Transitions between native and managed code. With one thread and no GC nothing has to
    // be recorded, so they are empty.
    internal static unsafe class Transitions
    {
        [RuntimeExport("RhpReversePInvoke")] private static void RhpReversePInvoke(void* frame) { }
        [RuntimeExport("RhpReversePInvokeReturn")] private static void RhpReversePInvokeReturn(void* frame) { }
        [RuntimeExport("RhpPInvoke")] private static void RhpPInvoke(void* frame) { }
        [RuntimeExport("RhpPInvokeReturn")] private static void RhpPInvokeReturn(void* frame) { }
        [RuntimeExport("RhpGcPoll")] private static void RhpGcPoll() { }
        [RuntimeExport("RhpFallbackFailFast")] private static void RhpFallbackFailFast() => Panic.Halt("fail-fast (stack cookie or runtime check)");
        [RuntimeExport("RhpStackProbe")] private static void RhpStackProbe() { }
    }
}
