// Speed and memory of `inferscope analyze` against a bare JSON.parse of the same file.
//
//   npx bun bench/analyze-speed.ts [--events 1000000,10000000] [--dir /tmp/inferscope-bench] [--rounds 3] [--baseline DIR] [--gz]
//
// The big inputs (bench/trace-gen.ts) replicate a real recorded trace (test/fixtures/kineto/
// llama_tiny_generate: 36 392 events of cpu_op / runtime / kernel / memcpy / flow kinds) end to
// end in time: each copy is shifted past the previous one, with correlation and External ids
// offset so they stay unique, and written as compact JSON. Each measurement is a fresh process
// (`bun -e` for the bare parse, `bun src/main.ts analyze -f json` for the analysis), interleaved
// over the rounds; the table gives medians and the peak RSS the kernel reported for the process.
// CPU time (user, and user + system, as the kernel counted it for the whole process: every thread,
// so JavaScriptCore's compiler and collector threads too) comes in a second table, because a
// 2-core box's slow page faults flatter the wall-time ratio (docs/benchmarks.md), and in a third
// the main thread's CPU time alone (polled from /proc every 5 ms): the compiler and collector
// threads run beside it, so on a machine with cores to spare it is what the wall time comes to.
// The shipped binary (dist/inferscope, when built) is timed in the same rounds: it is what users run
// (no TypeScript to transpile at start-up; bytecode).
// A file too big for one JavaScript string cannot be JSON.parse'd at all: its parse column says so.
// --gz: the same traces gzip'd (level 1), read as .json.gz by every command; the floor is then
// Bun.gunzipSync and a bare JSON.parse of the text.
// --baseline DIR: another checkout of InferScope (e.g. `git archive main | tar -x -C DIR`, with
// node_modules linked) timed in the same rounds, interleaved: a change's effect in one run.
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, statSync } from "node:fs";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { join } from "node:path";
import { generate } from "./trace-gen.ts";

const ROOT = join(import.meta.dir, "..");

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : dflt;
}

interface Run {
  seconds: number;
  rssMb: number;
  /** CPU seconds: user, and user + system */
  user: number;
  cpu: number;
  /** CPU seconds of the main thread alone (user + system): what a machine with cores to spare waits for */
  main: number;
  ok: boolean;
  note?: string;
}

/** On-CPU seconds of a thread so far (schedstat: user + system, ns), or null once it is gone. */
function threadCpu(pid: number, tid: number): number | null {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]) / 1e9;
  } catch {
    return null;
  }
}

async function timed(cmd: string[]): Promise<Run> {
  const t = performance.now();
  const p = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe", cwd: ROOT, env: { ...process.env, NO_COLOR: "1" } });
  // the main thread's CPU time, read every 5 ms until the process ends (the last ≤ 5 ms are missed)
  let main = 0;
  const poll = setInterval(() => (main = threadCpu(p.pid, p.pid) ?? main), 5);
  const [stderr] = await Promise.all([new Response(p.stderr).text(), new Response(p.stdout).arrayBuffer(), p.exited]);
  clearInterval(poll);
  const seconds = (performance.now() - t) / 1000;
  const ru = p.resourceUsage();
  const rssMb = (ru?.maxRSS ?? 0) / 1048576;
  const user = Number(ru?.cpuTime.user ?? 0n) / 1e6;
  const cpu = Number(ru?.cpuTime.total ?? 0n) / 1e6;
  const ok = p.exitCode === 0;
  const err = stderr.trim().split("\n");
  return { seconds, rssMb, user, cpu, main, ok, note: ok ? undefined : (err.find((l) => /error/i.test(l)) ?? err.pop())?.trim() };
}

/** `json` gzip'd at level 1 beside it (made once). */
async function gzipped(json: string): Promise<string> {
  const gz = `${json}.gz`;
  if (!existsSync(gz)) {
    await pipeline(createReadStream(json), createGzip({ level: 1 }), createWriteStream(`${gz}.tmp`));
    renameSync(`${gz}.tmp`, gz);
  }
  return gz;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const sizes = arg("events", "1000000,10000000").split(",").map(Number);
  const dir = arg("dir", "/tmp/inferscope-bench");
  const rounds = Number(arg("rounds", "3"));
  const baseline = arg("baseline", "");
  const gz = process.argv.includes("--gz");
  const binaryPath = join(ROOT, "dist/inferscope");
  const binary = existsSync(binaryPath) ? binaryPath : null;
  mkdirSync(dir, { recursive: true });
  const rows: string[] = [];
  const cpuRows: string[] = [];
  const mainRows: string[] = [];
  for (const n of sizes) {
    const json = join(dir, `llama-x${n}.json`);
    if (!existsSync(json)) await generate(n, json);
    const path = gz ? await gzipped(json) : json;
    const text = gz ? `new TextDecoder().decode(Bun.gunzipSync(await Bun.file(${JSON.stringify(path)}).bytes()))` : `await Bun.file(${JSON.stringify(path)}).text()`;
    const bytes = statSync(path).size;
    const parse: Run[] = [];
    const analyze: Run[] = [];
    const base: Run[] = [];
    const shipped: Run[] = [];
    let events = 0;
    const analyzeCmd = (root: string) => [process.execPath, join(root, "src/main.ts"), "analyze", path, "-f", "json", "-o", "/dev/null", "--force"];
    for (let i = 0; i < rounds; i++) {
      parse.push(await timed([process.execPath, "-e", `const t = ${text}; const v = JSON.parse(t); console.log(v.traceEvents.length)`]));
      analyze.push(await timed(analyzeCmd(ROOT)));
      if (!analyze[i]!.ok) throw new Error(`analyze failed: ${analyze[i]!.note}`);
      if (binary) {
        shipped.push(await timed([binary, "analyze", path, "-f", "json", "-o", "/dev/null", "--force"]));
        if (!shipped[i]!.ok) throw new Error(`dist/inferscope analyze failed: ${shipped[i]!.note}`);
      }
      if (baseline) {
        base.push(await timed(analyzeCmd(baseline)));
        if (!base[i]!.ok) throw new Error(`baseline analyze failed: ${base[i]!.note}`);
      }
    }
    const r = Bun.spawnSync([process.execPath, join(ROOT, "src/main.ts"), "analyze", path, "-f", "json"], { stdout: "pipe", cwd: ROOT });
    events = JSON.parse(r.stdout.toString()).source.events;
    const a = median(analyze.map((x) => x.seconds));
    const aRss = Math.max(...analyze.map((x) => x.rssMb));
    const parsed = parse.every((x) => x.ok);
    const p = parsed ? median(parse.map((x) => x.seconds)) : null;
    const pRss = parsed ? Math.max(...parse.map((x) => x.rssMb)) : null;
    rows.push(
      `| ${events.toLocaleString("en-US")} | ${(bytes / 1e6).toFixed(0)} | ${p === null ? `fails (${parse[0]!.note})` : p.toFixed(2)} | ${pRss === null ? "—" : pRss.toFixed(0)} | ${a.toFixed(2)} | ${aRss.toFixed(0)} | ${p === null ? "—" : (a / p).toFixed(2)} | ${((events / a) / 1e6).toFixed(2)} | ${rounds} |`,
    );
    console.error(rows[rows.length - 1]);
    const m = (runs: Run[], k: "seconds" | "user" | "cpu" | "main") => median(runs.map((x) => x[k]));
    const ratio = (x: number, y: number | null) => (y === null ? "—" : (x / y).toFixed(2));
    const pu = parsed ? m(parse, "user") : null;
    const pc = parsed ? m(parse, "cpu") : null;
    const cells = (runs: Run[]) => `${m(runs, "user").toFixed(2)} | ${ratio(m(runs, "user"), pu)} | ${m(runs, "cpu").toFixed(2)} | ${ratio(m(runs, "cpu"), pc)}`;
    cpuRows.push(
      `| ${events.toLocaleString("en-US")} | ${pu === null ? "—" : pu.toFixed(2)} | ${pc === null ? "—" : pc.toFixed(2)} | ${cells(analyze)} | ${binary ? `${m(shipped, "seconds").toFixed(2)} | ${ratio(m(shipped, "seconds"), p)} | ${cells(shipped)}` : "— | — | — | — | — | —"} |`,
    );
    console.error(cpuRows[cpuRows.length - 1]);
    const pm = parsed ? m(parse, "main") : null;
    const mainCells = (runs: Run[]) => `${m(runs, "main").toFixed(2)} | ${ratio(m(runs, "main"), pm)}`;
    mainRows.push(`| ${events.toLocaleString("en-US")} | ${pm === null ? "—" : pm.toFixed(2)} | ${mainCells(analyze)} | ${binary ? mainCells(shipped) : "— | —"} |`);
    console.error(mainRows[mainRows.length - 1]);
    if (baseline) {
      const b = median(base.map((x) => x.seconds));
      const bm = m(base, "main");
      console.error(
        `  baseline ${baseline}: analyze ${b.toFixed(2)} s${p === null ? "" : ` (${(b / p).toFixed(2)}× the parse)`}; this tree / baseline ${(a / b).toFixed(2)}; main thread ${bm.toFixed(2)} s${pm === null ? "" : ` (${(bm / pm).toFixed(2)}× the parse's)`}, this tree / baseline ${(m(analyze, "main") / bm).toFixed(2)}`,
      );
    }
  }
  console.log("| events | MB | bare JSON.parse s | its peak RSS MB | analyze s | its peak RSS MB | analyze / parse | M events/s | rounds |");
  console.log("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const r of rows) console.log(r);
  console.log("");
  console.log("CPU time (user; user + system), medians; the shipped binary's wall time and CPU time:");
  console.log("| events | parse user s | parse user+sys s | analyze user s | / parse | analyze user+sys s | / parse | binary s | / parse | binary user s | / parse | binary user+sys s | / parse |");
  console.log("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const r of cpuRows) console.log(r);
  console.log("");
  console.log("The main thread's CPU time (user + system), medians: what a machine with cores to spare would wait for:");
  console.log("| events | parse main s | analyze main s | / parse | binary main s | / parse |");
  console.log("|---:|---:|---:|---:|---:|---:|");
  for (const r of mainRows) console.log(r);
}

await main();
