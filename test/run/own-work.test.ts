// InferScope's own work in the profiled process is not recorded as the script's calls: the
// tracer's set-up once recording has begun (its imports, ctypes, signal handlers), naming a
// model's modules (named_modules(), weakrefs) and the final flush (src/tracer/inferscope/_quiet.py).
// Before, a run of this script recorded ~1250 such calls (signal, enum, ctypes, weakref.finalize,
// importlib, named_modules) around the script's 40, and a burst of them could become the analysis window.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { cleanEnv } from "../helpers.ts";
import { findPython, inferscopeRun, PYTHON, spans, type ChromeEvent } from "./helpers.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

const VARIANTS = [
  ["default", PYTHON, {}],
  ["default, pure-Python tracer", PYTHON, { _INFERSCOPE_PURE_PYTHON: "1" }],
  ["3.8", findPython("3.8"), {}],
  ["3.12", findPython("3.12"), {}],
  ["3.12, pure-Python tracer", findPython("3.12"), { _INFERSCOPE_PURE_PYTHON: "1" }],
] as const;

const fileOf = (e: ChromeEvent) => String(e.args?.file ?? "");
const inside = (e: ChromeEvent, outer: ChromeEvent) => e.ts >= outer.ts && e.ts + e.dur! <= outer.ts + outer.dur! + 0.001;

for (const [label, python, extraEnv] of VARIANTS) {
  describe.skipIf(python === null)(`InferScope's own work is not recorded (${label})`, () => {
    test("only the script's calls, Python's start-up before it and its shutdown after it", () => {
      const r = inferscopeRun(["--quiet", "--formats", "json", "--window", "all", "--python", python!, "handmade_modules.py"], { env: cleanEnv(extraEnv) });
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({ y: 4, wrapped: true });
      const calls = spans(r.trace!, "python");
      const main = calls.find((e) => e.name === "<module>" && /(^|\/)handmade_modules\.py$/.test(fileOf(e)))!;
      expect(main).toBeDefined();

      // the stand-in torch: the script's constructors and calls; not named_modules(), which
      // only InferScope calls (to name the modules). By method name: before 3.11 the wrapped
      // __call__ is not found on its class, so it has no class prefix.
      const torch = calls.filter((e) => fileOf(e).includes("/handmade_torch/")).map((e) => e.name.split(".").pop()!);
      const count = Object.fromEntries([...new Set(torch)].sort().map((n) => [n, torch.filter((x) => x === n).length]));
      expect(count).toEqual({ __call__: 7, __init__: 7, __setattr__: 6 });
      expect(spans(r.trace!, "module")).toHaveLength(7);

      const shutdown = calls.filter((e) => e.name === "_shutdown" && fileOf(e).endsWith("/threading.py"));
      const other: string[] = [];
      for (const e of calls) {
        const f = fileOf(e);
        if (/(^|\/)handmade_modules\.py$/.test(f) || f.includes("/handmade_torch/")) continue;
        // the script's own imports and stdlib calls: json.dumps, os.path.join/dirname
        if (inside(e, main) && (f === "<import>" || /\/json\/\w+\.py$/.test(f) || /posixpath/.test(f))) continue;
        // the interpreter's start-up (site, usercustomize, the script's path entry) before the script runs
        if (/^<frozen (importlib\._bootstrap|importlib\._bootstrap_external|site|zipimport)>$|\/site\.py$|^<import>$/.test(f) && e.ts + e.dur! <= main.ts) continue;
        // its shutdown after it
        if (f.endsWith("/threading.py") && e.ts >= main.ts + main.dur! && shutdown.some((s) => inside(e, s))) continue;
        other.push(`${e.name} (${f})`);
      }
      expect(other).toEqual([]);
    });
  });
}
