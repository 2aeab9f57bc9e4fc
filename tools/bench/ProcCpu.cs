namespace GuestOS.Bench;

// Host CPU time of a process, from /proc, in nanoseconds: the sum over its threads of the first
// field of /proc/<pid>/task/<tid>/schedstat (time spent on a CPU). /proc/<pid>/stat's utime +
// stime covers the whole process too, but counts 10 ms ticks, too coarse for a window of a few
// hundred milliseconds. A thread that exits inside the window takes its time with it; QEMU's
// and the backend's threads live as long as the run.
public static class ProcCpu
{
    /// <summary>The first field of a schedstat line ("1234 56 7"): nanoseconds on a CPU.</summary>
    public static long ParseSchedstatNs(string schedstat)
    {
        string first = schedstat.Trim().Split(' ')[0];
        if (!long.TryParse(first, out long ns) || ns < 0) throw new FormatException($"not a schedstat line: '{schedstat.Trim()}'");
        return ns;
    }

    /// <summary>Command name and parent pid from a /proc/<pid>/stat line, "pid (comm) state ppid ...".
    /// The name may itself contain spaces and parentheses: it ends at the last ')'.</summary>
    public static (string Comm, int Ppid) ParseStat(string stat)
    {
        int open = stat.IndexOf('('), close = stat.LastIndexOf(')');
        if (open < 0 || close < open) throw new FormatException($"not a /proc/<pid>/stat line: '{stat.Trim()}'");
        string[] rest = stat[(close + 1)..].Trim().Split(' ');
        if (rest.Length < 2 || !int.TryParse(rest[1], out int ppid)) throw new FormatException($"no parent pid in '{stat.Trim()}'");
        return (stat[(open + 1)..close], ppid);
    }

    /// <summary>CPU nanoseconds of process <paramref name="pid"/> so far, or null if it is gone.</summary>
    public static long? CpuNs(int pid)
    {
        string tasks = $"/proc/{pid}/task";
        if (!Directory.Exists(tasks)) return null;
        long sum = 0;
        foreach (string task in Directory.EnumerateDirectories(tasks))
        {
            try { sum += ParseSchedstatNs(File.ReadAllText(Path.Combine(task, "schedstat"))); }
            catch (IOException) { }   // the thread exited between the listing and the read
        }
        return sum;
    }

    /// <summary>A child of <paramref name="parent"/> whose command name starts with
    /// <paramref name="commPrefix"/> (names are cut to 15 characters: "qemu-system-aar").</summary>
    public static int? FindChild(int parent, string commPrefix)
    {
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid)) continue;
            try
            {
                var (comm, ppid) = ParseStat(File.ReadAllText(Path.Combine(dir, "stat")));
                if (ppid == parent && comm.StartsWith(commPrefix, StringComparison.Ordinal)) return pid;
            }
            catch (IOException) { }   // it exited meanwhile
        }
        return null;
    }
}

// CPU used by QEMU and the backend between two console lines of one run (the benchmark window),
// sampled from the line callbacks as the lines reach the host.
public sealed class WindowCpu
{
    private readonly bool backend;
    private int? qemuPid, backendPid;
    private long? qemu0, backend0;

    public WindowCpu(bool backend) => this.backend = backend;

    public double QemuSeconds { get; private set; } = double.NaN;
    public double BackendSeconds { get; private set; } = double.NaN;

    public void Start()
    {
        qemuPid = ProcCpu.FindChild(Environment.ProcessId, "qemu-system");
        backendPid = backend ? ProcCpu.FindChild(Environment.ProcessId, "vhost-user-rng") : null;
        qemu0 = qemuPid is int q ? ProcCpu.CpuNs(q) : null;
        backend0 = backendPid is int b ? ProcCpu.CpuNs(b) : null;
    }

    public void Stop()
    {
        if (qemuPid is int q && qemu0 is long q0 && ProcCpu.CpuNs(q) is long q1) QemuSeconds = (q1 - q0) / 1e9;
        if (backendPid is int b && backend0 is long b0 && ProcCpu.CpuNs(b) is long b1) BackendSeconds = (b1 - b0) / 1e9;
        if (!backend) BackendSeconds = 0;
    }
}
