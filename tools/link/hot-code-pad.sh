#!/bin/sh
# How many bytes to put before the kernel's managed code so that each of its hot loops lies
# inside one 4 KiB page. Why: TCG chains a jump straight to its target only on the same page
# (translator_use_goto_tb); a loop whose back edge crosses a page boundary leaves translated
# code on every iteration (helper_lookup_tb_ptr), and the entropy copy (Mem.forward) ran at half
# speed on arm64 when the compiler happened to place it across one. Where ilc places a method
# changes with any code change, so the link checks every time.
#
# Input: `llvm-nm -S` of the kernel linked with no padding. Arguments: the hot symbols.
# Output: the smallest multiple of 64 below 4096 with which none of them straddles a page (0
# when none does). Exit 1 with a message when a symbol is missing, larger than a page, or no
# padding fits them all.
# Used by the Makefile's kernel link; tests/Tools.Tests/Link/HotCodePadTests.cs.
[ $# -gt 0 ] || { echo "hot-code-pad: name the hot symbols" >&2; exit 1; }
awk -v want="$*" '
function hex(s,   v, i) { v = 0; s = tolower(s); for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1; return v }
BEGIN { n = split(want, names, " "); for (i = 1; i <= n; i++) wanted[names[i]] = 1 }
NF >= 4 && ($4 in wanted) { start[$4] = hex($1); size[$4] = hex($2) }
END {
    for (i = 1; i <= n; i++) {
        s = names[i]
        if (!(s in start)) { printf "hot-code-pad: %s is not in the kernel\n", s > "/dev/stderr"; exit 1 }
        if (size[s] > 4096) { printf "hot-code-pad: %s is %d bytes, more than a page\n", s, size[s] > "/dev/stderr"; exit 1 }
    }
    for (pad = 0; pad < 4096; pad += 64) {
        ok = 1
        for (i = 1; i <= n && ok; i++) {
            a = start[names[i]] + pad; b = a + size[names[i]] - 1
            if (int(a / 4096) != int(b / 4096)) ok = 0
        }
        if (ok) { print pad; exit 0 }
    }
    printf "hot-code-pad: no padding keeps %s each inside a page\n", want > "/dev/stderr"; exit 1
}'
