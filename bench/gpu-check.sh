#!/usr/bin/env bash
# Every GPU check in one device call (see ../shared/gpu/README.md): for each example, profile it
# with `inferscope run`, check the diagnosis against the script's `expect:` line, and compare
# kernel count / kernel time / copy bytes with torch.profiler on the same script.
# Usage (on the GPU machine, binary on PATH): bash bench/gpu-check.sh [OUT_DIR]
set -uo pipefail
out=${1:-${OUT:-/tmp/gpu-check}}
mkdir -p "$out"
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$out/gpu.txt"
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)' | tee -a "$out/gpu.txt"
rows=()
for ex in examples/gpu/{matmul_gpu_bound,resnet50_fp16,bert_embed,llm_generate,preprocess_bound,pageable_transfer,sync_stall,launch_bound}.py; do
  name=$(basename "$ex" .py)
  expect=$(grep -m1 '^expect:' "$ex" | cut -d' ' -f2)
  inferscope run --output-dir "$out/runs" --formats json,md --force "$ex" --steps 10 >"$out/$name.log" 2>&1
  rc=$?
  report=$(ls -t "$out"/runs/"$name"-*/report.json 2>/dev/null | head -1)
  got=$( [ -n "$report" ] && python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["bottleneck"]["classification"], ",".join(f["rule"] for f in r["findings"]))' "$report")
  python3 bench/torch_profile.py "$out/$name.kineto.json" "$ex" --steps 10 >>"$out/$name.log" 2>&1
  ref=$(inferscope analyze "$out/$name.kineto.json" --format json 2>>"$out/$name.log" | python3 -c 'import json,sys; r=json.load(sys.stdin)["gpu"]; print(r["kernels"]["count"], round(r["kernels"]["total_ms"],3), r["memcpy"]["h2d"]["bytes"], r["memcpy"]["d2h"]["bytes"])')
  ours=$( [ -n "$report" ] && python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["gpu"]; print(r["kernels"]["count"], round(r["kernels"]["total_ms"],3), r["memcpy"]["h2d"]["bytes"], r["memcpy"]["d2h"]["bytes"])' "$report")
  rows+=("| $name | rc=$rc | expect $expect | got ${got:-none} | inferscope ${ours:-none} | torch.profiler ${ref:-none} |")
done
gzip -kf "$out"/*.kineto.json 2>/dev/null
printf '%s\n' "| example | run | expected | diagnosis | ours: kernels ms h2d d2h | torch.profiler |" "|---|---|---|---|---|---|" "${rows[@]}" | tee "$out/summary.md"
