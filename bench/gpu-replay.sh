#!/usr/bin/env bash
# The GPU path end to end without a GPU, through the SIMULATED driver boundary (test/gpu-sim,
# README.md there: it proves InferScope's plumbing on recorded data, not NVIDIA's libraries).
# For every Kineto fixture: `inferscope run` of test/gpu-sim/replay.py (the simulated libcuda.so.1
# and libcupti.so.13 first on LD_LIBRARY_PATH, records split across buffers), side by side with
# `inferscope analyze` of the fixture; exits 1 on any mismatch (test/gpu-sim/compare.ts says
# what is checked). Runs in the test suite (test/gpu-sim/replay.test.ts) and so in CI.
#   bash bench/gpu-replay.sh [OUT_DIR]        INFERSCOPE="bun src/main.ts" to run from source
set -uo pipefail
cd "$(dirname "$0")/.."
BUN=${BUN:-$(command -v bun || echo "npx bun")}
read -r -a IS <<<"${INFERSCOPE:-dist/inferscope}"
out=${1:-$(mktemp -d -t gpu-replay.XXXXXX)}
mkdir -p "$out"
sim=$($BUN test/gpu-sim/build.ts) || { echo "gpu-replay: building the simulated driver failed" >&2; exit 1; }
export LD_LIBRARY_PATH="$sim${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export GPUSIM_BUFFER_BYTES=${GPUSIM_BUFFER_BYTES:-65536}
rc=0
for f in test/fixtures/kineto/*.kineto.json.gz; do
  name=$(basename "$f" .kineto.json.gz)
  rm -rf "$out/$name"
  # --window all: the run's report covers the whole recording, as analyze of the fixture does
  if ! "${IS[@]}" run --window all --output-dir "$out/$name" --formats json --quiet test/gpu-sim/replay.py "$f" >"$out/$name.log" 2>&1; then
    echo "### $name: inferscope run failed (log: $out/$name.log)"; cat "$out/$name.log"; rc=1; continue
  fi
  "${IS[@]}" analyze "$f" --format json >"$out/$name.analyze.json" 2>>"$out/$name.log" || { echo "### $name: inferscope analyze failed"; rc=1; continue; }
  $BUN test/gpu-sim/compare.ts "$f" "$(ls -d "$out/$name"/*/ | head -1)" "$out/$name.analyze.json" || rc=1
  grep -h '^replay:' "$out/$name.log"
done
# Once more as nvcc-13 host stubs would launch (__cudaLaunchKernel, cbid 505): same figures expected.
f=test/fixtures/kineto/llama_tiny_generate.kineto.json.gz
name=llama_tiny_generate-as-nvcc13
rm -rf "$out/$name"
if "${IS[@]}" run --window all --output-dir "$out/$name" --formats json --quiet test/gpu-sim/replay.py "$f" --as-nvcc13 >"$out/$name.log" 2>&1; then
  echo; echo "(launches replayed as __cudaLaunchKernel_v13000)"
  $BUN test/gpu-sim/compare.ts "$f" "$(ls -d "$out/$name"/*/ | head -1)" "$out/llama_tiny_generate.analyze.json" | sed "s/^### llama_tiny_generate$/### $name/" || rc=1
  grep -h '^replay:' "$out/$name.log"
else
  echo "### $name: inferscope run failed"; cat "$out/$name.log"; rc=1
fi
[ "$rc" -eq 0 ] && echo "gpu-replay: every fixture matches" || echo "gpu-replay: MISMATCH (see above)"
exit "$rc"
