using System.Runtime;
using Internal.Runtime;
using GuestOS.Kernel.Memory;

namespace GuestOS.Kernel.Runtime
{
    // What `new` compiles to (.NET 10 helper names). Only helpers the generated code calls are
    // defined: one that is missing later fails the link with its name, which is the clearest error. Objects are { MethodTable*, fields };
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

        [RuntimeExport("RhpNewArrayFast")]
        private static void* RhpNewArrayFast(MethodTable* type, int length) => NewArray(type, length);

        [RuntimeExport("RhpNewPtrArrayFast")]
        private static void* RhpNewPtrArrayFast(MethodTable* type, int length) => NewArray(type, length);

        private static void* NewArray(MethodTable* type, int length)
        {
            if (length < 0) Panic.Halt("negative array length"u8);
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

    // Entering C# from assembly ([RuntimeExport] entry points) brackets the call with these.
    // With one thread and no GC nothing has to be recorded, so they are empty.
    internal static unsafe class Transitions
    {
        [RuntimeExport("RhpReversePInvoke")] private static void RhpReversePInvoke(void* frame) { }
        [RuntimeExport("RhpReversePInvokeReturn")] private static void RhpReversePInvokeReturn(void* frame) { }

        // A failed stack-cookie check (methods with stackalloc) lands here.
        [RuntimeExport("RhpFallbackFailFast")] private static void RhpFallbackFailFast() => Panic.Halt("fail-fast (stack cookie or runtime check)"u8);
    }
}
