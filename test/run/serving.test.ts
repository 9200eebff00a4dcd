// The serving example (examples/serving/, docs/serving.md) under load: the report's request
// percentiles against the load generator's own client-side measurements. Needs torch (CPU is
// enough): $INFERSCOPE_TORCH_PYTHON, else /work/venv-torch/bin/python; skipped, saying why, without.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { cleanEnv, ROOT, tempDir } from "../helpers.ts";
import { loadRun, MAIN } from "./helpers.ts";

setDefaultTimeout(300_000);

function torchPython(): { python: string | null; why: string } {
  // A timing comparison: on a CI box whose cores other jobs keep busy it measures the load (seen:
  // TTFT p95 off by 5–13 % under two busy loops). CI runs it only when asked for by name.
  if (process.env.CI === "true" && !process.env.INFERSCOPE_TORCH_PYTHON) return { python: null, why: "CI=true: the 5 % latency comparison is load-sensitive; set INFERSCOPE_TORCH_PYTHON to run it" };
  const python = process.env.INFERSCOPE_TORCH_PYTHON ?? "/work/venv-torch/bin/python";
  if (!existsSync(python)) return { python: null, why: `${python} not found (set INFERSCOPE_TORCH_PYTHON to a Python with torch)` };
  const r = Bun.spawnSync([python, "-c", "import torch"], { stdout: "ignore", stderr: "ignore" });
  return r.exitCode === 0 ? { python, why: "" } : { python: null, why: `${python} cannot import torch` };
}

const TORCH = torchPython();
if (!TORCH.python) console.warn(`test/run/serving.test.ts: skipped: ${TORCH.why}`);
const EXAMPLE = join(ROOT, "examples/serving");

interface Stat {
  count: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
}

describe.skipIf(!TORCH.python)("serving example", () => {
  test("under load: request latency, TTFT and ITL p50/p95/p99 within 5 % of the load generator's client-side figures", async () => {
    const out = tempDir("inferscope-serving-");
    const portFile = join(tempDir("inferscope-serving-port-"), "port");
    // The machine is shared (load far above its 2 cores): at normal priority, a neighbour's time
    // slice between the client's send and the server's read is counted by one side only. Both
    // sides run at a raised priority (where allowed; `nice` runs the command anyway otherwise).
    const NICE = ["nice", "-n", "-15"];
    const server = Bun.spawn(
      [...NICE, process.execPath, MAIN, "run", "--output-dir", out, "--python", TORCH.python!, "--python-calls", "user", "--capture", "manual", "--formats", "json,md", join(EXAMPLE, "server.py"), "--port", "0", "--port-file", portFile],
      { cwd: EXAMPLE, env: cleanEnv(), stdin: "ignore", stdout: "pipe", stderr: "pipe" },
    );
    const client = Bun.spawn([...NICE, TORCH.python!, join(EXAMPLE, "loadgen.py"), "--port-file", portFile, "--requests", "96", "--concurrency", "6", "--shutdown"], {
      cwd: EXAMPLE,
      env: cleanEnv(),
      stdout: "pipe",
      stderr: "pipe",
    });
    const clientOut = await new Response(client.stdout).text();
    expect(await client.exited).toBe(0);
    expect(await server.exited).toBe(0);
    const measured = JSON.parse(clientOut) as Record<string, Stat> & { requests: number; tokens: number };
    const { runDir } = loadRun(out);
    const report = JSON.parse(readFileSync(join(runDir!, "report.json"), "utf8"));
    const q = report.requests as Record<string, Stat> & { count: number; tokens: number; unfinished: number };
    expect(q.count).toBe(96);
    expect(measured.requests).toBe(96);
    expect(q.unfinished).toBe(0);
    expect(q.tokens).toBe(measured.tokens);
    const off: string[] = [];
    for (const k of ["latency", "ttft", "itl"]) {
      expect(q[k]!.count).toBe(measured[k]!.count);
      for (const p of ["p50_ms", "p95_ms", "p99_ms"] as const) {
        const c = measured[k]![p];
        const s = q[k]![p];
        const rel = Math.abs(s - c) / c;
        console.error(`serving: ${k} ${p}: client ${c.toFixed(3)} ms, report ${s.toFixed(3)} ms (${(rel * 100).toFixed(2)} %)`);
        if (rel > 0.05) off.push(`${k} ${p}: client ${c.toFixed(3)} ms, report ${s.toFixed(3)} ms`);
      }
    }
    expect(off).toEqual([]);
    // the capture window opened when the model was ready; Ctrl-C or /shutdown closed the run
    expect(report.collection.captureWindows[0].opened_by).toBe("inferscope.start()");
    expect(readFileSync(join(runDir!, "report.md"), "utf8")).toContain("## Requests\n\n96 requests");
  });
});
