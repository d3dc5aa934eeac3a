/**
 * Seeded random numbers for every random source of the kit (initialisation, dropout, batch
 * sampling, environment resets, data generation). xoshiro128** seeded through splitmix32: fast,
 * 128 bits of state that a checkpoint can save and restore exactly.
 */

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** FNV-1a hash of a string to 32 bits, to derive stream seeds from labels. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** A seed for an independent stream: `deriveSeed(seed, 'dropout')`, `deriveSeed(seed, 'env', 3)`. */
export function deriveSeed(seed: number, ...labels: (string | number)[]): number {
  let h = splitmix32((seed >>> 0) ^ 0x5bd1e995)();
  for (const label of labels) h = splitmix32(h ^ hashString(String(label)))();
  return h >>> 0;
}

export type RngState = [number, number, number, number];

export class Rng {
  private s: Uint32Array;

  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new Error(`Error in Rng: seed must be an integer, got ${seed}.`);
    const sm = splitmix32(seed >>> 0);
    this.s = new Uint32Array([sm(), sm(), sm(), sm()]);
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
  }

  /** A uniformly distributed 32-bit unsigned integer. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 bits of resolution. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal (Box-Muller, no cached second value so the state stays four words). */
  normal(): number {
    let u = this.uniform();
    while (u <= Number.MIN_VALUE) u = this.uniform();
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  getState(): RngState {
    return [this.s[0], this.s[1], this.s[2], this.s[3]];
  }

  setState(state: RngState): void {
    this.s = new Uint32Array(state);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** Wellons' `lowbias32` integer mixer: a bijection on 32 bits with good avalanche. */
export function mix32(v: number): number {
  let x = v >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  x ^= x >>> 16;
  return x >>> 0;
}

/**
 * Counter-based random bits: element i of the stream (k0, k1) is a fixed function of the three words, so
 * JavaScript and a GPU shader (where u32 arithmetic wraps as Math.imul does here) draw identical dropout
 * masks in any order. The WGSL twin is `counterBits` in src/engine/kernels/wgsl.ts.
 */
export function counterBits(k0: number, k1: number, i: number): number {
  return mix32(mix32((i ^ k0) >>> 0) ^ k1);
}

/** The two key words of dropout site `site` in the forward pass seeded `dropoutSeed`. */
export function dropoutStream(dropoutSeed: number, site: string): [number, number] {
  const k0 = deriveSeed(dropoutSeed, 'dropout', site);
  return [k0, deriveSeed(k0, 'k1')];
}

/** Element i is kept when counterBits(…, i) ≥ this threshold: P(drop) = p to within 2⁻³². */
export function dropoutThreshold(p: number): number {
  return Math.min(4294967295, Math.ceil(p * 4294967296));
}
