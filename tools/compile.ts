// `bun build --compile` of src/main.ts into one executable for a target, with that target's C
// shim embedded in place of build/libinferscope.so (src/collect/extract.ts imports that path).
// Bun fetches the target's runtime from the npm registry on first use (@oven/bun-linux-aarch64)
// and keeps it in its install cache.
import type { BunPlugin } from "bun";
import type { Target } from "./targets.ts";

function embedShim(shimPath: string): BunPlugin {
  return {
    name: "inferscope-shim-for-target",
    setup(build) {
      build.onResolve({ filter: /\/build\/libinferscope\.so$/ }, () => ({ path: shimPath }));
    },
  };
}

/** `opts` only for bench/binary-size.ts: what the size would be without bytecode or minifying. */
export async function compileBinary(root: string, target: Target, shimPath: string, outfile: string, opts = { bytecode: true, minify: true }): Promise<string> {
  const result = await Bun.build({
    entrypoints: [`${root}/src/main.ts`],
    compile: { target: target.bunTarget, outfile, autoloadDotenv: false, autoloadBunfig: false },
    bytecode: opts.bytecode,
    format: "esm",
    minify: opts.minify,
    plugins: [embedShim(shimPath)],
  });
  if (!result.success) {
    for (const log of result.logs) console.error(log);
    throw new Error(`build: compiling ${outfile} for ${target.name} failed`);
  }
  return outfile;
}
