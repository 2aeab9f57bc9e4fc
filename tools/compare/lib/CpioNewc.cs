using System.Text;

namespace GuestOS.Compare;

/// <summary>
/// Writes a "newc" cpio archive, the format the Linux kernel unpacks as an initramfs
/// (Documentation/driver-api/early-userspace/buffer-format.rst): per entry a 110-byte ASCII
/// header of 13 eight-digit hex fields after the magic "070701", the NUL-terminated name and
/// the data, each padded to 4 bytes; "TRAILER!!!" ends the archive.
/// </summary>
public sealed class CpioNewc
{
    private readonly MemoryStream output = new();
    private int inode = 1;

    public void Directory(string name) => Entry(name, 0x4000 | 0b111_101_101, []);   // S_IFDIR | 0755

    public void File(string name, byte[] data, bool executable = false) =>
        Entry(name, 0x8000 | (executable ? 0b111_101_101 : 0b110_100_100), data);  // S_IFREG | 0755 / 0644

    public byte[] Finish()
    {
        Entry("TRAILER!!!", 0, []);
        return output.ToArray();
    }

    private void Entry(string name, int mode, byte[] data)
    {
        byte[] nameBytes = Encoding.ASCII.GetBytes(name + "\0");
        int nlink = (mode & 0x4000) != 0 ? 2 : 1;
        // ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize check
        int[] fields = [inode++, mode, 0, 0, nlink, 0, data.Length, 0, 0, 0, 0, nameBytes.Length, 0];
        var header = new StringBuilder("070701");
        foreach (int f in fields) header.Append(f.ToString("X8", System.Globalization.CultureInfo.InvariantCulture));
        Write(Encoding.ASCII.GetBytes(header.ToString()));
        Write(nameBytes);
        Pad();
        Write(data);
        Pad();
    }

    private void Write(byte[] bytes) => output.Write(bytes);

    private void Pad()
    {
        while (output.Length % 4 != 0) output.WriteByte(0);
    }
}
