// Growable typed arrays: the sweeps over millions of spans (hot functions, the call tree) keep
// per-function and per-frame state in typed arrays and double them when full.

/** A copy of `a` with room for n elements. */
export function grown<T extends Float64Array | Int32Array | Uint8Array>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}

/**
 * f over xs, into a Float64Array: a plain loop, 2–3× faster than `Float64Array.from(xs, f)`
 * (which goes through the iterator protocol) on the million-element arrays of a big trace.
 */
export function mapF64<T>(xs: ArrayLike<T>, f: (x: T) => number): Float64Array {
  const out = new Float64Array(xs.length);
  for (let i = 0; i < xs.length; i++) out[i] = f(xs[i]!);
  return out;
}
