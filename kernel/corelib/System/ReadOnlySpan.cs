namespace System
{
    // What a UTF-8 literal ("text"u8) compiles to: the address of bytes the C# compiler stores
    // in the image, and their count. The kernel's text is ASCII written this way: one byte a
    // character and no object header, where a string literal is a frozen UTF-16 object (two
    // bytes a character plus 14 of header and terminator). Only what the kernel uses is here:
    // no slicing, no spans over memory. The hosted build compiles the same sources against
    // .NET's ReadOnlySpan<T>.
    public readonly unsafe ref struct ReadOnlySpan<T> where T : unmanaged
    {
        private readonly T* _pointer;
        private readonly int _length;

        // The constructor the C# compiler calls for a u8 literal.
        public ReadOnlySpan(void* pointer, int length)
        {
            _pointer = (T*)pointer;
            _length = length;
        }

        // Required by csc to bind a u8 literal at all (it then emits the pointer form above).
        // No garbage collector moves arrays, so the element address stays valid.
        public ReadOnlySpan(T[] array, int start, int length)
        {
            if ((uint)start > (uint)array.Length || (uint)length > (uint)(array.Length - start))
                Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowArgumentOutOfRangeException();
            fixed (T* first = array) _pointer = first + start;
            _length = length;
        }

        public int Length => _length;

        public bool IsEmpty => _length == 0;

        public T this[int index]
        {
            get
            {
                if ((uint)index >= (uint)_length)
                    Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowIndexOutOfRangeException();
                return _pointer[index];
            }
        }
    }
}
