namespace GuestOS.Tour;

/// <summary>
/// Debian's debug symbols for the Linux kernel `make linux` boots, as tools/tour/linux-dbg.sh
/// caches them: &lt;root&gt;/&lt;release&gt;_&lt;version&gt;/ with vmlinux, modules/*.ko and gdb's index.
/// Symbols of another build would put every breakpoint at the wrong address, so the directory is
/// chosen by the booted package's exact name and version, and anything else is refused.
/// (At boot, tools/tour/tour.py also compares the running kernel's linux_banner with vmlinux's.)
/// </summary>
public sealed record LinuxSymbols(string Directory, string Package, string Version)
{
    public string Vmlinux => Path.Combine(Directory, "vmlinux");
    public string IndexCache => Path.Combine(Directory, "gdb-index");

    /// <summary>Module name (as the kernel's mod->name spells it: '_', not '-') to its .ko with DWARF.</summary>
    public IReadOnlyDictionary<string, string> Modules =>
        System.IO.Directory.GetFiles(Path.Combine(Directory, "modules"), "*.ko").Order(StringComparer.Ordinal)
            .ToDictionary(f => Path.GetFileNameWithoutExtension(f).Replace('-', '_'), Path.GetFullPath);

    /// <summary>"linux-image-6.1.0-57-cloud-amd64_6.1.192-3_amd64.deb" -> (package, version); epochs are written %3a.</summary>
    public static (string Package, string Version) PackageOf(string debFile)
    {
        var parts = Path.GetFileNameWithoutExtension(debFile).Split('_');
        if (parts.Length != 3 || !parts[0].StartsWith("linux-image-", StringComparison.Ordinal))
            throw new TourException($"{debFile} is not a linux-image package file (package_version_arch.deb)");
        return (parts[0], Uri.UnescapeDataString(parts[1]));
    }

    /// <param name="linuxDirectory">build/linux/&lt;arch&gt; of `make linux` (its debs/ and root/boot/).</param>
    /// <param name="root">build/linux-dbg/&lt;arch&gt;.</param>
    public static LinuxSymbols Locate(string linuxDirectory, string root)
    {
        var debs = System.IO.Directory.Exists(Path.Combine(linuxDirectory, "debs"))
            ? System.IO.Directory.GetFiles(Path.Combine(linuxDirectory, "debs"), "linux-image-*.deb") : [];
        if (debs.Length != 1) throw new TourException($"{linuxDirectory}/debs should hold one linux-image .deb (it holds {debs.Length}): run `make linux`");
        var (package, version) = PackageOf(debs[0]);
        string release = package["linux-image-".Length..];
        // The kernel booted is root/boot/vmlinuz-<release>: the same package's.
        string vmlinuz = Path.Combine(linuxDirectory, "root", "boot", "vmlinuz-" + release);
        if (!File.Exists(vmlinuz)) throw new TourException($"{linuxDirectory} boots another kernel than its package {package} (no {vmlinuz}): run `rm -rf {linuxDirectory} && make linux`");
        string dir = Path.Combine(root, $"{release}_{version}");
        if (File.Exists(Path.Combine(dir, ".done"))) return new LinuxSymbols(dir, package, version);
        var others = System.IO.Directory.Exists(root)
            ? System.IO.Directory.GetDirectories(root).Where(d => File.Exists(Path.Combine(d, ".done"))).Select(Path.GetFileName).ToList() : [];
        throw new TourException($"no debug symbols for the booted kernel {package} {version} in {root}"
            + (others.Count > 0 ? $" (only for {string.Join(", ", others)}: another build, refused)" : "")
            + $": tools/tour/linux-dbg.sh {linuxDirectory} {root} fetches {package}-dbg {version} (make tour GUEST=linux runs it)");
    }
}
