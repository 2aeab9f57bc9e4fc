# The gdb side of `make tour` (tools/tour), loaded by both debuggers of one tour:
#   TOUR_SIDE=qemu : gdb on the debug QEMU itself (the host process), started with --args
#   TOUR_SIDE=guest: gdb-multiarch on the kernel ELF, attached to that QEMU's gdbstub
# Every breakpoint records, without stopping for a human, one JSON line to TOUR_OUT: which
# breakpoint, the host's wall clock (the clock the backend's --log-timestamps log uses, so the
# tool can merge all three), the thread, and gdb's own `bt` text, exactly as a developer sees it.
# TOUR_BREAKS: the functions, comma-separated ("function@caller": see TourBreakpoint). TOUR_TARGET: "run" (QEMU side) or a gdbstub address.
# TOUR_LINUX_MODULES (guest side, a Linux guest): "name=file.ko,..." - see LinuxModules below.
import json
import os
import time

import gdb

side = os.environ["TOUR_SIDE"]
out = open(os.environ["TOUR_OUT"], "a", buffering=1)


def record(kind, **fields):
    out.write(json.dumps(dict(kind=kind, side=side, t=time.time(), **fields)) + "\n")


# After a stop that returned True, these run (outside any stop(), where gdb allows changing breakpoints).
after_stop = []


class TourBreakpoint(gdb.Breakpoint):
    # "function@caller": record only hits with caller further out on the stack (tcp_chr_write
    # also carries QEMU's own gdbstub traffic: hundreds of hits that are not the path).
    # "function>other": each recorded hit enables breakpoint `other` for its next recorded hit only.
    # For a hot function (a guest's 32-bit MMIO store also writes the UART's every character,
    # and every guest stop pauses the VM), enabled that way by the status write it stores.
    def __init__(self, spec):
        spec, _, self.enables = spec.partition(">")
        function, _, self.caller = spec.partition("@")
        # Guest: hardware breakpoints (QEMU's gdbstub), nothing written into guest memory.
        kind = gdb.BP_HARDWARE_BREAKPOINT if side == "guest" else gdb.BP_BREAKPOINT
        super().__init__(function, type=kind)
        self.function = function
        self.once = False

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
        if self.enables:
            after_stop.append(lambda: set_enabled(self.enables, True))
        if self.once:
            after_stop.append(lambda: set_enabled(self.function, False))
        return bool(self.enables or self.once)   # otherwise record and go on: the program never waits for a person


def set_enabled(function, enabled):
    for bp in gdb.breakpoints():
        if isinstance(bp, TourBreakpoint) and bp.function == function:
            bp.enabled = enabled


gdb.execute("set pagination off")
gdb.execute("set confirm off")
gdb.execute("set width 0")                  # one line per frame, however long
gdb.execute("set print frame-arguments scalars")
gdb.execute("set breakpoint pending off")   # a function that does not exist is an error, not a silent no-op
if side == "qemu":
    # QEMU's own signals (SIGUSR1 kicks vCPU threads; SIGPIPE from a closed socket) are not stops.
    for sig in ("SIGUSR1", "SIGUSR2", "SIGPIPE"):
        gdb.execute(f"handle {sig} nostop noprint pass")
    # Without a shell gdb splits QEMU's arguments at every space, escaped or not: only an argument
    # with spaces (a Linux guest's -append) needs the shell to arrive in one piece.
    gdb.execute("set startup-with-shell " + ("on" if "\\ " in gdb.execute("show args", to_string=True) else "off"))
else:
    gdb.execute("set tcp connect-timeout 30")

if side == "guest" and os.environ.get("TOUR_LINUX_MODULES"):
    # The build the symbols describe, read from vmlinux's file before the target is attached.
    # (As a pointer: the array's declared type has no length, and .string() of it is "".)
    linux_banner = gdb.parse_and_eval("(const char *)linux_banner").string()
    if not linux_banner.startswith("Linux version "):
        raise gdb.GdbError(f"vmlinux's linux_banner reads {linux_banner!r}: not a Linux kernel's symbols")

if side == "guest":
    # Hardware breakpoints need the target: attach first (QEMU waits, halted by -S).
    gdb.execute("target remote " + os.environ["TOUR_TARGET"])
    record("attached")


class LinuxModules(gdb.Breakpoint):
    """
    A Linux guest's virtio drivers are modules: their symbols are not in vmlinux. do_init_module
    (kernel/module/main.c) runs once a module is in memory, before its init: there the module's
    .ko (with DWARF, from Debian's -dbg package) is added at the addresses it was loaded to (6.1:
    .text starts at mod->core_layout.base, .init.text at mod->init_layout.base; the guest boots
    with nokaslr, so vmlinux's own addresses hold). Breakpoints on functions of modules not yet
    loaded stay pending; gdb places them when their module's symbols are added.
    """
    def __init__(self, files):
        super().__init__("do_init_module", type=gdb.BP_HARDWARE_BREAKPOINT)
        self.files = files
        self.loaded = None
        self.banner_checked = False

    def stop(self):
        mod = gdb.parse_and_eval("mod")
        self.loaded = (mod["name"].string(), int(mod["core_layout"]["base"]), int(mod["init_layout"]["base"]))
        return True   # the symbols are added after the stop (not from inside a breakpoint's stop())

    def check_banner(self):
        # The same build: the running kernel's linux_banner, at vmlinux's address, says what vmlinux's does.
        if self.banner_checked:
            return True
        self.banner_checked = True
        address = int(gdb.parse_and_eval("&linux_banner"))
        booted = bytes(gdb.selected_inferior().read_memory(address, len(linux_banner))).decode("ascii", "replace")
        if booted != linux_banner:
            record("error", bp="linux_banner", message=f"the symbols are for {linux_banner.strip()!r} but the booted kernel has {booted.strip()!r} at that address (another build, or KASLR on: boot with nokaslr)")
            gdb.execute("kill")   # QEMU's gdbstub ends QEMU: nothing is left waiting
            return False
        return True

    def add_loaded(self):
        name, text, init = self.loaded
        self.loaded = None
        if not self.check_banner():
            return
        ko = self.files.get(name)
        record("module", name=name, text=hex(text), symbols=ko)
        if ko:
            gdb.execute(f"add-symbol-file {ko} -s .text {text:#x} -s .init.text {init:#x}", to_string=True)
            arm_pending()


pending = []


def arm(spec):
    # gdb's Python API makes a breakpoint on an unknown function pending, whatever `breakpoint pending` says.
    try:
        bp = TourBreakpoint(spec)
    except gdb.error as e:
        bp = None
        message = str(e)
    if bp is not None and not bp.pending:
        record("armed", bp=spec)
    elif linux is not None and bp is not None:
        pending.append((spec, bp))   # a module's function: placed once that module's symbols are added
    else:
        message = message if bp is None else f"no function {bp.function} in the guest's symbols"
        record("error", bp=spec, message=message)
        raise gdb.GdbError(message)


def arm_pending():
    for spec, bp in list(pending):
        if not bp.pending:
            record("armed", bp=spec)
            pending.remove((spec, bp))


linux = None
if side == "guest" and os.environ.get("TOUR_LINUX_MODULES"):
    linux = LinuxModules(dict(kv.split("=", 1) for kv in os.environ["TOUR_LINUX_MODULES"].split(",")))

for function in filter(None, os.environ["TOUR_BREAKS"].split(",")):
    arm(function)
# Breakpoints that another one enables wait, disabled, for it; each of their recorded hits disables them again.
for bp in [b for b in gdb.breakpoints() if isinstance(b, TourBreakpoint) and b.enables]:
    for target in [b for b in gdb.breakpoints() if isinstance(b, TourBreakpoint) and b.function == bp.enables]:
        target.once, target.enabled = True, False

try:
    if side == "qemu":
        gdb.execute("run")
        code = gdb.parse_and_eval("$_exitcode")
        record("exit", code=None if code.type.code == gdb.TYPE_CODE_VOID else int(code))
    else:
        gdb.execute("continue")
        while after_stop or (linux is not None and linux.loaded is not None):
            if linux is not None and linux.loaded is not None:
                linux.add_loaded()
            for action in after_stop:
                action()
            after_stop.clear()
            gdb.execute("continue")
        record("exit", code=None)
except gdb.error as e:
    # The guest side ends when QEMU exits and closes its gdbstub ("Remote connection closed").
    record("exit", code=None, message=str(e))
