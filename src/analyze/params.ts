// The tunable thresholds of the built-in rules. Each rule file declares its own (`params`), with a
// default, a unit and one line of documentation; a rules file (`thresholds:`) overrides them by
// their documented name `rule_id.param`, and `inferscope rules list` prints them.

export interface ParamDef {
  default: number;
  /** share (0–1), %, kernels, bytes, MB… */
  unit: string;
  doc: string;
  min?: number;
  max?: number;
  integer?: boolean;
}

export type ParamDefs = Record<string, ParamDef>;

/** The values a rule evaluates with: its defaults, overridden by name. */
export type Params<D extends ParamDefs> = { [K in keyof D]: number };

export function resolveParams<D extends ParamDefs>(defs: D, ruleId: string, overrides?: ReadonlyMap<string, number>): Params<D> {
  const out = {} as Record<string, number>;
  for (const [k, d] of Object.entries(defs)) out[k] = overrides?.get(`${ruleId}.${k}`) ?? d.default;
  return out as Params<D>;
}

/** Defaults only (what tests and descriptions use). */
export function defaults<D extends ParamDefs>(defs: D): Params<D> {
  return resolveParams(defs, "");
}
