using GuestOS.Runner;

namespace GuestOS.Compare;

/// <summary>
/// Any guest QEMU can boot, given as QEMU arguments (GUEST="-kernel k -initrd i -append '...'",
/// "-bios fw.bin", "-drive file=disk.img,..."). The machine, memory, the entropy device and the
/// tracing are the tool's, exactly as for Linux in `make compare`; the guest's arguments take the
/// place of the runner's -kernel/-append.
/// </summary>
public sealed class GuestCommandLine
{
    public IReadOnlyList<string> Words { get; }

    /// <summary>The file that boots the guest (its kernel, firmware or disk image): the runner wants one that exists.</summary>
    public string BootFile { get; }

    private static readonly string[] FileOptions = ["-kernel", "-bios", "-pflash", "-hda", "-cdrom", "-drive"];

    public GuestCommandLine(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
            throw new ArgumentException("GUEST is empty: give the QEMU arguments that boot your guest, e.g. GUEST=\"-kernel bzImage -initrd initrd.img -append 'console=ttyS0'\"");
        Words = ShellWords.Split(text);
        string? file = null;
        for (int i = 0; i + 1 < Words.Count && file is null; i++)
        {
            if (!FileOptions.Contains(Words[i])) continue;
            string value = Words[i + 1];
            file = Words[i] == "-drive"
                ? value.Split(',').FirstOrDefault(p => p.StartsWith("file=", StringComparison.Ordinal))?["file=".Length..]
                : value;
        }
        BootFile = file ?? throw new ArgumentException($"GUEST names nothing to boot: give one of {string.Join(", ", FileOptions)} (GUEST was: {text})");
        if (!File.Exists(BootFile)) throw new FileNotFoundException($"GUEST boots '{BootFile}', which does not exist");
    }

    /// <summary>The runner's argv without its own -kernel and -append, followed by the guest's arguments.</summary>
    public IReadOnlyList<string> Apply(IReadOnlyList<string> argv)
    {
        var result = new List<string>();
        for (int i = 0; i < argv.Count; i++)
        {
            if (argv[i] is "-kernel" or "-append" && i + 1 < argv.Count) { i++; continue; }
            result.Add(argv[i]);
        }
        result.AddRange(Words);
        return result;
    }
}
