// InferScope's version, from package.json (embedded in the compiled binary).
import pkg from "../package.json" with { type: "json" };

export const VERSION: string = pkg.version;
