// The command line. Compatible with rust-vmm's vhost-device-rng (-s/-c/-p/-m/-f, the socket
// index always appended to the path), plus the vhost-user document's backend conventions
// (--fd, --print-capabilities) and what this backend adds (--connect, -v, --log-timestamps, --allow-unsealed-memory).

using System;
using System.Collections.Generic;
using System.Globalization;

namespace VhostUserRng.Cli;

public sealed class OptionsException : Exception
{
    public OptionsException(string message) : base(message) { }
}

public sealed class Options
{
    public const uint MaxPeriodMs = 65536;
    public const uint MaxBusyPollUs = 1_000_000;
    public const int MaxSocketCount = 1024;

    public string? SocketPath { get; private set; }
    public int SocketCount { get; private set; } = 1;
    public uint PeriodMs { get; private set; } = MaxPeriodMs;
    public ulong? MaxBytes { get; private set; }
    public string? RngSource { get; private set; }
    public int? Fd { get; private set; }
    public bool Connect { get; private set; }
    public bool AllowUnsealedMemory { get; private set; }
    public bool PrintCapabilities { get; private set; }
    public bool Help { get; private set; }
    public int Verbosity { get; private set; }
    public bool LogTimestamps { get; private set; }
    public uint BusyPollUs { get; private set; } = (uint)(Rng.RngDevice.DefaultBusyPollNs / 1000);

    /// <summary>The socket paths: the -s path with 0..count-1 appended, as vhost-device-rng does.</summary>
    public IReadOnlyList<string> SocketPaths
    {
        get
        {
            var paths = new List<string>();
            for (int i = 0; i < SocketCount && SocketPath is not null; i++) paths.Add(SocketPath + i.ToString(CultureInfo.InvariantCulture));
            return paths;
        }
    }

    /// <summary>Each socket's share of --max-bytes, or null without a limit.</summary>
    public ulong? BytesPerSocket => MaxBytes / (ulong)SocketCount;

    public const string Usage = """
        Usage: vhost-user-rng (-s PATH [-c COUNT] | --fd FD) [options]

        A vhost-user backend for virtio entropy devices (QEMU -device vhost-user-rng-pci).

          -s, --socket-path PATH   vhost-user socket; the index is appended: PATH0, PATH1, ...
          -c, --socket-count N     number of sockets, one guest each (default 1)
              --connect            connect to PATH (QEMU -chardev socket,server=on) instead of
                                   listening, and reconnect whenever the connection drops
              --fd FD              serve an inherited socket (listening or connected)
          -p, --period MS          rate-limit period in milliseconds, 1..65536 (default 65536)
          -m, --max-bytes N        at most N bytes per period, split evenly across the sockets
                                   (default: no limit)
          -f, --rng-source PATH    read entropy from PATH (e.g. /dev/urandom, /dev/hwrng)
                                   instead of the built-in CSPRNG
              --busy-poll-us N     keep polling an emptied ring for N microseconds before
                                   asking the guest for a kick, 0..1000000 (default 200;
                                   0: ask at once). Other guests are served meanwhile.
              --allow-unsealed-memory
                                   accept guest memory that is not sealed against shrinking
                                   (e.g. memory-backend-file); a frontend truncating it could
                                   then crash the backend
          -v, --verbose            -v logs every vhost-user message with its fields, -vv also
                                   ring activity
              --log-timestamps     start every log line with the wall-clock time (seconds.us
                                   since the epoch, as QEMU's -msg timestamp=on trace lines)
              --print-capabilities print the backend's capabilities as JSON and exit
          -h, --help               this text
        """;

    public static Options Parse(IReadOnlyList<string> args)
    {
        var o = new Options();
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            string name = arg;
            string? inline = null;
            int eq = arg.IndexOf('=');
            if (arg.StartsWith("--", StringComparison.Ordinal) && eq > 0) { name = arg[..eq]; inline = arg[(eq + 1)..]; }

            string Value()
            {
                if (inline is not null) return inline;
                if (i + 1 >= args.Count) throw new OptionsException($"{name} needs a value");
                return args[++i];
            }

            switch (name)
            {
                case "-s": case "--socket-path": o.SocketPath = NonEmpty(name, Value()); break;
                case "-c": case "--socket-count": o.SocketCount = (int)ParseNumber(name, Value(), 1, MaxSocketCount); break;
                case "-p": case "--period": o.PeriodMs = (uint)ParseNumber(name, Value(), 1, MaxPeriodMs); break;
                case "-m": case "--max-bytes": o.MaxBytes = ParseNumber(name, Value(), 1, ulong.MaxValue); break;
                case "-f": case "--rng-source": o.RngSource = NonEmpty(name, Value()); break;
                case "--busy-poll-us": o.BusyPollUs = (uint)ParseNumber(name, Value(), 0, MaxBusyPollUs); break;
                case "--fd": o.Fd = (int)ParseNumber(name, Value(), 0, int.MaxValue); break;
                case "--connect": o.Connect = true; break;
                case "--allow-unsealed-memory": o.AllowUnsealedMemory = true; break;
                case "--print-capabilities": o.PrintCapabilities = true; break;
                case "-h": case "--help": o.Help = true; break;
                case "-v": case "--verbose": o.Verbosity++; break;
                case "--log-timestamps": o.LogTimestamps = true; break;
                case "-vv": o.Verbosity += 2; break;
                case "-vvv": o.Verbosity += 3; break;
                default: throw new OptionsException($"unknown option '{arg}'");
            }
        }
        // --print-capabilities: "Other options and arguments should be ignored".
        if (o.PrintCapabilities || o.Help) return o;

        if (o.SocketPath is null && o.Fd is null) throw new OptionsException("a socket is needed: --socket-path PATH or --fd FD");
        if (o.SocketPath is not null && o.Fd is not null) throw new OptionsException("--socket-path and --fd are mutually exclusive");
        if (o.Fd is not null && o.SocketCount != 1) throw new OptionsException("--fd serves one socket; --socket-count does not apply");
        if (o.Fd is not null && o.Connect) throw new OptionsException("--connect needs --socket-path");
        if (o.MaxBytes is ulong max && max < (ulong)o.SocketCount)
            throw new OptionsException($"--max-bytes {max} split across {o.SocketCount} sockets leaves less than one byte per socket per period");
        return o;
    }

    private static string NonEmpty(string name, string value) =>
        value.Length > 0 ? value : throw new OptionsException($"{name} needs a non-empty value");

    private static ulong ParseNumber(string name, string text, ulong min, ulong max)
    {
        if (!ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out ulong value) || value < min || value > max)
            throw new OptionsException($"{name} '{text}' is not a number from {min} to {max}");
        return value;
    }
}
