import { expect, setDefaultTimeout, test } from "bun:test";
import { FunctionIds, TORCH_OP } from "../../src/core/function-ids.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

test("one dense id per (name, file, line); a torch op is not the Python function of the same name", () => {
  const ids = new FunctionIds();
  expect(ids.id("f", "a.py", 1)).toBe(0);
  expect(ids.id("f", "a.py", 2)).toBe(1);
  expect(ids.id("f", "b.py", 1)).toBe(2);
  expect(ids.id("f", "a.py", 1)).toBe(0);
  expect(ids.id("aten::mm", undefined, undefined)).toBe(3);
  expect(ids.id("aten::mm", TORCH_OP, undefined)).toBe(4);
  expect(ids.id("aten::mm", "", -1)).toBe(3); // missing file and line read as "" and -1
  expect(ids.size).toBe(5);
});
