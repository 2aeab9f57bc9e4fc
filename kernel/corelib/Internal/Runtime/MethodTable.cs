namespace Internal.Runtime
{
    // The head of NativeAOT's type descriptor, as ilc lays it out (.NET 10). The allocator
    // needs the sizes; casts need the parent (related type) pointer.
    internal unsafe struct MethodTable
    {
        internal ushort ComponentSize;     // element size of arrays and strings, else 0
        internal ushort Flags;
        internal uint BaseSize;            // object size without array elements (incl. header)
        internal MethodTable* RelatedType; // base type (classes) or element type (arrays)
        internal ushort NumVtableSlots;
        internal ushort NumInterfaces;
        internal uint HashCode;
    }
}
