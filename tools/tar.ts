// A reproducible .tar.gz: ustar entries in the order given, owner 0:0 with no user or group
// names, one fixed mtime, fixed modes; gzip with no name and mtime 0 in its header. The same
// inputs always give the same bytes, whoever builds them and when.

export interface TarEntry {
  /** path inside the archive; a directory ends with "/" */
  path: string;
  mode: number;
  data?: Uint8Array;
}

function header(e: TarEntry, size: number, mtime: number): Uint8Array {
  const h = new Uint8Array(512);
  const enc = new TextEncoder();
  const put = (off: number, len: number, s: string) => {
    const b = enc.encode(s);
    if (b.length > len) throw new Error(`tar: "${s}" does not fit in ${len} bytes`);
    h.set(b, off);
  };
  const octal = (off: number, len: number, n: number) => put(off, len, n.toString(8).padStart(len - 1, "0") + "\0");
  put(0, 100, e.path);
  octal(100, 8, e.mode);
  octal(108, 8, 0); // uid
  octal(116, 8, 0); // gid
  octal(124, 12, size);
  octal(136, 12, mtime);
  put(148, 8, "        "); // checksum: spaces while summing
  put(156, 1, e.path.endsWith("/") ? "5" : "0");
  put(257, 6, "ustar\0");
  put(263, 2, "00");
  let sum = 0;
  for (const b of h) sum += b;
  put(148, 8, sum.toString(8).padStart(6, "0") + "\0 ");
  return h;
}

export function tar(entries: TarEntry[], mtime: number): Uint8Array<ArrayBuffer> {
  const parts: Uint8Array[] = [];
  for (const e of entries) {
    const size = e.data?.length ?? 0;
    parts.push(header(e, size, mtime));
    if (e.data) {
      parts.push(e.data);
      const pad = (512 - (size % 512)) % 512;
      if (pad) parts.push(new Uint8Array(pad));
    }
  }
  parts.push(new Uint8Array(1024)); // two zero blocks end the archive
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** gzip -9 -n: zlib writes mtime 0 and no file name, so the header is fixed. */
export function gzip(data: Uint8Array<ArrayBuffer>): Uint8Array {
  return Bun.gzipSync(data, { level: 9 });
}
