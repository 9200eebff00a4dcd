import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { parseFlatYaml, YamlError } from "../../src/config/yaml.ts";

setDefaultTimeout(60_000); // per file: see test/preload.ts

function errorOf(text: string): { line: number; message: string } {
  try {
    parseFlatYaml(text);
  } catch (e) {
    if (e instanceof YamlError) return { line: e.line, message: e.message };
    throw e;
  }
  throw new Error("no error");
}

describe("flat YAML", () => {
  test("scalars, quotes, comments and both list styles, with their lines", () => {
    const text = "---\n# comment\ntraceSizeMb: 200 # trailing\nbuffer: 'wrap'\npython: \"/opt/py # not a comment\"\nformats: [md, json]\noutputDir:\n  - a\n  - b\nenable: false\ncuptiPath:\n";
    expect(parseFlatYaml(text)).toEqual([
      { key: "traceSizeMb", value: 200, line: 3 },
      { key: "buffer", value: "wrap", line: 4 },
      { key: "python", value: "/opt/py # not a comment", line: 5 },
      { key: "formats", value: ["md", "json"], line: 6 },
      { key: "outputDir", value: ["a", "b"], line: 7 },
      { key: "enable", value: false, line: 10 },
      { key: "cuptiPath", value: null, line: 11 },
    ]);
  });
  test("errors name the line", () => {
    expect(errorOf("a: 1\n  b: 2\n")).toEqual({ line: 2, message: "unexpected indentation (keys are top-level: `key: value`)" });
    expect(errorOf("a: 1\n\njust words\n")).toEqual({ line: 3, message: 'expected `key: value`, found "just words"' });
    expect(errorOf("formats: [md, json\n")).toEqual({ line: 1, message: "unclosed [ in a list" });
    expect(errorOf("python: \"abc\n")).toEqual({ line: 1, message: "unterminated double quote" });
    expect(errorOf("a: 1\na: 2\n")).toEqual({ line: 2, message: 'duplicate key "a" (first on line 1)' });
    expect(errorOf("- x\n")).toEqual({ line: 1, message: "list item without a key above it" });
    expect(errorOf("a:\n\tb\n")).toEqual({ line: 2, message: "tab used for indentation (YAML needs spaces)" });
  });
});
