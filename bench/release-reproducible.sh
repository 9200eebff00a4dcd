#!/usr/bin/env bash
# Two fresh clones of this commit, at two different paths, each set up with the README's first
# step (`npm ci`, which must print no warning) and built with `npx bun run release`; their
# SHA256SUMS must be equal (byte-identical archives). About 3 minutes on the 2-core box, so it
# is a script and not part of `bun test`. Usage: bash bench/release-reproducible.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
commit=$(git -C "$repo" rev-parse HEAD)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for n in first second-clone; do
  echo "== clone $n at $work/$n ($commit)" >&2
  git clone -q --no-checkout "$repo" "$work/$n"
  git -C "$work/$n" checkout -q "$commit"
  (cd "$work/$n" && npm ci >/dev/null 2>"$work/$n.npm-stderr")
  if grep -i "warn" "$work/$n.npm-stderr"; then
    echo "FAIL: npm ci printed a warning (above)" >&2
    exit 1
  fi
  (cd "$work/$n" && npx bun run release >/dev/null 2>"$work/$n.release-stderr") || { cat "$work/$n.release-stderr" >&2; exit 1; }
done
cat "$work/first/dist/release/SHA256SUMS"
if cmp -s "$work/first/dist/release/SHA256SUMS" "$work/second-clone/dist/release/SHA256SUMS"; then
  echo "reproducible: both clones built byte-identical archives; npm ci printed no warning"
else
  diff "$work/first/dist/release/SHA256SUMS" "$work/second-clone/dist/release/SHA256SUMS" >&2 || true
  echo "FAIL: the archives differ between the two clones" >&2
  exit 1
fi
