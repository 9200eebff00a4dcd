#!/usr/bin/env bash
# Unpacks two small Debian roots for test/release (CI runs this; the tests skip without them):
#   build/roots/arm64-python  Debian 12's arm64 Python 3.11 and the few libraries it loads, for a
#                             `run` of the quickstart by the arm64 binary under qemu-aarch64-static
#   build/roots/glibc-2.31    Debian 11's amd64 libc6 (glibc 2.31, before 2.34 moved dlopen & co.
#                             into libc.so.6) and Python 3.9, to run the binary, the shim and a
#                             profiled Python on an older glibc
# apt works in a private state dir (its own lists, one architecture, one suite), so the machine's
# dpkg and apt lists are left alone: nothing is installed, the .debs are only unpacked.
# About 17 MB of package lists and 16 MB of packages; ~25 s.
set -euo pipefail
cd "$(dirname "$0")/../.."

fetch() { # fetch DEST SUITE ARCH PACKAGE...
  local dest=$1 suite=$2 arch=$3
  shift 3
  [ -f "$dest/.complete" ] && return 0
  local state
  state=$(mktemp -d)
  mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$state/debs"
  echo "deb http://deb.debian.org/debian $suite main" >"$state/sources.list"
  local apt=(apt-get -qq -o APT::Architecture="$arch" -o APT::Architectures::="$arch"
    -o Dir::Etc::SourceList="$state/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o Dir::State::Lists="$state/lists" -o Dir::Cache="$state/cache" -o Dir::State::status=/dev/null
    -o Debug::NoLocking=1 -o APT::Sandbox::User="$(id -un)")
  "${apt[@]}" update
  (cd "$state/debs" && "${apt[@]}" download "$@")
  rm -rf "$dest.tmp" && mkdir -p "$dest.tmp"
  for deb in "$state"/debs/*.deb; do dpkg-deb -x "$deb" "$dest.tmp"; done
  touch "$dest.tmp/.complete"
  rm -rf "$dest" && mv "$dest.tmp" "$dest"
  rm -rf "$state"
  echo "fetch-roots: $dest ($suite $arch: $*)" >&2
}

rc=0
fetch build/roots/arm64-python bookworm arm64 python3.11-minimal libpython3.11-minimal libpython3.11-stdlib libc6 libexpat1 zlib1g libffi8 || rc=1
fetch build/roots/glibc-2.31 bullseye amd64 libc6 python3.9-minimal libpython3.9-minimal libpython3.9-stdlib libexpat1 zlib1g libffi7 libgcc-s1 || rc=1
exit $rc
