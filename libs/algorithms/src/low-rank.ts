// Low-rank compression of an embedding/softmax matrix A (N words × D) under a parameter budget:
// plain SVD, frequency-weighted SVD, block-weighted SVD, dynamic rank and GroupReduce
// (Chen et al., NeurIPS 2018), all returning the same factorized form.
//
// Budget: a target compression rate R = N·D / params. The factorized form costs
// params = Σₚ (|block p|·r_p + r_p·D) (Uₚ and Vₚ). The word → block/row mapping is an integer
// index, not a trainable parameter, and is not counted. Every method allocates its ranks with
// rank-budget's allocateRanks, in its own order (a common rank; rank by frequency), meeting R
// within `tolerance` (default 1%) whenever any integer ranks can, and reports the achieved rate;
// it throws a RateError, with the nearest rates it can meet, only when none can (R < 1 is refused).
//
// Weighted fits: with q normalized to sum 1, the best rank-r fit of block rows Aᵢ under
// Σᵢ qᵢ‖Aᵢ − Âᵢ‖² is Âᵢ = Aᵢ·V·Vᵀ, V the top-r right singular vectors of diag(√q)·A. We store
// U = A·V (= diag(1/√q)·(diag(√q)·A·V), "unscaled back", and also defined for qᵢ = 0).

import { allocateRanks, COMMON_RANK, frequencyBlockSizes, RateError, rateRefusal, type RankOrder, type RateBudget } from './rank-budget.ts';
import { checkMatrix, multiplyRows, topRightSubspace, type Matrix } from './svd.ts';

export type CompressionMethod = 'svd' | 'weighted-svd' | 'block-weighted-svd' | 'dynamic-rank' | 'groupreduce';
export const COMPRESSION_METHODS: readonly CompressionMethod[] = ['svd', 'weighted-svd', 'block-weighted-svd', 'dynamic-rank', 'groupreduce'];

/** One block of words: Â[rows[t]] = U[t,:]·V. */
export interface FactorBlock {
  /** Word ids (rows of A) in this block, [|block|]. */
  rows: Int32Array;
  rank: number;
  /** [|block|, rank] row-major. */
  U: Float32Array;
  /** [rank, D] row-major (Vₚᵀ: each row a basis vector of length D, orthonormal rows). */
  V: Float32Array;
}

export interface Factorized {
  method: CompressionMethod;
  N: number;
  D: number;
  blocks: FactorBlock[];
  /** [N]: block of each word. */
  wordBlock: Int32Array;
  /** [N]: row of each word inside its block's U. */
  wordRow: Int32Array;
  /** Σₚ (|block p|·r_p + r_p·D): the mapping is not counted (an index, not a parameter). */
  params: number;
  /** Achieved rate N·D / params. */
  rate: number;
  /**
   * GroupReduce only: refinement iterations run, the iterate kept (0 = the dynamic-rank start),
   * the words that changed block in each iteration, and the weighted error of each iterate fitted
   * (errors[0]: dynamic rank's; none after an iteration that moved nothing or missed the budget).
   */
  refinement?: { iterations: number; best: number; moved: number[]; errors: number[] };
}

/** Â = reconstruction of the factorized form: f → Â:[N, D] row-major float32. */
export function reconstruct(f: Factorized): Float32Array {
  const out = new Float32Array(f.N * f.D);
  const D = f.D;
  const row = new Float64Array(D);
  for (const b of f.blocks) {
    const r = b.rank;
    for (let t = 0; t < b.rows.length; t++) {
      const o = b.rows[t]! * D;
      row.fill(0);
      for (let c = 0; c < r; c++) {
        const u = b.U[t * r + c]!;
        if (u === 0) continue;
        const vo = c * D;
        for (let d = 0; d < D; d++) row[d]! += u * b.V[vo + d]!;
      }
      out.set(row, o);
    }
  }
  return out;
}

/**
 * Σᵢ qᵢ‖Aᵢ − Âᵢ‖² / Σᵢ qᵢ‖Aᵢ‖² with q normalized to sum 1. A:[N,D], q:[N], f for the same N×D.
 * 0 when A is zero on the support of q.
 */
export function weightedError(A: Matrix, q: ArrayLike<number>, f: Factorized): number {
  checkMatrix(A, 'A');
  const w = normalizeFrequencies(q, A.rows);
  if (f.N !== A.rows || f.D !== A.cols) throw new Error(`weightedError: f is ${f.N}×${f.D}, A is ${A.rows}×${A.cols}`);
  const D = A.cols;
  const a = A.data;
  let num = 0;
  let den = 0;
  const row = new Float64Array(D);
  for (const b of f.blocks) {
    const r = b.rank;
    for (let t = 0; t < b.rows.length; t++) {
      const i = b.rows[t]!;
      const wi = w[i]!;
      if (wi === 0) continue;
      row.fill(0);
      for (let c = 0; c < r; c++) {
        const u = b.U[t * r + c]!;
        const vo = c * D;
        for (let d = 0; d < D; d++) row[d]! += u * b.V[vo + d]!;
      }
      let e = 0;
      let s = 0;
      const o = i * D;
      for (let d = 0; d < D; d++) {
        const x = a[o + d]!;
        const diff = x - row[d]!;
        e += diff * diff;
        s += x * x;
      }
      num += wi * e;
      den += wi * s;
    }
  }
  return den === 0 ? 0 : num / den;
}

/** q:[N] non-negative, finite, positive sum → q / Σq (float64). */
export function normalizeFrequencies(q: ArrayLike<number>, N: number, name = 'q'): Float64Array {
  if (!q || typeof q.length !== 'number') throw new Error(`${name} must be an array of ${N} frequencies`);
  if (q.length !== N) throw new Error(`${name} has length ${q.length}, but A has ${N} rows (one frequency per row)`);
  let sum = 0;
  for (let i = 0; i < N; i++) {
    const x = q[i]!;
    if (!Number.isFinite(x)) throw new Error(`${name}[${i}] is ${x}: frequencies must be finite`);
    if (x < 0) throw new Error(`${name}[${i}] is ${x}: frequencies must be non-negative`);
    sum += x;
  }
  if (!(sum > 0)) throw new Error(`${name} sums to ${sum}: frequencies need a positive sum`);
  const out = new Float64Array(N);
  for (let i = 0; i < N; i++) out[i] = q[i]! / sum;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Budgets

/**
 * The rank of a single-block method for a rate: the r whose rate N·D / (r·(N + D)) is nearest R,
 * 1 ≤ r ≤ min(N, D); throws a RateError when that misses R by more than the tolerance.
 */
export function rankForRate(N: number, D: number, budget: RateBudget, method = 'svd'): number {
  return allocateRanks([N], D, budget, COMMON_RANK, method).ranks[0]!;
}

// ---------------------------------------------------------------------------------------------
// Blocks

/**
 * Words sorted by frequency (descending; ties by word id) and split into c blocks of equal size:
 * sizes ⌈N/c⌉ for the first N mod c blocks and ⌊N/c⌋ after (so the later, rarer blocks may be one
 * shorter). w:[N] → c arrays of word ids.
 */
export function frequencyBlocks(w: ArrayLike<number>, c: number): Int32Array[] {
  const N = w.length;
  if (!Number.isInteger(c) || c < 1) throw new Error(`blocks must be a positive integer, got ${c}`);
  if (c > N) throw new Error(`blocks (${c}) must not exceed the number of rows of A (${N})`);
  const order = Array.from({ length: N }, (_, i) => i).sort((x, y) => w[y]! - w[x]! || x - y);
  const out: Int32Array[] = [];
  let at = 0;
  for (const size of frequencyBlockSizes(N, c)) {
    out.push(Int32Array.from(order.slice(at, at + size)));
    at += size;
  }
  return out;
}

const blockParams = (sizes: number[], ranks: number[], D: number) => sizes.reduce((s, n, p) => s + ranks[p]! * (n + D), 0);

/** Fit each block at its rank (weighted by w, or unweighted when w is null) and assemble. */
function fitBlocks(method: CompressionMethod, A: Matrix, w: Float64Array | null, blocks: Int32Array[], ranks: number[]): Factorized {
  const N = A.rows;
  const D = A.cols;
  const wordBlock = new Int32Array(N).fill(-1);
  const wordRow = new Int32Array(N);
  const out: FactorBlock[] = [];
  blocks.forEach((rows, p) => {
    const r = ranks[p]!;
    const bw = w ? Float64Array.from(rows, (i) => w[i]!) : null;
    const { V, P } = topRightSubspace(A, rows, bw, r);
    const U = Float32Array.from(P);
    const Vt = new Float32Array(r * D);
    for (let d = 0; d < D; d++) for (let c = 0; c < r; c++) Vt[c * D + d] = V[d * r + c]!;
    rows.forEach((i, t) => {
      wordBlock[i] = p;
      wordRow[i] = t;
    });
    out.push({ rows, rank: r, U, V: Vt });
  });
  const params = blockParams(blocks.map((b) => b.length), ranks, D);
  return { method, N, D, blocks: out, wordBlock, wordRow, params, rate: (N * D) / params };
}

function checkInputs(A: Matrix, q: ArrayLike<number> | null): Float64Array | null {
  checkMatrix(A, 'A');
  return q === null ? null : normalizeFrequencies(q, A.rows);
}

function rankOrBudget(method: CompressionMethod, A: Matrix, budget: number | RateBudget): number {
  const lim = Math.min(A.rows, A.cols);
  if (typeof budget === 'number') {
    if (!Number.isInteger(budget) || budget < 1 || budget > lim) throw new Error(`rank must be an integer in [1, min(N, D) = ${lim}], got ${budget}`);
    return budget;
  }
  return rankForRate(A.rows, A.cols, budget, method);
}

// ---------------------------------------------------------------------------------------------
// Methods

/**
 * Plain truncated SVD as a one-block factorized form. A:[N,D], budget: a rank r or a rate →
 * U:[N,r], V:[r,D], params r·(N+D).
 */
export function svdCompress(A: Matrix, budget: number | RateBudget): Factorized {
  checkInputs(A, null);
  const r = rankOrBudget('svd', A, budget);
  return fitBlocks('svd', A, null, [Int32Array.from({ length: A.rows }, (_, i) => i)], [r]);
}

/**
 * Frequency-weighted SVD: minimises Σᵢ qᵢ‖Aᵢ − Âᵢ‖² at rank r (SVD of diag(√q)·A, unscaled
 * back). A:[N,D], q:[N] (non-negative, positive sum), budget: a rank or a rate → one block.
 */
export function weightedSvd(A: Matrix, q: ArrayLike<number>, budget: number | RateBudget): Factorized {
  const w = checkInputs(A, q)!;
  const r = rankOrBudget('weighted-svd', A, budget);
  return fitBlocks('weighted-svd', A, w, [Int32Array.from({ length: A.rows }, (_, i) => i)], [r]);
}

export interface BlockOptions {
  /** Number of frequency blocks c (1 ≤ c ≤ N). */
  blocks: number;
  /** A common rank (clipped per block to min(D, |block|))… */
  rank?: number;
  /** …or a target rate, solved for the common rank. */
  rate?: number;
  tolerance?: number;
}

/**
 * Block-weighted SVD: c frequency blocks (see frequencyBlocks), each with its own weighted SVD
 * at a common rank r (clipped to min(D, |block|)). For a rate the rank is common up to one: r in
 * every block and r + 1 in the first (most frequent) ones, as many as the budget needs. The
 * frequent blocks carry most of the weight of the weighted error, so their extra rank removes
 * more of it; ordering by frequency keeps the choice a function of the sizes, so a launch can
 * check it. A:[N,D], q:[N] → c blocks, Uₚ:[|p|,r_p], Vₚ:[r_p,D].
 */
export function blockWeightedSvd(A: Matrix, q: ArrayLike<number>, opts: BlockOptions): Factorized {
  const w = checkInputs(A, q)!;
  const blocks = frequencyBlocks(w, opts.blocks);
  const sizes = blocks.map((b) => b.length);
  const D = A.cols;
  const cap = sizes.map((n) => Math.min(D, n));
  let ranks: number[];
  if (opts.rank !== undefined && opts.rate !== undefined) throw new Error('blockWeightedSvd: give rank or rate, not both');
  if (opts.rank !== undefined) {
    if (!Number.isInteger(opts.rank) || opts.rank < 1) throw new Error(`rank must be a positive integer, got ${opts.rank}`);
    const r = opts.rank;
    ranks = cap.map((m) => Math.min(m, r));
  } else {
    if (opts.rate === undefined) throw new Error('blockWeightedSvd: give a rank or a rate');
    ranks = allocateRanks(sizes, D, { rate: opts.rate, ...tol(opts.tolerance) }, COMMON_RANK, 'block-weighted-svd').ranks;
  }
  return fitBlocks('block-weighted-svd', A, w, blocks, ranks);
}

const tol = (tolerance: number | undefined) => (tolerance !== undefined ? { tolerance } : {});

/**
 * Why `method` cannot compress an N×D matrix at `rate` with `blocks` frequency blocks (null: it
 * can). Exact from the sizes alone, for every method: each meets a rate whenever any integer
 * ranks over its blocks do (see rank-budget). The message names the nearest rates it can meet.
 */
export function rateIssue(method: CompressionMethod, N: number, D: number, rate: number, blocks = 1, tolerance?: number): string | null {
  const c = method === 'svd' || method === 'weighted-svd' ? 1 : blocks;
  if (!Number.isInteger(c) || c < 1 || c > N) return `blocks must be an integer in [1, ${N}], got ${blocks}`;
  try {
    return rateRefusal(N, D, c, { rate, ...tol(tolerance) }, method)?.message ?? null;
  } catch (e) {
    return (e as Error).message;
  }
}

export interface DynamicRankOptions {
  blocks: number;
  rate: number;
  tolerance?: number;
}

/**
 * Dynamic rank's order (Chen et al. 2018: frequent blocks get more rank): rank r_p =
 * clip(round(s·f̄_p / f̄_min), 1, min(D, |p|)) as s grows, one step at a time (block p's step
 * r → r + 1 at s = (r + ½)·f̄_min / f̄_p; equal s: the lower block first). f̄_p is block p's mean
 * (normalized) frequency and f̄_min the smallest positive one; a block whose words all have
 * frequency 0 stays at rank 1 until every other block is at full rank.
 */
export function frequencyOrder(meanFreq: number[], caps: number[]): RankOrder {
  const fmin = Math.min(...meanFreq.filter((f) => f > 0));
  const x = meanFreq.map((f) => (f > 0 ? f / fmin : 0));
  const after = Math.max(...caps) + 1; // above every positive block's last key, (cap − ½)/x ≤ cap − ½
  return { key: (p, r) => (x[p]! > 0 ? (r + 0.5) / x[p]! : after + r) };
}

/**
 * Dynamic rank's ranks for a budget: the point of frequencyOrder's path nearest the rate, moved
 * off it only when the path skips the tolerance window (see rank-budget's allocateRanks).
 * sizes:[k], meanFreq:[k] → ranks:[k]; throws a RateError when no ranks meet the rate.
 */
export function solveDynamicRanks(sizes: number[], meanFreq: number[], D: number, budget: RateBudget, method = 'dynamic-rank'): number[] {
  const caps = sizes.map((n) => Math.min(D, n));
  return allocateRanks(sizes, D, budget, frequencyOrder(meanFreq, caps), method).ranks;
}

const meanFrequencies = (blocks: Int32Array[], w: Float64Array) => blocks.map((b) => b.reduce((s, i) => s + w[i]!, 0) / b.length);

/**
 * Dynamic rank: the frequency blocks of blockWeightedSvd, block p at rank ∝ its mean frequency
 * (see solveDynamicRanks), each a weighted SVD. A:[N,D], q:[N] → c blocks, Uₚ:[|p|,r_p], Vₚ:[r_p,D].
 */
export function dynamicRank(A: Matrix, q: ArrayLike<number>, opts: DynamicRankOptions): Factorized {
  const w = checkInputs(A, q)!;
  const blocks = frequencyBlocks(w, opts.blocks);
  const ranks = solveDynamicRanks(blocks.map((b) => b.length), meanFrequencies(blocks, w), A.cols, { rate: opts.rate, ...tol(opts.tolerance) });
  return fitBlocks('dynamic-rank', A, w, blocks, ranks);
}

export interface GroupReduceOptions extends DynamicRankOptions {
  /** Refinement iterations t (≥ 0; 0 = dynamic rank). */
  iters: number;
}

/**
 * GroupReduce: dynamic rank, then up to t refinements: each word moves to the block whose
 * basis Vₚ reconstructs it best (min ‖Aᵢ − AᵢVₚVₚᵀ‖² = ‖Aᵢ‖² − ‖AᵢVₚ‖², ties keep the current
 * block); blocks left empty are dropped; the blocks' mean frequencies, ranks (solved again for
 * the budget) and weighted SVDs are recomputed. Stops when no word moves. The iterate with the
 * least weighted error is returned, so it is never worse than dynamic rank (iterate 0). An
 * iterate whose blocks cannot meet the budget (integer-rank granularity) ends the refinement.
 * Observed behaviour: with unequal ranks the highest-rank block's basis reconstructs most words
 * best, so words flow into it and the blocks tend to merge (towards one block, i.e. weighted SVD).
 * A:[N,D], q:[N] → ≤ c blocks.
 */
export function groupReduce(A: Matrix, q: ArrayLike<number>, opts: GroupReduceOptions): Factorized {
  const w = checkInputs(A, q)!;
  const t = opts.iters;
  if (!Number.isInteger(t) || t < 0) throw new Error(`iters must be a non-negative integer, got ${t}`);
  const budget = { rate: opts.rate, ...tol(opts.tolerance) };
  const N = A.rows;
  const D = A.cols;
  let blocks = frequencyBlocks(w, opts.blocks);
  let f = fitBlocks('groupreduce', A, w, blocks, solveDynamicRanks(blocks.map((b) => b.length), meanFrequencies(blocks, w), D, budget, 'groupreduce'));
  let best = f;
  let bestErr = weightedError(A, w, f);
  let bestIt = 0;
  const moved: number[] = [];
  const errors = [bestErr];
  const norms = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    let s = 0;
    for (let d = 0; d < D; d++) s += A.data[i * D + d]! ** 2;
    norms[i] = s;
  }
  const all = Int32Array.from({ length: N }, (_, i) => i);
  let it = 0;
  for (; it < t; it++) {
    // Residual of every word under every block's basis: ‖Aᵢ‖² − ‖Aᵢ·Vₚᵀ‖² (V rows orthonormal).
    const total = f.blocks.reduce((s, b) => s + b.rank, 0);
    const Vall = new Float64Array(D * total);
    let off = 0;
    for (const b of f.blocks) {
      for (let c = 0; c < b.rank; c++) for (let d = 0; d < D; d++) Vall[d * total + off + c] = b.V[c * D + d]!;
      off += b.rank;
    }
    const proj = multiplyRows(A, all, Vall, total);
    const assign = new Int32Array(N);
    let changes = 0;
    for (let i = 0; i < N; i++) {
      const cur = f.wordBlock[i]!;
      const res = new Float64Array(f.blocks.length);
      let o = i * total;
      for (let p = 0; p < f.blocks.length; p++) {
        const r = f.blocks[p]!.rank;
        let s = 0;
        for (let c = 0; c < r; c++) s += proj[o + c]! ** 2;
        o += r;
        res[p] = norms[i]! - s;
      }
      // Move only on a strict improvement (beyond rounding), so ties keep the current block.
      let bestP = cur;
      for (let p = 0; p < res.length; p++) if (res[p]! < res[bestP]! - 1e-12 * norms[i]!) bestP = p;
      assign[i] = bestP;
      if (bestP !== cur) changes++;
    }
    moved.push(changes);
    if (changes === 0) break;
    const groups: number[][] = f.blocks.map(() => []);
    for (let i = 0; i < N; i++) groups[assign[i]!]!.push(i);
    blocks = groups.filter((g) => g.length > 0).map((g) => Int32Array.from(g));
    let ranks: number[];
    try {
      ranks = solveDynamicRanks(blocks.map((b) => b.length), meanFrequencies(blocks, w), D, budget, 'groupreduce');
    } catch (e) {
      if (e instanceof RateError) break; // this assignment cannot meet the budget: keep the best so far
      throw e;
    }
    f = fitBlocks('groupreduce', A, w, blocks, ranks);
    const e = weightedError(A, w, f);
    errors.push(e);
    if (e < bestErr) {
      best = f;
      bestErr = e;
      bestIt = it + 1;
    }
  }
  return { ...best, method: 'groupreduce', refinement: { iterations: moved.length, best: bestIt, moved, errors } };
}

export interface CompressOptions {
  rate: number;
  /** Frequency blocks for the block methods (default 10). */
  blocks?: number;
  /** GroupReduce refinement iterations (default 5). */
  iters?: number;
  tolerance?: number;
}

/** Any method by name, at a target rate. A:[N,D], q:[N] → Factorized. */
export function compress(method: CompressionMethod, A: Matrix, q: ArrayLike<number>, opts: CompressOptions): Factorized {
  const budget = { rate: opts.rate, ...tol(opts.tolerance) };
  const blocks = opts.blocks ?? 10;
  switch (method) {
    case 'svd':
      normalizeFrequencies(q, A.rows);
      return svdCompress(A, budget);
    case 'weighted-svd':
      return weightedSvd(A, q, budget);
    case 'block-weighted-svd':
      return blockWeightedSvd(A, q, { blocks, ...budget });
    case 'dynamic-rank':
      return dynamicRank(A, q, { blocks, ...budget });
    case 'groupreduce':
      return groupReduce(A, q, { blocks, iters: opts.iters ?? 5, ...budget });
    default:
      throw new Error(`method must be one of ${COMPRESSION_METHODS.join(', ')}, got "${String(method)}"`);
  }
}
