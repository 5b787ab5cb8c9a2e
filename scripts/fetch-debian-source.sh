#!/usr/bin/env bash
# Fetches and unpacks Debian's source package of an installed library, at the installed version.
# Usage: fetch-debian-source.sh SOURCE_PACKAGE INSTALLED_BINARY_PACKAGE DEST_DIR
#   e.g. fetch-debian-source.sh mujs libmujs-dev build/mujs-src
# Leaves DEST_DIR/src (the unpacked tree, Debian's patches applied by dpkg-source) and
# DEST_DIR/VERSION. The source is the exact version of the installed binary package, so what
# `apt-get upgrade` updates is what the next build compiles. apt verifies the downloaded files
# against Debian's signed Sources index; its state lives in DEST_DIR/apt (the system's apt
# configuration is read, never changed; no root needed). Needs the network once per version.
set -euo pipefail
[ $# -eq 3 ] || {
    echo "usage: $0 SOURCE_PACKAGE INSTALLED_BINARY_PACKAGE DEST_DIR" >&2
    exit 2
}
src=$1 bin=$2 dest=$3
fail() {
    echo "fetch-debian-source: $*" >&2
    exit 1
}

version=$(dpkg-query -W -f='${Version}' "$bin" 2>/dev/null) ||
    fail "$bin is not installed (scripts/ensure-deps.sh build installs it)"
[ -n "$version" ] || fail "$bin is not installed"
if [ -f "$dest/VERSION" ] && [ "$(cat "$dest/VERSION")" = "$version" ] && [ -d "$dest/src" ]; then
    exit 0
fi
command -v dpkg-source >/dev/null || fail "dpkg-source is missing (Debian package dpkg-dev)"

rm -rf "$dest"
mkdir -p "$dest" && dest=$(cd "$dest" && pwd) # apt's options need absolute paths
mkdir -p "$dest/apt/parts" "$dest/apt/lists/partial" "$dest/apt/cache/archives/partial" "$dest/dl"
# deb-src entries for every deb entry the system uses, deb822 and one-line formats alike.
for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && sed 's/^Types:.*/Types: deb-src/' "$f" >"$dest/apt/parts/$(basename "$f")"
done
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] && sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' "$f" >>"$dest/apt/parts/system.list"
done
opts=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$dest/apt/parts"
    -o "Dir::State::Lists=$dest/apt/lists" -o "Dir::Cache=$dest/apt/cache"
    -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root")
# A repository without sources (a third-party one) fails its own index only: not fatal here;
# the download below says clearly when Debian's index was not reached.
apt-get "${opts[@]}" -qq update >"$dest/apt/update.log" 2>&1 || true
(cd "$dest/dl" && apt-get "${opts[@]}" -qq source --download-only "$src=$version") \
    >"$dest/apt/source.log" 2>&1 ||
    fail "cannot download Debian's source of $src $version (network? see $dest/apt/*.log)"
dsc=$(ls "$dest"/dl/*.dsc 2>/dev/null | head -n 1)
[ -n "$dsc" ] || fail "no .dsc downloaded for $src $version"
# The files were verified by apt against the signed index; dpkg-source unpacks them.
dpkg-source --no-check -x "$dsc" "$dest/src" >"$dest/apt/unpack.log" 2>&1 ||
    fail "dpkg-source could not unpack $dsc (see $dest/apt/unpack.log)"
echo "$version" >"$dest/VERSION"
