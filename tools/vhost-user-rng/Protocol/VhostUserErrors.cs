// The two ways a frontend message can fail, and what each costs.

using System;

namespace VhostUserRng.Protocol;

/// <summary>
/// The byte stream cannot be trusted any more (bad header, unknown or unsupported request,
/// truncated message, too many descriptors), or a refusal cannot be reported to the frontend.
/// The connection is closed; other connections are untouched.
/// </summary>
public sealed class VhostUserProtocolException : Exception
{
    public VhostUserProtocolException(string message) : base(message) { }
}

/// <summary>
/// A well-formed request that the backend refuses (unoffered feature bits, a bad memory table,
/// a ring index out of range...). Nothing was changed. With NEED_REPLY set the frontend gets a
/// non-zero u64; without it the frontend would carry on unaware, so the connection is closed.
/// </summary>
public sealed class VhostUserRequestRefusedException : Exception
{
    public VhostUserRequestRefusedException(string message) : base(message) { }
}
