#!/bin/sh
# make tour GUEST=linux: Debian's debug symbols for the very kernel `make linux` boots.
#   tools/tour/linux-dbg.sh LINUX_DIR DIR
# LINUX_DIR (build/linux/<arch>) holds the linux-image .deb that `make linux` downloaded; its
# package name and version name the -dbg package (linux-image-<release>-dbg, same version: the
# same build). DIR (build/linux-dbg/<arch>) receives apt/ (a private package index: the host's
# apt configuration and lists are never touched, as for `make linux`) and <release>_<version>/
# with vmlinux, the virtio modules' .ko files (with DWARF) and gdb's index of vmlinux. Only those are extracted from the
# 283 MB package (1.75 GB unpacked), and the package is deleted afterwards. Cached: run once.
set -eu
linux=$1 dir=$2
deb=$(ls "$linux"/debs/linux-image-*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || { echo "linux-dbg: no linux-image .deb in $linux/debs: run \`make linux\` first"; exit 1; }
pkg=$(dpkg-deb -f "$deb" Package) version=$(dpkg-deb -f "$deb" Version) arch=$(dpkg-deb -f "$deb" Architecture)
release=${pkg#linux-image-}
out=$dir/${release}_$version
[ -e "$out/.done" ] && exit 0

echo "linux-dbg: fetching Debian's kernel symbols $pkg-dbg $version (283 MB download, once) into $out"
apt=$dir/apt
opts="-o Dir::State::Lists=$apt/lists -o Dir::Cache=$apt/cache
      -o APT::Architecture=$arch -o APT::Architectures::=$arch
      -o Debug::NoLocking=1 -o APT::Sandbox::User=root"
mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$dir/dl"
apt-get $opts -qq update || { echo "linux-dbg: apt-get update failed (the package index for $pkg-dbg could not be fetched; see above)"; exit 1; }
# The symbols must be those of the booted build: the -dbg package of exactly this version.
available=$(apt-cache $opts show "$pkg-dbg" 2>/dev/null | sed -n 's/^Version: //p')
if [ -z "$available" ]; then
  echo "linux-dbg: $pkg-dbg cannot be fetched: the package index has no version of it"
  echo "  (were Debian's indexes reachable? apt-get's warnings above say; sources: the host's own, index in $apt)"
  exit 1
fi
if ! echo "$available" | grep -qx "$version"; then
  echo "linux-dbg: the booted kernel is $pkg $version, but the package index has no $pkg-dbg $version"
  echo "  versions of $pkg-dbg available: ${available:-none}"
  echo "  (symbols of another build would not match this kernel: refusing; \`rm -rf $linux && make linux\` fetches the current kernel)"
  exit 1
fi
rm -f "$dir"/dl/*.deb
(cd "$dir/dl" && apt-get $opts -q download "$pkg-dbg=$version") ||
  { echo "linux-dbg: could not download $pkg-dbg $version (283 MB; see apt-get's message above)"; exit 1; }
rm -rf "$out" && mkdir -p "$out"
# Only vmlinux and the virtio modules (the stream is still read through once).
dpkg-deb --fsys-tarfile "$dir"/dl/"$pkg"-dbg_*.deb | tar -x -C "$out" --wildcards \
  "./usr/lib/debug/boot/vmlinux-$release" \
  "./usr/lib/debug/lib/modules/$release/kernel/drivers/virtio/*.ko" \
  "./usr/lib/debug/lib/modules/$release/kernel/drivers/char/hw_random/virtio-rng.ko"
mv "$out/usr/lib/debug/boot/vmlinux-$release" "$out/vmlinux"
mkdir -p "$out/modules"
find "$out/usr" -name '*.ko' -exec mv {} "$out/modules/" \;
rm -rf "$out/usr" "$dir"/dl/*.deb
# gdb indexes vmlinux's DWARF once (8-25 s, 0.6-1.9 GB) into gdb-index/; every tour then loads it in ~1.5 s.
gdb -batch -nx -iex "set index-cache directory $out/gdb-index" -iex "set index-cache enabled on" "$out/vmlinux" >/dev/null
echo "$pkg $version" > "$out/package"
touch "$out/.done"
