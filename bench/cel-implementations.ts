// Why @marcbachmann/cel-js and not @bufbuild/cel (docs/benchmarks.md, "CEL implementations"):
// compile (parse + type-check where the library can) and evaluate one rule-like expression with
// each, interleaved rounds, medians. @bufbuild/cel is not a dependency: first
//   npm install --no-save @bufbuild/cel@0.6.1 @bufbuild/protobuf
// then: bun bench/cel-implementations.ts
// Imported by a computed name: the typecheck must pass without the optional package.
const BUF = "@bufbuild/cel";
const { celEnv, parse: bparse, plan, CelScalar, mapType, listType } = await import(BUF);
import { Environment } from "@marcbachmann/cel-js";
const src = 'util < 60.0 && findings.exists(f, f == "gpu_idle") && scopes["step"] > 30.0';
const ctxB = { util: 41.5, findings: ["gpu_idle", "sync_stalls"], scopes: { step: 31.2 } };
const benv = celEnv({ variables: { util: CelScalar.DOUBLE, findings: listType(CelScalar.STRING), scopes: mapType(CelScalar.STRING, CelScalar.DOUBLE) } });
const menv = new Environment().registerVariable("util", "double").registerVariable("findings", "list<string>").registerVariable("scopes", "map<string, double>");
const N = 2000;
const tb = (): number => { const t = performance.now(); for (let i = 0; i < N; i++) plan(benv, bparse(src))(ctxB); return (performance.now() - t) / N * 1000; };
const tm = (): number => { const t = performance.now(); for (let i = 0; i < N; i++) { menv.check(src); menv.parse(src)(ctxB); } return (performance.now() - t) / N * 1000; };
const pb = plan(benv, bparse(src)); const pm = menv.parse(src);
const eb = (): number => { const t = performance.now(); for (let i = 0; i < N * 10; i++) pb(ctxB); return (performance.now() - t) / N / 10 * 1000; };
const em = (): number => { const t = performance.now(); for (let i = 0; i < N * 10; i++) pm(ctxB); return (performance.now() - t) / N / 10 * 1000; };
const r: Record<string, number[]> = { bufCompile: [], mbCompileCheck: [], bufEval: [], mbEval: [] };
for (let round = 0; round < 7; round++) { r.bufCompile!.push(tb()); r.mbCompileCheck!.push(tm()); r.bufEval!.push(eb()); r.mbEval!.push(em()); }
const med = (a: number[]) => a.sort((x, y) => x - y)[a.length >> 1]!;
for (const [k, v] of Object.entries(r)) console.log(k, med(v).toFixed(2), "µs");
console.log(String(pb(ctxB)), String(pm(ctxB)));
