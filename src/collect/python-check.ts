// Before a script runs: is the interpreter really Python, and one the tracer supports? Without
// this `--python /bin/echo` "ran" and wrote an empty report, and Python 2.7 / 3.6 ran with
// contradictory warnings. The probe prints a marker line that no other program would.
import { fail } from "../errors.ts";
import type { PythonLauncher } from "../trace/model.ts";
import { isScript, resolveCommand, roundMs } from "./python-launcher.ts";

/** The oldest Python InferScope supports: the tracer is tested on 3.8–3.13 (README). */
export const PYTHON_MIN: readonly [number, number] = [3, 8];
/** The newest Python the tracer was tested with; newer ones run, with a note. */
export const PYTHON_TESTED_MAX: readonly [number, number] = [3, 13];

export const SUPPORTED_PYTHON = `Python ${PYTHON_MIN.join(".")} or newer (tested up to ${PYTHON_TESTED_MAX.join(".")})`;

// Valid Python 2 and 3, so an old interpreter reports its version instead of a syntax error.
const PROBE = "import sys; sys.stdout.write('\\ninferscope-python %d.%d.%d %s\\n' % (tuple(sys.version_info[:3]) + (sys.executable or '',)))";
const MARKER = /^inferscope-python (\d+)\.(\d+)\.(\d+)(?: (.*))?$/m;

export interface PythonInfo {
  version: [number, number, number];
  /** When `python` is a launcher script in front of the interpreter (python-launcher.ts). */
  launcher: PythonLauncher | null;
}

const FIX = "pass --python PATH (or set INFERSCOPE_PYTHON, or python: in .inferscope.yaml)";

/** Output of the probe → the version, or null when it did not come from Python. */
export function parseProbe(stdout: string): [number, number, number] | null {
  const m = MARKER.exec(stdout);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
}

/** The interpreter's sys.executable from the probe's output ("" when it did not say). */
export function probeExecutable(stdout: string): string {
  return MARKER.exec(stdout)?.[4]?.trim() ?? "";
}

interface ProbeRun {
  out: string;
  err: string;
  status: number;
  /** Start to exit, ms. */
  ms: number;
}

/** Starts the probe with `python` (throws what Bun.spawn throws: a missing or unrunnable program); resolves when it has exited. */
function startProbe(python: string, env: Record<string, string | undefined>): Promise<ProbeRun> {
  const started = performance.now();
  const proc = Bun.spawn({ cmd: [python, "-c", PROBE], env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  return Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]).then(([out, err, status]) => ({ out, err, status, ms: performance.now() - started }));
}

/**
 * Starts `python` once with a probe (run concurrently with the other start-up work: it costs one
 * interpreter start; a second, of the interpreter itself, when `python` is a launcher script).
 * Throws a UserError (exit 2) for a missing interpreter, a program that is not Python, or a Python
 * older than PYTHON_MIN.
 */
export async function checkPython(python: string, env: Record<string, string | undefined> = process.env): Promise<PythonInfo> {
  let running: Promise<ProbeRun>;
  try {
    running = startProbe(python, env);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") fail(`Python interpreter "${python}" not found; ${FIX}`);
    if (code === "EACCES") fail(`Python interpreter "${python}" is not executable; ${FIX}`);
    fail(`cannot start the Python interpreter "${python}" (${code ?? (e as Error).message}); ${FIX}`);
  }
  const { out, err, status, ms } = await running;
  const version = parseProbe(out);
  if (!version) {
    const last = err.trim().split("\n").pop() ?? "";
    const said = last.length > 120 ? `${last.slice(0, 117)}…` : last;
    fail(`"${python}" is not a Python interpreter (it ${status === 0 ? "ran but did not answer like Python" : `exited with code ${status}${said ? `: ${said}` : ""}`}); ${FIX}`);
  }
  const [major, minor] = version;
  if (major < PYTHON_MIN[0] || (major === PYTHON_MIN[0] && minor < PYTHON_MIN[1])) {
    fail(`"${python}" is Python ${version.join(".")}; InferScope needs ${SUPPORTED_PYTHON}; ${FIX}`);
  }
  return { version, launcher: await findLauncher(python, probeExecutable(out), ms, env) };
}

/**
 * The launcher script `python` is, with what the same probe costs through it and directly; null
 * when `python` is the interpreter (or a link to it).
 */
async function findLauncher(python: string, executable: string, startMs: number, env: Record<string, string | undefined>): Promise<PythonLauncher | null> {
  const command = resolveCommand(python, env);
  if (!command || !executable || !isScript(command)) return null;
  let direct: number | null = null;
  try {
    const p = await startProbe(executable, env);
    if (p.status === 0 && parseProbe(p.out)) direct = roundMs(p.ms);
  } catch {
    // the interpreter cannot start without its launcher: no figure to compare with
  }
  return { command, executable, start_ms: roundMs(startMs), direct_start_ms: direct };
}
