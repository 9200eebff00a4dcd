// The built-in rules as a rules file sees them: their ids and their thresholds (name, default,
// unit, documentation), from the rule files themselves.
import { RULES } from "../analyze/rules/index.ts";
import type { ParamDefs } from "../analyze/params.ts";
import type { Builtins, ParamSpec } from "./file.ts";

export function builtinParams(): ParamSpec[] {
  const out: ParamSpec[] = [];
  for (const rule of RULES) {
    const defs: ParamDefs = rule.params;
    for (const [k, d] of Object.entries(defs)) {
      const spec: ParamSpec = { name: `${rule.id}.${k}`, rule: rule.id, default: d.default, unit: d.unit, doc: d.doc, min: d.min ?? 0, max: d.max ?? Number.MAX_SAFE_INTEGER };
      if (d.integer) spec.integer = true;
      out.push(spec);
    }
  }
  return out;
}

export function builtins(): Builtins {
  return { ruleIds: RULES.map((r) => r.id), params: builtinParams() };
}
