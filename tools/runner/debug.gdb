# The gdb side of `make debug`, shared with tests/Tools.Tests/Runner/DebugTests, which runs the
# same session in batch mode. gdb-multiarch loads the kernel ELF first (its DWARF has C# line
# tables from ilc -g), then this file.
set pagination off
set confirm off
# The runner's --gdb QEMU may not be listening yet: gdb retries a refused TCP connection
# (tcp auto-retry is on by default) for this many seconds instead of failing.
set tcp connect-timeout 30

# guestos-attach TARGET METHOD: attach to the halted QEMU (TARGET: localhost:1234 or a Unix
# socket path), run to METHOD and stop there. METHOD is a symbol such as kernel_entry or
# kernel_GuestOS_Kernel_KernelMain__Run; a hardware breakpoint, because nothing needs to be
# written into guest memory that the kernel has not set up yet.
define guestos-attach
  target remote $arg0
  hbreak $arg1
  continue
end
document guestos-attach
guestos-attach TARGET METHOD: attach to the runner's --gdb QEMU and run to METHOD (a C# method symbol).
end
