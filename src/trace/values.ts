// Values read from a trace file's JSON, which may hold anything: a number is a finite number, a
// string a string; anything else reads as absent.

export function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

export function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}
