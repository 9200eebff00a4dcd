// Defects of the CUPTI path found by reading ffi/cupti.c against the CUDA 13 headers, each checked
// through the SIMULATED driver and CUPTI (README.md).
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, tempDir } from "../helpers.ts";
import { counters } from "../run/helpers.ts";
import { SCENARIO, SIM, SIM_MISSING, simRun } from "./helpers.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

describe.skipIf(SIM_MISSING !== null)("the shim against the simulated CUPTI", () => {
  test("mangled kernel names are demangled although Python loaded libstdc++ RTLD_LOCAL", () => {
    const r = simRun(SCENARIO, ["demangle"]);
    expect(r.code).toBe(0);
    expect(r.kernels.map((k) => k.name)).toEqual(Array(3).fill("void cutlass::Kernel2<cutlass_80_simt_sgemm_256x128_8x4_nn_align1>(cutlass_80_simt_sgemm_256x128_8x4_nn_align1::Params)"));
  });

  test("more distinct kernel names than the old 8191-entry table: every one kept", () => {
    const r = simRun(SCENARIO, ["many_names", "9000"]);
    expect(r.code).toBe(0);
    const names = new Set(r.kernels.map((k) => k.name));
    expect(names.size).toBe(9000);
    expect(names.has("unknown")).toBe(false);
    expect(names.has("void kernel_08999()")).toBe(true);
  });

  test("the GPU memory track counts device memory; pinned host memory is not GPU memory; managed memory has its own track", () => {
    const r = simRun(SCENARIO, ["memory"]);
    expect(r.code).toBe(0);
    const mb = (track: string) => counters(r.trace!, track).map((c) => c.args!.allocated_mb);
    expect(mb("gpu 0")).toEqual([1024, 0]);
    expect(mb("gpu 0 managed")).toEqual([512]);
  });

  test("a copy correlated with an unrecorded driver call falls back to its runtime correlation id (its caller is found)", () => {
    const r = simRun(SCENARIO, ["driver_correlated_copy"]);
    expect(r.code).toBe(0);
    const copies = r.trace!.traceEvents.filter((e) => e.cat === "gpu_memcpy");
    expect(copies.length).toBe(1);
    expect(copies[0]!.args).toMatchObject({ "launch api": "cudaMemcpyAsync", "python function": "driver_correlated_copy.<locals>.copy_to_host" });
  });

  test("cuptiPath naming a file that is not a library: the loader's own words in the warning", () => {
    const bad = join(tempDir("gpusim-bad-"), "libcupti.so");
    writeFileSync(bad, "not a library\n".repeat(100));
    const r = simRun(SCENARIO, ["many_names", "3"], { flags: ["--formats", "json", "--cupti-path", bad] });
    expect(r.code).toBe(0);
    expect(r.trace!.inferscope.gpuCollection).toBe("no-cupti");
    expect(r.warnings).toContain(
      `GPU collection off: no-cupti: cannot load ${bad}: ${bad}: invalid ELF header (set cuptiPath / INFERSCOPE_CUPTI_PATH to a libcupti.so); the report is CPU-only`,
    );
  });

  test("cuptiPath through a symlink: the report names the file really loaded", () => {
    const link = join(tempDir("gpusim-link-"), "libcupti.so");
    symlinkSync(SIM!.libcupti, link);
    const r = simRun(SCENARIO, ["many_names", "3"], { flags: ["--formats", "json", "--cupti-path", link] });
    expect(r.report!.collection.cuptiLibrary).toBe(SIM!.libcupti);
  });

  test("a cu12 wheel layout: libcupti found in nvidia/cuda_cupti/lib next to torch's nvidia/cuda_runtime/lib", () => {
    const site = tempDir("gpusim-site-");
    const rt = join(site, "nvidia/cuda_runtime/lib");
    const cupti = join(site, "nvidia/cuda_cupti/lib");
    const drv = join(site, "driver");
    for (const d of [rt, cupti, drv]) mkdirSync(d, { recursive: true });
    const stub = join(site, "cudart.c");
    writeFileSync(stub, "/* a hand-made empty stand-in for libcudart.so.12: only its location matters */\nint cudart_stand_in;\n");
    const cc = Bun.spawnSync(["cc", "-shared", "-fPIC", "-Wl,-soname,libcudart.so.12", "-o", join(rt, "libcudart.so.12"), stub], { stderr: "pipe" });
    expect(cc.stderr.toString()).toBe("");
    copyFileSync(SIM!.libcupti, join(cupti, "libcupti.so.12"));
    copyFileSync(SIM!.libcuda, join(drv, "libcuda.so.1")); // the driver alone on LD_LIBRARY_PATH
    const script = join(site, "cu12.py");
    writeFileSync(script, `import ctypes, sys\nctypes.CDLL(${JSON.stringify(join(rt, "libcudart.so.12"))})  # as torch loads it\nsys.path.insert(0, ${JSON.stringify(import.meta.dir)})\nsys.argv = ["scenario.py", "many_names", "3"]\nimport scenario\nscenario.many_names(3)\n`);
    const r = simRun(script, [], { env: { LD_LIBRARY_PATH: drv } });
    expect(r.code).toBe(0);
    expect(r.kernels.length).toBe(3);
    expect(r.report!.collection.cuptiLibrary).toBe(join(cupti, "libcupti.so.12"));
  });
});

describe.skipIf(SIM_MISSING !== null)("the simulation itself", () => {
  test("it names every cbid as the real libcupti does (where one is installed)", () => {
    const real = ["/usr/local/cuda/lib64/libcupti.so.13", "/usr/local/cuda/lib64/libcupti.so"].find((p) => Bun.file(p).size > 0);
    if (!real) {
      console.warn("skipped: no real libcupti installed to compare with");
      return;
    }
    const py = `
import ctypes, sys
out = []
for path in sys.argv[1:]:
    l = ctypes.CDLL(path)
    f = l.cuptiGetCallbackName
    f.argtypes = [ctypes.c_int, ctypes.c_uint32, ctypes.POINTER(ctypes.c_char_p)]
    names = []
    for dom in (1, 2):
        for cbid in range(1, 1100):
            p = ctypes.c_char_p()
            names.append((dom, cbid, p.value.decode() if f(dom, cbid, ctypes.byref(p)) == 0 else None))
    out.append(names)
print(sum(a != b for a, b in zip(out[0], out[1])), sum(a[2] is not None for a in out[0]))
`;
    // one process each: the two libraries export the same symbols
    const run = (lib: string) => Bun.spawnSync(["python3", "-c", py.replace("sys.argv[1:]", "[sys.argv[1]]").replace("print(sum(a != b for a, b in zip(out[0], out[1])), sum(a[2] is not None for a in out[0]))", "import json; print(json.dumps(out[0]))"), lib], { stdout: "pipe", stderr: "pipe" });
    const a = JSON.parse(run(real).stdout.toString());
    const b = JSON.parse(run(SIM!.libcupti).stdout.toString());
    expect(b).toEqual(a);
    expect(a.filter((x: unknown[]) => x[2] !== null).length).toBeGreaterThan(1200);
  });

  test("it delivers records in the real CUPTI 13 struct layouts the shim reads (a replay matches Kineto exactly)", () => {
    // the full check is bench/gpu-replay.sh (replay.test.ts); here: one fixture, records split over many buffers
    const r = simRun(join(import.meta.dir, "replay.py"), [join(ROOT, "test/fixtures/kineto/pinned_nonblocking.kineto.json.gz")], { env: { GPUSIM_BUFFER_BYTES: "4096" } });
    expect(r.code).toBe(0);
    expect(r.report!.gpu.kernels.count).toBe(8);
    expect(r.report!.gpu.memcpy.h2d.bytes).toBe(536870912);
    const buffers = [...r.simLog.matchAll(/(\d+) (?:full )?buffer\(s\) delivered/g)].reduce((n, m) => n + Number(m[1]), 0);
    expect(buffers).toBeGreaterThan(1);
    expect(readFileSync(join(r.runDir!, `raw/gpu-${r.kernels[0]!.pid}.bin`)).length).toBeGreaterThan(1000);
  });
});
