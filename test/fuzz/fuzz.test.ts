// The fuzz test at CI size: seeded mutations of the real fixtures (test/fuzz/mutate.ts) through
// `analyze`, in process for many cases and through the real CLI for a few. No internal error
// (exit 70), no hang, nothing like `undefined`, `[object Object]`, `NaN` or `Infinity` in any
// report or message, a message of one line without control characters. The long mode is
// `bun bench/fuzz.ts --cases 5000` (docs/benchmarks.md). FUZZ_CASES / FUZZ_SEED override.
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { ROOT, tempDir } from "../helpers.ts";
import { loadBases, mutate, runCase, runCaseCli, type Base } from "./mutate.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

const CASES = Number(process.env.FUZZ_CASES ?? 200);
const CLI_CASES = Number(process.env.FUZZ_CLI_CASES ?? 6);
const SEED = Number(process.env.FUZZ_SEED ?? 1);
const dir = tempDir("inferscope-fuzz-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let bases: Base[] = [];

describe(`fuzz: ${CASES} mutated traces from seed ${SEED}`, () => {
  test("the unmutated bases analyze cleanly", async () => {
    bases = await loadBases();
    expect(bases.length).toBe(10);
    for (const [i, b] of bases.entries()) {
      const r = await runCase({ seed: -1 - i, base: b.name, ops: [], bytes: new TextEncoder().encode(JSON.stringify(b.doc)) }, dir);
      expect({ base: b.name, ...r, ms: 0 }).toEqual({ base: b.name, outcome: "ok", problems: [], ms: 0 });
    }
  });

  test("in process: no internal error, no JavaScript leaking into reports or messages", async () => {
    const failures: string[] = [];
    const outcomes = { ok: 0, "user-error": 0, crash: 0 };
    for (let s = SEED; s < SEED + CASES; s++) {
      const m = mutate(bases, s);
      const r = await runCase(m, dir);
      outcomes[r.outcome]++;
      if (r.problems.length) failures.push(`seed ${s} (${m.base}: ${m.ops.join("; ")}): ${r.problems.join(" / ")}`);
      rmSync(join(dir, `case-${s}.json`), { force: true });
    }
    expect(failures).toEqual([]);
    // the mutations reach the analysis, not only the parser's error path
    expect(outcomes.ok).toBeGreaterThan(CASES / 2);
  }, 600_000);

  test("through the CLI: exit 0 or 2, at most 3 lines on stderr, no hang", () => {
    const failures: string[] = [];
    for (let s = SEED + CASES; s < SEED + CASES + CLI_CASES; s++) {
      const m = mutate(bases, s);
      const r = runCaseCli(m, dir, [process.execPath, join(ROOT, "src/main.ts")], 30_000);
      if (r.problems.length) failures.push(`seed ${s} (${m.base}: ${m.ops.join("; ")}): ${r.problems.join(" / ")}`);
    }
    expect(failures).toEqual([]);
  }, 300_000);
});
