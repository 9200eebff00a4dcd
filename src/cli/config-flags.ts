// citty flags for the configuration keys (kebab-case, e.g. --trace-size-mb), shared by the
// commands, and the way back from parsed args to config Flags.
import type { ArgsDef } from "citty";
import { CONFIG_KEYS, KEYS, type ConfigKey } from "../config/keys.ts";
import { flagName, type Flags } from "../config/resolve.ts";

export function configArgs(keys: readonly ConfigKey[] = CONFIG_KEYS): ArgsDef {
  const args: ArgsDef = {};
  for (const key of keys) {
    const name = flagName(key).slice(2);
    const def = KEYS[key];
    // Booleans are flags (--no-trace); everything else takes a value checked by the schema.
    args[name] =
      typeof def.default === "boolean"
        ? { type: "boolean", description: def.description }
        : { type: "string", description: `${def.description} (${def.expected})` };
  }
  return args;
}

export function flagsFromArgs(args: Record<string, unknown>, keys: readonly ConfigKey[] = CONFIG_KEYS): Flags {
  const flags: Flags = {};
  for (const key of keys) {
    const value = args[flagName(key).slice(2)];
    if (value !== undefined) flags[key] = value;
  }
  return flags;
}
