// bun:ffi bindings to the C shim (ffi/). Only the parent's needs live here: clock, devices and
// the /proc samplers; CUPTI runs inside the profiled process.
import { dlopen, ptr, type Library } from "bun:ffi";

const symbols = {
  is_shim_version: { args: [], returns: "i32" },
  is_monotonic_ns: { args: [], returns: "i64" },
  is_setenv: { args: ["ptr", "ptr"], returns: "i32" },
  is_has_cupti: { args: [], returns: "i32" },
  is_gpu_count: { args: ["ptr", "i32"], returns: "i32" },
  is_gpu_info: { args: ["i32", "ptr", "i32"], returns: "i32" },
  // procfs.c: the sampler's reads (src/collect/sampler.ts wraps them)
  is_proc_status: { args: ["i32", "ptr"], returns: "i32" },
  is_proc_cpu_ticks: { args: ["i32"], returns: "i64" },
  is_proc_thread_cpu: { args: ["i32", "ptr", "ptr", "ptr", "i32"], returns: "i32" },
  is_meminfo: { args: ["ptr"], returns: "i32" },
  is_numa_nodes: { args: ["ptr", "i32"], returns: "i32" },
  is_numa_node_meminfo: { args: ["i32", "ptr"], returns: "i32" },
  is_proc_numa_maps: { args: ["i32", "ptr", "i32"], returns: "i32" },
  is_pci_numa_node: { args: ["ptr"], returns: "i32" },
  is_clock_ticks_per_sec: { args: [], returns: "i64" },
  is_proc_children: { args: ["i32", "ptr", "i32"], returns: "i32" },
  is_proc_cmdline: { args: ["i32", "ptr", "i32"], returns: "i32" },
} as const;

export type ShimLibrary = Library<typeof symbols>;

function cstr(buf: Uint8Array, len: number): string {
  const end = len >= 0 ? Math.min(len, buf.length) : buf.indexOf(0);
  return new TextDecoder().decode(buf.subarray(0, end < 0 ? buf.length : end));
}

export class Native {
  readonly lib: ShimLibrary;
  constructor(readonly path: string) {
    this.lib = dlopen(path, symbols);
  }

  version(): number {
    return this.lib.symbols.is_shim_version();
  }

  /** CLOCK_MONOTONIC ns, the profiled process's clock (Bun's hrtime is not on it). */
  monotonicNs(): number {
    return Number(this.lib.symbols.is_monotonic_ns());
  }

  /** Whether the shim was built with CUPTI (it then has InitializeInjection). */
  hasCupti(): boolean {
    return this.lib.symbols.is_has_cupti() === 1;
  }

  /** Sets a variable in the C environment (Bun's process.env does not reach getenv in C). */
  setenv(name: string, value: string): void {
    const n = Buffer.from(`${name}\0`);
    const v = Buffer.from(`${value}\0`);
    this.lib.symbols.is_setenv(ptr(n), ptr(v));
  }

  /** Visible GPUs (CUDA_VISIBLE_DEVICES applies); count -1 with the reason when none can be listed. */
  gpuCount(): { count: number; reason?: string } {
    const buf = new Uint8Array(256);
    const n = this.lib.symbols.is_gpu_count(ptr(buf), buf.length);
    return n < 0 ? { count: -1, reason: cstr(buf, -1) } : { count: n };
  }

  gpuInfo(index: number): Record<string, unknown> | { error: string } {
    const buf = new Uint8Array(1024);
    const n = this.lib.symbols.is_gpu_info(index, ptr(buf), buf.length);
    if (n < 0) return { error: cstr(buf, -1) };
    return JSON.parse(cstr(buf, n)) as Record<string, unknown>;
  }

  close(): void {
    this.lib.close();
  }
}
