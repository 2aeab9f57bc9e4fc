#!/bin/sh
# Runs afl-fuzz on each target for SECONDS (fresh findings each time) and prints, per target,
# executions, executions per second, crashes, hangs (an input that runs longer than 5 s would
# stall the backend's event loop) and edges found. Exits 1 if any target crashed or hung.
#   tools/fuzz/fuzz.sh SECONDS FUZZ_DLL FINDINGS_DIR CORPUS_DIR target...
set -eu
seconds=$1 dll=$2 out=$3 corpus=$4
shift 4
# dotnet is not instrumented (the instrumented assembly is; SharpFuzz maps AFL's coverage map
# into it); the rest suits an unattended run on a shared machine.
export AFL_SKIP_BIN_CHECK=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1
failed=0
mkdir -p "$out"
for t in "$@"; do
  rm -rf "$out/$t"
  if ! afl-fuzz -i "$corpus/$t" -o "$out/$t" -t 5000 -m none -V "$seconds" -- dotnet "$dll" "$t" >"$out/$t.log" 2>&1; then
    tail -n 20 "$out/$t.log"
    echo "$t: afl-fuzz failed (log: $out/$t.log)"
    exit 1
  fi
  stats=$out/$t/default/fuzzer_stats
  field() { sed -n "s/^$1 *: *//p" "$stats"; }
  crashes=$(field saved_crashes) hangs=$(field saved_hangs)
  printf '%-13s %10s executions in %ss, %8s/s, %s crashes, %s hangs, %s edges\n' "$t" \
    "$(field execs_done)" "$seconds" "$(field execs_per_sec)" "$crashes" "$hangs" "$(field edges_found)"
  if [ "$crashes" != 0 ] || [ "$hangs" != 0 ]; then
    echo "$t: inputs that crash or hang (replay with the plain build: dotnet $(dirname "$(dirname "$dll")")/bin/$(basename "$dll") $t <file>):"
    ls "$out/$t/default/crashes/"id:* "$out/$t/default/hangs/"id:* 2>/dev/null || true
    failed=1
  fi
done
exit $failed
