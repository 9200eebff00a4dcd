// What the shim costs CUPTI's thread per record, this tree's shim against a base one (default:
// main), through the SIMULATED driver and CUPTI (test/gpu-sim): a script launches N kernels with
// mangled C++ names (K distinct), then times the final forced flush, in which the simulated CUPTI
// hands every buffer to the shim on the calling thread. libstdc++ is loaded RTLD_GLOBAL so the
// base shim's dlsym(RTLD_DEFAULT) finds the demangler too: both demangle, the difference is the
// per-name cache. Interleaved rounds, medians.
//   bun bench/shim-records.ts [--base REF] [--rounds 7] [--kernels 20000] [--names 50]
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { buildShim, cudaInclude } from "../tools/shim.ts";
import { hostTarget } from "../tools/targets.ts";
import { buildGpuSim } from "../test/gpu-sim/build.ts";

const arg = (k: string, d: string) => {
  const i = process.argv.indexOf(k);
  return i > 0 ? process.argv[i + 1]! : d;
};
const base = arg("--base", "main");
const rounds = Number(arg("--rounds", "7"));
const kernels = Number(arg("--kernels", "20000"));
const names = Number(arg("--names", "50"));
const root = join(import.meta.dir, "..");

const built = buildGpuSim();
if ("missing" in built) throw new Error(built.missing);
const sim = built;
const inc = cudaInclude()!;
const tmp = join("/tmp", `shim-records-${process.pid}`);
mkdirSync(join(tmp, "base"), { recursive: true });
const tar = Bun.spawnSync(["sh", "-c", `git -C ${root} archive ${base} ffi | tar -x -C ${join(tmp, "base")}`], { stderr: "pipe" });
if (tar.exitCode !== 0) throw new Error(tar.stderr.toString());
const baseShim = join(tmp, "base/libinferscope.so");
const srcs = [...new Bun.Glob("ffi/*.c").scanSync({ cwd: join(tmp, "base") })].map((f) => join(tmp, "base", f));
const cc = Bun.spawnSync(["cc", "-O2", "-fPIC", "-shared", `-I${inc}`, "-DIS_HAVE_CUPTI=1", "-o", baseShim, ...srcs, "-ldl", "-lpthread"], { stderr: "pipe" });
if (cc.exitCode !== 0) throw new Error(cc.stderr.toString());
const headShim = await buildShim(root, hostTarget(), join(root, "build/libinferscope.so"));

const script = `
import ctypes, os, sys, time
ctypes.CDLL("libstdc++.so.6", mode=os.RTLD_GLOBAL)
sys.path.insert(0, ${JSON.stringify(join(root, "test/gpu-sim"))})
import replay
lib = replay.driver(); lib.cuInit(0); lib.gpusimSetOrigin(time.perf_counter_ns())
names = [("_ZN2at6native29vectorized_elementwise_kernelILi%dENS0_15CUDAFunctor_addIN3c104HalfEEESt5arrayIPcLm3EEEEviT0_T1_" % i).encode() for i in range(${names})]
op = replay.Op(start=0, end=1000, kind=replay.KERNEL, stream=7)
for i in range(${kernels}):
    op.name = names[i % len(names)]
    op.start, op.end = i * 2000, i * 2000 + 1000
    lib.gpusimLaunch(2, 211, 0, -1, ctypes.byref(op), 1)
shim = ctypes.CDLL(os.environ["CUDA_INJECTION64_PATH"])
t = time.perf_counter_ns(); shim.is_cupti_flush(); print(time.perf_counter_ns() - t)
`;

function once(shim: string): number {
  const out = join(tmp, "gpu"); // the shim writes gpu-<pid>.bin
  const r = Bun.spawnSync(["python3", "-c", script], {
    env: { ...process.env, LD_LIBRARY_PATH: sim.dir, CUDA_INJECTION64_PATH: shim, _INFERSCOPE_GPU_OUT: out },
    stdout: "pipe",
    stderr: "pipe",
  });
  if (r.exitCode !== 0) throw new Error(r.stderr.toString());
  return Number(r.stdout.toString().trim());
}

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
const t = { base: [] as number[], head: [] as number[] };
once(headShim); // warm-up
for (let i = 0; i < rounds; i++) {
  t.base.push(once(baseShim));
  t.head.push(once(headShim));
}
const records = kernels * 2; // a kernel and its launch call each
const per = (ns: number) => (ns / records / 1000).toFixed(3);
console.log(`| shim | final flush of ${records.toLocaleString("en-US")} records (${kernels.toLocaleString("en-US")} kernels, ${names} mangled names), median ms | per record µs |`);
console.log("|---|---:|---:|");
console.log(`| ${base} | ${(median(t.base) / 1e6).toFixed(1)} | ${per(median(t.base))} |`);
console.log(`| this tree | ${(median(t.head) / 1e6).toFixed(1)} | ${per(median(t.head))} |`);
console.log(`ratio ${base} / this tree: ${(median(t.base) / median(t.head)).toFixed(2)} (${rounds} interleaved rounds)`);
