// The typed-array helpers the sweeps over big traces use.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { grown, mapF64 } from "../../src/core/typed-arrays.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

describe("typed arrays", () => {
  test("mapF64 gives what Float64Array.from(xs, f) gives, in order", () => {
    const ops = [{ start: 5, end: 7.5 }, { start: -1, end: 2 }, { start: 3, end: 3 }];
    const durs = mapF64(ops, (o) => o.end - o.start);
    expect(durs).toBeInstanceOf(Float64Array);
    expect([...durs]).toEqual([2.5, 3, 0]);
    expect(mapF64([], (x: number) => x).length).toBe(0);
  });

  test("grown keeps the contents and the type, with room for more", () => {
    const a = new Int32Array([1, 2, 3]);
    const b = grown(a, 8);
    expect(b).toBeInstanceOf(Int32Array);
    expect([...b]).toEqual([1, 2, 3, 0, 0, 0, 0, 0]);
  });
});
