// What `scope()` and `mark_event()` cost outside `inferscope run` (where they do nothing), next
// to a plain Python function call measured in the same process.
//
//   npx bun bench/api-noop.ts [--rounds 7] [--python python3,python3.12]
//
// test/run/scripts/noop_api.py times 200 000 of each after an empty loop of the same length
// (subtracted); the table gives medians over the rounds and the ratio to the plain call.
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..");
const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : dflt;
};
const rounds = Number(arg("rounds", "7"));
const pythons = arg("python", "python3").split(",");
const pythonpath = Bun.spawnSync([process.execPath, join(ROOT, "src/main.ts"), "pythonpath"]).stdout.toString().trim();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

console.log("| python | plain call ns | scope() ns | × call | mark_event() ns | × call |");
console.log("|---|---|---|---|---|---|");
for (const py of pythons) {
  const seen: { scope_ns: number; mark_ns: number; call_ns: number }[] = [];
  for (let r = 0; r < rounds; r++) {
    const p = Bun.spawnSync([py, join(ROOT, "test/run/scripts/noop_api.py")], { env: { ...process.env, PYTHONPATH: pythonpath }, stdout: "pipe", stderr: "inherit" });
    seen.push(JSON.parse(p.stdout.toString()));
  }
  const call = median(seen.map((s) => s.call_ns));
  const sc = median(seen.map((s) => s.scope_ns));
  const mk = median(seen.map((s) => s.mark_ns));
  console.log(`| ${py} | ${call.toFixed(0)} | ${sc.toFixed(0)} | ${(sc / call).toFixed(1)} | ${mk.toFixed(0)} | ${(mk / call).toFixed(1)} |`);
}
