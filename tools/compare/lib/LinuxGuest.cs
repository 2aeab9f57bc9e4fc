using System.Text;
using GuestOS.Runner;

namespace GuestOS.Compare;

/// <summary>
/// Debian's Linux 6.1 as the reference guest. `make linux` (the Makefile) downloads
/// linux-image-cloud-&lt;arch&gt; and busybox-static with apt-get download and unpacks them with
/// dpkg-deb -x into build/linux/&lt;arch&gt;/{root,busybox}; this class builds the initramfs
/// (busybox, the virtio modules, an /init that reads /dev/hwrng with dd) and the boot options.
/// </summary>
public sealed class LinuxGuest
{
    public const string DoneMarker = "LINUX-COMPARE: DONE";

    public string Directory { get; }
    public TargetArch Arch { get; }

    public LinuxGuest(string directory, TargetArch arch)
    {
        Directory = directory;
        Arch = arch;
        if (!System.IO.Directory.Exists(Path.Combine(directory, "root", "boot")) || !File.Exists(BusyboxPath))
            throw new FileNotFoundException(
                $"{directory} has no unpacked Debian kernel and busybox: run `make linux ARCH={arch.Name()}` (make compare and make test do)");
    }

    private string BusyboxPath => Path.Combine(Directory, "busybox", "bin", "busybox");

    public string KernelPath => System.IO.Directory.GetFiles(Path.Combine(Directory, "root", "boot"), "vmlinuz-*").Single();

    private string ModulesRoot => System.IO.Directory.GetDirectories(Path.Combine(Directory, "root", "lib", "modules")).Single();

    private string FindModule(string name)
    {
        string file = name.Replace('_', '-') + ".ko";
        return System.IO.Directory.EnumerateFiles(ModulesRoot, "*.ko", SearchOption.AllDirectories)
                   .FirstOrDefault(f => Path.GetFileName(f).Replace('_', '-') == file)
               ?? throw new FileNotFoundException($"module {name} not found under {ModulesRoot}");
    }

    /// <summary>
    /// The initramfs, built once and kept next to the kernel (rebuilt when this code's inputs change).
    /// <paramref name="powerOff"/> false: /init sleeps instead of powering off, a guest that never
    /// exits (like a shell), for the check's idle stop.
    /// </summary>
    public string Initramfs(bool powerOff = true)
    {
        string path = Path.Combine(Directory, powerOff ? "initramfs.cpio" : "initramfs-stays.cpio");
        var modules = KernelModules.LoadOrder(KernelModules.ForVirtioRng, FindModule);
        var cpio = new CpioNewc();
        foreach (var dir in new[] { "bin", "dev", "proc", "sys", "lib" }) cpio.Directory(dir);
        cpio.File("bin/busybox", File.ReadAllBytes(BusyboxPath), executable: true);
        foreach (var ko in modules) cpio.File("lib/" + Path.GetFileName(ko), File.ReadAllBytes(ko));
        string init = InitScript(modules.Select(Path.GetFileName)!);
        if (!powerOff) init = init.Replace("poweroff -f", "sleep 3600");
        cpio.File("init", Encoding.ASCII.GetBytes(init), executable: true);
        byte[] image = cpio.Finish();
        if (!File.Exists(path) || !File.ReadAllBytes(path).AsSpan().SequenceEqual(image))
        {
            // A new file renamed over the old: build/linux may be hard links shared with other checkouts.
            File.WriteAllBytes(path + ".new", image);
            File.Move(path + ".new", path, overwrite: true);
        }
        return path;
    }

    /// <summary>
    /// /init: load the modules in dependency order, read rng.bytes (from the kernel command line,
    /// default 64 KiB) from /dev/hwrng in 64-byte reads, the size of virtio-rng's one buffer,
    /// print the marker, power off.
    /// </summary>
    public static string InitScript(IEnumerable<string?> moduleFiles) => $$"""
        #!/bin/busybox sh
        /bin/busybox --install -s /bin
        mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev
        for m in {{string.Join(' ', moduleFiles)}}; do insmod /lib/$m || echo "LINUX-COMPARE: insmod $m failed"; done
        n=65536
        for w in $(cat /proc/cmdline); do case $w in rng.bytes=*) n=${w#rng.bytes=};; esac; done
        echo "LINUX-COMPARE: hwrng $(cat /sys/class/misc/hw_random/rng_current), reading $n bytes"
        dd if=/dev/hwrng of=/dev/null bs=64 count=$((n / 64))
        echo "{{DoneMarker}}"
        poweroff -f

        """.Replace("\r", "");

    /// <summary>Boot options: the Debian kernel, the initramfs, the serial console.</summary>
    public RunOptions Options(int bytes) => new()
    {
        KernelPath = KernelPath,
        Arch = Arch,
        Append = $"console={(Arch == TargetArch.X86_64 ? "ttyS0" : "ttyAMA0")} quiet panic=-1 rng.bytes={bytes}",
        QemuExtra = ["-initrd", Initramfs()],
        Timeout = TimeSpan.FromSeconds(180),
    };
}
