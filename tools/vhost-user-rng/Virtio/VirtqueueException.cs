// A guest broke the rules of the ring. The ring is marked broken and stops being served;
// the connection, the process and every other guest carry on.

using System;

namespace VhostUserRng.Virtio;

public sealed class VirtqueueException : Exception
{
    public VirtqueueException(string message) : base(message) { }
}
