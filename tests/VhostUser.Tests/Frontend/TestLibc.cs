// libc calls only the tests need.

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;

namespace VhostUser.Tests.Frontend;

public static unsafe partial class TestLibc
{
    [LibraryImport("libc", SetLastError = true)]
    public static partial int pipe2(int* fds, int flags);

    public const int O_CLOEXEC = 0x80000;

    public static (int Read, int Write) Pipe()
    {
        int* fds = stackalloc int[2];
        if (pipe2(fds, O_CLOEXEC) != 0) throw new System.InvalidOperationException("pipe2 failed");
        return (fds[0], fds[1]);
    }

    /// <summary>
    /// How many descriptors of each kind the backend deals in (sockets, eventfds, memfds,
    /// epoll and timer fds) this process holds (for leak checks).
    /// Other descriptors are left out because they come and go on their own: the test host
    /// opens two for every assembly it loads, and other tests' child processes leave pipes
    /// that close when the child's output ends. Under CI load one of these landed in the middle
    /// of a count of all descriptors.
    /// </summary>
    public static SortedDictionary<string, int> BackendKindFds()
    {
        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var path in Directory.GetFiles("/proc/self/fd"))
        {
            string? target;
            try { target = new FileInfo(path).LinkTarget; }
            catch (IOException) { continue; }   // closed between the listing and the readlink
            string? kind = target switch
            {
                null => null,
                _ when target.StartsWith("socket:", StringComparison.Ordinal) => "socket",
                _ when target.StartsWith("anon_inode:[", StringComparison.Ordinal) => target["anon_inode:[".Length..].TrimEnd(']'),
                _ when target.StartsWith("/memfd:", StringComparison.Ordinal) => "memfd",
                _ => null,
            };
            if (kind is not null) counts[kind] = counts.GetValueOrDefault(kind) + 1;
        }
        return counts;
    }

    public static string Describe(IDictionary<string, int> counts) => string.Join(" ", counts.Select(c => $"{c.Key}={c.Value}"));
}
