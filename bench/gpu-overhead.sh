#!/usr/bin/env bash
# Overhead on the GPU (issues 4 and 7): per workload, plain python vs `inferscope run` vs
# torch.profiler (CPU+CUDA), each warmed up and timing >= 50 steps inside the script (the
# examples print "median step ms"), the three variants interleaved over ROUNDS rounds; prints the
# median of the per-round medians and the ratios. One device call:
#   bash bench/gpu-overhead.sh [ROUNDS]        (binary on PATH, run from the repo root)
set -uo pipefail
rounds=${1:-3}
# Works in a scratch directory; only overhead.md goes to $OUT (the device tool brings back 8 files).
out=$(mktemp -d -t gpu-overhead.XXXXXX)
trap '[ -n "${OUT:-}" ] && cp "$out/overhead.md" "$OUT/"' EXIT
export PYTHONUNBUFFERED=1
step_ms() { grep -m1 -o 'median step ms [0-9.]*' | awk '{print $4}'; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo "| workload | plain ms | inferscope ms | torch.profiler ms | inferscope overhead | torch.profiler overhead |" | tee "$out/overhead.md"
echo "|---|---:|---:|---:|---:|---:|" | tee -a "$out/overhead.md"
for ex in matmul_gpu_bound resnet50_fp16 bert_embed llm_generate; do
  steps=60; [ "$ex" = llm_generate ] && steps=50
  : >"$out/$ex.plain"; : >"$out/$ex.is"; : >"$out/$ex.tp"
  for r in $(seq "$rounds"); do
    python3 "examples/gpu/$ex.py" --steps $steps | step_ms >>"$out/$ex.plain"
    inferscope --quiet run --no-trace --formats json --output-dir "$out/runs" "examples/gpu/$ex.py" --steps $steps | step_ms >>"$out/$ex.is"
    python3 bench/torch_profile.py "$out/$ex.kineto.json" "examples/gpu/$ex.py" --steps $steps | step_ms >>"$out/$ex.tp"
  done
  p=$(median <"$out/$ex.plain"); i=$(median <"$out/$ex.is"); t=$(median <"$out/$ex.tp")
  awk -v n="$ex" -v p="$p" -v i="$i" -v t="$t" 'BEGIN {printf "| %s | %.3f | %.3f | %.3f | %+.1f %% | %+.1f %% |\n", n, p, i, t, 100*(i/p-1), 100*(t/p-1)}' | tee -a "$out/overhead.md"
done
