// Interval arithmetic against brute force on random intervals (a seeded generator: reproducible).
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { UnionBuilder, UnionMeasure, gapsOf, mergeUnions, percentile, unionOf } from "../../src/core/intervals.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function randomIntervals(r: () => number, n: number, span: number): [number, number][] {
  return Array.from({ length: n }, () => {
    const a = Math.floor(r() * span);
    return [a, a + Math.floor(r() * (span / 20))] as [number, number];
  });
}

/** Covered length of [a, b] by brute force over unit cells. */
function brute(iv: [number, number][], a: number, b: number): number {
  let n = 0;
  for (let x = a; x < b; x++) if (iv.some(([s, e]) => s <= x && x < e)) n++;
  return n;
}

describe("intervals", () => {
  test("union, covered() and the cursor agree with brute force", () => {
    const r = rng(7);
    for (let round = 0; round < 20; round++) {
      const iv = randomIntervals(r, 30, 1000);
      const u = unionOf(
        iv.map((x) => x[0]),
        iv.map((x) => x[1]),
      );
      expect(u.measure).toBe(brute(iv, 0, 1100));
      const queries = Array.from({ length: 40 }, () => {
        const a = Math.floor(r() * 1100);
        return [a, a + Math.floor(r() * 300)] as [number, number];
      }).sort((x, y) => x[0] - y[0]);
      const cur = u.cursor();
      for (const [a, b] of queries) {
        const want = brute(iv, a, b);
        expect(u.covered(a, b)).toBe(want);
        expect(cur(a, b)).toBe(want);
      }
    }
  });

  test("UnionBuilder on sorted input and mergeUnions equal unionOf", () => {
    const r = rng(11);
    const a = randomIntervals(r, 50, 5000).sort((x, y) => x[0] - y[0]);
    const b = randomIntervals(r, 50, 5000).sort((x, y) => x[0] - y[0]);
    const build = (iv: [number, number][]) => {
      const ub = new UnionBuilder();
      for (const [s, e] of iv) ub.add(s, e);
      return ub.finish();
    };
    const all = [...a, ...b];
    const ref = unionOf(
      all.map((x) => x[0]),
      all.map((x) => x[1]),
    );
    const m = mergeUnions([build(a), build(b)]);
    expect([...m.starts]).toEqual([...ref.starts]);
    expect([...m.ends]).toEqual([...ref.ends]);
  });

  test("UnionMeasure gives the UnionBuilder's measure, to the last bit, without keeping the intervals", () => {
    const r = rng(5);
    // ns-scale times (sums of doubles that do not fit 2^53 exactly would round differently if the order changed)
    const iv = randomIntervals(r, 400, 5000)
      .map(([s, e]) => [4.4e15 + s * 997.3, 4.4e15 + e * 997.3] as [number, number])
      .sort((x, y) => x[0] - y[0]);
    iv.push([iv.at(-1)![0], iv.at(-1)![0] - 5]); // an end before its start counts as empty
    const ub = new UnionBuilder();
    const um = new UnionMeasure();
    for (const [s, e] of iv) {
      ub.add(s, e);
      um.add(s, e);
    }
    expect(um.measure).toBe(ub.finish().measure);
    expect(new UnionMeasure().measure).toBe(0);
  });

  test("gaps of a union inside a window", () => {
    const u = unionOf([10, 30, 35], [20, 40, 50]);
    expect(gapsOf(u, 0, 60)).toEqual({ starts: [0, 20, 50], ends: [10, 30, 60] });
  });

  test("nearest-rank percentiles", () => {
    const xs = Float64Array.from({ length: 10 }, (_, i) => i + 1);
    expect([50, 90, 95, 99, 100].map((p) => percentile(xs, p))).toEqual([5, 9, 10, 10, 10]);
    expect(percentile(new Float64Array([42]), 99)).toBe(42);
  });
});
