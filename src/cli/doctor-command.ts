// `inferscope doctor`: what InferScope can use on this machine (shim, clock, GPUs, Python).
import { defineCommand } from "citty";
import { extractRuntime } from "../collect/extract.ts";
import { scanDevices } from "../collect/devices.ts";
import { Native } from "../collect/native.ts";
import { resolveConfig } from "../config/resolve.ts";
import { writeStdout } from "./output.ts";

function pythonVersion(python: string): string | null {
  try {
    const r = Bun.spawnSync([python, "-c", "import sys; print(sys.version.split()[0])"], { stdout: "pipe", stderr: "pipe" });
    return r.exitCode === 0 ? r.stdout.toString().trim() : null;
  } catch {
    return null;
  }
}

export const doctorCommand = defineCommand({
  meta: { name: "doctor", description: "Check what InferScope can use here: shim, clock, GPUs, Python" },
  args: { json: { type: "boolean", description: "Print JSON" } },
  async run({ args }) {
    const { config } = resolveConfig();
    const rt = await extractRuntime();
    const native = new Native(rt.shimPath);
    const scan = scanDevices(native);
    const info = {
      runtimeDir: rt.dir,
      shimVersion: native.version(),
      monotonicNs: native.monotonicNs(),
      gpus: scan.devices,
      gpuReason: scan.reason ?? null,
      python: config.python,
      pythonVersion: pythonVersion(config.python),
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
        `python    ${info.python} ${info.pythonVersion ?? "(not found: set --python or INFERSCOPE_PYTHON)"}`,
        "",
      ].join("\n"),
    );
  },
});
