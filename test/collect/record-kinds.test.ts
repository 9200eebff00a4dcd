// The Python tracer's record format is written by Python (_tracer.py) and C (ffi/pytrace.c) and
// read by TypeScript (python-events.ts, isc-file.ts): three languages, so its numbers are written three times,
// each copy named. This keeps the copies equal.
import { expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";

setDefaultTimeout(60_000); // per file: see test/preload.ts

const ROOT = join(import.meta.dir, "..", "..");
const read = (p: string) => readFileSync(join(ROOT, p), "utf8");

function pythonConstants(src: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of src.matchAll(/^((?:[A-Z_]+, )*[A-Z_]+) = ((?:\d+, )*\d+)$/gm)) {
    const names = m[1]!.split(", ");
    const values = m[2]!.split(", ").map(Number);
    names.forEach((n, i) => (out[n] = values[i]!));
  }
  const limit = /^_NAME_LIMIT = 1 << (\d+)$/m.exec(src);
  if (limit) out.NAME_IDS = 2 ** Number(limit[1]);
  const magic = /^_MAGIC = b"(\w{4})"$/m.exec(src);
  if (magic) out.MAGIC = Buffer.from(magic[1]!).readUInt32LE(0);
  return out;
}

function tsConstants(src: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of src.matchAll(/^\s*(?:export )?const ([A-Z_]+) = (0x[0-9a-f]+|\d+);/gim)) out[m[1]!] = Number(m[2]);
  return out;
}

function cDefines(src: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of src.matchAll(/^#define ([A-Z_]+) (\d+)$/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

test("record kinds, kind bits, record types, name-id range and magic agree in Python, C and TypeScript", () => {
  const py = pythonConstants(read("src/tracer/inferscope/_tracer.py"));
  const ts = { ...tsConstants(read("src/collect/isc-file.ts")), ...tsConstants(read("src/collect/python-events.ts")) };
  const c = cDefines(read("ffi/pytrace.c"));
  const kinds = ["K_PY_START", "K_PY_END", "K_SCOPE_BEGIN", "K_SCOPE_END", "K_MARK", "K_ATTRS", "K_WAIT_BEGIN", "K_WAIT_END"];
  expect(kinds.map((k) => py[k])).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  for (const k of kinds) expect(ts[k]).toBe(py[k]!);
  for (const k of ["K_PY_START", "K_PY_END", "K_ATTRS", "K_WAIT_BEGIN", "K_WAIT_END"]) expect(c[k]).toBe(py[k]!);
  expect(ts.KIND_BITS).toBe(py.SHIFT!);
  expect(c.KIND_BITS).toBe(py.SHIFT!);
  for (const k of ["REC_TABLES", "REC_CHUNK", "REC_END", "NAME_IDS", "MAGIC"]) expect([k, ts[k]]).toEqual([k, py[k]!]);
});
