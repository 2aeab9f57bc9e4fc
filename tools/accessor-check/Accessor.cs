namespace GuestOS.AccessorCheck;

/// <summary>What kind of single access an accessor must perform.</summary>
public enum AccessKind
{
    /// <summary>ioreadN: one load of N bits from the address argument ([rdi], [x0]).</summary>
    MmioRead,
    /// <summary>iowriteN: one store of N bits to the address argument.</summary>
    MmioWrite,
    /// <summary>inb/inw/inl: x86, one in from port dx; arm64 has no ports, so a panic.</summary>
    PortIn,
    /// <summary>outb/outw/outl: x86, one out to port dx; arm64 has no ports, so a panic.</summary>
    PortOut,
}

/// <summary>One register accessor the kernel's HAL calls, and the access it promises.</summary>
public sealed record Accessor(string Name, AccessKind Kind, int WidthBits)
{
    public bool IsPort => Kind is AccessKind.PortIn or AccessKind.PortOut;

    public bool Reads => Kind is AccessKind.MmioRead or AccessKind.PortIn;

    /// <summary>
    /// The full set boot/&lt;arch&gt;/io.S must define: a device register access that the compiler
    /// could split, merge, widen or elide is a driver bug, so each one is a tiny assembly
    /// function, and this list is the contract the checker holds it to. The HAL calls the same
    /// fourteen on both architectures; what a port accessor must do differs (see the inspectors).
    /// </summary>
    public static readonly IReadOnlyList<Accessor> Set =
    [
        new("ioread8", AccessKind.MmioRead, 8),
        new("ioread16", AccessKind.MmioRead, 16),
        new("ioread32", AccessKind.MmioRead, 32),
        new("ioread64", AccessKind.MmioRead, 64),
        new("iowrite8", AccessKind.MmioWrite, 8),
        new("iowrite16", AccessKind.MmioWrite, 16),
        new("iowrite32", AccessKind.MmioWrite, 32),
        new("iowrite64", AccessKind.MmioWrite, 64),
        new("inb", AccessKind.PortIn, 8),
        new("inw", AccessKind.PortIn, 16),
        new("inl", AccessKind.PortIn, 32),
        new("outb", AccessKind.PortOut, 8),
        new("outw", AccessKind.PortOut, 16),
        new("outl", AccessKind.PortOut, 32),
    ];
}
