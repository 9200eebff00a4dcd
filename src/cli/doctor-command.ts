// `inferscope doctor`: what InferScope can use on this machine (shim, clock, GPUs, Python).
import { defineCommand } from "citty";
import { extractRuntime } from "../collect/extract.ts";
import { scanDevices } from "../collect/devices.ts";
import { Native } from "../collect/native.ts";
import { resolveConfig } from "../config/resolve.ts";
import { checkPython } from "../collect/python-check.ts";
import type { PythonLauncher } from "../trace/model.ts";
import { writeStdout } from "./output.ts";

/** The interpreter as `run` would check it; what is wrong with it instead of a version. */
async function pythonInfo(python: string): Promise<{ version: string | null; launcher: PythonLauncher | null; problem: string | null }> {
  try {
    const p = await checkPython(python);
    return { version: p.version.join("."), launcher: p.launcher, problem: null };
  } catch (e) {
    return { version: null, launcher: null, problem: (e as Error).message };
  }
}

function launcherNote(l: PythonLauncher | null): string {
  if (!l) return "";
  const direct = l.direct_start_ms === null ? "" : `, ${Math.round(l.direct_start_ms)} ms directly`;
  return ` (a launcher script, ${l.command}, in front of ${l.executable}: ${Math.round(l.start_ms)} ms to start Python through it${direct})`;
}

export const doctorCommand = defineCommand({
  meta: { name: "doctor", description: "Check what InferScope can use here: shim, clock, GPUs, Python" },
  args: { json: { type: "boolean", description: "Print JSON" } },
  async run({ args }) {
    const { config } = resolveConfig();
    const rt = await extractRuntime();
    const native = new Native(rt.shimPath);
    const scan = scanDevices(native);
    const py = await pythonInfo(config.python);
    const info = {
      runtimeDir: rt.dir,
      shimVersion: native.version(),
      monotonicNs: native.monotonicNs(),
      gpus: scan.devices,
      gpuReason: scan.reason ?? null,
      python: config.python,
      pythonVersion: py.version,
      pythonLauncher: py.launcher,
      pythonProblem: py.problem,
    };
    if (args.json) {
      return writeStdout(JSON.stringify(info, null, 2) + "\n");
    }
    const gpus = scan.devices.length ? scan.devices.map((d) => `${d.index}: ${d.name}`).join("; ") : `none (${scan.reason})`;
    return writeStdout(
      [
        `runtime   ${info.runtimeDir}`,
        `shim      v${info.shimVersion}, CLOCK_MONOTONIC ${info.monotonicNs} ns`,
        `gpus      ${gpus}`,
        `python    ${info.python} ${info.pythonVersion !== null ? `${info.pythonVersion}${launcherNote(py.launcher)}` : `(${py.problem})`}`,
        "",
      ].join("\n"),
    );
  },
});
