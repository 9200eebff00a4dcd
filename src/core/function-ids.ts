// Function identity: a Python function is (name, file, line), a torch op its name. Each distinct
// function gets a small dense id, so the stages that group by function (launchers, hot functions,
// idle attribution) keep per-function state in arrays indexed by id. The lookup goes through
// nested Maps keyed by the strings themselves (the readers intern them): no key string is built
// per span, which matters at millions of spans.

/** The `file` that keeps torch ops (named by name alone) apart from Python functions of the same name. */
export const TORCH_OP = "\u0000torch op";

export class FunctionIds {
  private readonly byName = new Map<string, Map<string, Map<number, number>>>();
  /** Ids given so far: they are 0 … size-1, a new function always gets `size`. */
  size = 0;

  /** The id of the function (name, file, line); a missing file or line is a key of its own. */
  id(name: string, file: string | undefined, line: number | undefined): number {
    let byFile = this.byName.get(name);
    if (!byFile) this.byName.set(name, (byFile = new Map()));
    const f = file ?? "";
    let byLine = byFile.get(f);
    if (!byLine) byFile.set(f, (byLine = new Map()));
    const l = line ?? -1;
    let id = byLine.get(l);
    if (id === undefined) byLine.set(l, (id = this.size++));
    return id;
  }
}
