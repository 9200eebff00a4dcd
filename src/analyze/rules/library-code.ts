// A library's Python code dominating the steady state: the Python functions of one package (in
// site-packages) or standard-library module take a large share of the CPU busy time (their self
// time: their bytecode and the C code they call, which the tracer does not see) — NumPy's
// Python-level wrappers called once per element, a pure-Python tokenizer, PyTorch's module-call
// machinery around many small ops. python_preprocessing looks at the user's own code only, so
// without this a CPU-bound run whose time is in library code had no finding at all. The fix is
// in the code that calls the library, so the finding names it (from the call tree: the nearest
// user function above the calls into the package). Needs Python calls (an InferScope trace).
import type { CallTree } from "../call-tree.ts";
import { busyCpu, describeFunction, inBackticks } from "../cpu-focus.ts";
import type { HotFunction } from "../hot-functions.ts";
import { type Package, packageLabel, packageOf } from "../packages.ts";
import { isUserFile } from "../waits.ts";
import { type AnalysisContext, type Rule, type RuleFinding, msRounded, pct, round, severityFor, shareConfidence, inWindow } from "./common.ts";
import type { ParamDefs } from "../params.ts";

/** One library's Python functions take at least this share of the CPU busy time (their self time)… */
export const LIBRARY_MIN_SHARE = 0.25;
/** …and the CPU is busy at least this share of the window (else nothing is CPU-bound). */
export const LIBRARY_MIN_BUSY_SHARE = 0.25;

/** The thresholds a rules file may override by name (`rule_id.param`, docs/rules.md). */
const PARAMS = {
  min_share: { default: LIBRARY_MIN_SHARE, unit: "share", doc: "one library's Python functions take at least this share of the CPU busy time (self time)…", max: 1 },
  min_busy_share: { default: LIBRARY_MIN_BUSY_SHARE, unit: "share", doc: "…and the threads run at least this share of the window", max: 1 },
} satisfies ParamDefs;

interface LibraryTime {
  pkg: Package;
  selfNs: number;
  /** Its functions, most self time first. */
  fns: HotFunction[];
}

/** The user function that calls into the library the most, and its calls into it. */
interface Caller {
  function: string;
  file?: string;
  line?: number;
  /** Calls into the library (entries into it from outside) and their total time, ns. */
  calls: number;
  ns: number;
  /** The library functions it called, by name: calls and time. */
  entries: Map<string, { calls: number; ns: number }>;
}

const samePackage = (a: Package | null, b: Package) => a !== null && a.name === b.name && a.stdlib === b.stdlib;

/** Self time per library, the largest first. */
function byLibrary(fns: readonly HotFunction[]): LibraryTime[] {
  const m = new Map<string, LibraryTime>();
  for (const fn of fns) {
    if (fn.kind !== "python") continue;
    const pkg = packageOf(fn.file);
    if (!pkg) continue;
    const key = `${pkg.stdlib ? "std" : "site"}:${pkg.name}`;
    let lib = m.get(key);
    if (!lib) m.set(key, (lib = { pkg, selfNs: 0, fns: [] }));
    lib.selfNs += fn.selfNs;
    lib.fns.push(fn);
  }
  return [...m.values()].sort((a, b) => b.selfNs - a.selfNs);
}

/** The user functions above the calls into `pkg` (entries: a frame of it whose parent is not), most time first. */
function callersInto(tree: CallTree, pkg: Package): Caller[] {
  const inPkg = tree.frames.map((f) => f.kind === "python" && samePackage(packageOf(f.file), pkg));
  const user = tree.frames.map((f) => f.kind === "python" && isUserFile(f.file));
  const byFrame = new Map<number, Caller>();
  for (let i = 1; i < tree.size; i++) {
    if (!inPkg[tree.frame[i]!]) continue;
    const parent = tree.parent[i]!;
    if (inPkg[tree.frame[parent]!]) continue;
    let a = parent;
    while (a > 0 && !user[tree.frame[a]!]) a = tree.parent[a]!;
    if (a <= 0) continue;
    const id = tree.frame[a]!;
    let c = byFrame.get(id);
    if (!c) {
      const f = tree.frames[id]!;
      c = { function: f.name, calls: 0, ns: 0, entries: new Map() };
      if (f.file !== undefined) c.file = f.file;
      if (f.line !== undefined) c.line = f.line;
      byFrame.set(id, c);
    }
    const name = tree.frames[tree.frame[i]!]!.name;
    const e = c.entries.get(name) ?? { calls: 0, ns: 0 };
    e.calls += tree.calls[i]!;
    e.ns += tree.cpuTotal[i]!;
    c.entries.set(name, e);
    c.calls += tree.calls[i]!;
    c.ns += tree.cpuTotal[i]!;
  }
  return [...byFrame.values()].sort((a, b) => b.ns - a.ns);
}


/** What to do about this library's own Python time, where something better than "call it less" is known. */
function libraryAdvice(pkg: Package): string {
  if (pkg.stdlib) {
    if (pkg.name === "asyncio") return "Run the event loop on uvloop (uvloop.install() before asyncio.run): its loop, transports and callbacks are C, where asyncio's own are Python.";
    if (pkg.name === "json") return "Encode and decode with orjson (or msgspec): C, several times faster than the standard library's json on the same data.";
    if (pkg.name === "logging") return "Take the records off the request path: a logging.handlers.QueueHandler on the logger, with a QueueListener owning the real handlers, formats and writes them on another thread; FileHandler and StreamHandler flush after every record, which a MemoryHandler (or one summary record per batch) avoids.";
    return `Look for a compiled replacement of the standard library's \`${pkg.name}\` in the hot path (re2 or one precompiled pattern for re, struct or NumPy for byte packing), or call it once per batch.`;
  }
  switch (pkg.name) {
    case "numpy":
      return "Call NumPy on whole batches: stack the items into one array (np.stack) and reduce over an axis (x.std(axis=(1, 2)), x.mean(axis=…)) instead of one call per item; each call runs NumPy's Python-level wrapper before its C loop.";
    case "torch":
      return "Cut PyTorch's Python overhead: fewer, larger ops (batch the inputs), torch.inference_mode(), and torch.compile or CUDA graphs for a model that launches many small ops.";
    case "transformers":
    case "tokenizers":
      return "Use the fast (Rust) tokenizer (AutoTokenizer.from_pretrained(…, use_fast=True)) and encode a whole batch in one call.";
    case "PIL":
      return "Decode and resize in fewer, cheaper calls: Image.draft() for JPEG, torchvision.io.decode_jpeg on a batch, or Pillow-SIMD.";
    default:
      return `Check \`${pkg.name}\` for a vectorised or compiled entry point that does the same work in one call over a batch, and use that in the hot path.`;
  }
}

export const libraryCodeRule: Rule<typeof PARAMS> = {
  id: "library_code",
  description: `one library's Python code (site-packages or the standard library) takes ≥ ${LIBRARY_MIN_SHARE * 100} % of the CPU busy time`,
  params: PARAMS,
  evaluate(ctx: AnalysisContext, p): RuleFinding | null {
    const busy = busyCpu(ctx, p.min_busy_share);
    if (!busy) return null;
    const { run, W } = busy;
    const top = byLibrary(ctx.hot.functions)[0];
    if (!top || top.selfNs < p.min_share * run) return null;
    const label = packageLabel(top.pkg);
    // the hottest, and up to two more that take at least 5 % each
    const hottest = top.fns.filter((f, i) => i === 0 || f.selfNs >= 0.05 * run).slice(0, 3);
    const caller = callersInto(ctx.callTree(), top.pkg)[0] ?? null;
    const steady = inWindow(ctx);
    const entries = caller ? [...caller.entries].sort((a, b) => b[1].ns - a[1].ns).slice(0, 3) : [];
    const suggestions = [
      caller
        ? `Call into ${label} less often from ${describeFunction(caller)}: it made at least ${caller.calls} calls into it (${entries.map(([n, e]) => `${inBackticks(n)} ×${e.calls}`).join(", ")}; calls shorter than --min-duration-us are summed, not counted here), ${round(caller.ns / 1e6, 1)} ms in all; one call over a whole batch pays ${label}'s per-call work once instead of once per item.`
        : `Find the code that calls into ${label}: the flame graph (report.html, or --format speedscope) shows the stacks; calls shorter than --min-duration-us (50 µs by default) are summed, not kept as stacks: run with --min-duration-us 0 to see every caller.`,
      libraryAdvice(top.pkg),
      top.pkg.name === "torch" && !top.pkg.stdlib
        ? 'Where the GPU waits for these launches, replay them without the Python: CUDA graphs (torch.cuda.CUDAGraph, or torch.compile(mode="reduce-overhead")).'
        : top.pkg.name === "logging" && top.pkg.stdlib
          ? "Make each record cheaper (the logging docs' Optimization section): keep hot-path records below the level you keep (guard costly arguments with logger.isEnabledFor), set logging._srcfile = None to skip the caller lookup every record makes, and logging.logThreads, logging.logProcesses and logging.logMultiprocessing to False."
          : "Take the work off the inference path: run it in DataLoader workers (num_workers > 0) or a process pool so it overlaps with the model, or cache its results when inputs repeat (functools.lru_cache).",
    ];
    return {
      title: `${label.charAt(0).toUpperCase()}${label.slice(1)} takes ${pct(top.selfNs, run)} % of the CPU time${steady} in its Python functions and the C code they call: ${hottest.map((f) => `${describeFunction(f)} ${pct(f.selfNs, run)} %`).join(", ")}${caller ? `, called from ${describeFunction(caller)}` : ""}`,
      severity: severityFor(top.selfNs, W),
      confidence: shareConfidence(top.selfNs / run, p.min_share),
      impact_ms: msRounded(top.selfNs),
      saving: { kind: "none", reason: `how much of ${label}'s time a batched call saves depends on the call` },
      evidence: {
        package: top.pkg.name,
        stdlib: top.pkg.stdlib,
        self_ms: msRounded(top.selfNs),
        pct_of_cpu_busy: pct(top.selfNs, run),
        functions: hottest.map((f) => ({ function: f.function, file: f.file ?? null, line: f.line ?? null, self_ms: msRounded(f.selfNs), calls: f.calls })),
        caller: caller ? { function: caller.function, file: caller.file ?? null, line: caller.line ?? null, calls_into: caller.calls, ms_into: msRounded(caller.ns) } : null,
        cpu_busy_ms: msRounded(run),
        window_ms: msRounded(W),
      },
      suggestions,
    };
  },
};
