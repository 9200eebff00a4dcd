// The DuckDB query in docs/diff.md runs on `analyze --format ndjson` output, with DuckDB's own
// Python package (INFERSCOPE_TEST_PYTHON, default /work/venv-torch/bin/python, needs `duckdb`);
// skipped, saying why, without it. InferScope itself holds no database.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cli, ROOT, spawnCapture, tempDir } from "../helpers.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

const PY = process.env.INFERSCOPE_TEST_PYTHON || "/work/venv-torch/bin/python";
const probe = Bun.spawnSync([PY, "-c", "import duckdb"], { stdout: "ignore", stderr: "ignore" });
const missing = probe.exitCode === 0 ? null : `${PY} cannot import duckdb (pip install duckdb, or set INFERSCOPE_TEST_PYTHON)`;
if (missing) console.log(`SKIP DuckDB query test: ${missing}`);

describe.skipIf(missing !== null)("the DuckDB query of docs/diff.md", () => {
  test("p95 step latency and GPU utilization per model version", () => {
    const docs = readFileSync(join(ROOT, "docs/diff.md"), "utf8");
    const sql = /<!-- duckdb-query -->\n```sql\n([\s\S]*?)```\n<!-- \/duckdb-query -->/.exec(docs)![1]!;
    const dir = tempDir();
    const files: Record<string, string> = {
      "runs/v1/sync_stall.kineto.json.gz": "test/fixtures/kineto/sync_stall.kineto.json.gz",
      "runs/v1/vit_fp16.kineto.json.gz": "test/fixtures/kineto/vit_fp16.kineto.json.gz",
      "runs/v2/sync_stall_edited_nosync.kineto.json.gz": "test/fixtures/diff/sync_stall_edited_nosync.kineto.json.gz",
      "runs/v2/vit_fp16_edited_topkernel_slow20.kineto.json.gz": "test/fixtures/diff/vit_fp16_edited_topkernel_slow20.kineto.json.gz",
    };
    for (const [to, from] of Object.entries(files)) {
      mkdirSync(join(dir, to, ".."), { recursive: true });
      copyFileSync(join(ROOT, from), join(dir, to));
    }
    const r = cli(["analyze", "--format", "ndjson", ...Object.keys(files)], { cwd: dir });
    expect(r.code).toBe(0);
    writeFileSync(join(dir, "reports.ndjson"), r.stdout);
    const q = spawnCapture([PY, "-c", "import duckdb, json, sys; print(json.dumps(duckdb.sql(sys.stdin.read()).fetchall()))"], { cwd: dir, stdin: sql });
    expect(q.stderr).toBe("");
    expect(JSON.parse(q.stdout)).toEqual([
      ["v1", 2, 10.61, 59.4],
      ["v2", 2, 10.61, 60.0],
    ]);
  });
});
