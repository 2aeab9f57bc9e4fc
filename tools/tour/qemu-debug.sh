#!/bin/sh
# make qemu-debug: the installed QEMU's exact Debian source, built with debug info.
#   tools/tour/qemu-debug.sh SOURCE_VERSION DIR
# SOURCE_VERSION is the installed binary's source version (dpkg-query ${source:Version}, e.g.
# 1:7.2+dfsg-7+deb12u18); DIR (build/qemu-debug/<version>) receives apt/ (a private package
# index: the host's apt configuration and lists are never touched), src/ (dpkg-source -x, so
# Debian's patches are applied: the source lines are those of the binary `make run` uses) and
# src/build/qemu-system-{x86_64,aarch64}. Debian's binaries are stripped and its -dbgsym archive
# is not reachable; the source is (../shared/notes/qemu-debug-build.md).
set -eu
version=$1 dir=$2
apt=$dir/apt
opts="-o Dir::Etc::SourceList=$apt/sources.list -o Dir::Etc::SourceParts=/dev/null
      -o Dir::State::Lists=$apt/lists -o Dir::Cache=$apt/cache
      -o Debug::NoLocking=1 -o APT::Sandbox::User=root"

rm -rf "$dir/src" "$dir/.built"
mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$dir/dl"

# deb-src for every URI and suite the host's own deb822 sources name (the binary may come from
# the point release or from the security archive).
: > "$apt/sources.list"
for f in /etc/apt/sources.list.d/*.sources; do
  [ -e "$f" ] || continue
  awk -v out="$apt/sources.list" '
    /^URIs:/    { uri = $2 }
    /^Suites:/  { suites = ""; for (i = 2; i <= NF; i++) suites = suites " " $i }
    /^Signed-By:/ { key = $2 }
    /^$/ { flush() } END { flush() }
    function flush(  n, s, i) {
      if (uri == "") return
      n = split(suites, s, " ")
      for (i = 1; i <= n; i++)
        printf "deb-src [signed-by=%s] %s %s main\n", key, uri, s[i] >> out
      uri = ""; suites = ""; key = ""
    }' "$f"
done
grep -h '^deb ' /etc/apt/sources.list 2>/dev/null | sed 's/^deb /deb-src /' >> "$apt/sources.list" || true
[ -s "$apt/sources.list" ] || { echo "qemu-debug: no Debian source URI found in /etc/apt/sources.list(.d)"; exit 1; }

apt-get $opts -qq update
if ! apt-cache $opts showsrc qemu | grep -qx "Version: $version"; then
  echo "qemu-debug: the installed QEMU's source qemu $version is not in the package index."
  echo "  sources tried ($apt/sources.list):"; sed 's/^/    /' "$apt/sources.list"
  echo "  versions available:"; apt-cache $opts showsrc qemu | sed -n 's/^Version: /    /p'
  exit 1
fi
(cd "$dir/dl" && apt-get $opts -q source --download-only "qemu=$version")
dpkg-source -x "$dir"/dl/qemu_*.dsc "$dir/src" >/dev/null

# Both system targets with symbols. -O1: fast enough under TCG; some arguments print as
# <optimized out>, as in backtraces from distribution builds.
mkdir -p "$dir/src/build"
cd "$dir/src/build"
../configure --target-list=x86_64-softmmu,aarch64-softmmu --enable-debug-info --disable-docs \
  --disable-werror --disable-gtk --disable-sdl --disable-vnc --disable-opengl --disable-spice \
  --disable-xen --disable-curl --disable-tools --disable-guest-agent --extra-cflags="-O1 -g" >configure.log
ninja -j2 qemu-system-x86_64 qemu-system-aarch64
touch "$dir/.built"
