// What a reader could not use, counted by reason with the first example of each, so the report
// says in one line what was wrong ("3 events without a numeric ts (e.g. cpu_op "aten::mm")")
// instead of a bare count or an echo of `undefined`.
import { describeValue } from "./values.ts";

export class Ignored {
  private readonly reasons = new Map<string, { n: number; example: string | undefined }>();

  /** One more item ignored for `reason`; `example` is called for the first one only. */
  note(reason: string, example?: () => string): void {
    const r = this.reasons.get(reason);
    if (r) r.n++;
    else this.reasons.set(reason, { n: 1, example: example?.() });
  }

  get total(): number {
    let n = 0;
    for (const r of this.reasons.values()) n += r.n;
    return n;
  }

  /** "ignored 5 <what>: 3 <reason> (e.g. …), 2 <reason>", or null when nothing was ignored. */
  summary(what: string): string | null {
    if (this.reasons.size === 0) return null;
    const parts = [...this.reasons].map(([reason, r]) => `${r.n} ${reason}${r.example ? ` (e.g. ${r.example})` : ""}`);
    return `ignored ${this.total} ${what}: ${parts.join(", ")}`;
  }
}

/** An event as a warning names it: its category and name, e.g. kernel "void gemm<…>". */
export function eventLabel(e: Record<string, unknown>): string {
  const cat = typeof e.cat === "string" ? e.cat : typeof e.ph === "string" ? `ph ${e.ph}` : "event";
  const name = typeof e.name === "string" ? describeValue(e.name) : "(no name)";
  return `${cat.length > 30 ? `${cat.slice(0, 29)}…` : cat} ${name}`;
}
