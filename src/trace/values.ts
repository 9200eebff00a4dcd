// Values read from a trace file's JSON, which may hold anything: a number is a finite number, a
// string a string; anything else reads as absent.

export function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

export function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/** An id or count: a whole number ≥ 0 that a double holds exactly; anything else reads as absent. */
export function wholeNum(v: unknown): number | undefined {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
}

/**
 * Times beyond these are not times (a corrupted or hand-edited file): |ts| up to 1e17 µs covers
 * microseconds since 1970 for 3,000 years; a duration up to 1e12 µs is 11.6 days. An event
 * outside them is ignored (and counted) rather than stretching every figure to Infinity.
 */
export const MAX_TS_US = 1e17;
export const MAX_DUR_US = 1e12;

/** A value as a warning names it: missing, null, "B" (quoted, cut short), 17, an object, an array. */
export function describeValue(v: unknown): string {
  if (v === undefined) return "missing";
  if (v === null) return "null";
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 39)}…` : v);
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return Array.isArray(v) ? "an array" : "an object";
}
