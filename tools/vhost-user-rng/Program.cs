// vhost-user-rng: entry point. Parses the command line, runs the backend until SIGTERM or
// SIGINT, and exits 0 after closing every connection and removing its socket files.

using System;
using System.Runtime.InteropServices;
using VhostUserRng.Backend;
using VhostUserRng.Cli;
using VhostUserRng.Interop;

namespace VhostUserRng;

public static class Program
{
    public const string Capabilities = "{\n  \"type\": \"rng\"\n}";

    public static int Main(string[] args)
    {
        // vhost-user.rst, "Backend program conventions": with --print-capabilities, "other
        // options and arguments should be ignored".
        if (Array.IndexOf(args, "--print-capabilities") >= 0)
        {
            Console.WriteLine(Capabilities);
            return 0;
        }
        Options options;
        try
        {
            options = Options.Parse(args);
        }
        catch (OptionsException e)
        {
            Console.Error.WriteLine($"vhost-user-rng: {e.Message}\nTry 'vhost-user-rng --help'.");
            return 2;
        }
        if (options.Help)
        {
            Console.WriteLine(Options.Usage);
            return 0;
        }
        if (!BitConverter.IsLittleEndian)
        {
            Console.Error.WriteLine("vhost-user-rng: only little-endian hosts are supported (virtio rings are little-endian)");
            return 1;
        }

        // A frontend that vanishes must cost an EPIPE, not the process.
        Libc.signal(Libc.SIGPIPE, Libc.SIG_IGN);

        RngBackend backend;
        try
        {
            backend = new RngBackend(options, Console.Error);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            Console.Error.WriteLine($"vhost-user-rng: {e.Message}");
            return 1;
        }

        using (backend)
        using (PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop))
        using (PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop))
        {
            backend.Run();
            backend.Log.Info("vhost-user-rng", "exiting");
        }
        return 0;

        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;   // we exit ourselves, cleanly
            backend.Stop();
        }
    }
}
