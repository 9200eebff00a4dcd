// The oldest glibc InferScope runs on: Bun's own floor (its runtime needs GLIBC_2.17 at most, on
// x64 and arm64), so the C shim may need nothing newer.
//
// A build machine with glibc ≥ 2.34 binds dlopen/dlsym/pthread_create… to the versions 2.34 gave
// them when it moved them from libdl/libpthread/librt/libutil/libanl into libc.so.6. Such a
// shim fails to load on RHEL 8 (2.28) or Ubuntu 20.04 (2.31). Binding them to their old version
// (`.symver dlopen,dlopen@GLIBC_2.2.5`) is not enough: the version need would then name
// libc.so.6, and a dynamic linker older than glibc 2.30 (RHEL 7/8) stops at libc.so.6 ("symbol
// dlopen version GLIBC_2.2.5 not defined in file libc.so.6") unless libdl.so.2 comes first in
// the search order, which it does not in Bun (libc.so.6 is its first DT_NEEDED). So the shim is
// linked against small link-only stubs named libdl.so.2, libpthread.so.0, … that define those
// functions at their old versions: the shim then needs `dlopen@GLIBC_2.2.5` from libdl.so.2
// (and lists libdl.so.2 in DT_NEEDED), exactly as Bun's own binary does. On glibc ≥ 2.34
// libdl.so.2 is an empty placeholder and libc.so.6 still defines the old versions, so the same
// file loads there too. The stubs are never shipped.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ElfDynamic } from "./elf.ts";

export const GLIBC_FLOOR = "2.17";

/** "GLIBC_2.2.5" → [2, 2, 5]; null for anything else (GLIBC_PRIVATE, GCC_3.0, …). */
export function glibcVersion(v: string | null): number[] | null {
  const m = /^GLIBC_(\d+(?:\.\d+)*)$/.exec(v ?? "");
  return m ? m[1]!.split(".").map(Number) : null;
}

function compare(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d) return d;
  }
  return 0;
}

const floorParts = (floor: string) => floor.split(".").map(Number);

/** Where glibc before 2.34 defined a function that 2.34 moved into libc.so.6. */
export function oldHome(name: string): string | null {
  if (/^dl(open|mopen|close|sym|vsym|error|addr1?|info)$/.test(name)) return "libdl.so.2";
  if (/^(pthread_|sem_|__pthread_|_pthread_cleanup_|thrd_|mtx_|cnd_|tss_|call_once$)/.test(name)) return "libpthread.so.0";
  if (/^(timer_|shm_|mq_|aio_|lio_listio)/.test(name)) return "librt.so.1";
  if (/^(forkpty|openpty|login|login_tty|logout|logwtmp)$/.test(name)) return "libutil.so.1";
  if (/^(getaddrinfo_a|gai_cancel|gai_error|gai_suspend)$/.test(name)) return "libanl.so.1";
  return null;
}

/**
 * The functions a libc.so.6 (≥ 2.34) defines at a default version above the floor and also at a
 * compat version at or below it, with that old version: the ones glibc moved or re-versioned.
 */
export function rebindable(libc: ElfDynamic, floor = GLIBC_FLOOR): Map<string, string> {
  const f = floorParts(floor);
  const best = new Map<string, { version: string; parts: number[] }>();
  const newer = new Set<string>();
  for (const e of libc.exports) {
    const p = glibcVersion(e.version);
    if (!p || !e.func) continue;
    if (!e.hidden && compare(p, f) > 0) newer.add(e.name);
    if (e.hidden && compare(p, f) <= 0) {
      const cur = best.get(e.name);
      if (!cur || compare(p, cur.parts) > 0) best.set(e.name, { version: e.version!, parts: p });
    }
  }
  const out = new Map<string, string>();
  for (const name of [...newer].sort()) {
    const old = best.get(name);
    if (old) out.set(name, old.version);
  }
  return out;
}

/**
 * Writes link-only stub libraries (libdl.so.2, libpthread.so.0, …) defining every function that
 * glibc moved into libc.so.6 at its old version, and returns their paths (to put on the link
 * line before libc). Re-versioned libc functions (e.g. glob@@GLIBC_2.27) get no stub: their old
 * version has an older ABI, so using one is a build error for a person to decide on.
 */
export function writeLinkStubs(cc: string, dir: string, libc: ElfDynamic): string[] {
  const byLib = new Map<string, Map<string, string[]>>();
  for (const [name, version] of rebindable(libc)) {
    const lib = oldHome(name);
    if (!lib) continue;
    const versions = byLib.get(lib) ?? new Map<string, string[]>();
    versions.set(version, [...(versions.get(version) ?? []), name]);
    byLib.set(lib, versions);
  }
  mkdirSync(dir, { recursive: true });
  const out: string[] = [];
  for (const [lib, versions] of [...byLib].sort(([a], [b]) => a.localeCompare(b))) {
    const names = [...versions.values()].flat().sort();
    const base = join(dir, lib.replace(/\.so.*/, ""));
    writeFileSync(`${base}.c`, names.map((n) => `void ${n}(void) {}\n`).join(""));
    const nodes = [...versions].sort(([a], [b]) => compare(glibcVersion(a)!, glibcVersion(b)!));
    writeFileSync(`${base}.map`, nodes.map(([v, ns]) => `${v} { global: ${ns.sort().join("; ")}; };\n`).join(""));
    const so = join(dir, lib);
    const r = Bun.spawnSync([cc, "-shared", "-fPIC", "-nostdlib", "-fno-builtin", "-w", `-Wl,-soname,${lib}`, `-Wl,--version-script,${base}.map`, "-o", so, `${base}.c`], {
      stdout: "inherit",
      stderr: "inherit",
    });
    if (r.exitCode !== 0) throw new Error(`build: linking the ${lib} stub failed (${cc})`);
    out.push(so);
  }
  return out;
}

/**
 * What an ELF file asks of glibc that glibc `floor` cannot give, one line per problem (none: it
 * loads there). `moved`: the names glibc 2.34 moved into libc.so.6 (from `rebindable`).
 */
export function floorProblems(elf: ElfDynamic, moved: ReadonlySet<string>, floor = GLIBC_FLOOR): string[] {
  const f = floorParts(floor);
  const problems: string[] = [];
  for (const s of elf.imports) {
    if (!s.version || !s.file) continue;
    const at = `${s.name}@${s.version} from ${s.file}`;
    const p = glibcVersion(s.version);
    if (s.version === "GLIBC_PRIVATE") problems.push(`${at}: glibc's private interface`);
    else if (p && compare(p, f) > 0) problems.push(`${at}: newer than glibc ${floor}`);
    else if (p && s.file === "libc.so.6" && moved.has(s.name) && oldHome(s.name))
      problems.push(`${at}: glibc before 2.34 defines ${s.name} in ${oldHome(s.name)}, not libc.so.6`);
    if (!elf.needed.includes(s.file)) problems.push(`${at}: ${s.file} is not in DT_NEEDED`);
  }
  return [...new Set(problems)];
}
