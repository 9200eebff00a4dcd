// Reads what an ELF shared object or executable asks of the dynamic linker: DT_NEEDED, the
// versioned symbols it imports (and the file each version is required from, .gnu.version_r) and
// the versions of the symbols it defines (.gnu.version_d). Our own reader, not objdump/readelf
// output: it reads x86-64 and aarch64 files alike on any host, and its output has one format.
// ELF64 little-endian only (every target we ship).

export interface ElfImport {
  name: string;
  /** e.g. "GLIBC_2.17"; null for an unversioned reference */
  version: string | null;
  /** the library the version is required from (its verneed entry), e.g. "libdl.so.2" */
  file: string | null;
  weak: boolean;
}

export interface ElfExport {
  name: string;
  version: string | null;
  /** a non-default (compat) version: `name@V`, not `name@@V` */
  hidden: boolean;
  func: boolean;
}

export interface ElfDynamic {
  /** e_machine: 62 x86-64, 183 aarch64 */
  machine: number;
  needed: string[];
  imports: ElfImport[];
  exports: ElfExport[];
}

export const EM_X86_64 = 62;
export const EM_AARCH64 = 183;

const SHT_DYNAMIC = 6;
const SHT_DYNSYM = 11;
const SHT_GNU_VERDEF = 0x6ffffffd;
const SHT_GNU_VERNEED = 0x6ffffffe;
const SHT_GNU_VERSYM = 0x6fffffff;
const DT_NEEDED = 1;
const STB_WEAK = 2;
const STT_FUNC = 2;

interface Section {
  type: number;
  offset: number;
  size: number;
  link: number;
  info: number;
}

export function readElfDynamic(bytes: Uint8Array, what = "file"): ElfDynamic {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 64 || v.getUint32(0) !== 0x7f454c46) throw new Error(`${what}: not an ELF file`);
  if (bytes[4] !== 2 || bytes[5] !== 1) throw new Error(`${what}: not a 64-bit little-endian ELF file`);
  const u16 = (o: number) => v.getUint16(o, true);
  const u32 = (o: number) => v.getUint32(o, true);
  const u64 = (o: number) => Number(v.getBigUint64(o, true));
  const machine = u16(18);
  const shoff = u64(0x28);
  const shentsize = u16(0x3a);
  const shnum = u16(0x3c);
  const sections: Section[] = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * shentsize;
    sections.push({ type: u32(o + 4), offset: u64(o + 24), size: u64(o + 32), link: u32(o + 40), info: u32(o + 44) });
  }
  const find = (type: number) => sections.find((s) => s.type === type);
  const cstr = (strtab: Section, off: number) => {
    const start = strtab.offset + off;
    let end = start;
    while (bytes[end] !== 0) end++;
    return new TextDecoder().decode(bytes.subarray(start, end));
  };

  const needed: string[] = [];
  const dynamic = find(SHT_DYNAMIC);
  if (dynamic) {
    const strtab = sections[dynamic.link]!;
    for (let o = dynamic.offset; o < dynamic.offset + dynamic.size; o += 16) {
      const tag = u64(o);
      if (tag === 0) break;
      if (tag === DT_NEEDED) needed.push(cstr(strtab, u64(o + 8)));
    }
  }

  // Version index → name (and, for needs, the file): verneed "other" and verdef "ndx" share one space.
  const versions = new Map<number, { name: string; file: string | null }>();
  const verneed = find(SHT_GNU_VERNEED);
  if (verneed) {
    const strtab = sections[verneed.link]!;
    let o = verneed.offset;
    for (let i = 0; i < verneed.info; i++) {
      const file = cstr(strtab, u32(o + 4));
      let a = o + u32(o + 8);
      for (let j = 0; j < u16(o + 2); j++) {
        versions.set(u16(a + 6), { name: cstr(strtab, u32(a + 8)), file });
        a += u32(a + 12);
      }
      o += u32(o + 12);
    }
  }
  const verdef = find(SHT_GNU_VERDEF);
  if (verdef) {
    const strtab = sections[verdef.link]!;
    let o = verdef.offset;
    for (let i = 0; i < verdef.info; i++) {
      versions.set(u16(o + 4), { name: cstr(strtab, u32(o + u32(o + 12))), file: null });
      o += u32(o + 16);
    }
  }

  const imports: ElfImport[] = [];
  const exports: ElfExport[] = [];
  const dynsym = find(SHT_DYNSYM);
  const versym = find(SHT_GNU_VERSYM);
  if (dynsym) {
    const strtab = sections[dynsym.link]!;
    const count = dynsym.size / 24;
    for (let i = 1; i < count; i++) {
      const o = dynsym.offset + i * 24;
      const name = cstr(strtab, u32(o));
      const info = bytes[o + 4]!;
      const shndx = u16(o + 6);
      const vs = versym ? u16(versym.offset + i * 2) : 1;
      // 0: local, 1: global (unversioned); 2 and up name a version (bit 15: hidden).
      const ver = (vs & 0x7fff) > 1 ? versions.get(vs & 0x7fff) : undefined;
      if (shndx === 0) {
        imports.push({ name, version: ver?.name ?? null, file: ver?.file ?? null, weak: info >> 4 === STB_WEAK });
      } else {
        exports.push({ name, version: ver?.name ?? null, hidden: (vs & 0x8000) !== 0, func: (info & 0xf) === STT_FUNC });
      }
    }
  }
  return { machine, needed, imports, exports };
}

export async function readElfFile(path: string): Promise<ElfDynamic> {
  return readElfDynamic(await Bun.file(path).bytes(), path);
}
