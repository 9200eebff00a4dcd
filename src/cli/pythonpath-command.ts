// `inferscope pythonpath [--install] [--python PY]`: the `inferscope` package (scope,
// mark_event, is_active: no-ops outside `inferscope run`) in a stable directory,
// $XDG_DATA_HOME/inferscope/python (default ~/.local/share/inferscope/python), the same path for
// every InferScope version, so it can go on PYTHONPATH once. --install also writes an
// inferscope.pth into the interpreter's site-packages (or its user site when that is not
// writable), so plain `python script.py` finds the package with no PYTHONPATH at all. Inside a
// run the run's own copy comes first on the path.
import { defineCommand } from "citty";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { resolveConfig } from "../config/resolve.ts";
import { fail } from "../errors.ts";
import { log } from "../log.ts";
import { TRACER_FILES } from "../tracer/manifest.ts";

export function dataRoot(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_DATA_HOME || join(env.HOME || homedir(), ".local", "share");
  return join(base, "inferscope");
}

/** Writes (or refreshes) the API package under `root`/python; returns that directory. */
export function writeApiPackage(root = dataRoot()): string {
  const dir = join(root, "python");
  const file = join(dir, "inferscope", "__init__.py");
  const text = TRACER_FILES["inferscope/__init__.py"]!;
  if (existsSync(file) && readFileSync(file, "utf8") === text) return dir;
  try {
    mkdirSync(join(dir, "inferscope"), { recursive: true });
    const tmp = `${file}.tmp-${process.pid}`;
    writeFileSync(tmp, text);
    renameSync(tmp, file); // atomic: a concurrent import sees the old file or the new one
  } catch (e) {
    fail(`cannot write the inferscope package to ${dir} (${(e as NodeJS.ErrnoException).code ?? String(e)}); set XDG_DATA_HOME to a writable directory`);
  }
  return dir;
}

/** site-packages of `python` (its purelib), else its user site; where inferscope.pth goes. */
function sitePackages(python: string): { purelib: string; user: string } {
  const r = Bun.spawnSync([python, "-c", "import site, sysconfig, json; print(json.dumps([sysconfig.get_paths()['purelib'], site.getusersitepackages()]))"], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) fail(`${python}: could not ask it for its site-packages (${r.stderr.toString().trim().split("\n").pop() || `exit ${r.exitCode}`}); pass --python PATH`);
  const [purelib, user] = JSON.parse(r.stdout.toString()) as [string, string];
  return { purelib, user };
}

export function installPth(python: string, dir: string): string {
  const { purelib, user } = sitePackages(python);
  for (const target of [purelib, user]) {
    try {
      mkdirSync(target, { recursive: true });
      const pth = join(target, "inferscope.pth");
      writeFileSync(pth, `${dir}\n`);
      return pth;
    } catch {
      // not writable: try the next one
    }
  }
  fail(`cannot write inferscope.pth into ${purelib} or ${user}; put ${dir} on PYTHONPATH instead`);
}

export const pythonpathCommand = defineCommand({
  meta: { name: "pythonpath", description: "Print a stable directory to put on PYTHONPATH so `import inferscope` works outside a run (--install: add it to the interpreter's site-packages)" },
  args: {
    install: { type: "boolean", description: "Also write inferscope.pth into the interpreter's site-packages (or user site)" },
    python: { type: "string", description: "The interpreter for --install (default: config `python`)" },
  },
  async run({ args }) {
    const dir = writeApiPackage();
    if (args.install) {
      const python = typeof args.python === "string" && args.python ? args.python : resolveConfig().config.python;
      const pth = installPth(python, dir);
      log.info(`wrote ${pth}: \`from inferscope import scope, mark_event\` now works in ${python} (no-ops outside inferscope run)`);
    }
    process.stdout.write(`${dir}\n`);
  },
});
