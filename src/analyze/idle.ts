// Host-wait attribution: during the GPU's host-wait gaps, what was the launching thread doing?
// For each gap, the thread is the one that made the launch call of the op that ended the gap.
// Every span on that thread (Python function, torch op, user scope) is credited with the part of
// the gaps it covers — inclusive time: a function is credited while it or anything it called
// ran — and code spans also get "self" time: while they were the innermost code on the stack.
// Gap time with no code span on the stack is credited to "(no traced function)". A recursive
// function is credited once (its outermost call).
import { FunctionIds, TORCH_OP } from "../core/function-ids.ts";
import type { CpuSpan } from "../trace/model.ts";
import { Union } from "../core/intervals.ts";
import type { Gap } from "./gpu.ts";
import { isCodeSpan, isScopeSpan, scopeName } from "../merge/stacks.ts";
import { mapF64 } from "../core/typed-arrays.ts";

export const UNTRACED = "(no traced function)";

export interface IdleEntry {
  kind: "python" | "cpu_op" | "scope" | "untraced";
  function: string;
  file?: string;
  line?: number;
  /** The scope this code most often ran in during the gaps. */
  scope?: string;
  idleNs: number;
  selfNs: number;
}

interface Acc {
  entry: IdleEntry;
  scopes: Map<string, number> | null;
  /** open spans of this key on the current stack (recursion: credit the outermost only) */
  active: number;
}

/** Attribute host-wait gaps to what was on the launching threads. Entries sorted by idle time. */
export function attributeHostWait(gaps: Gap[], byThread: Map<number, CpuSpan[]>): IdleEntry[] {
  const perThread = new Map<number, Gap[]>();
  for (const g of gaps) {
    if (g.kind !== "host_wait" || !g.call) continue;
    let a = perThread.get(g.call.tid);
    if (!a) {
      a = [];
      perThread.set(g.call.tid, a);
    }
    a.push(g);
  }
  // accumulators: code by function id (Python calls; torch ops and other spans by name), scopes by
  // scope name
  const all: Acc[] = [];
  const ids = new FunctionIds();
  const byId: Acc[] = [];
  const scopes = new Map<string, Acc>();
  const scopeNames = new Map<string, string>();
  const sname = (n: string): string => {
    let v = scopeNames.get(n);
    if (v === undefined) {
      v = scopeName(n);
      scopeNames.set(n, v);
    }
    return v;
  };
  const make = (s: CpuSpan): Acc => {
    const scope = isScopeSpan(s);
    const entry: IdleEntry = scope
      ? { kind: "scope", function: sname(s.name), idleNs: 0, selfNs: 0 }
      : { kind: s.cat === "python" ? "python" : "cpu_op", function: s.name, idleNs: 0, selfNs: 0 };
    if (s.file !== undefined) entry.file = s.file;
    if (s.line !== undefined) entry.line = s.line;
    if (scope) entry.scope = entry.function;
    const a: Acc = { entry, scopes: scope ? null : new Map(), active: 0 };
    all.push(a);
    return a;
  };
  const accOf = (s: CpuSpan): Acc => {
    if (isScopeSpan(s)) {
      const k = sname(s.name);
      let a = scopes.get(k);
      if (!a) scopes.set(k, (a = make(s)));
      return a;
    }
    const id = s.cat === "python" ? ids.id(s.name, s.file, s.line) : ids.id(s.name, TORCH_OP, undefined);
    return byId[id] ?? (byId[id] = make(s));
  };

  let untracedNs = 0;
  for (const [tid, tg] of perThread) {
    const u = new Union(mapF64(tg, (g) => g.start), mapF64(tg, (g) => g.end));
    const covered = u.cursor();
    const spans = byThread.get(tid) ?? [];
    let rootCodeNs = 0;
    // Stack sweep over the spans that overlap a gap (parents come first in `spans`; a span that
    // covers no gap time has no descendant that does, so it is skipped with its subtree). The
    // stack is kept in parallel arrays: no object per frame.
    const stSpan: CpuSpan[] = [];
    const stAcc: Acc[] = [];
    const stCov: number[] = [];
    const stChild: number[] = [];
    const stCodeParent: number[] = [];
    const stScope: (string | undefined)[] = [];
    let depth = 0;
    const pop = () => {
      depth--;
      const acc = stAcc[depth]!;
      acc.active--;
      if (isCodeSpan(stSpan[depth]!)) acc.entry.selfNs += stCov[depth]! - stChild[depth]!;
    };
    for (const s of spans) {
      const cov = covered(s.start, s.end);
      if (cov <= 0) continue;
      while (depth > 0 && stSpan[depth - 1]!.end <= s.start) pop();
      let codeParent = -1;
      let scope: string | undefined;
      if (depth > 0) {
        const below = stSpan[depth - 1]!;
        codeParent = isCodeSpan(below) ? depth - 1 : stCodeParent[depth - 1]!;
        scope = isScopeSpan(below) ? sname(below.name) : stScope[depth - 1];
      }
      const acc = accOf(s);
      stSpan[depth] = s;
      stAcc[depth] = acc;
      stCov[depth] = cov;
      stChild[depth] = 0;
      stCodeParent[depth] = codeParent;
      stScope[depth] = scope;
      depth++;
      if (isCodeSpan(s)) {
        if (codeParent >= 0) stChild[codeParent]! += cov;
        else rootCodeNs += cov;
      }
      if (acc.active === 0) {
        acc.entry.idleNs += cov;
        if (acc.scopes && scope !== undefined) acc.scopes.set(scope, (acc.scopes.get(scope) ?? 0) + cov);
      }
      acc.active++;
    }
    while (depth > 0) pop();
    untracedNs += u.measure - rootCodeNs;
  }
  const out: IdleEntry[] = [];
  for (const { entry, scopes: sc } of all) {
    if (sc && sc.size > 0) {
      let best = "";
      let bestNs = -1;
      for (const [k, v] of sc) if (v > bestNs) [best, bestNs] = [k, v];
      entry.scope = best;
    }
    out.push(entry);
  }
  if (untracedNs > 0) out.push({ kind: "untraced", function: UNTRACED, idleNs: untracedNs, selfNs: untracedNs });
  out.sort((a, b) => b.idleNs - a.idleNs || b.selfNs - a.selfNs || a.function.localeCompare(b.function));
  return out;
}
