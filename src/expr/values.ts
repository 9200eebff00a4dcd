// Plain JSON-shaped figures → CEL values, typed by the catalogue: ints become BigInt, objects
// become instances of the catalogue type's class, maps become Maps; null or missing figures stay
// absent (CEL `has()` is false), never 0. Lists and maps are cut at MAX_LEN elements and strings
// at MAX_LEN characters, so the cost bound in src/expr/cost.ts holds for any trace.
import type { Catalogue, FieldType, ObjectType } from "./catalogue.ts";

/** Longest list, map or string an expression can see. */
export const MAX_LEN = 1000;
export const MAX_STRING = 4096;

/** One JavaScript class per catalogue type (cel-js tells object types apart by constructor). */
export type TypeClasses = Map<string, new (init: Record<string, unknown>) => object>;

export function typeClasses(cat: Catalogue): TypeClasses {
  const out: TypeClasses = new Map();
  for (const t of cat.types) {
    // A named class per type, so error messages and `type(x)` read well.
    const cls = {
      [t.name]: class {
        constructor(init: Record<string, unknown>) {
          Object.assign(this, init);
        }
      },
    }[t.name]!;
    out.set(t.name, cls);
  }
  return out;
}

function convert(cat: Catalogue, classes: TypeClasses, type: FieldType, v: unknown): unknown {
  if (v === null || v === undefined) return undefined;
  if (typeof type === "string") {
    switch (type) {
      case "double":
        return typeof v === "number" && Number.isFinite(v) ? v : undefined;
      case "int":
        return typeof v === "number" && Number.isFinite(v) ? BigInt(Math.round(v)) : typeof v === "bigint" ? v : undefined;
      case "bool":
        return typeof v === "boolean" ? v : undefined;
      case "string":
        return typeof v === "string" ? (v.length > MAX_STRING ? v.slice(0, MAX_STRING) : v) : undefined;
    }
  }
  if ("object" in type) {
    if (typeof v !== "object") return undefined;
    return objectValue(cat, classes, cat.types.find((t) => t.name === type.object)!, v as Record<string, unknown>);
  }
  if ("list" in type) {
    if (!Array.isArray(v)) return undefined;
    const out: unknown[] = [];
    for (const x of v.slice(0, MAX_LEN)) {
      const c = convert(cat, classes, type.list, x);
      if (c !== undefined) out.push(c);
    }
    return out;
  }
  const entries = v instanceof Map ? [...v] : Object.entries(v as Record<string, unknown>);
  const out = new Map<string, unknown>();
  for (const [k, x] of entries.slice(0, MAX_LEN)) {
    const c = convert(cat, classes, type.map, x);
    if (c !== undefined) out.set(String(k), c);
  }
  return out;
}

function objectValue(cat: Catalogue, classes: TypeClasses, t: ObjectType, v: Record<string, unknown>): object {
  const init: Record<string, unknown> = {};
  for (const field of t.fields) {
    const c = convert(cat, classes, field.type, v[field.name]);
    if (c !== undefined) init[field.name] = c;
  }
  return new (classes.get(t.name)!)(init);
}

/**
 * The activation for an expression: every catalogue variable, converted. A top-level object that
 * is missing (no GPU activity: `gpu` is null) is bound empty, so each figure under it is absent
 * and `has(gpu.utilization_pct)` can guard it (CEL's has() needs a field to test).
 */
export function bindValues(cat: Catalogue, classes: TypeClasses, plain: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const v of cat.variables) {
    const c = convert(cat, classes, v.type, plain[v.name]);
    if (c !== undefined) out[v.name] = c;
    else if (typeof v.type === "object" && "object" in v.type) out[v.name] = new (classes.get(v.type.object)!)({});
  }
  return out;
}
