namespace GuestOS.Drivers
{
    // memmove (Linux: lib/string.c; x86's arch/x86/lib/memmove_64.S): the kernel's one bulk
    // copy. virtio-rng's copy_data moves every byte of entropy through it, and the corelib's
    // Buffer.Memmove (struct and array copies) calls it too.
    //
    // Shaped for TCG, which runs every guest instruction as translated host code: a load or
    // store costs one software TLB lookup whatever its width up to 8 bytes, and every loop
    // iteration ends a translated block. So the bulk goes in 64-byte blocks of eight 8-byte
    // loads and eight 8-byte stores. No alignment prologue: x86 and arm64 Normal memory take
    // unaligned accesses (SCTLR_EL1.A is off), and under TCG they cost the same unless they
    // straddle a page. Measured with QEMU 7.2 TCG, 64 KiB copies out of 1 MiB buffers: a
    // ulong-at-a-time loop 1.0-1.2 GB/s (x86_64) and 1.1-1.7 GB/s (aarch64), this 2.9-3.0 and
    // 3.5-3.7; x86 rep movsq 1.0-1.4 and 16-byte movdqu 1.6-2.0 (QEMU splits each into two
    // 8-byte accesses); a byte loop 0.12-0.24.
    //
    // Overlap (memmove, not memcpy): each block is loaded whole before any of it is stored,
    // and the copy runs forward when dst is below src and backward when it is above, so a
    // store only ever lands on source bytes already read.
    public static unsafe class Mem
    {
        public static void memmove(byte* dst, byte* src, nuint n)
        {
            if (dst == src || n == 0) return;
            if (dst < src) forward(dst, src, n);
            else backward(dst, src, n);
        }

        private static void forward(byte* dst, byte* src, nuint n)
        {
            for (; n >= 64; n -= 64, src += 64, dst += 64)
            {
                ulong* s = (ulong*)src, d = (ulong*)dst;
                ulong a = s[0], b = s[1], c = s[2], e = s[3], f = s[4], g = s[5], h = s[6], i = s[7];
                d[0] = a; d[1] = b; d[2] = c; d[3] = e; d[4] = f; d[5] = g; d[6] = h; d[7] = i;
            }
            for (; n >= 8; n -= 8, src += 8, dst += 8) *(ulong*)dst = *(ulong*)src;
            for (; n > 0; n--) *dst++ = *src++;
        }

        // From the end down: the mirror image of forward.
        private static void backward(byte* dst, byte* src, nuint n)
        {
            src += n;
            dst += n;
            for (; n >= 64; n -= 64)
            {
                src -= 64;
                dst -= 64;
                ulong* s = (ulong*)src, d = (ulong*)dst;
                ulong a = s[0], b = s[1], c = s[2], e = s[3], f = s[4], g = s[5], h = s[6], i = s[7];
                d[0] = a; d[1] = b; d[2] = c; d[3] = e; d[4] = f; d[5] = g; d[6] = h; d[7] = i;
            }
            for (; n >= 8; n -= 8)
            {
                src -= 8;
                dst -= 8;
                *(ulong*)dst = *(ulong*)src;
            }
            for (; n > 0; n--) *--dst = *--src;
        }
    }
}
