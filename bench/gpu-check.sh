#!/usr/bin/env bash
# Every GPU check in one device call (see ../shared/gpu/README.md): for each example, profile it
# with `inferscope run`, check the diagnosis against the script's `expect:` line, and compare
# kernel count / kernel time / copy bytes with torch.profiler on the same script. Also what the
# simulated driver (test/gpu-sim) assumes and only a GPU can confirm: which CUDA calls launched the
# kernels as libcupti names them (torch's own kernels through nvcc-13's __cudaLaunchKernel?),
# whether those kernels carry their Python caller, and the cbids torch.profiler saw.
# Usage (on the GPU machine, binary on PATH, from the repo root): bash bench/gpu-check.sh [OUT_DIR]
# OUT_DIR receives summary.md and gpu-check.tar.xz (the traces, reports and logs; split in 15 MB
# parts if larger), few files, as the device tool brings back at most 8.
set -uo pipefail
out=${1:-${OUT:-/tmp/gpu-check-out}}
work=$(mktemp -d -t gpu-check.XXXXXX)
mkdir -p "$out"
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,pci.bus_id,uuid --format=csv,noheader | tee "$work/gpu.txt"
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)' | tee -a "$work/gpu.txt"
rows=()
raw=()
for ex in examples/gpu/{matmul_gpu_bound,resnet50_fp16,bert_embed,llm_generate,preprocess_bound,pageable_transfer,sync_stall,launch_bound}.py; do
  name=$(basename "$ex" .py)
  expect=$(grep -m1 '^expect:' "$ex" | cut -d' ' -f2)
  inferscope run --output-dir "$work/runs/$name" --formats json,md --keep-raw "$ex" --steps 10 >"$work/$name.log" 2>&1
  rc=$?
  run=$(ls -d "$work/runs/$name"/*/ 2>/dev/null | head -1)
  report=${run:+$run/report.json}
  got=$( [ -f "$report" ] && python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["bottleneck"]["classification"], ",".join(f["rule"] for f in r["findings"]))' "$report")
  python3 bench/torch_profile.py "$work/$name.kineto.json" "$ex" --steps 10 >>"$work/$name.log" 2>&1
  ref=$(inferscope analyze "$work/$name.kineto.json" --format json 2>>"$work/$name.log" | python3 -c 'import json,sys; r=json.load(sys.stdin)["gpu"]; print(r["kernels"]["count"], round(r["kernels"]["total_ms"],3), r["kernels"]["launch_calls"], r["memcpy"]["h2d"]["bytes"], r["memcpy"]["d2h"]["bytes"], r["syncs"]["count"])')
  ours=$( [ -f "$report" ] && python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["gpu"]; print(r["kernels"]["count"], round(r["kernels"]["total_ms"],3), r["kernels"]["launch_calls"], r["memcpy"]["h2d"]["bytes"], r["memcpy"]["d2h"]["bytes"], r["syncs"]["count"])' "$report")
  rows+=("| $name | rc=$rc | expect $expect | got ${got:-none} | inferscope ${ours:-none} | torch.profiler ${ref:-none} |")
  launches=$( [ -n "$run" ] && python3 bench/gpu_raw_apis.py "$run" 2>>"$work/$name.log")
  cbids=$(python3 -c 'import json,sys,collections; c=collections.Counter((e["name"], e.get("args",{}).get("cbid")) for e in json.load(open(sys.argv[1]))["traceEvents"] if e.get("cat") in ("cuda_runtime","cuda_driver") and "aunch" in e.get("name","")); print(", ".join("%s/%s x%d" % (n, cb, k) for (n, cb), k in sorted(c.items(), key=lambda x: -x[1])))' "$work/$name.kineto.json" 2>>"$work/$name.log")
  status=$( [ -n "$run" ] && for f in "$run"/raw/gpu-*.bin.status; do [ -f "$f" ] && head -c 300 "$f" | tr '\n' ' '; done)
  raw+=("| $name | ${launches:-none} | ${cbids:-none} | ${status:-none} |")
done
# What CUPTI hands over before a sudden death (the simulated CUPTI assumes, from the header's
# documentation, only buffers whose records are all finished): 3 s of GPU work with no idle
# moment, then os._exit. How many kernels reached the report, and what it says was lost.
cat >"$work/crash.py" <<'PY'
import os, time, torch
x = torch.randn(512, 512, device="cuda")
end = time.time() + 3
n = 0
while time.time() < end:
    x = torch.tanh(x @ x)
    n += 2
print("crash.py launched", n, flush=True)
os._exit(3)
PY
inferscope run --output-dir "$work/runs/crash" --formats json "$work/crash.py" >"$work/crash.log" 2>&1
crash=$(python3 -c 'import json,sys,glob; r=json.load(open(glob.glob(sys.argv[1] + "/*/report.json")[0])); print(r["gpu"]["kernels"]["count"] if r.get("gpu") else 0, "kernels in the report;", " ".join(w for w in r["warnings"] if "CUPTI" in w))' "$work/runs/crash" 2>&1)
crash="$(grep -o 'launched [0-9]*' "$work/crash.log") launched; $crash"

{
  cat "$work/gpu.txt"
  echo
  printf '%s\n' "| example | run | expected | diagnosis | ours: kernels ms launches h2d d2h syncs | torch.profiler |" "|---|---|---|---|---|---|" "${rows[@]}"
  echo
  printf '%s\n' "| example | launch calls as libcupti names them: kernels, with Python caller | torch.profiler launch calls: name/cbid | shim status |" "|---|---|---|---|" "${raw[@]}"
  echo
  echo "crash after 3 s of continuous GPU work (os._exit): $crash"
} | tee "$out/summary.md"
gzip -f "$work"/*.kineto.json "$work"/runs/*/*/trace.json 2>/dev/null
tar -C "$work" -cJf "$work/gpu-check.tar.xz" --exclude=gpu-check.tar.xz .
if [ "$(stat -c %s "$work/gpu-check.tar.xz")" -gt 15000000 ]; then
  split -b 15000000 -d "$work/gpu-check.tar.xz" "$out/gpu-check.tar.xz.part"
else
  cp "$work/gpu-check.tar.xz" "$out/"
fi
ls -la "$out"
