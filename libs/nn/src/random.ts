// Seeded pseudo-random numbers (sfc32 seeded through splitmix32): deterministic across platforms.

function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export interface Rng {
  /** Uniform on [0, 1) with 32 random bits. */
  next(): number;
  /** Fills `out` with uniform values on [lo, hi). */
  fillUniform(out: Float32Array, lo: number, hi: number): Float32Array;
  /** The generator's state, sfc32's four 32-bit words (a copy): rngFromState continues the sequence from here. */
  state(): Uint32Array;
}

/** A generator for (seed, stream): different streams of one seed are independent sequences. */
export function createRng(seed: number, stream = 0): Rng {
  const mix = splitmix32((Math.trunc(seed) ^ Math.imul(stream + 1, 0x27d4eb2f)) >>> 0);
  const rng = sfc32(mix(), mix(), mix(), (mix() | 1) >>> 0);
  for (let i = 0; i < 12; i++) rng.next();
  return rng;
}

/** A generator that continues from `state` (four 32-bit words, from Rng.state()): the same numbers the saved one would have drawn next. */
export function rngFromState(state: ArrayLike<number>): Rng {
  if (state.length !== 4 || !Array.from(state).every((w) => Number.isInteger(w) && w >= -(2 ** 31) && w < 2 ** 32)) {
    throw new Error(`an rng state is four 32-bit words, got ${JSON.stringify(Array.from(state))}`);
  }
  return sfc32(state[0]! >>> 0, state[1]! >>> 0, state[2]! >>> 0, state[3]! >>> 0);
}

function sfc32(a: number, b: number, c: number, d: number): Rng {
  const u32 = () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  };
  const next = () => u32() / 4294967296;
  return {
    next,
    fillUniform(out, lo, hi) {
      const w = hi - lo;
      for (let i = 0; i < out.length; i++) out[i] = lo + w * next();
      return out;
    },
    state: () => Uint32Array.of(a, b, c, d),
  };
}
