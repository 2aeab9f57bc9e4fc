// A --rng-source file with known contents, so tests can assert the exact bytes a guest gets.
// The backend reads it front to back, so the n-th byte handed out is Byte(n).

using System.IO;

namespace VhostUser.Tests.Frontend;

public static class EntropyFile
{
    /// <summary>A sequence with period 251 (prime), so no buffer boundary lines up with it.</summary>
    public static byte Byte(long position) => (byte)((position * 31 + 7) % 251);

    public static byte[] Expected(long position, int length)
    {
        var bytes = new byte[length];
        for (int i = 0; i < length; i++) bytes[i] = Byte(position + i);
        return bytes;
    }

    public static string Create(string dir, int length = 1 << 20)
    {
        string path = Path.Combine(dir, "entropy.bin");
        File.WriteAllBytes(path, Expected(0, length));
        return path;
    }
}
