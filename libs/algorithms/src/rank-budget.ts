// Integer ranks for a parameter budget: the rank r_p of each block of a factorized N×D matrix so
// that its compression rate N·D / Σₚ r_p·(|p| + D) meets a target R within a relative tolerance.
//
// A method states its preference as an order of single-rank steps (RankOrder): from rank 1 in
// every block, block p goes from r to r + 1 at key(p, r) (equal keys: the lower block first), up
// to its cap min(D, |p|). Its allocation is the point of that path whose rate is nearest R. One
// step adds |p| + D parameters, so when the window of parameter counts the tolerance allows is
// wider than the largest step, the path lands in it. When it is not (few ranks in all, or a tiny
// tolerance), an exhaustive search over the rank sums of the blocks of each size finds the
// reachable parameter count in the window nearest the path's point, and the ranks are moved from
// that point only as far as those sums need, in the method's own order inside each size. So whenever
// any rank vector (1 ≤ r_p ≤ min(D, |p|)) meets the tolerance, the allocation does, and it never
// misses R by more than the tolerance. The search is exact for up to two block sizes (frequency
// blocks always have at most two) and, for more sizes, up to MAX_SEARCH cells of its table.

/** A budget: a target rate N·D / params, met within `tolerance` (relative, default 0.01). */
export interface RateBudget {
  rate: number;
  tolerance?: number;
}

/** The order in which a method adds rank: block p's step r → r + 1 (1 ≤ r < cap) comes at key(p, r), increasing in r. */
export interface RankOrder {
  key(p: number, r: number): number;
}

/** A common rank: every block at r before any goes to r + 1, the lower (more frequent) blocks first. */
export const COMMON_RANK: RankOrder = { key: (_p, r) => r };

export interface RankAllocation {
  ranks: number[];
  /** Σₚ r_p·(|p| + D). */
  params: number;
  /** N·D / params. */
  rate: number;
}

/** A rate no rank vector meets within the tolerance; `nearest` holds the reachable rates closest to it (above first). */
export class RateError extends Error {
  constructor(
    message: string,
    readonly method: string,
    readonly rate: number,
    readonly tolerance: number,
    readonly nearest: number[],
  ) {
    super(message);
    this.name = 'RateError';
  }
}

/** Cells (parameter counts × block sizes) the search for three or more block sizes may fill. */
export const MAX_SEARCH = 20_000_000;

/** Validates a budget: a finite rate ≥ 1 and a positive tolerance (default 0.01). */
export function checkRate(budget: RateBudget): { rate: number; tolerance: number } {
  const { rate } = budget;
  const tolerance = budget.tolerance ?? 0.01;
  if (typeof rate !== 'number' || !Number.isFinite(rate)) throw new Error(`rate must be a finite number, got ${rate}`);
  if (rate < 1) throw new Error(`rate ${rate} is impossible: a compression rate is N·D / params ≥ 1`);
  if (typeof tolerance !== 'number' || !(tolerance > 0) || !Number.isFinite(tolerance)) throw new Error(`tolerance must be a positive number, got ${tolerance}`);
  return { rate, tolerance };
}

/** Blocks of one size n: `count` of them, each costing n + D parameters a rank, with rank cap min(D, n). */
interface SizeClass {
  n: number;
  count: number;
  cost: number;
  cap: number;
}

/** The window of parameter counts that meet a rate, and the refusals that need no search. */
class Budget {
  readonly ND: number;
  /** N·D / rate: the parameter count the rate asks for. */
  readonly target: number;
  /** Parameters at rank 1 everywhere, and at full rank everywhere. */
  readonly base: number;
  readonly full: number;
  /** The integer parameter counts that meet the rate: [lo, hi] (empty when lo > hi). */
  readonly lo: number;
  readonly hi: number;
  readonly maxCost: number;

  constructor(
    readonly classes: SizeClass[],
    readonly D: number,
    readonly rate: number,
    readonly tolerance: number,
    readonly method: string,
  ) {
    const N = classes.reduce((s, c) => s + c.n * c.count, 0);
    this.ND = N * D;
    this.target = this.ND / rate;
    this.base = classes.reduce((s, c) => s + c.count * c.cost, 0);
    this.full = classes.reduce((s, c) => s + c.count * c.cap * c.cost, 0);
    this.maxCost = Math.max(...classes.map((c) => c.cost));
    // The counts in [ND / (R(1 + tol)), ND / (R(1 − tol))], found by meets() itself so that
    // rounding agrees with it; none when that interval holds no integer.
    const xlo = this.ND / (rate * (1 + tolerance));
    const xhi = tolerance < 1 ? this.ND / (rate * (1 - tolerance)) : Infinity;
    let lo = Math.max(this.base, Math.ceil(xlo) - 1);
    for (let i = 0; i < 3 && !this.meets(lo); i++) lo++;
    let hi = Number.isFinite(xhi) ? Math.min(this.full, Math.floor(xhi) + 1) : this.full;
    for (let i = 0; i < 3 && hi >= lo && !this.meets(hi); i++) hi--;
    if (!this.meets(lo) || !this.meets(hi) || hi < lo) {
      lo = Math.ceil(xlo);
      hi = lo - 1;
    }
    this.lo = lo;
    this.hi = hi;
  }

  meets(params: number): boolean {
    return Math.abs(this.ND / params - this.rate) <= this.tolerance * this.rate;
  }

  /** Of two parameter counts, the one whose rate is nearer the target (ties: the larger). */
  nearer(a: number, b: number): number {
    const da = Math.abs(this.ND / a - this.rate);
    const db = Math.abs(this.ND / b - this.rate);
    return da < db || (da === db && a > b) ? a : b;
  }

  get blocks(): number {
    return this.classes.reduce((s, c) => s + c.count, 0);
  }

  private prefix(): string {
    const pct = (this.tolerance * 100).toFixed(3).replace(/\.?0+$/, '');
    return `rate ${this.rate} is impossible for ${this.method} within ${pct}%`;
  }

  /** A RateError when even rank 1 everywhere, or full rank everywhere, misses the rate on its side; else null. */
  outOfRange(): RateError | null {
    const k = this.blocks;
    const each = k === 1 ? 'rank 1' : `rank 1 in each of ${k} blocks`;
    if (this.ND / this.base < this.rate && !this.meets(this.base)) {
      const best = this.ND / this.base;
      return new RateError(`${this.prefix()}: ${each} already costs ${this.base} parameters (rate ${fmtRate(best)}, the highest it can meet)`, this.method, this.rate, this.tolerance, [best]);
    }
    if (this.ND / this.full > this.rate && !this.meets(this.full)) {
      const least = this.ND / this.full;
      return new RateError(`${this.prefix()}: full rank ${k === 1 ? '' : 'in every block '}costs only ${this.full} parameters (rate ${fmtRate(least)}, the lowest it can meet)`, this.method, this.rate, this.tolerance, [least]);
    }
    return null;
  }

  /** The refusal for a rate that falls between two reachable parameter counts (below: fewer parameters, a higher rate). */
  between(below: number | null, above: number | null, searched: boolean): RateError {
    const counts = [below, above].filter((x): x is number => x !== null);
    const rates = counts.map((p) => this.ND / p);
    const single = this.blocks === 1;
    const what = single
      ? `the nearest ranks ${counts.map((p) => p / this.classes[0]!.cost).join(' and ')} give rates ${rates.map(fmtRate).join(' and ')}`
      : `the nearest rates it can meet are ${rates.map(fmtRate).join(' and ')} (${counts.join(' and ')} parameters)`;
    const note = searched ? '' : `; rank vectors beyond the method's own order were not searched (over ${MAX_SEARCH} cells)`;
    return new RateError(`${this.prefix()}: ${what}${note}`, this.method, this.rate, this.tolerance, rates);
  }
}

const fmtRate = (x: number) => String(Number(x.toPrecision(5)));

function classesOf(sizes: readonly number[], D: number): { classes: SizeClass[]; classOf: number[] } {
  const byN = new Map<number, number>();
  const classes: SizeClass[] = [];
  const classOf = sizes.map((n) => {
    let g = byN.get(n);
    if (g === undefined) {
      g = classes.length;
      byN.set(n, g);
      classes.push({ n, count: 0, cost: n + D, cap: Math.min(D, n) });
    }
    classes[g]!.count++;
    return g;
  });
  return { classes, classOf };
}

function checkShape(sizes: readonly number[], D: number): void {
  if (!Number.isInteger(D) || D < 1) throw new Error(`D must be a positive integer, got ${D}`);
  if (sizes.length === 0) throw new Error('a factorized matrix needs at least one block');
  sizes.forEach((n, p) => {
    if (!Number.isInteger(n) || n < 1) throw new Error(`block ${p} has ${n} rows: every block needs a positive integer number of rows`);
  });
}

/** Sizes of c frequency blocks of N rows (see low-rank's frequencyBlocks): ⌈N/c⌉ for the first N mod c, ⌊N/c⌋ after. */
export function frequencyBlockSizes(N: number, c: number): number[] {
  return Array.from({ length: c }, (_, p) => Math.floor(N / c) + (p < N % c ? 1 : 0));
}

/**
 * The ranks for a budget. sizes:[k] (rows per block), D: columns, order: the method's preference
 * (see the file comment) → ranks:[k] with 1 ≤ r_p ≤ min(D, |p|) whose rate meets budget.rate
 * within budget.tolerance; throws RateError (naming `method` and the nearest rates it can meet)
 * when no rank vector does.
 */
export function allocateRanks(sizes: readonly number[], D: number, budget: RateBudget, order: RankOrder, method: string): RankAllocation {
  const { rate, tolerance } = checkRate(budget);
  checkShape(sizes, D);
  const { classes, classOf } = classesOf(sizes, D);
  const b = new Budget(classes, D, rate, tolerance, method);
  const refusal = b.outOfRange();
  if (refusal) throw refusal;
  const cost = sizes.map((n) => n + D);
  const cap = sizes.map((n) => Math.min(D, n));
  const paramsOf = (r: number[]) => r.reduce((s, x, p) => s + x * cost[p]!, 0);
  const [down, up] = pathAround(cap, cost, b.target, order);
  let ranks = up === null || (down !== null && b.nearer(paramsOf(down), paramsOf(up)) === paramsOf(down)) ? down! : up;
  if (!b.meets(paramsOf(ranks))) {
    const found = searchClasses(b, { sums: sumsByClass(ranks, classOf, classes.length), params: paramsOf(ranks) });
    if (!found.sums) throw b.between(found.below ?? (down && paramsOf(down)), found.above ?? (up && paramsOf(up)), found.searched);
    ranks = ranks.slice();
    for (let g = 0; g < classes.length; g++) moveClassSum(ranks, classOf, g, found.sums[g]!, cap, order);
  }
  const params = paramsOf(ranks);
  return { ranks, params, rate: b.ND / params };
}

/**
 * Why no rank vector over c frequency blocks of an N×D matrix meets `rate` within `tolerance`
 * (null: one does). Exact, from the sizes alone: the allocation of any method over these blocks
 * meets the rate exactly when this is null.
 */
export function rateRefusal(N: number, D: number, blocks: number, budget: RateBudget, method: string): RateError | null {
  const { rate, tolerance } = checkRate(budget);
  if (!Number.isInteger(N) || N < 1) throw new Error(`N must be a positive integer, got ${N}`);
  if (!Number.isInteger(blocks) || blocks < 1 || blocks > N) throw new Error(`blocks must be an integer in [1, ${N}], got ${blocks}`);
  if (!Number.isInteger(D) || D < 1) throw new Error(`D must be a positive integer, got ${D}`);
  const small = Math.floor(N / blocks);
  const extra = N % blocks;
  const classes: SizeClass[] = [];
  if (extra > 0) classes.push({ n: small + 1, count: extra, cost: small + 1 + D, cap: Math.min(D, small + 1) });
  if (blocks - extra > 0) classes.push({ n: small, count: blocks - extra, cost: small + D, cap: Math.min(D, small) });
  const b = new Budget(classes, D, rate, tolerance, method);
  const refusal = b.outOfRange();
  if (refusal) return refusal;
  // In range, a window at least one step wide is met by every path (each step adds ≤ maxCost).
  if (b.hi - b.lo + 1 >= b.maxCost) return null;
  const found = searchClasses(b, null);
  return found.sums ? null : b.between(found.below, found.above, found.searched);
}

// ---------------------------------------------------------------------------------------------
// The method's path

/** Steps of block p (of cap m) with key < τ: keys increase in r, so a bisection over r ∈ [1, m−1]. */
function stepsBelow(order: RankOrder, p: number, m: number, tau: number): number {
  let lo = 0;
  let hi = m - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (order.key(p, mid) < tau) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * The two consecutive points of the path whose parameter counts bracket the target (the last
 * below it, the first at or above it); one is null at an end of the path. Bisection on the key
 * τ (the points "every step with key < τ" are prefixes of the path), then the few steps between
 * two such prefixes, walked in path order.
 */
function pathAround(cap: number[], cost: number[], target: number, order: RankOrder): [number[] | null, number[] | null] {
  const k = cap.length;
  const at = (tau: number) => cap.map((m, p) => 1 + stepsBelow(order, p, m, tau));
  const paramsOf = (r: number[]) => r.reduce((s, x, p) => s + x * cost[p]!, 0);
  const ones = cap.map(() => 1);
  if (paramsOf(ones) >= target) return [null, ones];
  if (paramsOf(cap) < target) return [cap.slice(), null];
  let lo = Infinity;
  let hi = -Infinity;
  for (let p = 0; p < k; p++) {
    if (cap[p]! < 2) continue;
    lo = Math.min(lo, order.key(p, 1));
    hi = Math.max(hi, order.key(p, cap[p]! - 1));
  }
  hi += Math.abs(hi) + 1; // every step's key is below hi: at(hi) = cap, at(lo) = ones
  for (let it = 0; it < 2000; it++) {
    const mid = lo + (hi - lo) / 2;
    if (!(mid > lo && mid < hi)) break;
    if (paramsOf(at(mid)) < target) lo = mid;
    else hi = mid;
  }
  const from = at(lo);
  const to = at(hi);
  const steps: { p: number; key: number }[] = [];
  for (let p = 0; p < k; p++) for (let r = from[p]!; r < to[p]!; r++) steps.push({ p, key: order.key(p, r) });
  steps.sort((x, y) => x.key - y.key || x.p - y.p);
  const cur = from.slice();
  let params = paramsOf(cur);
  for (const s of steps) {
    const prev = cur.slice();
    cur[s.p]!++;
    params += cost[s.p]!;
    if (params >= target) return [prev, cur];
  }
  return [from, to]; // not reached: paramsOf(to) ≥ target
}

// ---------------------------------------------------------------------------------------------
// The exhaustive search over rank sums per block size

interface SearchResult {
  /** Rank sums per size class of the reachable count in the window nearest the target, or null. */
  sums: number[] | null;
  /** The nearest reachable counts below the window and above it. */
  below: number | null;
  above: number | null;
  /** False when the table would have been too large (then below/above are null). */
  searched: boolean;
}

function sumsByClass(ranks: number[], classOf: number[], G: number): number[] {
  const s = new Array<number>(G).fill(0);
  ranks.forEach((r, p) => (s[classOf[p]!]! += r));
  return s;
}

/** Where a search should stay near: the path's point (its rank sum per size class, its parameters). */
interface Preference {
  sums: number[];
  params: number;
}

/**
 * Class g's rank sum S_g can be any integer in [count_g, count_g·cap_g], so the reachable
 * parameter counts are Σ_g cost_g·S_g. Of those in the window it picks the one nearest
 * pref.params, then the sums nearest pref.sums (pref null: the count nearest the target).
 */
function searchClasses(b: Budget, pref: Preference | null): SearchResult {
  const cls = b.classes;
  if (cls.length === 1) return searchOne(b);
  if (cls.length === 2) return searchTwo(b, pref);
  return searchTable(b, pref);
}

function searchOne(b: Budget): SearchResult {
  const c = b.classes[0]!;
  const [lo, hi] = [c.count, c.count * c.cap];
  const first = Math.max(lo, Math.ceil(b.lo / c.cost));
  if (b.lo <= b.hi && first <= hi && first * c.cost <= b.hi) {
    let s = first;
    while (s + 1 <= hi && (s + 1) * c.cost <= b.hi && b.nearer((s + 1) * c.cost, s * c.cost) === (s + 1) * c.cost) s++;
    return { sums: [s], below: null, above: null, searched: true };
  }
  const below = Math.min(hi, Math.ceil(b.lo / c.cost) - 1);
  const above = Math.max(lo, Math.floor(b.hi / c.cost) + 1);
  return { sums: null, below: below >= lo ? below * c.cost : null, above: above <= hi ? above * c.cost : null, searched: true };
}

/** Two sizes: for each rank sum S₁ of the costlier class, the other's sums form an interval. */
function searchTwo(b: Budget, pref: Preference | null): SearchResult {
  const swap = b.classes[1]!.cost > b.classes[0]!.cost;
  const [A, B] = swap ? [b.classes[1]!, b.classes[0]!] : [b.classes[0]!, b.classes[1]!];
  const [a1, b1, a2, b2] = [A.count, A.count * A.cap, B.count, B.count * B.cap];
  const want = pref && (swap ? [pref.sums[1]!, pref.sums[0]!] : [pref.sums[0]!, pref.sums[1]!]);
  const aim = pref ? pref.params : b.target;
  let best: [number, number] | null = null;
  let bestParams = 0;
  let below: number | null = null;
  let above: number | null = null;
  // Past the first S₁ whose least count exceeds hi, every count is larger still.
  const last = Math.max(a1, Math.min(b1, Math.floor((b.hi - B.cost * a2) / A.cost) + 1));
  if (last - a1 > MAX_SEARCH) return { sums: null, below: null, above: null, searched: false };
  for (let s1 = a1; s1 <= last; s1++) {
    const rest = A.cost * s1;
    const from = Math.max(a2, Math.ceil((b.lo - rest) / B.cost));
    const to = Math.min(b2, Math.floor((b.hi - rest) / B.cost));
    if (from <= to) {
      // The sums nearest the aim in this interval: the two around (aim − rest) / cost.
      const mid = Math.min(to, Math.max(from, Math.floor((aim - rest) / B.cost)));
      for (const s2 of mid + 1 <= to ? [mid, mid + 1] : [mid]) {
        const p = rest + B.cost * s2;
        const [dp, db] = [Math.abs(p - aim), Math.abs(bestParams - aim)];
        const better = best === null || dp < db || (dp === db && distance([s1, s2], want) < distance(best, want));
        if (better) {
          best = [s1, s2];
          bestParams = p;
        }
      }
    }
    const under = Math.min(b2, Math.ceil((b.lo - rest) / B.cost) - 1);
    if (under >= a2 && (below === null || rest + B.cost * under > below)) below = rest + B.cost * under;
    const over = Math.max(a2, Math.floor((b.hi - rest) / B.cost) + 1);
    if (over <= b2 && (above === null || rest + B.cost * over < above)) above = rest + B.cost * over;
  }
  if (!best) return { sums: null, below, above, searched: true };
  return { sums: swap ? [best[1], best[0]] : best, below, above, searched: true };
}

const distance = (s: number[], want: number[] | null) => (want ? s.reduce((d, x, i) => d + Math.abs(x - want[i]!), 0) : 0);

/**
 * Three or more sizes: a table over the extra parameters y = count − base ∈ [0, hi + maxCost −
 * base], first[y] = the fewest classes (in order) that reach y, filled class by class with a
 * sliding count per residue of the class's cost (a bounded knapsack); then back from the chosen
 * count, each class's sum nearest its preferred one among those that leave the rest reachable.
 */
function searchTable(b: Budget, pref: Preference | null): SearchResult {
  const cls = b.classes;
  const G = cls.length;
  const L = b.hi + b.maxCost - b.base + 1;
  if (L * G > MAX_SEARCH || G >= 0xffff) return { sums: null, below: null, above: null, searched: false };
  const UNREACHED = 0xffff;
  const first = new Uint16Array(L).fill(UNREACHED);
  first[0] = 0;
  for (let g = 1; g <= G; g++) {
    const c = cls[g - 1]!.cost;
    const M = cls[g - 1]!.count * (cls[g - 1]!.cap - 1);
    for (let rho = 0; rho < Math.min(c, L); rho++) {
      let count = 0;
      for (let y = rho; y < L; y += c) {
        if (first[y]! < g) count++;
        const out = y - (M + 1) * c;
        if (out >= 0 && first[out]! < g) count--;
        if (count > 0 && first[y] === UNREACHED) first[y] = g;
      }
    }
  }
  const aim = (pref ? pref.params : b.target) - b.base;
  let best = -1;
  for (let y = Math.max(0, b.lo - b.base); y <= b.hi - b.base; y++) {
    if (first[y] !== UNREACHED && (best < 0 || Math.abs(y - aim) < Math.abs(best - aim))) best = y;
  }
  let below: number | null = null;
  for (let y = Math.min(L, b.lo - b.base) - 1; y >= 0; y--) if (first[y] !== UNREACHED) { below = y + b.base; break; }
  let above: number | null = null;
  for (let y = Math.max(0, b.hi - b.base + 1); y < L; y++) if (first[y] !== UNREACHED) { above = y + b.base; break; }
  if (best < 0) return { sums: null, below, above, searched: true };
  const sums = new Array<number>(G);
  let y = best;
  for (let g = G; g >= 1; g--) {
    const c = cls[g - 1]!;
    const M = c.count * (c.cap - 1);
    const want = pref ? pref.sums[g - 1]! - c.count : 0;
    let pick = -1;
    for (let s = 0; s <= M && s * c.cost <= y; s++) {
      if (first[y - s * c.cost]! < g && (pick < 0 || Math.abs(s - want) < Math.abs(pick - want))) pick = s;
    }
    sums[g - 1] = c.count + pick;
    y -= pick * c.cost;
  }
  return { sums, below, above, searched: true };
}

/** Moves class g's rank sum to `sum`: adds in the method's order (the lowest next key), removes in reverse (the highest last key). */
function moveClassSum(ranks: number[], classOf: number[], g: number, sum: number, cap: number[], order: RankOrder): void {
  const members = classOf.flatMap((c, p) => (c === g ? [p] : []));
  let have = members.reduce((s, p) => s + ranks[p]!, 0);
  while (have < sum) {
    let pick = -1;
    for (const p of members) if (ranks[p]! < cap[p]! && (pick < 0 || order.key(p, ranks[p]!) < order.key(pick, ranks[pick]!))) pick = p;
    ranks[pick]!++;
    have++;
  }
  while (have > sum) {
    let pick = -1;
    for (const p of members) if (ranks[p]! > 1 && (pick < 0 || order.key(p, ranks[p]! - 1) >= order.key(pick, ranks[pick]! - 1))) pick = p;
    ranks[pick]!--;
    have--;
  }
}
