// The native JSON reader (ffi/json_tape.c, src/trace/json-tape.ts) against JSON.parse: the same
// values for every JSON it takes, a refusal (and so JSON.parse's own answer) for everything else,
// and the same trace model and the same error messages for every fixture and for mutated traces.
import { beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { newTapeReader, tapeLibrary, type TapeReader } from "../../src/trace/json-tape.ts";
import { parseTrace } from "../../src/trace/read.ts";
import { ROOT } from "../helpers.ts";
import { loadBases, mutate } from "../fuzz/mutate.ts";
import { bothWays, parityProblem } from "../fuzz/reader-parity.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

let lib: Awaited<ReturnType<typeof tapeLibrary>>;
beforeAll(async () => {
  lib = await tapeLibrary();
});

/** A reader without event fields: every value comes back as JSON.parse would build it. */
function plainReader(): TapeReader {
  const r = newTapeReader(lib);
  if (!r) throw new Error("the shim's JSON reader did not load (build/libinferscope.so)");
  return r;
}

/** The values of `text` (`v, v, …`) through the native reader, or "refused". */
function native(text: string | Uint8Array, r = plainReader()): unknown[] | "refused" {
  const bytes = typeof text === "string" ? new TextEncoder().encode(text) : text;
  const out: unknown[] = [];
  return r.read(bytes, 0, bytes.length, (v) => out.push(v)) ? out : "refused";
}

function parsed(text: string): unknown[] {
  return JSON.parse(`[${text}]`) as unknown[];
}

describe("values: what JSON.parse gives", () => {
  test("objects, arrays, strings, literals, in shapes and not", () => {
    const text = `{"a":1,"b":[true,false,null],"c":{"d":"x","e":[]}},{"a":2,"b":[],"c":{"d":"y","e":[1,[2,[3]]]}},[],{},"s",-0,0.5`;
    const got = native(text);
    expect(got).toStrictEqual(parsed(text));
    expect(Object.is((got as unknown[])[5], -0)).toBe(true);
  });

  test("a duplicate key keeps the last value in the first one's place; __proto__ is an own property", () => {
    const text = `{"a":1,"b":2,"a":3},{"__proto__":{"x":1},"y":2},{"__proto__":5}`;
    const got = native(text) as Record<string, unknown>[];
    const want = parsed(text) as Record<string, unknown>[];
    expect(got).toStrictEqual(want);
    expect(Object.keys(got[0]!)).toEqual(["a", "b"]);
    expect(Object.getPrototypeOf(got[1]!)).toBe(Object.prototype);
    expect(Object.keys(got[1]!)).toEqual(["__proto__", "y"]);
    expect(Object.keys(got[2]!)).toEqual(["__proto__"]);
  });

  test("escapes, surrogates (lone ones too), non-ASCII and invalid UTF-8 as JSON.parse decodes them", () => {
    // (non-ASCII outside String.raw: Bun writes it as \u escapes into a raw string's text)
    const text = `${String.raw`"a\"b\\c\/d\b\f\n\r\t","\u0000\u001f\u00e9\u20ac","\ud83d\ude00","\ud800","\udc00x","k\u0065y"`},"é€😀"`;
    expect(native(text)).toStrictEqual(parsed(text));
    expect(native(`{"k\\u0065y":1,"key":2}`)).toStrictEqual(parsed(`{"k\\u0065y":1,"key":2}`));
    // invalid UTF-8 inside a string: U+FFFD, as the decoder before JSON.parse gives
    const bad = new Uint8Array([0x22, 0x61, 0xff, 0xc3, 0x22, 0x2c, 0x22, 0xe2, 0x82, 0x22]);
    expect(native(bad)).toStrictEqual(JSON.parse(`[${Buffer.from(bad).toString("utf8")}]`));
  });

  test("numbers: the same double for 20 000 random decimals, and the edge cases", () => {
    const edge = ["0", "-0", "1", "-1", "0.1", "0.3", "1e22", "1e23", "9007199254740992", "9007199254740993", "12345678901234567890", "4492805493500.459", "2440.072", "1.5e-7", "1e-400", "1e400", "-1e400", "2.2250738585072011e-308", "1.7976931348623157e308", "0.000001", "123456789012345678e-10", "1E5", "1e+5", "1.0", "100.000"];
    let rand = 12345;
    const next = () => ((rand = (Math.imul(rand, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const nums = [...edge];
    for (let i = 0; i < 20_000; i++) {
      const digits = String(Math.floor(next() * 1e17)).slice(0, 1 + Math.floor(next() * 17));
      const point = Math.floor(next() * (digits.length + 1));
      let s = point === digits.length ? digits : `${digits.slice(0, point) || "0"}.${digits.slice(point)}`;
      if (next() < 0.3) s += `e${Math.floor(next() * 60) - 30}`;
      if (next() < 0.5) s = `-${s}`;
      nums.push(s.replace(/^(-?)0+(\d)/, "$1$2"));
    }
    const text = nums.join(",");
    const got = native(text) as number[];
    const want = parsed(text) as number[];
    const wrong = got.map((v, i) => (Object.is(v, want[i]) ? null : `${nums[i]}: ${v} ≠ ${want[i]}`)).filter((x) => x);
    expect(wrong).toEqual([]);
    expect(got.length).toBe(nums.length);
  });

  test("what JSON.parse rejects is refused, never read", () => {
    const bad = [
      "{", "}", "[1,]", "[,1]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "{'a':1}", "01", "-", "+1", "1.", ".5", "1e", "1e+", "NaN", "Infinity", "tru", "nul", "truex", "1x",
      "\"a\nb\"", "\"a\tb\"", "\"\\x\"", "\"\\u12\"", "\"\\u12G4\"", "\"abc", "1 2", "{\"a\":1}{\"b\":2}", "{\"a\":1},", ",{\"a\":1}", "[1]]", "\u00a0{}", "{\"a\":1}\u0000",
    ];
    for (const text of bad) {
      expect(() => JSON.parse(`[${text}]`)).toThrow();
      expect({ text, got: native(text) }).toEqual({ text, got: "refused" });
    }
  });

  test("nesting deeper than it takes is refused (JSON.parse reads it)", () => {
    const deep = `${"[".repeat(100)}1${"]".repeat(100)}`;
    expect(native(deep)).toBe("refused");
    expect(native(`${"[".repeat(40)}1${"]".repeat(40)}`)).toStrictEqual(parsed(`${"[".repeat(40)}1${"]".repeat(40)}`));
  });

  test("a refused batch teaches the reader nothing: the strings of the next batch still read", () => {
    const r = plainReader();
    expect(native(`{"first":"alpha"},{"broken"`, r)).toBe("refused");
    expect(native(`{"first":"alpha"},"alpha",{"second":"beta","first":1}`, r)).toStrictEqual(parsed(`{"first":"alpha"},"alpha",{"second":"beta","first":1}`));
    expect(native(`"beta",{"first":"alpha","second":"beta"}`, r)).toStrictEqual(parsed(`"beta",{"first":"alpha","second":"beta"}`));
  });

  /** Parse `next` on C's thread while `now` is walked, then collect it: the values of both. */
  function overlapped(r: TapeReader, now: Uint8Array, next: Uint8Array): [unknown[], unknown[]] {
    const a: unknown[] = [];
    const b: unknown[] = [];
    const n = r.parse(now, 0, now.length);
    r.prefetch(next, 0, next.length);
    r.walk(n, (v) => a.push(v));
    const m = r.parse(next, 0, next.length);
    expect(m).toBeGreaterThan(0);
    r.walk(m, (v) => b.push(v));
    return [a, b];
  }
  const utf8 = (t: string) => new TextEncoder().encode(t);

  test("a batch parsed on C's thread while the one before is walked: the same values, new shapes and strings included", () => {
    const r = plainReader();
    // the first batch's shape is built (its keys fetched from C) while the second one is parsed
    const one = `{"k1":"a","k2":[1,2]},{"k1":"b","k2":[]}`;
    const two = `{"k3":"c","k1":"a"},"b",{"k2":"fresh","k4":{"k1":"c"}}`;
    const [a, b] = overlapped(r, utf8(one), utf8(two));
    expect(a).toStrictEqual(parsed(one));
    expect(b).toStrictEqual(parsed(two));
    // and the strings it learnt stay known to the next batch
    expect(native(`"fresh",{"k3":"fresh"}`, r)).toStrictEqual(parsed(`"fresh",{"k3":"fresh"}`));
  });

  test("a batch parsed ahead and never collected (another cut was taken) teaches the reader nothing", () => {
    const r = plainReader();
    const first = utf8(`{"a":"x"}`);
    r.walk(r.parse(first, 0, first.length), () => {});
    // parsed ahead: "only-ahead" and shape {"b","c"} are new there; then a different range is parsed
    const ahead = utf8(`{"b":"only-ahead","c":1},{"b":"y","c":2}`);
    r.prefetch(ahead, 0, ahead.length);
    const other = utf8(`{"b":"only-ahead","c":3},"only-ahead"`);
    expect(native(other, r)).toStrictEqual(parsed(`{"b":"only-ahead","c":3},"only-ahead"`));
    // settle() forgets one in flight the same way
    r.prefetch(ahead, 0, ahead.length);
    r.settle();
    expect(native(`{"z":"only-ahead"}`, r)).toStrictEqual(parsed(`{"z":"only-ahead"}`));
    r.close();
  });

  test("a tape too small for a batch grows; long strings and many strings stay exact", () => {
    const long = "k".repeat(20_000);
    const many = Array.from({ length: 30_000 }, (_, i) => `{"n${i % 700}":"v${i}","x":[${i},"${long.slice(0, i % 50)}"]}`).join(",");
    const text = `"${long}",[${"0,".repeat(300_000)}0],${many}`;
    expect(native(text)).toStrictEqual(parsed(text));
  });
});

const FIXTURE_FILES = [
  "kineto/cudagraph.kineto.json.gz",
  "kineto/llama_tiny_generate.kineto.json.gz",
  "kineto/pinned_nonblocking.kineto.json.gz",
  "kineto/sync_stall.kineto.json.gz",
  "kineto/vit_fp16.kineto.json.gz",
  "torch_cpu/cnn.kineto.json.gz",
  "torch_cpu/decoder.kineto.json.gz",
  "torch_cpu/encoder.kineto.json.gz",
  "torch_cpu/encoder_script.kineto.json.gz",
  "diff/normalize_loop.inferscope.json.gz",
  "diff/normalize_numpy.inferscope.json.gz",
  "handmade/handmade_gpu_bound_bf16.kineto.json.gz",
];

test("an event over 16 MB goes to JSON.parse, and reads the same", async () => {
  const huge = `{"ph":"X","cat":"cpu_op","name":"${"n".repeat(17 << 20)}","ts":1,"dur":2,"pid":1,"tid":1}`;
  expect(native(huge)).toBe("refused");
  const doc = new TextEncoder().encode(`{"traceEvents":[{"ph":"X","cat":"cpu_op","name":"a","ts":0,"dur":1,"pid":1,"tid":1},${huge}]}`);
  const r = await bothWays(doc, "huge.json");
  expect(typeof r.native).toBe("object");
  expect(r.native).toStrictEqual(r.js);
  expect((r.native as { spans: { name: string }[] }).spans[1]!.name.length).toBe(17 << 20);
});

describe("traces: the same model as JSON.parse gives", () => {
  for (const file of FIXTURE_FILES) {
    test(file, async () => {
      const bytes = gunzipSync(readFileSync(join(ROOT, "test/fixtures", file)));
      const { native: n, js, reader } = await bothWays(bytes, file);
      expect(typeof n).toBe("object");
      expect(n).toStrictEqual(js);
      // the native reader did read it, batch by batch
      expect(reader.taken).toBeGreaterThan(0);
      expect(reader.refused).toBe(0);
    });
  }

  test("parseTrace gives the same trace with either reader", () => {
    const text = readFileSync(join(ROOT, "test/fixtures/kineto/sync_stall.kineto.json.gz"));
    const bytes = gunzipSync(text);
    expect(parseTrace(bytes, "t", "native")).toStrictEqual(parseTrace(bytes, "t", "js"));
  });

  test("mutated traces (the fuzz test's mutations): the same model or the same message", async () => {
    const bases = await loadBases();
    const diffs: string[] = [];
    let ok = 0;
    for (let seed = 1; seed <= 400; seed++) {
      const m = mutate(bases, seed);
      const r = await bothWays(m.bytes, "case.json");
      if (typeof r.native === "object" && typeof r.js === "object") ok++;
      const problem = parityProblem(r);
      if (problem) diffs.push(`seed ${seed} (${m.base}: ${m.ops.join("; ")}): ${problem}`);
    }
    expect(diffs).toEqual([]);
    expect(ok).toBeGreaterThan(200);
  });
});
