// How long the HTML report takes to open, and its timeline to build, on the largest real fixture
// and on the 1.5 M-event synthetic trace (the figures the browser test only prints).
//
//   npx bun bench/report-open.ts [--rounds 5]
//
// In one run: the timeline build (src/report/timeline.ts) of the synthetic trace, then each HTML
// file opened in Debian's Chromium, interleaved with an empty page of the same browser (its own
// start-up cost) round by round. The table gives medians and the ratio to the empty page, which
// travels better between machines than milliseconds do.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { analysisContext } from "../src/analyze/index.ts";
import type { Report } from "../src/analyze/report-types.ts";
import { renderReport } from "../src/report/render.ts";
import { buildTimeline } from "../src/report/timeline.ts";
import { chromiumMissing, launch, openReport } from "../test/browser/chromium.ts";
import { fixtureAnalysis, LARGEST_FIXTURE } from "../test/report/fixtures.ts";
import handmade from "../test/report/handmade_cpu_bound.json";
import { eventCount, syntheticTrace } from "../test/report/synthetic.ts";

const i = process.argv.indexOf("--rounds");
const rounds = i >= 0 ? Number(process.argv[i + 1]) : 5;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const missing = chromiumMissing();
if (missing) {
  console.error(`bench/report-open: ${missing}`);
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), "inferscope-bench-open-"));
const synthetic = analysisContext(syntheticTrace(2200));
const buildMs: number[] = [];
for (let r = 0; r < rounds; r++) {
  const t0 = performance.now();
  buildTimeline(synthetic, { maxEvents: 100_000 });
  buildMs.push(performance.now() - t0);
}

const { trace, report, analysis } = await fixtureAnalysis(LARGEST_FIXTURE);
const files: Record<string, { path: string; events: number; mb: number }> = {};
const write = (name: string, html: string, events: number) => {
  const path = join(dir, `${name}.html`);
  writeFileSync(path, html);
  files[name] = { path, events, mb: Buffer.byteLength(html) / 1e6 };
};
write(LARGEST_FIXTURE, renderReport(report, "html", analysis), trace.gpu.length + trace.spans.length + trace.api.length);
write("synthetic 1.5 M events", renderReport(handmade as unknown as Report, "html", synthetic), eventCount(synthetic.trace));
const empty = join(dir, "empty.html");
writeFileSync(empty, `<!doctype html><div id="tl" data-ready="1"></div><script>window.__inferscopeTimeline={ready:0}</script>`);

const { context, close } = await launch();
const times: Record<string, number[]> = { empty: [] };
for (const name of Object.keys(files)) times[name] = [];
for (let r = 0; r < rounds; r++) {
  for (const [name, path] of [["empty", empty] as const, ...Object.entries(files).map(([n, f]) => [n, f.path] as const)]) {
    const o = await openReport(context, path);
    if (o.errors.length) throw new Error(`${name}: console errors ${o.errors.join("; ")}`);
    times[name]!.push(o.wallMs);
    await o.page.close();
  }
}
await close();
rmSync(dir, { recursive: true, force: true });

const base = median(times.empty!);
console.log(`timeline build, synthetic ${eventCount(synthetic.trace)} events → 100 000 kept: median ${median(buildMs).toFixed(0)} ms (${rounds} rounds)\n`);
console.log("| report | events | HTML MB | open median ms | × empty page |");
console.log("|---|---|---|---|---|");
console.log(`| empty page | 0 | 0 | ${base.toFixed(0)} | 1.0 |`);
for (const [name, f] of Object.entries(files)) {
  const m = median(times[name]!);
  console.log(`| ${name} | ${f.events} | ${f.mb.toFixed(2)} | ${m.toFixed(0)} | ${(m / base).toFixed(1)} |`);
}
