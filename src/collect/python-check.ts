// Before a script runs: is the interpreter really Python, and one the tracer supports? Without
// this `--python /bin/echo` "ran" and wrote an empty report, and Python 2.7 / 3.6 ran with
// contradictory warnings. The probe prints a marker line that no other program would.
import { fail } from "../errors.ts";

/** The oldest Python InferScope supports: the tracer is tested on 3.8–3.13 (README). */
export const PYTHON_MIN: readonly [number, number] = [3, 8];
/** The newest Python the tracer was tested with; newer ones run, with a note. */
export const PYTHON_TESTED_MAX: readonly [number, number] = [3, 13];

export const SUPPORTED_PYTHON = `Python ${PYTHON_MIN.join(".")} or newer (tested up to ${PYTHON_TESTED_MAX.join(".")})`;

// Valid Python 2 and 3, so an old interpreter reports its version instead of a syntax error.
const PROBE = "import sys; sys.stdout.write('\\ninferscope-python %d.%d.%d\\n' % tuple(sys.version_info[:3]))";
const MARKER = /^inferscope-python (\d+)\.(\d+)\.(\d+)$/m;

export interface PythonInfo {
  version: [number, number, number];
}

const FIX = "pass --python PATH (or set INFERSCOPE_PYTHON, or python: in .inferscope.yaml)";

/** Output of the probe → the version, or null when it did not come from Python. */
export function parseProbe(stdout: string): [number, number, number] | null {
  const m = MARKER.exec(stdout);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
}

/**
 * Starts `python` once with a probe (run concurrently with the other start-up work: it costs one
 * interpreter start). Throws a UserError (exit 2) for a missing interpreter, a program that is
 * not Python, or a Python older than PYTHON_MIN.
 */
export async function checkPython(python: string, env: Record<string, string | undefined> = process.env): Promise<PythonInfo> {
  let proc;
  try {
    proc = Bun.spawn({ cmd: [python, "-c", PROBE], env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") fail(`Python interpreter "${python}" not found; ${FIX}`);
    if (code === "EACCES") fail(`Python interpreter "${python}" is not executable; ${FIX}`);
    fail(`cannot start the Python interpreter "${python}" (${code ?? (e as Error).message}); ${FIX}`);
  }
  const [out, err, status] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
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
  return { version };
}
