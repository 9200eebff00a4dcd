// examples/quickstart.py (the README's first command) runs under `inferscope run` and shows its
// scopes, marks and both threads.
import { expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { ROOT } from "../helpers.ts";
import { inferscopeRun, instants, spans } from "./helpers.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

test("examples/quickstart.py", () => {
  const r = inferscopeRun([join(ROOT, "examples/quickstart.py"), "--steps", "5"], { cwd: ROOT });
  expect(r.code).toBe(0);
  expect(r.stdout).toBe("processed 5 steps\n");
  const scopes = spans(r.trace!, "scope");
  expect(scopes.filter((e) => e.name === "step").map((e) => e.args!.step)).toEqual([0, 1, 2, 3, 4]);
  expect(scopes.filter((e) => e.name === "forward")).toHaveLength(5);
  expect(scopes.filter((e) => e.name === "load")).toHaveLength(1);
  expect(instants(r.trace!).filter((e) => e.name === "progress")).toHaveLength(1);
  expect(new Set(spans(r.trace!, "python").filter((e) => e.name === "tokenize").map((e) => e.tid)).size).toBe(1);
});
