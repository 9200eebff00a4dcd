// The report formats: one list for the config key, `analyze --format`, `run --report` and the
// renderer. (A module of its own: the renderer itself loads the templates, which the commands
// only import once they render.)
export const REPORT_FORMATS = ["md", "html", "json"] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** A report path's extension → its format (`run --report PATH`). */
export const REPORT_EXTENSIONS: Readonly<Record<string, ReportFormat>> = { ".md": "md", ".markdown": "md", ".html": "html", ".htm": "html", ".json": "json" };

/** "md, html or json", for messages. */
export function orList(items: readonly string[]): string {
  return items.length <= 1 ? items.join("") : `${items.slice(0, -1).join(", ")} or ${items[items.length - 1]}`;
}
