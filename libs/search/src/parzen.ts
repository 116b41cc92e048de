// A Parzen estimator over a (conditional, mixed) space: a mixture with one kernel per observed
// point plus a broad prior kernel. A kernel is a product over the parameters: a normal truncated
// to the unit interval for numeric ones (its mass over the cell of each integer), a smoothed
// one-hot for categorical ones. A point may leave parameters inactive; where a kernel's own point
// lacks a parameter the candidate has, that factor is the parameter's marginal: a one-dimensional
// mixture of its own, fitted on points that have it (by default this estimator's; TPE gives it
// the good or bad ones among all the trials that have it, so a branch of the space learns from
// its own trials). Sampling and density agree: a draw picks a kernel, then walks the parameters
// in dependency order, drawing the active ones from the kernel's factor or the marginal.
import { logNormalMass, sampleTruncatedNormal } from './normal.ts';
import type { Rng } from './rng.ts';
import { choiceIndex, fromUnit, isActive, type NumericParam, type Param, type Point, type Space, type SpaceValue, toUnit, unitCell } from './space.ts';

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** Kernel widths of one numeric parameter, in unit coordinates: from the centres (and weights) of the kernels, and the dimension of the density. */
export type Bandwidth = (centres: Float64Array, weights: Float64Array, dims: number, param: NumericParam) => Float64Array;

export interface ParzenOptions {
  /** Weight of the prior kernel, against 1 per observation (scaled by the observations' mean weight). */
  priorWeight: number;
  /** Widths of the numeric kernels, each clipped to [1/min(100, n + 1), 1] (n: the kernels of the parameter). */
  bandwidth: Bandwidth;
  /**
   * A categorical kernel's weight on each choice but its own, against 1 on its own, is
   * categoricalSmoothing/√(n + 1) (n: the kernels of the parameter), before normalizing.
   */
  categoricalSmoothing: number;
}

/** The weighted standard deviation of xs. */
function weightedStd(xs: Float64Array, ws: Float64Array): number {
  let sw = 0;
  let m = 0;
  for (let i = 0; i < xs.length; i++) {
    sw += ws[i]!;
    m += ws[i]! * xs[i]!;
  }
  if (!(sw > 0)) return 0;
  m /= sw;
  let v = 0;
  for (let i = 0; i < xs.length; i++) v += ws[i]! * (xs[i]! - m) ** 2;
  return Math.sqrt(v / sw);
}

/**
 * Scott's rule, h = magnitude · max(σ̂, floor) · n^(−1/(d+4)): the kernels' spread σ̂ (their
 * weighted standard deviation in unit coordinates, at least `floor`) shrunk with the number of
 * kernels n in d dimensions; the same width for every kernel of the parameter.
 */
export const scottBandwidth =
  (magnitude: number, floor: number): Bandwidth =>
  (centres, weights, dims) =>
    new Float64Array(centres.length).fill(magnitude * Math.max(weightedStd(centres, weights), floor) * Math.max(1, centres.length) ** (-1 / (dims + 4)));

/** The prior kernel of a numeric parameter: N(0.5, 1) on [0, 1], nearly uniform. */
const PRIOR_MU = 0.5;
const PRIOR_SIGMA = 1;
const PRIOR_LOG_Z = logNormalMass(-PRIOR_MU / PRIOR_SIGMA, (1 - PRIOR_MU) / PRIOR_SIGMA);

/**
 * One parameter's kernels over a list of values (kernel j centred on value j), and the prior
 * kernel (index = the number of values).
 */
class Kernels {
  readonly param: Param;
  readonly count: number;
  private readonly mu: Float64Array;
  private readonly sigma: Float64Array;
  /** −log σ − log Z − log √(2π): the log density's constant, per kernel. */
  private readonly logC: Float64Array;
  private readonly logZ: Float64Array;
  private readonly choice: Int32Array;
  private readonly logHit: number;
  private readonly logMiss: number;

  constructor(param: Param, values: readonly SpaceValue[], weights: Float64Array, dims: number, opts: ParzenOptions) {
    this.param = param;
    const n = values.length;
    this.count = n;
    this.mu = new Float64Array(n);
    this.sigma = new Float64Array(n);
    this.logC = new Float64Array(n);
    this.logZ = new Float64Array(n);
    this.choice = new Int32Array(n);
    if (param.kind === 'categorical') {
      for (let j = 0; j < n; j++) this.choice[j] = choiceIndex(param, values[j]!);
      // Each kernel keeps mass ε on every other choice, ε = smoothing/√(n + 1): less as evidence grows.
      const K = param.choices.length;
      const eps = opts.categoricalSmoothing / Math.sqrt(n + 1);
      this.logHit = Math.log((1 + eps) / (1 + K * eps));
      this.logMiss = Math.log(eps / (1 + K * eps));
      return;
    }
    this.logHit = this.logMiss = 0;
    for (let j = 0; j < n; j++) this.mu[j] = toUnit(param, values[j] as number);
    const widths = opts.bandwidth(this.mu, weights, dims, param);
    const floor = 1 / Math.min(100, n + 1);
    for (let j = 0; j < n; j++) {
      const s = Math.min(1, Math.max(floor, widths[j]!));
      this.sigma[j] = s;
      this.logZ[j] = logNormalMass(-this.mu[j]! / s, (1 - this.mu[j]!) / s);
      this.logC[j] = -Math.log(s) - this.logZ[j]! - LOG_SQRT_2PI;
    }
  }

  /**
   * Adds each kernel's log factor at v to acc[index[j]] (kernel j), the hot loop of the
   * estimator's density. A categorical value's index and a float's unit coordinate are taken once.
   */
  addLogFactors(v: SpaceValue, acc: Float64Array, index: Int32Array): void {
    const p = this.param;
    if (p.kind === 'categorical') {
      const c = choiceIndex(p, v);
      for (let j = 0; j < this.count; j++) acc[index[j]!]! += this.choice[j] === c ? this.logHit : this.logMiss;
    } else if (p.kind === 'float') {
      const u = toUnit(p, v as number);
      for (let j = 0; j < this.count; j++) {
        const z = (u - this.mu[j]!) / this.sigma[j]!;
        acc[index[j]!]! += this.logC[j]! - 0.5 * z * z;
      }
    } else {
      const [a, b] = unitCell(p, v as number);
      const lo = Math.max(0, a);
      const hi = Math.min(1, b);
      for (let j = 0; j < this.count; j++) acc[index[j]!]! += logNormalMass((lo - this.mu[j]!) / this.sigma[j]!, (hi - this.mu[j]!) / this.sigma[j]!) - this.logZ[j]!;
    }
  }

  /** log of kernel j's factor at v (j = count: the prior). */
  logFactor(j: number, v: SpaceValue): number {
    const p = this.param;
    if (p.kind === 'categorical') {
      if (j === this.count) return -Math.log(p.choices.length);
      return choiceIndex(p, v) === this.choice[j] ? this.logHit : this.logMiss;
    }
    const prior = j === this.count;
    const mu = prior ? PRIOR_MU : this.mu[j]!;
    const sigma = prior ? PRIOR_SIGMA : this.sigma[j]!;
    const logZ = prior ? PRIOR_LOG_Z : this.logZ[j]!;
    if (p.kind === 'int') {
      const [a, b] = unitCell(p, v as number);
      return logNormalMass((Math.max(0, a) - mu) / sigma, (Math.min(1, b) - mu) / sigma) - logZ;
    }
    const z = (toUnit(p, v as number) - mu) / sigma;
    return -0.5 * z * z - Math.log(sigma) - logZ - LOG_SQRT_2PI;
  }

  /** A draw from kernel j's factor (j = count: the prior). */
  sample(rng: Rng, j: number): SpaceValue {
    const p = this.param;
    if (p.kind === 'categorical') {
      const K = p.choices.length;
      if (j === this.count) return p.choices[rng.int(K)]!;
      const own = this.choice[j]!;
      if (K === 1 || rng.next() < Math.exp(this.logHit)) return p.choices[own]!;
      const other = rng.int(K - 1);
      return p.choices[other >= own ? other + 1 : other]!;
    }
    const prior = j === this.count;
    return fromUnit(p, sampleTruncatedNormal(rng, prior ? PRIOR_MU : this.mu[j]!, prior ? PRIOR_SIGMA : this.sigma[j]!, 0, 1));
  }
}

/** A one-parameter mixture: kernels over values by weight, and the prior. */
class Marginal {
  private readonly kernels: Kernels;
  private readonly weights: Float64Array;
  private readonly logWeights: Float64Array;
  private readonly scratch: Float64Array;

  constructor(param: Param, values: readonly SpaceValue[], weights: readonly number[], opts: ParzenOptions) {
    const n = values.length;
    const meanW = n ? weights.reduce((a, b) => a + b, 0) / n : 1;
    const w = new Float64Array(n + 1);
    for (let j = 0; j < n; j++) w[j] = weights[j]!;
    w[n] = opts.priorWeight * meanW;
    const total = w.reduce((a, b) => a + b, 0);
    this.weights = w.map((x) => x / total);
    this.logWeights = this.weights.map((x) => Math.log(x));
    this.kernels = new Kernels(param, values, this.weights.subarray(0, n), 1, opts);
    this.scratch = new Float64Array(n + 1);
  }

  logDensity(v: SpaceValue): number {
    const xs = this.scratch;
    for (let j = 0; j <= this.kernels.count; j++) xs[j] = this.logWeights[j]! + this.kernels.logFactor(j, v);
    return logSumExp(xs, xs.length);
  }

  sample(rng: Rng): SpaceValue {
    return this.kernels.sample(rng, rng.choice(this.weights));
  }
}

function logSumExp(xs: Float64Array, n: number): number {
  let m = -Infinity;
  for (let i = 0; i < n; i++) if (xs[i]! > m) m = xs[i]!;
  if (m === -Infinity) return -Infinity;
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.exp(xs[i]! - m);
  return m + Math.log(s);
}

/** For each parameter, the values (and weights) its marginal is fitted on, where not this estimator's own points. */
export type MarginalData = ReadonlyMap<string, { values: readonly SpaceValue[]; weights: readonly number[] }>;

export class ParzenEstimator {
  private readonly space: Space;
  private readonly n: number;
  /** Kernel weights, normalized: one per observation, then the prior's. */
  private readonly weights: Float64Array;
  private readonly logWeights: Float64Array;
  /** Per parameter: the kernels of the points that have it, those points' indices, the others' indices, the marginal. */
  private readonly kernels: Kernels[];
  private readonly members: Int32Array[];
  private readonly others: Int32Array[];
  private readonly marginals: Marginal[];
  private readonly acc: Float64Array;

  /** points: the observations; weights: one each (positive); marginals: where a parameter's marginal is fitted on other data. */
  constructor(space: Space, points: readonly Point[], weights: readonly number[], opts: ParzenOptions, marginals?: MarginalData) {
    this.space = space;
    const n = points.length;
    this.n = n;
    const meanW = n ? weights.reduce((a, b) => a + b, 0) / n : 1;
    const raw = new Float64Array(n + 1);
    for (let k = 0; k < n; k++) raw[k] = weights[k]!;
    raw[n] = opts.priorWeight * meanW;
    const total = raw.reduce((a, b) => a + b, 0);
    this.weights = raw.map((w) => w / total);
    this.logWeights = this.weights.map((w) => Math.log(w));
    this.acc = new Float64Array(n + 1);
    const dims = space.params.length;
    this.kernels = [];
    this.members = [];
    this.others = [];
    this.marginals = [];
    for (const p of space.params) {
      const have: number[] = [];
      const lack: number[] = [];
      for (let k = 0; k < n; k++) (Object.hasOwn(points[k]!, p.name) ? have : lack).push(k);
      const values = have.map((k) => points[k]![p.name]!);
      this.kernels.push(new Kernels(p, values, Float64Array.from(have, (k) => this.weights[k]!), dims, opts));
      this.members.push(Int32Array.from(have));
      this.others.push(Int32Array.from(lack));
      const own = { values, weights: have.map((k) => weights[k]!) };
      const data = marginals?.get(p.name) ?? own;
      this.marginals.push(new Marginal(p, data.values, data.weights, opts));
    }
  }

  /** log density of a point the space can give (numeric parameters per unit coordinate, integers and categories as masses). */
  logDensity(point: Point): number {
    const acc = this.acc;
    acc.set(this.logWeights);
    const n = this.n;
    for (const i of this.space.order) {
      const p = this.space.params[i]!;
      if (!Object.hasOwn(point, p.name)) continue;
      const v = point[p.name]!;
      const kernels = this.kernels[i]!;
      kernels.addLogFactors(v, acc, this.members[i]!);
      const others = this.others[i]!;
      if (others.length) {
        const marginal = this.marginals[i]!.logDensity(v);
        for (let j = 0; j < others.length; j++) acc[others[j]!]! += marginal;
      }
      acc[n]! += kernels.logFactor(kernels.count, v);
    }
    return logSumExp(acc, n + 1);
  }

  /** A point drawn from the mixture. */
  sample(rng: Rng): Point {
    const k = rng.choice(this.weights);
    const out: Record<string, SpaceValue> = {};
    for (const i of this.space.order) {
      const p = this.space.params[i]!;
      if (!isActive(p, out)) continue;
      const kernels = this.kernels[i]!;
      let v: SpaceValue;
      if (k === this.n) v = kernels.sample(rng, kernels.count);
      else {
        // The kernel's own factor when its point has the parameter, else the marginal.
        const j = binarySearch(this.members[i]!, k);
        v = j >= 0 ? kernels.sample(rng, j) : this.marginals[i]!.sample(rng);
      }
      Object.defineProperty(out, p.name, { value: v, enumerable: true, writable: true, configurable: true });
    }
    return Object.freeze(out);
  }
}

/** The index of x in the ascending array a, or −1. */
function binarySearch(a: Int32Array, x: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] === x) return mid;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
