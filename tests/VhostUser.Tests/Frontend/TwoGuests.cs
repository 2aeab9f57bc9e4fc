// The isolation check every hostile test ends with: the backend serves two sockets; a
// well-behaved guest runs on socket 1 while socket 0 misbehaves, and must not notice.

using System;
using Xunit;

namespace VhostUser.Tests.Frontend;

public sealed class TwoGuests : IDisposable
{
    public BackendHarness Backend { get; }
    public TestGuest Good { get; }

    public TwoGuests(params string[] extraArgs)
    {
        var args = new string[extraArgs.Length + 2];
        args[0] = "-c";
        args[1] = "2";
        extraArgs.CopyTo(args, 2);
        Backend = new BackendHarness(args);
        Good = new TestGuest(Backend.Socket(1));
        Good.Start();
        Assert.Equal(64u, Good.PostAndWait(TestGuest.BufferArea, 64).Len);
    }

    public string HostileSocket => Backend.Socket(0);

    /// <summary>The process is alive and the other guest is still served.</summary>
    public void AssertOthersUnharmed()
    {
        Backend.AssertAlive();
        Good.Ram.Fill(TestGuest.BufferArea, 64, 0);
        Assert.Equal(64u, Good.PostAndWait(TestGuest.BufferArea, 64).Len);
        Assert.Contains(Good.Ram.Read(TestGuest.BufferArea, 64), b => b != 0);
    }

    public void Dispose()
    {
        Good.Dispose();
        Backend.Dispose();
    }
}
