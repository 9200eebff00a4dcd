// The report formats: one list for the config key, `analyze --format`, `run --report` and the
// renderer. (A module of its own: the renderer itself loads the templates, which the commands
// only import once they render.) `folded` and `speedscope` are the call tree's stacks for
// flame-graph tools, not reports: `run` writes them only when asked.
export const REPORT_FORMATS = ["md", "html", "json", "folded", "speedscope"] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** What `run` writes unless `formats` says otherwise. */
export const DEFAULT_FORMATS: readonly ReportFormat[] = ["md", "html", "json"];

/** The file `run` writes for each format, in the run directory. */
export const FORMAT_FILES: Readonly<Record<ReportFormat, string>> = {
  md: "report.md",
  html: "report.html",
  json: "report.json",
  folded: "stacks.folded",
  speedscope: "stacks.speedscope.json",
};

/** A report path's extension → its format (`run --report PATH`, `-o`); the longest matching suffix wins (cli/output-file.ts). */
export const REPORT_EXTENSIONS: Readonly<Record<string, ReportFormat>> = {
  ".md": "md",
  ".markdown": "md",
  ".html": "html",
  ".htm": "html",
  ".json": "json",
  ".folded": "folded",
  ".speedscope.json": "speedscope",
};

/** "md, html or json", for messages. */
export function orList(items: readonly string[]): string {
  return items.length <= 1 ? items.join("") : `${items.slice(0, -1).join(", ")} or ${items[items.length - 1]}`;
}
