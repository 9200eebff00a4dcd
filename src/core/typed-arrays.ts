// Growable typed arrays: the sweeps over millions of spans (hot functions, the call tree) keep
// per-function and per-frame state in typed arrays and double them when full.

/** A copy of `a` with room for n elements. */
export function grown<T extends Float64Array | Int32Array | Uint8Array>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}
