# GuestOS build. `make run` and `make test` are all a fresh Debian 12 machine needs.
#
#   C# (kernel/ + drivers/) --csc--> IL (build/<arch>/kernel.dll)
#        --ilc (NativeAOT, from NuGet)--> native object (kernel.o)
#   boot/<arch>/*.S --clang--> objects;  everything --ld.lld + linker.ld--> kernel.elf
#
# ARCH=x86_64|aarch64  MACHINE=q35|pc|microvm|virt  APPEND="..."  QEMU_EXTRA="..."  RNG=builtin|vhost-user|none
# TRANSPORT=pci|pci-legacy|mmio|mmio-legacy  RNG_PROPS="..."
# GIC=2|3 (aarch64)

ARCH    ?= x86_64
ifeq ($(ARCH),x86_64)
MACHINE ?= q35
ILC_ARCH    := x64
CLANG_TARGET:= x86_64-unknown-none
KERNEL_BASE := 0x100000
QEMU        := qemu-system-x86_64
else ifeq ($(ARCH),aarch64)
MACHINE ?= virt
ILC_ARCH    := arm64
CLANG_TARGET:= aarch64-unknown-none
KERNEL_BASE := 0x40200000
QEMU        := qemu-system-aarch64
else
$(error ARCH must be x86_64 or aarch64, not '$(ARCH)')
endif

BUILD   := build/$(ARCH)
KERNEL  := $(BUILD)/kernel.elf

# The SDK's own C# compiler, run directly: about 1 s, no MSBuild.
DOTNET_SDK  := $(shell dotnet --list-sdks 2>/dev/null | tail -1 | sed -E 's/^([^ ]+) \[(.*)\]$$/\2\/\1/')
CSC         := dotnet $(DOTNET_SDK)/Roslyn/bincore/csc.dll
# NativeAOT's compiler, restored from NuGet on first use (tools/ilc/ilc.proj pins the version).
NUGET_PACKAGES ?= $(HOME)/.nuget/packages
ILC_VERSION := $(shell sed -n 's/.*Version="\[\(.*\)\]".*/\1/p' tools/ilc/ilc.proj)
ILC         := $(NUGET_PACKAGES)/runtime.linux-x64.microsoft.dotnet.ilcompiler/$(ILC_VERSION)/tools/ilc

KERNEL_CS := $(shell find kernel drivers -name '*.cs' -not -path 'kernel/arch/*' | sort) \
             $(sort $(wildcard kernel/arch/$(ARCH)/*.cs))
BOOT_S    := $(sort $(wildcard boot/$(ARCH)/*.S))
BOOT_O    := $(patsubst boot/$(ARCH)/%.S,$(BUILD)/boot/%.o,$(BOOT_S))

DEBIAN_PACKAGES := qemu-system-x86 qemu-system-arm clang lld llvm gdb-multiarch
DEBIAN_COMMANDS := qemu-system-x86_64 qemu-system-aarch64 clang ld.lld llvm-size gdb-multiarch

.PHONY: all kernel kernels run test bench debug deps clean tools check-accessors
all: kernel $(BACKEND)

kernel: $(KERNEL)

# Both architectures' kernels (tests boot each).
kernels:
	$(MAKE) ARCH=x86_64 kernel
	$(MAKE) ARCH=aarch64 kernel

# --- Debian packages: installed when root, otherwise the exact command is printed ---------
deps: $(BUILD)/.deps
# $(call apt-install,COMMANDS,PACKAGES): if a command is missing, install the packages when root,
# otherwise print the exact apt-get line and fail.
apt-install = missing=""; for c in $(1); do command -v $$c >/dev/null || missing="$$missing $$c"; done; \
	if [ -n "$$missing" ]; then \
	  echo "missing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2); \
	  else \
	    echo "run: sudo apt-get install -y $(2)"; exit 1; \
	  fi; \
	fi

$(BUILD)/.deps:
	@$(call apt-install,$(DEBIAN_COMMANDS),$(DEBIAN_PACKAGES))
	@command -v dotnet >/dev/null || { echo "the .NET SDK 10 (dotnet) is required"; exit 1; }
	@mkdir -p $(@D) && touch $@

$(ILC):
	dotnet restore tools/ilc/ilc.proj --packages $(NUGET_PACKAGES) -v quiet

# --- The kernel ------------------------------------------------------------------------
$(BUILD)/kernel.dll: $(KERNEL_CS) | $(BUILD)/.deps
	@mkdir -p $(@D)
	$(CSC) -nologo -nostdlib -noconfig -unsafe -optimize+ -debug:portable -deterministic \
	  -langversion:latest -runtimemetadataversion:v4.0.30319 -t:library -nowarn:CS0649,CS0169,CS8500 \
	  -out:$@ $(KERNEL_CS)

$(BUILD)/kernel.o: $(BUILD)/kernel.dll | $(ILC)
	$(ILC) $< -o $@ --systemmodule:kernel --targetos:linux --targetarch:$(ILC_ARCH) \
	  --nativelib --Os -g --map:$(BUILD)/kernel.map.xml --parallelism:2

$(BUILD)/boot/%.o: boot/$(ARCH)/%.S | $(BUILD)/.deps
	@mkdir -p $(@D)
	clang --target=$(CLANG_TARGET) -g -c $< -o $@

# The entropy copy's loops must not cross a page under TCG (tools/link/hot-code-pad.sh): link,
# ask for the padding that keeps them inside one, and link again with it when it is not 0.
HOT_CODE := kernel_GuestOS_Drivers_Mem__forward kernel_GuestOS_Drivers_Mem__backward
LINK_KERNEL = ld.lld -static -nostdlib -z max-page-size=4096 -z norelro --no-rosegment \
	  --defsym=KERNEL_BASE=$(KERNEL_BASE) -T linker.ld -Map=$(BUILD)/kernel.map -o $@ $(BOOT_O) $(BUILD)/kernel.o
$(KERNEL): $(BUILD)/kernel.o $(BOOT_O) linker.ld tools/link/hot-code-pad.sh
	$(LINK_KERNEL) --defsym=HOT_CODE_PAD=0
	@pad=$$(llvm-nm -S $@ | sh tools/link/hot-code-pad.sh $(HOT_CODE)) || { rm -f $@; exit 1; }; \
	if [ "$$pad" -ne 0 ]; then \
	  echo "$(ARCH) kernel: linked again with $$pad bytes before the managed code, so that the copy loops stay inside a page"; \
	  $(LINK_KERNEL) --defsym=HOT_CODE_PAD=$$pad; fi
	@literals=$$(grep -o '<FieldRvaData [^>]*Length="[0-9]*"' $(BUILD)/kernel.map.xml | sed 's/.*Length="//; s/"//' | awk '{ n += $$1 } END { print n + 0 }'); \
	llvm-size $@ | awk -v lit=$$literals 'NR==2 { printf "$(ARCH) kernel: %d bytes loaded (text %d, including %d of u8 literals, + data %d), bss %d\n", $$1+$$2, $$1, lit, $$2, $$3 }'

# --- Host tools: the QEMU runner and the accessor checker -------------------------------
RUNNER := build/tools/runner/guestos-run.dll
ACCESSOR_CHECK := build/tools/accessor-check/accessor-check.dll
TOOLS_SRC := drivers/narration/Step.cs $(shell find tools/runner tools/accessor-check -name '*.cs' -o -name '*.csproj' | grep -v /obj/ | grep -v /bin/)

$(RUNNER): $(TOOLS_SRC) | $(BUILD)/.deps
	dotnet build tools/runner/GuestOS.Runner.Cli.csproj -c Release -o $(@D) -v quiet -nologo
$(ACCESSOR_CHECK): $(TOOLS_SRC) | $(BUILD)/.deps
	dotnet build tools/accessor-check/AccessorCheck.csproj -c Release -o $(@D) -v quiet -nologo
tools: $(RUNNER) $(ACCESSOR_CHECK)

# RNG=builtin: QEMU's virtio-rng fed by /dev/urandom; RNG=vhost-user: our C# backend
# (tools/vhost-user-rng) serving a vhost-user-rng device; RNG=none: no device at all.
# TRANSPORT: how the device is attached - pci (virtio-pci modern; q35, pc, virt), pci-legacy
# (the same function with disable-modern=on: the legacy I/O BAR), mmio (virtio-mmio version 2)
# or mmio-legacy (version 1, QEMU's default for virtio-mmio; microvm's default, it has no PCI).
# RNG_PROPS: more device properties, e.g. vectors=0 (no MSI-X: INTx).
RNG ?= builtin
comma := ,
TRANSPORT ?= $(if $(filter microvm%,$(MACHINE)),mmio-legacy,pci)
ifeq ($(filter $(TRANSPORT),pci pci-legacy mmio mmio-legacy),)
$(error TRANSPORT must be pci, pci-legacy, mmio or mmio-legacy, not '$(TRANSPORT)')
endif
RNG_DEVICE_pci         := virtio-rng-pci
RNG_DEVICE_pci-legacy  := virtio-rng-pci,disable-modern=on
RNG_DEVICE_mmio        := virtio-rng-device
RNG_DEVICE_mmio-legacy := virtio-rng-device
TRANSPORT_QEMU_mmio    := -global virtio-mmio.force-legacy=false
RNG_ARGS_builtin := --qemu-extra "-object rng-random,id=rng0,filename=/dev/urandom $(TRANSPORT_QEMU_$(TRANSPORT))" \
                    --device $(RNG_DEVICE_$(TRANSPORT)),rng=rng0$(if $(RNG_PROPS),$(comma)$(RNG_PROPS))
RNG_ARGS_vhost-user = --vhost-user-rng $(BACKEND) $(if $(filter mmio%,$(TRANSPORT)),--vhost-user-mmio \
                      $(if $(TRANSPORT_QEMU_$(TRANSPORT)),--qemu-extra "$(TRANSPORT_QEMU_$(TRANSPORT))"))
RNG_ARGS_none :=
RNG_DEPS_vhost-user = $(BACKEND)
RUN_ARGS = --arch $(ARCH) --machine $(MACHINE) --kernel $(KERNEL) --append "$(APPEND)" \
           $(RNG_ARGS_$(RNG)) $(if $(QEMU_EXTRA),--qemu-extra "$(QEMU_EXTRA)") $(if $(GIC),--gic $(GIC))

# The vhost-user backend, published as a NativeAOT executable.
BACKEND := build/vhost-user-rng/vhost-user-rng
BACKEND_SRC := $(shell find tools/vhost-user-rng -name '*.cs' -o -name '*.csproj' | grep -v /obj/ | grep -v /bin/)
$(BACKEND): $(BACKEND_SRC) | $(BUILD)/.deps
	dotnet publish tools/vhost-user-rng/VhostUserRng.csproj -c Release -r linux-x64 -o $(@D) -v quiet -nologo

# Boot the kernel and stream its console with host timestamps; pass or fail like a test.
run: $(KERNEL) $(RUNNER) $(RNG_DEPS_$(RNG))
	dotnet $(RUNNER) $(RUN_ARGS)

# QEMU halted with its gdbstub; gdb loads the symbols (C# source lines included), attaches and
# runs to BREAK, a C# method (kernel_<Namespace>_<Type>__<Method>). The gdb session is
# tools/runner/debug.gdb, which tests/Tools.Tests/Runner/DebugTests runs in batch mode.
BREAK ?= kernel_entry
debug: $(KERNEL) $(RUNNER)
	dotnet $(RUNNER) $(RUN_ARGS) --gdb & runner=$$!; \
	gdb-multiarch -q -x tools/runner/debug.gdb -ex "guestos-attach localhost:1234 $(BREAK)" $(KERNEL); \
	kill $$runner 2>/dev/null; wait $$runner || true

# Every register accessor in both linked kernels is exactly one access of its width
# (x86_64 decoded with Iced, aarch64 with llvm-objdump; arm64's port accessors must panic).
check-accessors: $(ACCESSOR_CHECK)
	$(MAKE) kernels
	dotnet $(ACCESSOR_CHECK) build/x86_64/kernel.elf
	dotnet $(ACCESSOR_CHECK) build/aarch64/kernel.elf

# Everything: both kernels, the accessor check, and every xunit project (QEMU boots included).
test: kernels check-accessors $(BACKEND)
	VHOST_USER_RNG=$(CURDIR)/$(BACKEND) dotnet test GuestOS.sln -c Release --nologo -v quiet

# --- Benchmarks (ratios measured side by side in one run; BenchmarkDotNet for the backend's own) ---
$(BUILD)/baseline.elf: tools/bench/baseline/$(ARCH).S linker.ld | $(BUILD)/.deps
	clang --target=$(CLANG_TARGET) -c $< -o $(BUILD)/baseline.o
	ld.lld -static -nostdlib -z max-page-size=4096 --defsym=KERNEL_BASE=$(KERNEL_BASE) -T linker.ld -o $@ $(BUILD)/baseline.o

BENCH_RUNS ?= 3
# Boots for the kernel-entry-to-DRIVER_OK breakdown (a few seconds each).
BOOT_BENCH_RUNS ?= 9
# Three guests on one backend, two, then two and a hostile one: 20 s per phase, or MANY_GUESTS_MINUTES
# in all (the 10-minute version: make bench MANY_GUESTS_MINUTES=10).
MANY_GUESTS_MINUTES ?=
bench: kernels $(BACKEND) linux-kernels
	$(MAKE) ARCH=x86_64 build/x86_64/baseline.elf
	$(MAKE) ARCH=aarch64 build/aarch64/baseline.elf
	dotnet run -c Release --project tools/bench -- guest-rng $(BENCH_RUNS)
	dotnet run -c Release --project tools/bench -- guest-boot $(BOOT_BENCH_RUNS)
	dotnet run -c Release --project tools/bench -- many-guests $(if $(MANY_GUESTS_MINUTES),--minutes $(MANY_GUESTS_MINUTES))
	dotnet run -c Release --project tools/vhost-user-rng.Benchmarks/VhostUserRng.Benchmarks.csproj -- --filter '*' --artifacts build/bench

clean:
	rm -rf build

# --- Linux beside GuestOS: make compare, make trace (tools/compare) ----------------------
# `make linux` fetches Debian 12's Linux 6.1 cloud kernel and busybox-static for ARCH with
# apt-get download, using a private package index under build/linux/<arch>/apt (so the host's
# dpkg architectures and apt state are left alone, and arm64 works on an amd64 host), and
# unpacks them with dpkg-deb -x. Cached: delete build/linux to fetch again.
DEB_ARCH_x86_64  := amd64
DEB_ARCH_aarch64 := arm64
DEB_ARCH   := $(DEB_ARCH_$(ARCH))
LINUX_DIR  := build/linux/$(ARCH)
LINUX_APT  := $(CURDIR)/$(LINUX_DIR)/apt
LINUX_APT_OPTS := -o Dir::State::Lists=$(LINUX_APT)/lists -o Dir::Cache=$(LINUX_APT)/cache \
                  -o APT::Architecture=$(DEB_ARCH) -o APT::Architectures::=$(DEB_ARCH) \
                  -o Debug::NoLocking=1 -o APT::Sandbox::User=root
COMPARE    := build/tools/compare/guestos-compare.dll
COMPARE_SRC := drivers/narration/Step.cs $(shell find tools/compare tools/runner/lib -name '*.cs' -o -name '*.csproj' | grep -v /obj/ | grep -v /bin/)
# make trace defaults to the vhost-user backend (its log is one of the three layers).
TRACE_RNG  := $(if $(filter command line environment,$(origin RNG)),$(RNG),vhost-user)

.PHONY: linux linux-kernels compare trace
linux: $(LINUX_DIR)/.unpacked
$(LINUX_DIR)/.unpacked: | $(BUILD)/.deps
	rm -rf $(LINUX_DIR)/root $(LINUX_DIR)/busybox $(LINUX_DIR)/debs
	mkdir -p $(LINUX_APT)/lists/partial $(LINUX_APT)/cache/archives/partial $(LINUX_DIR)/debs
	apt-get $(LINUX_APT_OPTS) -qq update
	cd $(LINUX_DIR)/debs && \
	  pkg=$$(apt-cache $(LINUX_APT_OPTS) depends linux-image-cloud-$(DEB_ARCH) | sed -n 's/.*Depends: \(linux-image-6\.1[^ ]*\)/\1/p' | head -1) && \
	  test -n "$$pkg" || { echo "no linux-image-6.1 for $(DEB_ARCH) in the package index"; exit 1; }; \
	  apt-get $(LINUX_APT_OPTS) -q download $$pkg busybox-static
	dpkg-deb -x $(LINUX_DIR)/debs/linux-image-*.deb $(LINUX_DIR)/root
	dpkg-deb -x $(LINUX_DIR)/debs/busybox-static_*.deb $(LINUX_DIR)/busybox
	@touch $@

# Both architectures' Linux (tests/Compare.Tests boots each).
linux-kernels:
	$(MAKE) ARCH=x86_64 linux
	$(MAKE) ARCH=aarch64 linux

$(COMPARE): $(COMPARE_SRC) | $(BUILD)/.deps
	dotnet build tools/compare/GuestOS.Compare.Cli.csproj -c Release -o $(@D) -v quiet -nologo

# Linux and GuestOS on the same QEMU command line and device: bring-up side by side, rules, metrics.
# GUEST="QEMU ARGS" puts any guest beside Linux instead of GuestOS (read from the environment,
# where make puts command-line variables, so its quotes reach the tool intact).
# TRANSPORT=mmio (compare, trace): the guests on virt's virtio-mmio (version 2) with QEMU's virtio-rng-device.
MMIO_RNG    = $(if $(filter aarch64,$(ARCH)),builtin-mmio,$(error make compare/trace TRANSPORT=mmio is for ARCH=aarch64 (virt)))
COMPARE_RNG = $(if $(filter mmio,$(TRANSPORT)),$(MMIO_RNG),$(RNG))
compare: $(KERNEL) $(COMPARE) linux $(RNG_DEPS_$(RNG))
	dotnet $(COMPARE) compare --arch $(ARCH) --rng $(COMPARE_RNG) --kernel $(KERNEL) --linux $(LINUX_DIR) --backend $(BACKEND) --append "$(APPEND)" \
	  $(if $(filter-out guestos,$(GUEST)),--guest-args "$$GUEST")

# Any guest's virtio driver against the virtio 1.2 rules the device side can observe (tools/compare/README.md):
# make check-guest GUEST="QEMU ARGS" [DEVICE=virtio-rng-pci|vhost-user-rng-pci|virtio-rng-device] [ARCH=...]
#   [TIME_LIMIT=60] [IDLE=5]. Exit 1 on a MUST violation, 2 if QEMU refused GUEST, 3 if the device was never reset.
# The HTML reports' test renders them in Debian's headless chromium (tests/Compare.Tests/HtmlReportTests.cs).
.PHONY: browser-deps
browser-deps:
	@$(call apt-install,chromium,chromium)

DEVICE     ?= virtio-rng-pci
TIME_LIMIT ?= 60
IDLE       ?= 5
.PHONY: check-guest
check-guest: $(COMPARE) $(if $(filter vhost-user%,$(DEVICE)),$(BACKEND))
	dotnet $(COMPARE) check-guest --arch $(ARCH) --device $(DEVICE) --backend $(BACKEND) --time-limit $(TIME_LIMIT) --idle $(IDLE) --guest-args "$$GUEST"

# One device start and one request across guest, QEMU and backend (GUEST=linux for Linux's side).
GUEST ?= guestos
trace: $(KERNEL) $(COMPARE) $(BACKEND) $(if $(filter linux,$(GUEST)),linux)
	dotnet $(COMPARE) trace --arch $(ARCH) --rng $(if $(filter mmio,$(TRANSPORT)),$(MMIO_RNG),$(TRACE_RNG)) --guest $(GUEST) --kernel $(KERNEL) --linux $(LINUX_DIR) --backend $(BACKEND) --append "$(APPEND)"

test: linux-kernels browser-deps

# --- Fuzzing: SharpFuzz + AFL++ on the backend's hostile-input code (tools/fuzz/README.md) --
# build/fuzz/bin is the plain build (writes the seeds, replays a finding); build/fuzz/afl is the
# same with only vhost-user-rng.dll, the code under test, instrumented (never Main's assembly).
FUZZ_TARGETS := protocol memory-table split-ring session
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 20
SHARPFUZZ := build/tools/sharpfuzz/sharpfuzz
FUZZ_BIN  := build/fuzz/bin/VhostUserRng.Fuzz.dll
FUZZ_AFL  := build/fuzz/afl/VhostUserRng.Fuzz.dll
FUZZ_SRC  := $(BACKEND_SRC) $(shell find tools/fuzz -name '*.cs' -o -name '*.csproj' | grep -v /obj/ | grep -v /bin/)

.PHONY: fuzz fuzz-smoke fuzz-deps
fuzz-deps:
	@$(call apt-install,afl-fuzz,afl++)

$(SHARPFUZZ):
	dotnet tool install --tool-path $(@D) SharpFuzz.CommandLine --version 2.3.0

$(FUZZ_BIN): $(FUZZ_SRC) | $(BUILD)/.deps
	dotnet build tools/fuzz/VhostUserRng.Fuzz.csproj -c Release -o $(@D) -v quiet -nologo
	@touch $@

$(FUZZ_AFL): $(FUZZ_BIN) | $(SHARPFUZZ)
	rm -rf $(@D) && cp -r $(<D) $(@D)
	$(SHARPFUZZ) $(@D)/vhost-user-rng.dll

# Every target for FUZZ_SECONDS each from the checked-in corpus: executions, rate, crashes, hangs.
fuzz: fuzz-deps $(FUZZ_AFL)
	tools/fuzz/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_AFL) build/fuzz/findings tools/fuzz/corpus $(FUZZ_TARGETS)

# The same, briefly (FUZZ_SMOKE_SECONDS each), as part of make test: fails on any crash or hang.
fuzz-smoke: fuzz-deps $(FUZZ_AFL)
	tools/fuzz/fuzz.sh $(FUZZ_SMOKE_SECONDS) $(FUZZ_AFL) build/fuzz/smoke tools/fuzz/corpus $(FUZZ_TARGETS)

test: fuzz-smoke

# --- QEMU with symbols and gdb on it: make qemu-debug, make tour (tools/tour) ------------------
# qemu-debug: the installed QEMU's exact Debian source (private apt index), Debian's patches,
# both system targets with debug info; cached per installed version, rebuilt when it changes.
# (QEMU_DEBUG_NEEDS is expanded only in the recipe: other targets do not run pkg-config.)
QEMU_SRC_VERSION := $(shell dpkg-query -W -f='$${source:Version}' qemu-system-x86 2>/dev/null)
QEMU_DEBUG_DIR   := build/qemu-debug/$(subst :,_,$(QEMU_SRC_VERSION))
QEMU_DEBUG_BUILD_DEPS := meson ninja-build libglib2.0-dev libpixman-1-dev libfdt-dev zlib1g-dev \
                         python3-venv pkg-config flex bison dpkg-dev seabios
QEMU_DEBUG_NEEDS = meson ninja flex bison dpkg-source pkg-config \
  $(shell for l in glib-2.0 pixman-1 libfdt zlib; do pkg-config --exists $$l 2>/dev/null || echo pkg-config:$$l; done)

.PHONY: qemu-debug tour
qemu-debug: $(QEMU_DEBUG_DIR)/.built
$(QEMU_DEBUG_DIR)/.built: | $(BUILD)/.deps
	@test -n "$(QEMU_SRC_VERSION)" || { echo "qemu-debug: qemu-system-x86 is not installed (dpkg-query)"; exit 1; }
	@$(call apt-install,$(QEMU_DEBUG_NEEDS),$(QEMU_DEBUG_BUILD_DEPS))
	tools/tour/qemu-debug.sh '$(QEMU_SRC_VERSION)' $(CURDIR)/$(QEMU_DEBUG_DIR)

# tour: boot GuestOS under the debug QEMU inside gdb, the guest through QEMU's gdbstub, and print
# the virtio-rng path as real backtraces (build/tour/<arch>-<rng>/tour.{md,html}). RNG defaults
# to vhost-user, as for make trace; GIC=2|3 on aarch64. GUEST=linux (x86_64): Debian's Linux 6.1 of
# `make linux` instead, its frames from Debian's -dbg symbols of that exact build (linux-dbg).
# TRANSPORT=mmio (aarch64): QEMU's virtio-rng-device on virt's virtio-mmio (version 2), as make trace.
TOUR     := build/tools/tour/guestos-tour.dll
TOUR_SRC := drivers/narration/Step.cs tools/tour/tour.py \
            $(shell find tools/tour tools/compare/lib tools/runner/lib -name '*.cs' -o -name '*.csproj' | grep -v /obj/ | grep -v /bin/)
$(TOUR): $(TOUR_SRC) | $(BUILD)/.deps
	dotnet build tools/tour/GuestOS.Tour.Cli.csproj -c Release -o $(@D) -v quiet -nologo
tour: $(if $(filter linux,$(GUEST)),$(if $(filter x86_64,$(ARCH)),linux-dbg,tour-linux-arch),$(KERNEL)) qemu-debug $(TOUR) $(BACKEND)
	dotnet $(TOUR) --arch $(ARCH) --rng $(if $(filter mmio,$(TRANSPORT)),$(MMIO_RNG),$(TRACE_RNG)) --guest $(GUEST) \
	  $(if $(filter linux,$(GUEST)),--linux $(LINUX_DIR) --linux-symbols $(LINUX_DBG_DIR),--kernel $(KERNEL)) \
	  --qemu-build $(QEMU_DEBUG_DIR)/src/build --backend $(BACKEND) $(if $(GIC),--gic $(GIC))

# linux-dbg: Debian's debug symbols of the kernel `make linux` fetched (linux-image-<release>-dbg, the
# same version; 283 MB, fetched once, only when a Linux tour asks): vmlinux and the virtio modules.
LINUX_DBG_DIR := build/linux-dbg/$(ARCH)
.PHONY: linux-dbg tour-linux-arch
linux-dbg: linux
	@tools/tour/linux-dbg.sh $(LINUX_DIR) $(LINUX_DBG_DIR)
# (before anything is fetched for a tour that would be refused)
tour-linux-arch:
	@echo "make tour GUEST=linux runs on ARCH=x86_64 (q35) only so far, not $(ARCH)"; exit 1

# The tour end to end (tests/Tour.Tests, not in GuestOS.sln): aarch64 + vhost-user, x86_64 +
# built-in device, aarch64 virtio-mmio, and Linux on x86_64 with both devices (Linux's -dbg symbols
# fetched once) under the debug QEMU, make trace's labels checked against the stacks seen. Part
# of make test: the first run builds the debug QEMU (5-10 minutes, once), later ones take ~30 s.
.PHONY: tour-test
tour-test: qemu-debug kernels $(BACKEND)
	$(MAKE) ARCH=x86_64 linux-dbg
	TOUR_QEMU_BUILD=$(CURDIR)/$(QEMU_DEBUG_DIR)/src/build VHOST_USER_RNG=$(CURDIR)/$(BACKEND) \
	  dotnet test tests/Tour.Tests -c Release --nologo -v quiet
test: tour-test
