// tools/bench, run by `make bench`: each benchmark prints its tables and writes them as JSON under build/bench.
//   `guest-rng [runs] [--backend-only]`: the entropy devices against ceilings and Linux 6.1, one table per architecture (GuestRngBench);
//   `guest-boot [runs]`: kernel entry to DRIVER_OK phase by phase, both architectures (GuestBootBench);
//   `many-guests [--minutes M]`: one backend, three guests, then one of them hostile (ManyGuestsBench).
Func<string[], int>? bench = args.Length == 0 ? null : args[0] switch
{
    "guest-rng" => GuestOS.Bench.GuestRngBench.Run,
    "guest-boot" => GuestOS.Bench.GuestBootBench.Run,
    "many-guests" => GuestOS.Bench.ManyGuestsBench.Run,
    _ => null,
};
if (bench is null)
{
    Console.Error.WriteLine("usage: bench guest-rng [runs] [--backend-only] | guest-boot [runs] | many-guests [--minutes M]");
    return 2;
}
try { return bench(args); }
catch (Exception e) when (e is FileNotFoundException or FormatException or InvalidOperationException)
{
    Console.Error.WriteLine($"bench {args[0]}: {e.Message}");   // a missing image, a guest that failed: the message, not a stack
    return 2;
}
