using System.Runtime.CompilerServices;

namespace System
{
    // A string is { MethodTable*, int length, char data[length], '\0' }. Literals are frozen
    // objects that ilc places in the image; the kernel never builds strings at run time.
    // No Equals(object) override: that would need a type test.
#pragma warning disable 660, 661
    public sealed class String
#pragma warning restore 660, 661
    {
#pragma warning disable 169, 649
        private readonly int _stringLength;
        private char _firstChar;
#pragma warning restore 169, 649

        public int Length => _stringLength;

        [IndexerName("Chars")]
        public unsafe char this[int index]
        {
            get
            {
                if ((uint)index >= (uint)_stringLength)
                    Internal.Runtime.CompilerHelpers.ThrowHelpers.ThrowIndexOutOfRangeException();
                fixed (char* p = &_firstChar) return p[index];
            }
        }

        public static bool operator ==(string a, string b) => Equals(a, b);
        public static bool operator !=(string a, string b) => !Equals(a, b);

        public static bool Equals(string a, string b)
        {
            if ((object)a == (object)b) return true;
            if ((object)a == null || (object)b == null || a._stringLength != b._stringLength) return false;
            for (int i = 0; i < a._stringLength; i++)
                if (a[i] != b[i]) return false;
            return true;
        }
    }
}
