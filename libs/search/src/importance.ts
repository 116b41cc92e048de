// Parameter importance: how much of an objective's variation each parameter explains, as a
// random forest's mean decrease in impurity (MDI: over every split of every tree, the fall in the
// squared error the split buys, summed per parameter, averaged over trees, normalised to sum 1).
// Optuna offers it beside fANOVA (its MeanDecreaseImpurityImportanceEvaluator) and W&B's sweep
// page shows the same kind of forest importance. Pure and seeded: the same rows, seed and
// options give the same importances.
import { Rng } from './rng.ts';

/** One parameter's column: numbers (split on thresholds) or categories (split one against the rest). */
export type ImportanceColumn = { name: string; kind: 'numeric'; values: readonly number[] } | { name: string; kind: 'categorical'; values: readonly string[] };

export interface ImportanceOptions {
  /** Trees in the forest. */
  trees?: number;
  /** Nodes with fewer rows are leaves. */
  minLeaf?: number;
  maxDepth?: number;
  /** Columns tried at each split (a random subset); default all, as scikit-learn's regression forests do: bootstrap samples alone make the trees differ. */
  maxFeatures?: number;
  seed?: number;
}

export interface Importance {
  name: string;
  /** Its share of the impurity decrease, in [0, 1]; the shares sum to 1 (all 0 when the objective never varies). */
  importance: number;
}

/** What importances/plots call the method. */
export const IMPORTANCE_METHOD = 'random-forest mean decrease in impurity';

interface Tree {
  gain: Float64Array;
}

/** Column j encoded as numbers: numeric as they are, categorical as the index of the category. */
function encode(col: ImportanceColumn): { x: Float64Array; categorical: boolean } {
  if (col.kind === 'numeric') return { x: Float64Array.from(col.values), categorical: false };
  const ids = new Map<string, number>();
  return { x: Float64Array.from(col.values, (v) => ids.get(v) ?? ids.set(v, ids.size).get(v)!), categorical: true };
}

/**
 * The importance of each column for y (same length as every column), from a forest of CART
 * regression trees on bootstrap samples, each split the best of `maxFeatures` columns (all by
 * default). Rows where y is not finite are left out.
 */
export function parameterImportance(columns: readonly ImportanceColumn[], y: readonly number[], opts: ImportanceOptions = {}): Importance[] {
  for (const c of columns) if (c.values.length !== y.length) throw new Error(`parameterImportance: column ${c.name} has ${c.values.length} values for ${y.length} objectives`);
  const rows = y.map((v, i) => i).filter((i) => Number.isFinite(y[i]!));
  const cols = columns.map(encode);
  const total = new Float64Array(columns.length);
  const trees = opts.trees ?? 64;
  const rng = new Rng(opts.seed ?? 0);
  const tries = Math.max(1, Math.min(columns.length, opts.maxFeatures ?? columns.length));
  if (rows.length >= 2 && columns.length > 0) {
    for (let t = 0; t < trees; t++) {
      const sample = rows.map(() => rows[rng.int(rows.length)]!);
      const tree: Tree = { gain: new Float64Array(columns.length) };
      grow(tree, sample, cols, y, 0, { minLeaf: opts.minLeaf ?? 2, maxDepth: opts.maxDepth ?? 12, tries, rng });
      for (let j = 0; j < columns.length; j++) total[j]! += tree.gain[j]!;
    }
  }
  const sum = total.reduce((a, b) => a + b, 0);
  return columns.map((c, j) => ({ name: c.name, importance: sum > 0 ? total[j]! / sum : 0 }));
}

interface GrowOptions {
  minLeaf: number;
  maxDepth: number;
  tries: number;
  rng: Rng;
}

/** Sum of squared deviations from the mean of y over rows. */
function sse(rows: readonly number[], y: readonly number[]): number {
  let s = 0;
  let s2 = 0;
  for (const i of rows) {
    s += y[i]!;
    s2 += y[i]! * y[i]!;
  }
  return Math.max(0, s2 - (s * s) / rows.length);
}

/** Splits rows at the best split of a few random columns, crediting its decrease to that column, and recurses. */
function grow(tree: Tree, rows: number[], cols: { x: Float64Array; categorical: boolean }[], y: readonly number[], depth: number, o: GrowOptions): void {
  if (rows.length < 2 * o.minLeaf || depth >= o.maxDepth) return;
  const parent = sse(rows, y);
  if (parent <= 1e-12 * rows.length) return;
  // A random subset of the columns (a partial Fisher–Yates shuffle).
  const order = cols.map((_, j) => j);
  for (let k = 0; k < o.tries; k++) {
    const r = k + o.rng.int(order.length - k);
    [order[k], order[r]] = [order[r]!, order[k]!];
  }
  let best: { gain: number; col: number; left: number[]; right: number[] } | null = null;
  for (const j of order.slice(0, o.tries)) {
    const split = bestSplit(rows, cols[j]!, y, o.minLeaf);
    if (split && (!best || split.gain > best.gain)) best = { ...split, col: j };
  }
  if (!best || best.gain <= 0) return;
  tree.gain[best.col]! += best.gain;
  grow(tree, best.left, cols, y, depth + 1, o);
  grow(tree, best.right, cols, y, depth + 1, o);
}

/** The split of rows on one column that lowers the squared error most: a threshold, or one category against the rest. */
function bestSplit(rows: number[], col: { x: Float64Array; categorical: boolean }, y: readonly number[], minLeaf: number): { gain: number; left: number[]; right: number[] } | null {
  const parent = sse(rows, y);
  if (col.categorical) {
    let best: { gain: number; left: number[]; right: number[] } | null = null;
    for (const c of new Set(rows.map((i) => col.x[i]!))) {
      const left = rows.filter((i) => col.x[i] === c);
      const right = rows.filter((i) => col.x[i] !== c);
      if (left.length < minLeaf || right.length < minLeaf) continue;
      const gain = parent - sse(left, y) - sse(right, y);
      if (!best || gain > best.gain) best = { gain, left, right };
    }
    return best;
  }
  const sorted = [...rows].sort((a, b) => col.x[a]! - col.x[b]!);
  const n = sorted.length;
  let ls = 0;
  let ls2 = 0;
  let rs = 0;
  let rs2 = 0;
  for (const i of sorted) {
    rs += y[i]!;
    rs2 += y[i]! * y[i]!;
  }
  let bestGain = 0;
  let bestAt = -1;
  for (let k = 0; k < n - 1; k++) {
    const v = y[sorted[k]!]!;
    ls += v;
    ls2 += v * v;
    rs -= v;
    rs2 -= v * v;
    const nl = k + 1;
    const nr = n - nl;
    if (nl < minLeaf || nr < minLeaf || col.x[sorted[k]!] === col.x[sorted[k + 1]!]) continue;
    const gain = parent - (ls2 - (ls * ls) / nl) - (rs2 - (rs * rs) / nr);
    if (gain > bestGain) {
      bestGain = gain;
      bestAt = k;
    }
  }
  if (bestAt < 0) return null;
  return { gain: bestGain, left: sorted.slice(0, bestAt + 1), right: sorted.slice(bestAt + 1) };
}
