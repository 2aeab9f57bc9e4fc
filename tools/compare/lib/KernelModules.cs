using System.Text;

namespace GuestOS.Compare;

/// <summary>
/// The Debian kernel builds virtio and virtio-rng as modules (CONFIG_VIRTIO_PCI=m,
/// CONFIG_HW_RANDOM_VIRTIO=m), and the .deb carries no modules.dep (depmod runs at install).
/// The dependencies are in each .ko's .modinfo section as "depends=a,b": read them there and
/// load in dependency order, as modprobe would.
/// </summary>
public static class KernelModules
{
    /// <summary>What the virtio-rng device needs, by module name.</summary>
    public static readonly IReadOnlyList<string> ForVirtioRng = ["virtio-rng", "virtio_pci", "virtio_mmio"];

    /// <summary>The "depends=" list of a module file.</summary>
    public static IReadOnlyList<string> Depends(byte[] ko)
    {
        byte[] key = Encoding.ASCII.GetBytes("depends=");
        int at = ko.AsSpan().IndexOf(key);
        if (at < 0) return [];
        int end = Array.IndexOf(ko, (byte)0, at);
        string list = Encoding.ASCII.GetString(ko, at + key.Length, end - at - key.Length);
        return list.Split(',', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>
    /// Every module <paramref name="wanted"/> needs, dependencies first. <paramref name="find"/>
    /// maps a module name to its file (names use '_' and '-' interchangeably, as in the kernel).
    /// </summary>
    public static IReadOnlyList<string> LoadOrder(IEnumerable<string> wanted, Func<string, string> find)
    {
        var order = new List<string>();
        var visiting = new HashSet<string>();
        void Visit(string name)
        {
            string file = find(name);
            if (order.Contains(file)) return;
            if (!visiting.Add(file)) throw new InvalidOperationException($"module dependency cycle at {name}");
            foreach (var dep in Depends(File.ReadAllBytes(file))) Visit(dep);
            order.Add(file);
        }
        foreach (var name in wanted) Visit(name);
        return order;
    }
}
