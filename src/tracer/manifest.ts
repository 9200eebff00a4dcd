// The embedded Python package: every file of src/tracer/inferscope as text, so the compiled
// binary carries it (extract.ts writes them under <runtime>/python/). Add new tracer files here.
import init from "./inferscope/__init__.py" with { type: "text" };
import tracer from "./inferscope/_tracer.py" with { type: "text" };
import backends from "./inferscope/_backends.py" with { type: "text" };
import guards from "./inferscope/_guards.py" with { type: "text" };
import cuda from "./inferscope/_cuda.py" with { type: "text" };
import window from "./inferscope/_window.py" with { type: "text" };
import modules from "./inferscope/_modules.py" with { type: "text" };
import torchOps from "./inferscope/_torch_ops.py" with { type: "text" };
import imports from "./inferscope/_imports.py" with { type: "text" };
import waits from "./inferscope/_waits.py" with { type: "text" };
import quiet from "./inferscope/_quiet.py" with { type: "text" };
import shapes from "./inferscope/_shapes.py" with { type: "text" };
import boot from "./inferscope/_boot/sitecustomize.py" with { type: "text" };

export const TRACER_FILES: Record<string, string> = {
  "inferscope/__init__.py": init,
  "inferscope/_tracer.py": tracer,
  "inferscope/_backends.py": backends,
  "inferscope/_guards.py": guards,
  "inferscope/_cuda.py": cuda,
  "inferscope/_window.py": window,
  "inferscope/_modules.py": modules,
  "inferscope/_torch_ops.py": torchOps,
  "inferscope/_imports.py": imports,
  "inferscope/_waits.py": waits,
  "inferscope/_quiet.py": quiet,
  "inferscope/_shapes.py": shapes,
  "inferscope/_boot/sitecustomize.py": boot,
};

/** Relative to the runtime's python dir: prepended to PYTHONPATH only for `inferscope run`
 * (its sitecustomize starts the recorder, then removes itself and chains to the user's). */
export const BOOT_DIR = "inferscope/_boot";
