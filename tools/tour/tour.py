# The gdb side of `make tour` (tools/tour), loaded by both debuggers of one tour:
#   TOUR_SIDE=qemu : gdb on the debug QEMU itself (the host process), started with --args
#   TOUR_SIDE=guest: gdb-multiarch on the kernel ELF, attached to that QEMU's gdbstub
# Every breakpoint records, without stopping for a human, one JSON line to TOUR_OUT: which
# breakpoint, the host's wall clock (the clock the backend's --log-timestamps log uses, so the
# tool can merge all three), the thread, and gdb's own `bt` text, exactly as a developer sees it.
# TOUR_BREAKS: the functions, comma-separated ("function@caller": see TourBreakpoint). TOUR_TARGET: "run" (QEMU side) or a gdbstub address.
import json
import os
import time

import gdb

side = os.environ["TOUR_SIDE"]
out = open(os.environ["TOUR_OUT"], "a", buffering=1)


def record(kind, **fields):
    out.write(json.dumps(dict(kind=kind, side=side, t=time.time(), **fields)) + "\n")


class TourBreakpoint(gdb.Breakpoint):
    # "function@caller": record only hits with caller further out on the stack (tcp_chr_write
    # also carries QEMU's own gdbstub traffic: hundreds of hits that are not the path).
    def __init__(self, spec):
        function, _, self.caller = spec.partition("@")
        # Guest: hardware breakpoints (QEMU's gdbstub), nothing written into guest memory.
        kind = gdb.BP_HARDWARE_BREAKPOINT if side == "guest" else gdb.BP_BREAKPOINT
        super().__init__(function, type=kind)
        self.function = function

    def under_caller(self):
        frame = gdb.newest_frame()
        while frame is not None:
            if frame.name() == self.caller:
                return True
            frame = frame.older()
        return False

    def stop(self):
        if self.caller and not self.under_caller():
            return False
        thread = gdb.selected_thread()
        record("stop", bp=self.function, thread=thread.name if thread else None,
               bt=gdb.execute("bt 40", to_string=True))
        return False   # record and go on: the program never waits for a person


gdb.execute("set pagination off")
gdb.execute("set confirm off")
gdb.execute("set width 0")                  # one line per frame, however long
gdb.execute("set print frame-arguments scalars")
gdb.execute("set breakpoint pending off")   # a function that does not exist is an error, not a silent no-op
if side == "qemu":
    # QEMU's own signals (SIGUSR1 kicks vCPU threads; SIGPIPE from a closed socket) are not stops.
    for sig in ("SIGUSR1", "SIGUSR2", "SIGPIPE"):
        gdb.execute(f"handle {sig} nostop noprint pass")
    gdb.execute("set startup-with-shell off")
else:
    gdb.execute("set tcp connect-timeout 30")

if side == "guest":
    # Hardware breakpoints need the target: attach first (QEMU waits, halted by -S).
    gdb.execute("target remote " + os.environ["TOUR_TARGET"])
    record("attached")

for function in filter(None, os.environ["TOUR_BREAKS"].split(",")):
    try:
        TourBreakpoint(function)
    except gdb.error as e:
        record("error", bp=function, message=str(e))
        raise

try:
    if side == "qemu":
        gdb.execute("run")
        code = gdb.parse_and_eval("$_exitcode")
        record("exit", code=None if code.type.code == gdb.TYPE_CODE_VOID else int(code))
    else:
        gdb.execute("continue")
        record("exit", code=None)
except gdb.error as e:
    # The guest side ends when QEMU exits and closes its gdbstub ("Remote connection closed").
    record("exit", code=None, message=str(e))
