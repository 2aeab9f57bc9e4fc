namespace GuestOS.Bench;

internal static class Paths
{
    public static string Root { get; } = FindRoot();

    public static string Backend => Build("vhost-user-rng", "vhost-user-rng");

    public static string Build(string folder, string file)
    {
        string path = Path.Combine(Root, "build", folder, file);
        if (!File.Exists(path)) throw new FileNotFoundException($"{Path.GetFullPath(path)} is missing: run `make bench`, which builds it");
        return path;
    }

    private static string FindRoot()
    {
        // make runs us from the repository root; from elsewhere, the binary's own folder lies below it.
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "GuestOS.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("GuestOS.sln not found");
    }
}
