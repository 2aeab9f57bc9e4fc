using GuestOS.Runner;
using GuestOS.Tour;

// guestos-tour: `make tour`. The virtio-rng path as real backtraces: see the README's "make tour".
//   guestos-tour --arch x86_64|aarch64 --rng vhost-user|builtin --kernel ELF --qemu-build DIR
//                [--backend BIN] [--gic 2|3] [--out DIR] [--time-limit SECONDS]
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
        var r => throw new ArgumentException($"RNG must be vhost-user or builtin, not '{r}'"),
    };
    if (a.TryGetValue("guest", out var guestKind) && guestKind != "guestos")
        throw new ArgumentException($"GUEST={guestKind}: only guestos is implemented (GUEST=linux is not yet)");
    string rngText = rng == TourRng.VhostUser ? "vhost-user" : "builtin";
    string outDir = Path.Combine(a.GetValueOrDefault("out", "build/tour"), $"{arch.Name()}-{rngText}");
    var options = new TourOptions
    {
        Arch = arch,
        Rng = rng,
        Kernel = Need("kernel"),
        QemuBuild = Need("qemu-build"),
        Repository = Directory.GetCurrentDirectory(),
        OutputDirectory = outDir,
        Backend = a.GetValueOrDefault("backend"),
        GicVersion = a.TryGetValue("gic", out var gic) ? int.Parse(gic) : Machines.DefaultGicVersion,
        TimeLimit = TimeSpan.FromSeconds(int.Parse(a.GetValueOrDefault("time-limit", "300"))),
    };
    Console.WriteLine($"tour: {arch.Name()}, RNG={rngText}: the debug QEMU inside gdb, the guest through its gdbstub (records in {outDir}/)");
    var result = await TourRun.RunAsync(options);
    var report = TourReport.Build(rng, result.Stops, result.Backend);
    string title = $"make tour: {arch.Name()}{(arch == TargetArch.Aarch64 ? $" (GICv{options.GicVersion})" : "")}, RNG={rngText}, GuestOS — "
                   + $"{result.Stops.Count} stops in {TourRender.Seconds(result.Duration)}";
    Console.Write(TourRender.Terminal(report, title, options.Repository));
    var labels = LabelCheck.Check(LabelCheck.TraceTimeline(result), result.Stops);
    Console.Write(TourRender.LabelsText(labels));
    string md = TourRender.Markdown(report, title, new SourceLinks(Path.GetFullPath(outDir), options.Repository, Path.GetFullPath(options.QemuBuild)))
                + TourRender.LabelsMarkdown(labels);
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
catch (Exception e) when (e is ArgumentException or FormatException or TourException or RunOptionsException)
{
    Console.Error.WriteLine($"guestos-tour: {e.Message}");
    return 2;
}
