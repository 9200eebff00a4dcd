// Progress while `run` reads the script's Python recording (a 10 M-call script leaves hundreds of
// MB of records, read for tens of seconds): the reader reports each chunk, run logs a line at
// most every 5 s from 50 MB on.
import { expect, setDefaultTimeout, test } from "bun:test";
import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { recordingProgress } from "../../src/cli/recording-progress.ts";
import { readPythonEvents, readPythonFile } from "../../src/collect/python-events.ts";
import { inferscopeRun } from "../run/helpers.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

const MB = 1048576;

test("the reader reports its progress after each chunk, up to the file's size and every event", () => {
  const r = inferscopeRun(["--keep-raw", "--trace-size-mb", "1", "calls.py", "30000"]);
  expect(r.code).toBe(0);
  const raw = join(r.runDir!, "raw");
  const file = join(raw, readdirSync(raw).find((f) => f.endsWith(".isc"))!);
  const pid = Number(/python-(\d+)/.exec(file)![1]);
  const size = statSync(file).size;
  const seen: [number, number, number][] = [];
  const read = readPythonFile(file, { pid, onProgress: (done, total, events) => seen.push([done, total, events]) });
  expect(read).toEqual(readPythonEvents(readFileSync(file), { pid }));
  expect(seen.length).toBeGreaterThan(1); // 30,000 calls fill several chunks
  for (let i = 1; i < seen.length; i++) {
    expect(seen[i]![0]).toBeGreaterThan(seen[i - 1]![0]);
    expect(seen[i]![2]).toBeGreaterThanOrEqual(seen[i - 1]![2]);
  }
  expect(seen.every(([, total]) => total === size)).toBe(true);
  expect(seen[seen.length - 1]).toEqual([size, size, read.events]);
  rmSync(r.runDir!, { recursive: true, force: true });
});

test("run's progress lines: from 50 MB on, what was read of how much, the events, the time", () => {
  expect(recordingProgress(49 * MB)).toBeUndefined();
  const lines: string[] = [];
  const progress = recordingProgress(200 * MB, { line: (l) => lines.push(l), everyMs: 0 })!;
  progress(50 * MB, 200 * MB, 1_234_567);
  expect(lines[0]).toBe("reading the Python recording (200 MB)");
  expect(lines[1]).toMatch(/^reading the Python recording: 50 of 200 MB \(25 %\), 1,234,567 events, \d+\.\d s$/);
  expect(lines).toHaveLength(2);
});
