// Which library a Python file belongs to, from its path: a package under site-packages or
// dist-packages (`…/site-packages/numpy/_core/_methods.py` → numpy), or a module of the standard
// library (`…/lib/python3.11/json/decoder.py` → json). The user's own files belong to none.

export interface Package {
  name: string;
  stdlib: boolean;
}

const SITE = /(?:site|dist)-packages\/([^/]+)/;
const STDLIB = /\/lib\/python\d+\.\d+\/([^/]+)/;

export function packageOf(file: string | undefined): Package | null {
  if (!file) return null;
  const site = SITE.exec(file);
  if (site) return { name: site[1]!.replace(/\.py$/, ""), stdlib: false };
  const std = STDLIB.exec(file);
  if (std) return { name: std[1]!.replace(/\.py$/, ""), stdlib: true };
  return null;
}

/** "numpy", "the standard library's json". */
export function packageLabel(p: Package): string {
  return p.stdlib ? `the standard library's \`${p.name}\`` : `\`${p.name}\``;
}
