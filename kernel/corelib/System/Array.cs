namespace System
{
    // An array is { MethodTable*, int length, (pad to 8), elements }. ilc emits bounds checks
    // that call ThrowHelpers.ThrowIndexOutOfRangeException, which panics.
    public abstract class Array
    {
#pragma warning disable 169, 649
        private readonly int _numComponents;
#pragma warning restore 169, 649
        public int Length => _numComponents;
    }

    // The generic base ilc expects for T[] (it carries the element type's methods).
    public class Array<T> : Array { }
}
