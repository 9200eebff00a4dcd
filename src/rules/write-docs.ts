// `bun run docs:metrics`: writes docs/metrics.md from the catalogue and the rule files.
import { join } from "node:path";
import { metricsMarkdown } from "./listing.ts";

await Bun.write(join(import.meta.dir, "../../docs/metrics.md"), metricsMarkdown());
console.error("docs/metrics.md written");
