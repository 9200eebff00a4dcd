// The call tree in the formats flame-graph tools read (docs/analysis.md, "Flame graphs"):
//   - folded (collapsed) stacks, for flamegraph.pl, inferno and speedscope: one line per stack,
//     `cpu;frame;frame;… weight` or `gpu;…;kernel weight`, weights in integer nanoseconds;
//   - speedscope's JSON file format (https://www.speedscope.app/file-format-schema.json): one
//     sampled profile per thread for CPU time, one for GPU time by launching stack, weights in ns.
import type { CallTree, Frame } from "../analyze/call-tree.ts";
import { frameLabel, stackGraph, type StackGraph } from "./stack-graph.ts";

/** Frame text safe in a folded line: `;` separates frames and a newline ends the line. */
function foldedFrame(f: Frame): string {
  return frameLabel(f).replace(/;/g, ",").replace(/[\r\n]+/g, " ");
}

/** Each node with own time as one line: its path from the top, then its own time. */
function foldedLines(t: CallTree, g: StackGraph, out: string[]): void {
  const path: string[] = [g.view];
  for (const node of g.order) {
    if (node === 0) continue;
    const d = g.depth[node]!;
    path.length = d;
    path.push(foldedFrame(t.frames[t.frame[node]!]!));
    const w = Math.round(g.self[node]!);
    if (w > 0) out.push(`${path.join(";")} ${w}`);
  }
}

/** Folded stacks: CPU time by stack (`cpu;…`), then GPU time by launching stack (`gpu;…`). */
export function foldedStacks(t: CallTree): string {
  const out: string[] = [];
  foldedLines(t, stackGraph(t, "cpu"), out);
  foldedLines(t, stackGraph(t, "gpu"), out);
  return out.length > 0 ? `${out.join("\n")}\n` : "";
}

interface SpeedscopeFrame {
  name: string;
  file?: string;
  line?: number;
}

interface SampledProfile {
  type: "sampled";
  name: string;
  unit: "nanoseconds";
  startValue: number;
  endValue: number;
  samples: number[][];
  weights: number[];
}

export interface SpeedscopeFile {
  $schema: "https://www.speedscope.app/file-format-schema.json";
  shared: { frames: SpeedscopeFrame[] };
  profiles: SampledProfile[];
  name: string;
  activeProfileIndex: number;
  exporter: string;
}

/** The call tree as a speedscope file: CPU time per thread, then GPU time by launching stack. */
export function speedscopeFile(t: CallTree, name: string, exporter: string): SpeedscopeFile {
  const frames: SpeedscopeFrame[] = [];
  const index = new Map<number, number>(); // tree frame id → speedscope frame index
  const frameIndex = (fid: number): number => {
    let i = index.get(fid);
    if (i === undefined) {
      const f = t.frames[fid]!;
      const sf: SpeedscopeFrame = { name: f.kind === "python" ? f.name : frameLabel(f) };
      if (f.kind === "python" && f.file !== undefined) sf.file = f.file;
      if (f.kind === "python" && f.line !== undefined) sf.line = f.line;
      i = frames.length;
      frames.push(sf);
      index.set(fid, i);
    }
    return i;
  };
  const profiles: SampledProfile[] = [];
  const sampled = (pname: string): SampledProfile => ({ type: "sampled", name: pname, unit: "nanoseconds", startValue: 0, endValue: 0, samples: [], weights: [] });
  const add = (p: SampledProfile, stack: number[], w: number) => {
    p.samples.push(stack.slice());
    p.weights.push(w);
    p.endValue += w;
  };

  // CPU: one profile per thread (the thread frame itself left out of the stacks)
  const cpu = stackGraph(t, "cpu");
  const stack: number[] = [];
  let current: SampledProfile | null = null;
  const cpuThreadDepth = cpu.threads ? 1 : 0; // depth of the thread level, 0 when elided
  if (!cpu.threads) current = sampled(`CPU · ${onlyThread(t, cpu) ?? "all threads"}`);
  for (const node of cpu.order) {
    if (node === 0) continue;
    const d = cpu.depth[node]!;
    const f = t.frames[t.frame[node]!]!;
    if (cpu.threads && d === 1) {
      if (current && current.samples.length > 0) profiles.push(current);
      current = sampled(`CPU · ${f.name}`);
      stack.length = 0;
      continue;
    }
    stack.length = d - 1 - cpuThreadDepth;
    stack.push(frameIndex(t.frame[node]!));
    const w = Math.round(cpu.self[node]!);
    if (w > 0) add(current!, stack, w);
  }
  if (current && current.samples.length > 0) profiles.push(current);

  // GPU: one profile, thread frames kept when more than one thread launched work
  const gpu = stackGraph(t, "gpu");
  const gp = sampled("GPU · by launching stack");
  stack.length = 0;
  for (const node of gpu.order) {
    if (node === 0) continue;
    stack.length = gpu.depth[node]! - 1;
    stack.push(frameIndex(t.frame[node]!));
    const w = Math.round(gpu.self[node]!);
    if (w > 0) add(gp, stack, w);
  }
  if (gp.samples.length > 0) profiles.push(gp);

  return {
    $schema: "https://www.speedscope.app/file-format-schema.json",
    shared: { frames },
    profiles,
    name,
    activeProfileIndex: 0,
    exporter,
  };
}

/** The one thread that has time in a view whose thread level is elided. */
function onlyThread(t: CallTree, g: StackGraph): string | null {
  for (let i = 1; i < t.size; i++) {
    if (t.parent[i] === 0 && g.value[i]! > 0) return t.frames[t.frame[i]!]!.name;
  }
  return null;
}
