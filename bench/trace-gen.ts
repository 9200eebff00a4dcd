// Big traces for the benchmarks (analyze-speed.ts, memory.ts): the real
// test/fixtures/kineto/llama_tiny_generate trace (36 392 events of cpu_op / runtime / kernel /
// memcpy / flow kinds) replicated end to end in time: each copy is shifted past the previous one,
// with correlation and External ids offset so they stay unique, written as compact JSON (gzipped
// when the path ends in .gz: 30 M events are ~6.6 GB of JSON, ~0.1 GB compressed).
import { createWriteStream, statSync } from "node:fs";
import { join } from "node:path";
import { createGzip } from "node:zlib";
import { gunzipSync } from "node:zlib";

const SOURCE = join(import.meta.dir, "../test/fixtures/kineto/llama_tiny_generate.kineto.json.gz");

/** µs (three decimals) → integer ns, exactly (see src/trace/kineto.ts usToNs). */
function toNs(us: number): number {
  const w = Math.floor(us);
  return w * 1000 + Math.round((us - w) * 1000);
}

/** Write a trace of at least `events` events (whole copies of the source). */
export async function generate(events: number, path: string): Promise<void> {
  const top = JSON.parse(gunzipSync(await Bun.file(SOURCE).bytes()).toString("utf8"));
  const src = top.traceEvents as Record<string, any>[];
  const meta = src.filter((e) => e.ph === "M");
  const body = src.filter((e) => e.ph !== "M");
  let t0 = Infinity;
  let t1 = -Infinity;
  for (const e of body) {
    if (typeof e.ts !== "number" || typeof e.pid !== "number") continue;
    const s = toNs(e.ts);
    t0 = Math.min(t0, s);
    t1 = Math.max(t1, s + (typeof e.dur === "number" ? toNs(e.dur) : 0));
  }
  const span = t1 - t0 + 1_000_000; // 1 ms between copies
  // ids stay dense, as CUPTI's are: each copy continues after the previous one's largest id
  let maxId = 0;
  for (const e of body) {
    for (const v of [e.args?.correlation, e.args?.["External id"], e.id]) if (typeof v === "number" && v > maxId) maxId = v;
  }
  const copies = Math.ceil((events - meta.length) / body.length);
  const file = createWriteStream(path);
  const gz = path.endsWith(".gz") ? createGzip({ level: 6 }) : null;
  if (gz) gz.pipe(file);
  const out = gz ?? file;
  const header = { ...top };
  delete header.traceEvents;
  let buf = `${JSON.stringify(header).slice(0, -1)},"traceEvents":[\n`;
  let first = true;
  const flush = async () => {
    if (!out.write(buf)) await new Promise((r) => out.once("drain", r));
    buf = "";
  };
  const emit = async (s: string) => {
    buf += first ? s : `,\n${s}`;
    first = false;
    if (buf.length > 1 << 22) await flush();
  };
  for (const e of meta) await emit(JSON.stringify(e));
  for (let k = 0; k < copies; k++) {
    const shift = k * span;
    const idShift = k * (maxId + 1);
    for (const e of body) {
      const c: Record<string, any> = { ...e };
      // ≤ 15 significant digits: the float prints back as the exact three-decimal value
      if (typeof e.ts === "number" && typeof e.pid === "number") c.ts = (toNs(e.ts) - t0 + shift + 1_000_000_000) / 1000;
      if (c.args) {
        c.args = { ...c.args };
        if (typeof c.args.correlation === "number") c.args.correlation += idShift;
        if (typeof c.args["External id"] === "number") c.args["External id"] += idShift;
      }
      if (typeof c.id === "number") c.id += idShift;
      await emit(JSON.stringify(c));
    }
  }
  buf += "\n]}\n";
  await flush();
  await new Promise<void>((r) => {
    file.on("finish", () => r());
    out.end();
  });
  console.error(`generated ${path}: ${(meta.length + copies * body.length).toLocaleString("en-US")} events, ${(statSync(path).size / 1e6).toFixed(0)} MB`);
}

