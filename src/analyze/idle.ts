// Host-wait attribution: during the GPU's host-wait gaps, what was the launching thread doing?
// For each gap, the thread is the one that made the launch call of the op that ended the gap.
// Every span on that thread (Python function, torch op, user scope) is credited with the part of
// the gaps it covers — inclusive time: a function is credited while it or anything it called
// ran — and code spans also get "self" time: while they were the innermost code on the stack.
// Gap time with no code span on the stack is credited to "(no traced function)". A recursive
// function is credited once (its outermost call).
import type { CpuSpan } from "../trace/model.ts";
import { Union } from "./intervals.ts";
import type { Gap } from "./gpu.ts";
import { isCodeSpan, isScopeSpan, scopeName } from "../merge/stacks.ts";

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
}

function keyOf(s: CpuSpan): string {
  if (s.cat === "python") return `py\u0000${s.name}\u0000${s.file ?? ""}\u0000${s.line ?? ""}`;
  if (s.cat === "cpu_op") return `op\u0000${s.name}`;
  return `sc\u0000${scopeName(s.name)}`;
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
  const acc = new Map<string, Acc>();
  let untracedNs = 0;
  for (const [tid, tg] of perThread) {
    const u = new Union(Float64Array.from(tg, (g) => g.start), Float64Array.from(tg, (g) => g.end));
    const spans = byThread.get(tid) ?? [];
    let rootCodeNs = 0;
    // stack sweep: parents come before children in `spans`
    const stack: { span: CpuSpan; key: string; cov: number; childCov: number; codeParent: number; scope: string | undefined }[] = [];
    const active = new Map<string, number>();
    const close = (top: (typeof stack)[number]) => {
      active.set(top.key, active.get(top.key)! - 1);
      if (isCodeSpan(top.span) && top.cov > 0) acc.get(top.key)!.entry.selfNs += top.cov - top.childCov;
    };
    for (const s of spans) {
      while (stack.length > 0 && stack[stack.length - 1]!.span.end <= s.start) close(stack.pop()!);
      const cov = u.covered(s.start, s.end);
      // nearest code ancestor and innermost scope, from the level below
      let codeParent = -1;
      let scope: string | undefined;
      if (stack.length > 0) {
        const below = stack[stack.length - 1]!;
        codeParent = isCodeSpan(below.span) ? stack.length - 1 : below.codeParent;
        scope = isScopeSpan(below.span) ? scopeName(below.span.name) : below.scope;
      }
      const key = keyOf(s);
      const frame = { span: s, key, cov, childCov: 0, codeParent, scope };
      stack.push(frame);
      const nested = (active.get(key) ?? 0) > 0;
      active.set(key, (active.get(key) ?? 0) + 1);
      if (cov <= 0) continue;
      if (isCodeSpan(s)) {
        if (codeParent >= 0) stack[codeParent]!.childCov += cov;
        else rootCodeNs += cov;
      }
      let a = acc.get(key);
      if (!a) {
        const entry: IdleEntry = isScopeSpan(s)
          ? { kind: "scope", function: scopeName(s.name), idleNs: 0, selfNs: 0 }
          : { kind: s.cat === "python" ? "python" : "cpu_op", function: s.name, idleNs: 0, selfNs: 0 };
        if (s.file !== undefined) entry.file = s.file;
        if (s.line !== undefined) entry.line = s.line;
        if (isScopeSpan(s)) entry.scope = entry.function;
        a = { entry, scopes: isScopeSpan(s) ? null : new Map() };
        acc.set(key, a);
      }
      if (!nested) {
        a.entry.idleNs += cov;
        if (a.scopes && scope !== undefined) a.scopes.set(scope, (a.scopes.get(scope) ?? 0) + cov);
      }
    }
    while (stack.length > 0) close(stack.pop()!);
    untracedNs += u.measure - rootCodeNs;
  }
  const out: IdleEntry[] = [];
  for (const { entry, scopes } of acc.values()) {
    if (scopes && scopes.size > 0) {
      let best = "";
      let bestNs = -1;
      for (const [k, v] of scopes) if (v > bestNs) [best, bestNs] = [k, v];
      entry.scope = best;
    }
    out.push(entry);
  }
  if (untracedNs > 0) out.push({ kind: "untraced", function: UNTRACED, idleNs: untracedNs, selfNs: untracedNs });
  out.sort((a, b) => b.idleNs - a.idleNs || b.selfNs - a.selfNs || a.function.localeCompare(b.function));
  return out;
}
