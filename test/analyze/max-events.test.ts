// Bounded memory (src/trace/window.ts): a trace or recording with more events than maxEvents is
// analyzed over its first part — every event that starts before a cutoff, none after — and the
// report says so. Checked against a full read of the same input.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { readPythonEvents, readPythonFile } from "../../src/collect/python-events.ts";
import { readTrace } from "../../src/trace/read.ts";
import type { Trace } from "../../src/trace/model.ts";
import { eventCount } from "../../src/trace/window.ts";
import { cleanEnv, cli, tempDir } from "../helpers.ts";
import { inferscopeRun, spans } from "../run/helpers.ts";
import { FIXTURES } from "./raw.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

type Ev = { key: string; start: number };
function events(t: Trace): Ev[] {
  return [
    ...t.spans.map((x) => ({ key: `s ${x.tid} ${x.name} ${x.start} ${x.end}`, start: x.start })),
    ...t.api.map((x) => ({ key: `a ${x.correlation} ${x.start}`, start: x.start })),
    ...t.gpu.map((x) => ({ key: `g ${x.correlation} ${x.name} ${x.start}`, start: x.start })),
    ...t.syncs.map((x) => ({ key: `y ${x.start} ${x.end}`, start: x.start })),
    ...t.instants.map((x) => ({ key: `i ${x.name} ${x.ts}`, start: x.ts })),
    ...t.counters.map((x) => ({ key: `c ${x.track} ${x.ts}`, start: x.ts })),
  ];
}

/** The kept events are exactly the full read's events that start before some time. */
function expectEarliest(kept: Ev[], full: Ev[]): void {
  const keys = new Set(kept.map((e) => e.key));
  const fullKeys = new Set(full.map((e) => e.key));
  expect(kept.every((e) => fullKeys.has(e.key))).toBe(true);
  const cutoff = Math.max(...kept.map((e) => e.start));
  const left = full.filter((f) => !keys.has(f.key));
  expect(left.length).toBeGreaterThan(0);
  expect(Math.min(...left.map((e) => e.start))).toBeGreaterThanOrEqual(cutoff);
  expect(full.filter((f) => f.start < cutoff).every((f) => keys.has(f.key))).toBe(true);
}

describe("analyze: maxEvents", () => {
  const path = join(FIXTURES, "llama_tiny_generate.kineto.json.gz");

  test("the earliest events are kept, within the budget, and the cut is said", async () => {
    const full = await readTrace(path, { progress: false });
    for (const maxEvents of [1000, 5000, 20000]) {
      const t = await readTrace(path, { progress: false, maxEvents });
      expect(eventCount(t)).toBeLessThanOrEqual(maxEvents);
      expect(eventCount(t)).toBeGreaterThan(maxEvents * 0.5);
      expectEarliest(events(t), events(full));
      const w = t.warnings.find((x) => x.includes("maxEvents"));
      expect(w).toMatch(
        new RegExp(
          `^this trace holds more events than InferScope keeps in memory \\(maxEvents ${maxEvents.toLocaleString("en-US")}\\): the analysis covers its first [\\d.]+ s \\(${eventCount(t).toLocaleString("en-US")} events\\); the ${(eventCount(full) - eventCount(t)).toLocaleString("en-US")} events after that were left out — raise maxEvents \\(--max-events, INFERSCOPE_MAX_EVENTS or \\.inferscope\\.yaml; about 500 bytes of memory per event\\) or profile fewer steps$`,
        ),
      );
    }
  });

  test("within the budget: the same trace, no warning", async () => {
    const full = await readTrace(path, { progress: false });
    const t = await readTrace(path, { progress: false, maxEvents: eventCount(full) });
    expect(events(t)).toEqual(events(full));
    expect(t.warnings).toEqual(full.warnings);
  });

  test("the CLI takes it from the config (INFERSCOPE_MAX_EVENTS) and --max-events", () => {
    const r = cli(["analyze", path, "-f", "json"], { env: cleanEnv({ INFERSCOPE_MAX_EVENTS: "2000" }) });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).warnings.join(" ")).toContain("(maxEvents 2,000)");
    // and from the flag, which wins
    const f = cli(["analyze", path, "-f", "json", "--max-events", "3000"], { env: cleanEnv({ INFERSCOPE_MAX_EVENTS: "2000" }) });
    expect(f.code).toBe(0);
    expect(JSON.parse(f.stdout).warnings.join(" ")).toContain("(maxEvents 3,000)");
    expect(cli(["analyze", path, "--max-events", "12"]).stderr).toBe("inferscope: invalid maxEvents from --max-events: got 12; expected a whole number of events from 1000 to 1000000000\n");
  });
});

describe("run: maxEvents", () => {
  test("the Python recording keeps its earliest calls, read a chunk at a time; the trace and the report say so", () => {
    const r = inferscopeRun(["--keep-raw", "--trace-size-mb", "1", "calls.py", "30000"], { env: cleanEnv({ INFERSCOPE_MAX_EVENTS: "5000" }) });
    expect(r.code).toBe(0);
    const leaves = spans(r.trace!, "python").filter((e) => e.name === "leaf").length;
    expect(leaves).toBeGreaterThan(2000);
    expect(leaves).toBeLessThan(5000);
    expect(r.stderr).toContain("the recording holds more events than InferScope keeps in memory (maxEvents 5,000)");

    // the same recording read back: streamed from the file = read from memory; capped = earliest
    const raw = join(r.runDir!, "raw");
    const file = join(raw, readdirSync(raw).find((f) => f.endsWith(".isc"))!);
    const pid = Number(/python-(\d+)/.exec(file)![1]);
    const inMemory = readPythonEvents(readFileSync(file), { pid });
    const streamed = readPythonFile(file, { pid });
    expect(streamed).toEqual(inMemory);
    const asEvents = (p: typeof inMemory) => [
      ...p.spans.map((x) => ({ key: `s ${x.tid} ${x.name} ${x.start} ${x.end}`, start: x.start })),
      ...p.instants.map((x) => ({ key: `i ${x.name} ${x.ts}`, start: x.ts })),
    ];
    const capped = readPythonFile(file, { pid, maxEvents: 4000 });
    expect(capped.window!.skipped).toBeGreaterThan(0);
    expect(capped.spans.length + capped.instants.length).toBeLessThanOrEqual(4000);
    expectEarliest(asEvents(capped), asEvents(inMemory));
    rmSync(r.runDir!, { recursive: true, force: true });
  });
});
