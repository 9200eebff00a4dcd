// The fuzz test's long mode: many more seeded mutations of the real fixtures than `bun test`
// runs (test/fuzz/fuzz.test.ts), in process, and a share of them through the compiled binary as a
// subprocess (exit codes, stderr, hangs). Every in-process case is also read twice, by the native
// JSON reader and by JSON.parse alone, which must give the same trace or the same message
// (test/fuzz/reader-parity.ts).
//
//   npx bun bench/fuzz.ts [--cases 5000] [--seed 1] [--cli 200] [--bin dist/inferscope] [--out fuzz-failures.txt]
//
// Prints the outcome counts and every failing case (seed, base trace, mutations, problem); a
// case reproduces from its seed alone: FUZZ_SEED=<seed> FUZZ_CASES=1 npx bun test test/fuzz.
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../test/helpers.ts";
import { loadBases, mutate, runCase, runCaseCli } from "../test/fuzz/mutate.ts";
import { bothWays, parityProblem } from "../test/fuzz/reader-parity.ts";

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : dflt;
}

const cases = Number(arg("cases", "5000"));
const seed = Number(arg("seed", "1"));
const cliCases = Number(arg("cli", "200"));
const bin = arg("bin", join(import.meta.dir, "../dist/inferscope"));
const out = arg("out", "");

const dir = tempDir("inferscope-fuzz-bench-");
const bases = await loadBases();
const outcomes = { ok: 0, "user-error": 0, crash: 0 };
const failures: string[] = [];
const slowest: { seed: number; ms: number }[] = [];
const started = performance.now();
for (let s = seed; s < seed + cases; s++) {
  const m = mutate(bases, s);
  const r = await runCase(m, dir);
  rmSync(join(dir, `case-${s}.json`), { force: true });
  outcomes[r.outcome]++;
  slowest.push({ seed: s, ms: r.ms });
  if (r.problems.length) failures.push(`in process, seed ${s} (${m.base}: ${m.ops.join("; ")}): ${r.problems.join(" / ")}`);
  const parity = parityProblem(await bothWays(m.bytes, "case.json"));
  if (parity) failures.push(`readers, seed ${s} (${m.base}: ${m.ops.join("; ")}): ${parity}`);
  if ((s - seed + 1) % 500 === 0) process.stderr.write(`${s - seed + 1}/${cases} cases, ${failures.length} failing, ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
}
const cli = { ok: 0, "user-error": 0, crash: 0 };
for (let i = 0; i < cliCases; i++) {
  // spread over the whole seed range
  const s = seed + Math.floor((i * cases) / Math.max(1, cliCases));
  const m = mutate(bases, s);
  const r = runCaseCli(m, dir, [bin], 30_000);
  cli[r.outcome]++;
  if (r.problems.length) failures.push(`CLI, seed ${s} (${m.base}: ${m.ops.join("; ")}): ${r.problems.join(" / ")}`);
}
rmSync(dir, { recursive: true, force: true });
slowest.sort((a, b) => b.ms - a.ms);
const lines = [
  `fuzz: ${cases} cases from seed ${seed} in process (${outcomes.ok} analyzed, ${outcomes["user-error"]} refused with exit 2, ${outcomes.crash} internal errors), ${cliCases} through ${bin} (${cli.ok} / ${cli["user-error"]} / ${cli.crash}); ${((performance.now() - started) / 1000).toFixed(0)} s`,
  `slowest case: seed ${slowest[0]?.seed} ${slowest[0]?.ms.toFixed(0)} ms; median ${slowest[Math.floor(slowest.length / 2)]?.ms.toFixed(0)} ms`,
  `${failures.length} failing cases`,
  ...failures,
];
if (out) writeFileSync(out, `${lines.join("\n")}\n`);
process.stdout.write(`${lines.slice(0, 3).join("\n")}\n${failures.slice(0, 50).join("\n")}\n`);
process.exitCode = failures.length ? 1 : 0;
