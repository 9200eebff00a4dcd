// The templates, CSS and client JS are imported as text, so `bun build --compile` embeds them: a
// compiled binary renders the same reports from any working directory, with no templates/ on disk.
import { expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Report } from "../../src/analyze/report-types.ts";
import { renderReport } from "../../src/report/render.ts";
import handmade from "./handmade_cpu_bound.json";

setDefaultTimeout(60_000); // per file: see test/preload.ts

test("a bun --compile binary renders Markdown and HTML from embedded templates", () => {
  const dir = mkdtempSync(join(tmpdir(), "inferscope-compiled-"));
  try {
    const render = join(import.meta.dir, "..", "..", "src", "report", "render.ts");
    const entry = join(dir, "entry.ts");
    writeFileSync(
      entry,
      `import { renderReport } from ${JSON.stringify(render)};
const report = JSON.parse(await Bun.stdin.text());
process.stdout.write(renderReport(report, process.argv[2] as "md" | "html"));
`,
    );
    const exe = join(dir, "render");
    const build = Bun.spawnSync([process.execPath, "build", entry, "--compile", "--minify", "--no-compile-autoload-bunfig", "--outfile", exe], {
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(build.stderr.toString()).not.toContain("error");
    expect(build.exitCode).toBe(0);
    const input = JSON.stringify(handmade);
    for (const format of ["md", "html"] as const) {
      // run from an empty directory: nothing to read templates from
      const run = Bun.spawnSync([exe, format], { cwd: dir, stdin: Buffer.from(input), stdout: "pipe", stderr: "pipe" });
      expect(run.stderr.toString()).toBe("");
      expect(run.exitCode).toBe(0);
      expect(run.stdout.toString()).toBe(renderReport(handmade as unknown as Report, format));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);
