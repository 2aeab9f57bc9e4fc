using GuestOS.Runner;
using GuestOS.Tour;

// guestos-tour: `make tour`. The virtio-rng path as real backtraces: see the README's "make tour".
//   guestos-tour --arch x86_64|aarch64 --rng vhost-user|builtin|builtin-mmio --kernel ELF --qemu-build DIR
//                [--backend BIN] [--gic 2|3] [--out DIR] [--time-limit SECONDS]
//                [--guest linux --linux build/linux/x86_64 --linux-symbols build/linux-dbg/x86_64] (no --kernel)
try
{
    var a = args.Select((v, i) => (v, i)).Where(p => p.v.StartsWith("--", StringComparison.Ordinal))
                .ToDictionary(p => p.v[2..], p => p.i + 1 < args.Length ? args[p.i + 1] : throw new ArgumentException($"{p.v} needs a value"));
    string Need(string key) => a.TryGetValue(key, out var v) ? v : throw new ArgumentException($"--{key} is required");
    var arch = TargetArchNames.Parse(Need("arch"));
    var rng = Need("rng") switch
    {
        "vhost-user" => TourRng.VhostUser,
        "builtin" => TourRng.Builtin,
        "builtin-mmio" => TourRng.BuiltinMmio,
        var r => throw new ArgumentException($"RNG must be vhost-user, builtin or builtin-mmio (make tour TRANSPORT=mmio), not '{r}'"),
    };
    if (rng == TourRng.BuiltinMmio && arch != TargetArch.Aarch64)
        throw new ArgumentException($"the virtio-mmio tour runs on ARCH=aarch64 (virt's virtio-mmio slots), not {arch.Name()}");
    string guestKind = a.GetValueOrDefault("guest", "guestos");
    if (guestKind is not ("guestos" or "linux")) throw new ArgumentException($"GUEST must be guestos or linux, not '{guestKind}'");
    if (guestKind == "linux" && arch != TargetArch.X86_64)
        throw new ArgumentException($"GUEST=linux: the Linux tour runs on ARCH=x86_64 (q35) only so far, not {arch.Name()}");
    // Linux: Debian's kernel of `make linux`, and its symbols (the exact build, or a clear refusal).
    LinuxTour? linux = null;
    if (guestKind == "linux")
    {
        var guest = new GuestOS.Compare.LinuxGuest(Need("linux"), arch);
        linux = new LinuxTour(guest, LinuxSymbols.Locate(guest.Directory, Need("linux-symbols")));
    }
    string rngText = Need("rng");
    string outRoot = a.GetValueOrDefault("out", "build/tour");
    string outDir = Path.Combine(outRoot, $"{arch.Name()}-{rngText}{(linux is null ? "" : "-linux")}");
    var options = new TourOptions
    {
        Arch = arch,
        Rng = rng,
        Linux = linux,
        Kernel = linux?.Guest.KernelPath ?? Need("kernel"),
        QemuBuild = Need("qemu-build"),
        Repository = Directory.GetCurrentDirectory(),
        OutputDirectory = outDir,
        Backend = a.GetValueOrDefault("backend"),
        GicVersion = a.TryGetValue("gic", out var gic) ? int.Parse(gic) : Machines.DefaultGicVersion,
        TimeLimit = TimeSpan.FromSeconds(int.Parse(a.GetValueOrDefault("time-limit", "300"))),
    };
    string guestName = linux is null ? "GuestOS" : $"Linux ({linux.Symbols.Package} {linux.Symbols.Version})";
    Console.WriteLine($"tour: {arch.Name()}, RNG={rngText}, {guestName}: the debug QEMU inside gdb, the guest through its gdbstub (records in {outDir}/)");
    var result = await TourRun.RunAsync(options);
    var report = TourReport.Build(rng, result.Stops, result.Backend, options.Probes);
    string title = $"make tour: {arch.Name()}{(arch == TargetArch.Aarch64 ? $" (GICv{options.GicVersion})" : "")}, RNG={rngText}, {guestName} — "
                   + $"{result.Stops.Count} stops in {TourRender.Seconds(result.Duration)}";
    Console.Write(TourRender.Terminal(report, title, options.Repository));
    // Linux's frames for its DRIVER_OK store beside GuestOS's, from GuestOS's tour of the same machine and device if there is one.
    string beside = "";
    if (linux is not null)
    {
        string guestOsDir = Path.Combine(outRoot, $"{arch.Name()}-{rngText}");
        var guestOs = TourRun.Recorded(guestOsDir);
        var sides = new List<(string, TourReport)> { ("Linux", report) };
        if (guestOs is not null) sides.Add(($"GuestOS (its tour in {guestOsDir}/)", TourReport.Build(rng, guestOs, [])));
        Console.Write(TourRender.BesideText(sides, options.Repository));
        if (guestOs is null) Console.WriteLine($"  (GuestOS's side: no GuestOS tour in {guestOsDir}/ yet - `make tour ARCH={arch.Name()} RNG={rngText}` records one)");
        beside = TourRender.BesideMarkdown(sides, options.Repository);
    }
    var labels = LabelCheck.Check(LabelCheck.TraceTimeline(result), result.Stops);
    Console.Write(TourRender.LabelsText(labels));
    string md = TourRender.Markdown(report, title, new SourceLinks(Path.GetFullPath(outDir), options.Repository, Path.GetFullPath(options.QemuBuild), linux?.Symbols.Version))
                + beside + TourRender.LabelsMarkdown(labels);
    File.WriteAllText(Path.Combine(outDir, "tour.md"), md);
    File.WriteAllText(Path.Combine(outDir, "tour.html"), TourRender.Html(md, title));
    Console.WriteLine($"\nwritten: {outDir}/tour.md, {outDir}/tour.html");
    var disproved = labels.Where(l => !l.Confirmed).ToList();
    if (disproved.Count > 0)
        Console.Error.WriteLine($"guestos-tour: {disproved.Count} make trace label(s) not on any observed stack: {string.Join("; ", disproved.Select(l => l.Label))}");
    var missing = report.Missing.Select(s => s.Function).ToList();
    if (missing.Count > 0)
    {
        Console.Error.WriteLine($"guestos-tour: never reached: {string.Join(", ", missing)}\nlast guest console lines:\n  {string.Join("\n  ", result.Console.TakeLast(10))}");
        return 1;
    }
    return disproved.Count > 0 ? 1 : 0;
}
catch (Exception e) when (e is ArgumentException or FormatException or TourException or RunOptionsException or FileNotFoundException)
{
    Console.Error.WriteLine($"guestos-tour: {e.Message}");
    return 2;
}
