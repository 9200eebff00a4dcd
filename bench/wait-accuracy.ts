// Accuracy of running vs waiting on functions whose split is known (test/run/scripts/splits.py),
// under `inferscope run`: per function, the true and reported waiting and running ms and the
// error, medians over rounds. Not a test (test/run/waits.test.ts asserts ≤ 10 %): prints the
// Markdown table of docs/analysis.md ("Running and waiting").
//
//   bun bench/wait-accuracy.ts [--rounds 3] [--ms 200] [--python python3,python3.12]
import { splitErrors } from "../test/run/helpers.ts";

const argv = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : dflt;
};
const ROUNDS = Number(opt("rounds", "3"));
const MS = Number(opt("ms", "200"));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const err = (got: number, want: number) => (want > 1 ? `${((100 * (got - want)) / want).toFixed(1)} %` : `${(got - want).toFixed(2)} ms`);

console.log("| Python | function | true running ms | reported | error | true waiting ms | reported | error |");
console.log("|---|---|---:|---:|---:|---:|---:|---:|");
for (const python of opt("python", "python3").split(",")) {
  const version = Bun.spawnSync([python, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"], { stdout: "pipe" }).stdout.toString().trim();
  const rounds = Array.from({ length: ROUNDS }, () => splitErrors(python, MS));
  for (const [i, first] of rounds[0]!.entries()) {
    const col = (k: "trueRun" | "run" | "trueWait" | "wait") => median(rounds.map((r) => r[i]![k]));
    const [tr, r, tw, w] = [col("trueRun"), col("run"), col("trueWait"), col("wait")];
    console.log(`| ${version} | \`${first.fn}\` | ${tr.toFixed(1)} | ${r.toFixed(1)} | ${err(r, tr)} | ${tw.toFixed(1)} | ${w.toFixed(1)} | ${err(w, tw)} |`);
  }
}
