// Golden files: compare with test/report/golden/NAME; write them instead with UPDATE_GOLDEN=1.
import { expect } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const GOLDEN_DIR = join(import.meta.dir, "golden");

export function golden(name: string, actual: string): void {
  const path = join(GOLDEN_DIR, name);
  if (process.env.UPDATE_GOLDEN === "1") {
    mkdirSync(GOLDEN_DIR, { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  if (!existsSync(path)) throw new Error(`golden file ${path} is missing: run the test with UPDATE_GOLDEN=1 to write it`);
  expect(actual).toBe(readFileSync(path, "utf8"));
}
