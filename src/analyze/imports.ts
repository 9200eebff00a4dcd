// What counts as an import in a trace: the tracer's own import spans ("import torch", file
// "<import>", written by _imports.py) or, in an older trace or a torch.profiler trace with
// Python stacks, importlib's _find_and_load frame. Imports are start-up work: the window keeps
// them apart and hot functions never rank them as CPU work.
import type { CpuSpan } from "../trace/model.ts";

/** The file of the tracer's import spans. */
export const IMPORT_SPAN_FILE = "<import>";
/** importlib's frozen bootstrap, whose _find_and_load is an import in traces without import spans. */
export const IMPORTLIB_FILE = /^<frozen importlib\._bootstrap/;

export function isImport(s: Pick<CpuSpan, "cat" | "name" | "file">): boolean {
  return s.cat === "python" && (s.file === IMPORT_SPAN_FILE || (s.name === "_find_and_load" && IMPORTLIB_FILE.test(s.file ?? "")));
}

/** "import torch.nn" → "torch.nn"; an importlib frame → "(import)". */
export function importedModule(s: Pick<CpuSpan, "name" | "file">): string {
  return s.file === IMPORT_SPAN_FILE ? s.name.replace(/^import /, "") : "(import)";
}
