// The platforms InferScope ships for: Bun's name, gcc's triple, the ELF machine.
import { EM_AARCH64, EM_X86_64 } from "./elf.ts";

export interface Target {
  /** release name: inferscope-<version>-<name>.tar.gz */
  name: "linux-x64" | "linux-arm64";
  bunTarget: "bun-linux-x64" | "bun-linux-arm64";
  /** gcc's target triple: a cross compiler is `<triple>-gcc` (Debian: gcc-<triple>) */
  triple: string;
  machine: number;
  /** the Debian architecture (qemu and multiarch packages) */
  debianArch: "amd64" | "arm64";
}

export const TARGETS: readonly Target[] = [
  { name: "linux-x64", bunTarget: "bun-linux-x64", triple: "x86_64-linux-gnu", machine: EM_X86_64, debianArch: "amd64" },
  { name: "linux-arm64", bunTarget: "bun-linux-arm64", triple: "aarch64-linux-gnu", machine: EM_AARCH64, debianArch: "arm64" },
];

export function hostTarget(): Target {
  const t = TARGETS.find((t) => t.name === `linux-${process.arch}`);
  if (!t || process.platform !== "linux") throw new Error(`build: InferScope builds on Linux x64 or arm64, not ${process.platform}-${process.arch}`);
  return t;
}

export function targetByName(name: string): Target {
  const t = TARGETS.find((t) => t.name === name || t.name === `linux-${name}`);
  if (!t) throw new Error(`build: unknown target "${name}"; targets: ${TARGETS.map((t) => t.name).join(", ")}`);
  return t;
}

/** The C compiler for a target: $CC for the host, `<triple>-gcc` for the other one (or $CC_<arch>). */
export function compilerFor(t: Target): string {
  const env = process.env[`CC_${t.name.replace("linux-", "")}`];
  if (env) return env;
  if (t === hostTarget()) return process.env.CC ?? "cc";
  return `${t.triple}-gcc`;
}
