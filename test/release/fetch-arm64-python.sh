#!/usr/bin/env bash
# Unpacks Debian's arm64 Python 3.11 (and the few libraries it loads) into build/arm64-python, for
# the release test's `run` of the quickstart under qemu-aarch64-static. apt works in a private
# state dir with arm64 as its only architecture, so the machine's dpkg and apt lists are left
# alone (no `dpkg --add-architecture`); nothing is installed, the .debs are only unpacked.
# About 9 MB of package lists and 7 MB of packages; ~15 s.
set -euo pipefail
cd "$(dirname "$0")/../.."
dest=build/arm64-python
[ -x "$dest/usr/bin/python3.11" ] && exit 0
state=$(mktemp -d)
trap 'rm -rf "$state"' EXIT
mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$state/debs"
apt=(apt-get -qq -o APT::Architecture=arm64 -o APT::Architectures::=arm64
  -o Dir::State::Lists="$state/lists" -o Dir::Cache="$state/cache" -o Dir::State::status=/dev/null
  -o Debug::NoLocking=1 -o APT::Sandbox::User="$(id -un)")
"${apt[@]}" update
(cd "$state/debs" && "${apt[@]}" download python3.11-minimal libpython3.11-minimal libpython3.11-stdlib libc6 libexpat1 zlib1g libffi8)
rm -rf "$dest.tmp" && mkdir -p "$dest.tmp"
for deb in "$state"/debs/*.deb; do dpkg-deb -x "$deb" "$dest.tmp"; done
rm -rf "$dest" && mv "$dest.tmp" "$dest"
echo "arm64 Python: $dest/usr/bin/python3.11" >&2
