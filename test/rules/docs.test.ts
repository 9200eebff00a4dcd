// docs/metrics.md and `inferscope rules list` come from one source (the metric catalogue and the
// rule files): the committed docs must equal what the source generates, and every metric and
// threshold `rules list --json` prints must be in the docs.
import { expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { metricsMarkdown } from "../../src/rules/listing.ts";
import { cli, ROOT } from "../helpers.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

const DOCS = readFileSync(join(ROOT, "docs/metrics.md"), "utf8");

test("docs/metrics.md is generated from the catalogue (run `bun run docs:metrics` after changing it)", () => {
  expect(DOCS).toBe(metricsMarkdown());
});

test("every metric and threshold of `rules list --json` is in docs/metrics.md, with its default", () => {
  const r = cli(["rules", "list", "--json"]);
  expect(r.code).toBe(0);
  const l = JSON.parse(r.stdout) as { rules: { id: string; thresholds: { name: string; default: number }[] }[]; metrics: { name: string; type: string }[]; diff_metrics: { name: string }[] };
  expect(l.rules.length).toBe(27);
  expect(l.metrics.length).toBeGreaterThan(80);
  for (const m of [...l.metrics, ...l.diff_metrics]) expect(DOCS).toContain(`| \`${m.name}\` |`);
  for (const rule of l.rules) for (const t of rule.thresholds) expect(DOCS).toContain(`| \`${rule.id}\` | \`${t.name}\` | ${t.default} |`);
  expect(l.rules.find((x) => x.id === "launch_bound")!.thresholds.map((t) => t.name)).toEqual([
    "launch_bound.min_kernels",
    "launch_bound.short_share",
    "launch_bound.min_idle_share",
    "launch_bound.host_wait_share",
    "launch_bound.gaps_per_kernel",
  ]);
  // The text listing names the same thresholds
  const text = cli(["rules", "list"]).stdout;
  expect(text).toContain("  launch_bound.min_kernels = 100 (kernels): at least this many kernels launched one by one (not from a CUDA graph)\n");
});
