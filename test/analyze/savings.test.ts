// Estimated savings: claims, how they are shared out without counting a nanosecond twice, the
// step split, rounding, and the pace-setting time — on hand-made inputs with hand-computed answers.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { analysisContext } from "../../src/analyze/index.ts";
import { GAP_KIND, exposedCopies, gapClaim, gapTable, opClaim } from "../../src/analyze/claims.ts";
import { Union } from "../../src/core/intervals.ts";
import {
  type SavingSpec,
  ClaimBuilder,
  allocate,
  claimNs,
  estimatedSaving,
  paceSetting,
  pacedOps,
  priceUserFindings,
  sortBySaving,
  stepScope,
} from "../../src/analyze/savings.ts";
import { type CpuSpan, emptyTrace } from "../../src/trace/model.ts";
import type { Finding } from "../../src/analyze/report-types.ts";

setDefaultTimeout(60_000);

const u = (...iv: [number, number][]) => new Union(Float64Array.from(iv, (x) => x[0]), Float64Array.from(iv, (x) => x[1]));
const claim = (...iv: [number, number, number][]) => {
  const b = new ClaimBuilder();
  for (const [s, e, w] of iv) b.add(s, e, w);
  return b.build();
};
const time = (c: ReturnType<typeof claim>, basis = "b"): SavingSpec => ({ kind: "time", claim: c, basis });

describe("a claim: overlapping intervals count once, at the larger share", () => {
  test("[0,10]×0.5, [5,15]×1, [12,20]×0.25 → [5,15]×1, [0,5]×0.5, [15,20]×0.25 = 13.75", () => {
    const c = claim([0, 10, 0.5], [5, 15, 1], [12, 20, 0.25]);
    expect([...c.starts]).toEqual([0, 5, 15]);
    expect([...c.ends]).toEqual([5, 15, 20]);
    expect([...c.weights]).toEqual([0.5, 1, 0.25]);
    expect(claimNs(c)).toBe(13.75);
  });
  test("empty intervals and zero shares are dropped; shares above 1 are 1", () => {
    const c = claim([5, 5, 1], [0, 10, 0], [20, 30, 3]);
    expect([[...c.starts], [...c.weights]]).toEqual([[20], [1]]);
  });
});

describe("sharing the window out", () => {
  test("earlier claims keep contested time; shares of one piece add up to at most 1", () => {
    // window [0, 100]: A [10,30]; B [20,40]; C all of it at half
    const a = allocate([time(claim([10, 30, 1])), time(claim([20, 40, 1])), time(claim([0, 100, 0.5]))], 0, 100, null);
    expect(a.map((x) => [x.netNs, x.standaloneNs, x.sharedWith])).toEqual([
      [20, 20, []],
      [10, 20, [0]], // [20,30] was A's
      [35, 50, [0, 1]], // 0.5 × ([0,10] + [40,100]); [10,40] was A's and B's
    ]);
    expect(a.reduce((t, x) => t + x.netNs, 0)).toBeLessThanOrEqual(100);
  });
  test("two partial shares of the same piece: 0.6 then what is left, 0.4", () => {
    const a = allocate([time(claim([0, 10, 0.6])), time(claim([0, 10, 0.6]))], 0, 10, null);
    expect(a.map((x) => x.netNs)).toEqual([6, expect.closeTo(4, 12)]);
    expect(a[1]!.sharedWith).toEqual([0]);
  });
  test("claims are clipped to the window", () => {
    expect(allocate([time(claim([-50, 30, 1]))], 0, 100, null)[0]!.netNs).toBe(30);
  });
  test("a user rule's saving (a bare amount) gets what the built-in findings left of the window", () => {
    const f = (rule: string, saving: Finding["estimated_saving"]): Finding => ({ rule, title: rule, severity: "low", confidence: 1, impact_ms: 0, evidence: {}, suggestions: [], ...(saving && { estimated_saving: saving }) });
    const builtIn = [f("gpu_idle", { ms: 0.07, pct_of_window: 70, per: "window", basis: "b", window_ms: 0.07 })];
    const user = [f("budget", { ms: 0.05, basis: "estimated_saving_ms of user rule budget: 0.05" }), f("quiet", undefined)];
    priceUserFindings(user, builtIn, 100_000); // a 0.1 ms window, 0.07 ms of it the built-in finding's
    expect(user[0]!.estimated_saving).toEqual({ ms: 0.03, pct_of_window: 30, per: "window", basis: "estimated_saving_ms of user rule budget: 0.05", window_ms: 0.03, standalone_ms: 0.05, overlaps: ["gpu_idle"] });
    expect(user[1]!.estimated_saving).toEqual({ ms: null, pct_of_window: null, per: "window", basis: "not estimated: the user rule gives no estimated_saving_ms" });
    expect(sortBySaving([...user, ...builtIn]).map((x) => x.rule)).toEqual(["gpu_idle", "budget", "quiet"]);
  });
  test("the part inside the step scope's instances", () => {
    const a = allocate([time(claim([10, 30, 1], [60, 80, 0.5]))], 0, 100, u([0, 20], [50, 70]));
    expect([a[0]!.netNs, a[0]!.stepNs]).toEqual([30, 10 + 5]);
  });
});

describe("the report's estimated_saving", () => {
  const step = { name: "step", count: 4, union: u([0, 1]) };
  test("per step when a step scope exists: the part inside steps over the instances; rounded down to the µs and 0.1 %", () => {
    const s = estimatedSaving(time(claim([0, 1, 1]), "why"), { netNs: 1_234_567.9, stepNs: 1_000_000, standaloneNs: 1_234_567.9, sharedWith: [] }, 3_703_704, step, () => "x");
    expect(s).toEqual({ ms: 0.25, pct_of_window: 33.3, per: "step", basis: "why", scope: "step", steps: 4, window_ms: 1.234 });
  });
  test("per window without one; the findings that already count part of it", () => {
    const s = estimatedSaving(time(claim([0, 1, 1]), "why"), { netNs: 2e6, stepNs: 0, standaloneNs: 5e6, sharedWith: [0, 2] }, 1e7, null, (i) => ["sync_stalls", "b", "launch_bound"][i]!);
    expect(s).toEqual({ ms: 2, pct_of_window: 20, per: "window", basis: "why", window_ms: 2, standalone_ms: 5, overlaps: ["sync_stalls", "launch_bound"] });
  });
  test("not estimated: null figures and the reason", () => {
    expect(estimatedSaving({ kind: "none", reason: "no time is measured" }, { netNs: 0, stepNs: 0, standaloneNs: 0, sharedWith: [] }, 1e7, step, () => "x")).toEqual({
      ms: null,
      pct_of_window: null,
      per: "window",
      basis: "not estimated: no time is measured",
    });
  });
});

describe("the step scope", () => {
  const span = (name: string, start: number, end: number): CpuSpan => ({ cat: "user_annotation", name, start, end, pid: 1, tid: 1 });
  test("the step-named scope with the most instances; other scopes never", () => {
    const m = new Map<string, CpuSpan[]>([
      ["tokenize", Array.from({ length: 50 }, (_, i) => span("tokenize", i, i + 1))],
      ["step", [span("step", 0, 10), span("step", 10, 20)]],
      ["ProfilerStep", [span("ProfilerStep#1", 0, 8), span("ProfilerStep#2", 8, 16), span("ProfilerStep#3", 16, 24)]],
    ]);
    const s = stepScope(m)!;
    expect([s.name, s.count, [...s.union.starts], [...s.union.ends]]).toEqual(["ProfilerStep", 3, [0], [24]]);
    expect(stepScope(new Map([["tokenize", [span("tokenize", 0, 1)]]]))).toBeNull();
  });
});

describe("pace-setting time and the claim formulas on a code-built trace", () => {
  const US = 1000;
  /**
   * K1 [0,100] µs; the CPU launches K2 only at 250 (host-wait gap 100–300, the CPU busy elsewhere);
   * K3 queued behind K2 [400,500]; a device sync 450–505 µs, then K4 launched at 510 runs [520,600]
   * (host-wait gap 500–520 that follows the sync). A pinned H2D copy [560,640] half overlaps K4.
   */
  function trace() {
    const t = emptyTrace("inferscope");
    let corr = 1;
    const launch = (at: number, s: number, e: number, kind: "kernel" | "memcpy" = "kernel") => {
      const c = corr++;
      t.api.push({ api: "runtime", kind: kind === "kernel" ? "launch" : "memcpy", name: kind === "kernel" ? "cudaLaunchKernel" : "cudaMemcpyAsync", start: at, end: at + 3 * US, pid: 1, tid: 1, correlation: c });
      t.gpu.push({ kind, name: kind === "kernel" ? `k${c}` : "Memcpy HtoD (Pinned -> Device)", start: s, end: e, device: 0, stream: 7, correlation: c, ...(kind === "memcpy" && { copyKind: "HtoD" as const, srcMem: "pinned" as const, dstMem: "device" as const, bytes: 1 << 20 }) });
    };
    launch(-10 * US, 0, 100 * US);
    launch(250 * US, 300 * US, 400 * US);
    launch(260 * US, 400 * US, 500 * US);
    t.api.push({ api: "runtime", kind: "sync", name: "cudaDeviceSynchronize", start: 450 * US, end: 505 * US, pid: 1, tid: 1, correlation: corr++ });
    launch(510 * US, 520 * US, 600 * US);
    launch(512 * US, 560 * US, 640 * US, "memcpy");
    return t;
  }
  const ctx = analysisContext(trace());
  const g = ctx.gpu!;
  const pace = paceSetting(g, ctx.syncs.gapOccasion);

  test("the gaps: 100–300 host-wait (CPU elsewhere), 500–520 host-wait after the sync", () => {
    expect(g.gaps.map((x) => [x.start / US, x.end / US, x.kind])).toEqual([
      [100, 300, "host_wait"],
      [500, 520, "host_wait"],
    ]);
    expect([...ctx.syncs.gapOccasion].map((o) => o >= 0)).toEqual([false, true]);
  });
  test("pace-setting: every busy block but the one the CPU left waiting", () => {
    expect([[...pace.starts], [...pace.ends]].map((a) => a.map((x) => x / US))).toEqual([
      [300, 520],
      [500, 640],
    ]);
    // per op: K1 no (the CPU left it waiting); K2, K3, K4 and the copy yes
    expect([...pacedOps(g.ops, pace)]).toEqual([0, 1, 1, 1, 1]);
  });
  test("gap claim, kernel claim, exposed copy time", () => {
    const gaps = gapClaim(gapTable(g, ctx.syncs.gapOccasion), (_, kind) => kind === GAP_KIND.host_wait);
    expect(claimNs(gaps) / US).toBe(200 + 20);
    const kernels = opClaim(g, pacedOps(g.ops, pace), (op) => (op.kind === "kernel" ? 0.5 : 0));
    expect(claimNs(kernels) / US).toBe(0.5 * (100 + 100 + 80));
    const copies = exposedCopies(g, () => true);
    expect([[...copies.starts], [...copies.ends]].map((a) => a.map((x) => x / US))).toEqual([[600], [640]]);
  });
});
