// Block-wise low-rank embedding and softmax layers (GroupReduce, Chen et al., NeurIPS 2018):
// trainable factors of a Factorized word matrix (libs/algorithms low-rank.ts), where word i in
// block p is row wordRow[i] of Uₚ and Â[i] = Uₚ[wordRow[i]]·Vₚ. Neither layer ever builds the
// N×D matrix: the embedding computes only the rows asked for, the softmax its logits block by block.
import * as tf from '@tensorflow/tfjs-core';
import type { CompressionMethod, Factorized } from '@lmsweep/algorithms';
import type { TensorData } from './checkpoint.ts';
import { blockSoftmaxLossSumNative, factorizedLookupNative } from './factorized-native.ts';
import { ensureGradients } from './gradients.ts';
import { native } from './native.ts';
import { softmaxCrossEntropySum } from './ops.ts';

type Args = Array<tf.Tensor | tf.GradSaveFunc>;

/** Checks f's blocks against N, D, its word maps and params; throws naming the first inconsistency. */
export function checkFactorized(f: Factorized, what = 'factorization'): void {
  const { N, D } = f;
  if (!Number.isInteger(N) || N < 1 || !Number.isInteger(D) || D < 1) throw new Error(`${what}: N=${N}, D=${D} must be positive integers`);
  if (f.wordBlock?.length !== N || f.wordRow?.length !== N) throw new Error(`${what}: wordBlock and wordRow must have length N=${N}`);
  const seen = new Uint8Array(N);
  let params = 0;
  f.blocks.forEach((b, p) => {
    const m = b.rows.length;
    const r = b.rank;
    if (m < 1) throw new Error(`${what}: block ${p} is empty`);
    if (!Number.isInteger(r) || r < 1) throw new Error(`${what}: block ${p} has rank ${r}`);
    if (b.U.length !== m * r) throw new Error(`${what}: block ${p}: U has ${b.U.length} values, |block|·rank = ${m}·${r}`);
    if (b.V.length !== r * D) throw new Error(`${what}: block ${p}: V has ${b.V.length} values, rank·D = ${r}·${D}`);
    for (let t = 0; t < m; t++) {
      const i = b.rows[t]!;
      if (!(i >= 0 && i < N)) throw new Error(`${what}: block ${p} lists word ${i}, outside 0..${N - 1}`);
      if (seen[i]) throw new Error(`${what}: word ${i} is listed twice`);
      seen[i] = 1;
      if (f.wordBlock[i] !== p || f.wordRow[i] !== t) throw new Error(`${what}: word ${i} is row ${t} of block ${p}, but wordBlock/wordRow say row ${f.wordRow[i]} of block ${f.wordBlock[i]}`);
    }
    params += m * r + r * D;
  });
  const missing = seen.indexOf(0);
  if (missing >= 0) throw new Error(`${what}: word ${missing} is in no block`);
  if (params !== f.params) throw new Error(`${what}: params is ${f.params}, the blocks hold ${params}`);
}

/**
 * x:[n, N] → tensors [n, sizes[p]] (column blocks), not differentiable. On wasm through one
 * download and row copies in JS: its column Slice (so split) runs ~20× slower there
 * (700×10 000 into 10 blocks: ≈ 390 ms against ≈ 20 ms); tf.split elsewhere.
 */
function columnBlocks(x: tf.Tensor2D, sizes: number[]): tf.Tensor2D[] {
  if (sizes.length === 1) return [x];
  if (tf.getBackend() !== 'wasm') return tf.split(x, sizes, 1) as tf.Tensor2D[];
  const [n, N] = x.shape;
  const data = x.dataSync() as Float32Array;
  let at = 0;
  return sizes.map((m) => {
    const out = new Float32Array(n * m);
    for (let i = 0; i < n; i++) out.set(data.subarray(i * N + at, i * N + at + m), i * m);
    at += m;
    return tf.tensor2d(out, [n, m]);
  });
}

/** a:[m, n] row-major → aᵀ:[n, m]. */
function transposed(a: ArrayLike<number>, m: number, n: number): Float32Array {
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out[j * m + i] = a[i * n + j]!;
  return out;
}

function trainable(data: Float32Array, shape: [number, number] | [number], name: string): tf.Variable {
  const t = tf.tensor(data, shape);
  const v = tf.variable(t, true, name);
  t.dispose();
  return v;
}

const int32 = (data: Int32Array): TensorData => ({ shape: [data.length], data: data.slice() });
const float32 = (v: tf.Variable): TensorData => ({ shape: [...v.shape], data: (v.dataSync() as Float32Array).slice() });

/** What a layer keeps of a Factorized besides its factors (copies). */
interface Layout {
  method: CompressionMethod;
  N: number;
  D: number;
  rows: Int32Array[];
  ranks: number[];
  wordBlock: Int32Array;
  wordRow: Int32Array;
}

const layoutOf = (f: Factorized): Layout => ({
  method: f.method,
  N: f.N,
  D: f.D,
  rows: f.blocks.map((b) => b.rows.slice()),
  ranks: f.blocks.map((b) => b.rank),
  wordBlock: f.wordBlock.slice(),
  wordRow: f.wordRow.slice(),
});

/** A Factorized of the layout with these factor values (params and rate recomputed). */
function withFactors(l: Layout, us: Float32Array[], vs: Float32Array[]): Factorized {
  const blocks = l.rows.map((rows, p) => ({ rows: rows.slice(), rank: l.ranks[p]!, U: us[p]!, V: vs[p]! }));
  const params = blocks.reduce((a, b) => a + b.rows.length * b.rank + b.rank * l.D, 0);
  return { method: l.method, N: l.N, D: l.D, blocks, wordBlock: l.wordBlock.slice(), wordRow: l.wordRow.slice(), params, rate: (l.N * l.D) / params };
}

/**
 * A factorized embedding table: ids:[n] → [n, D], row i = U_p[wordRow[id]]·V_p for p = wordBlock[id].
 * Variables `<name>/U.<p>` [|p|, r_p] and `<name>/V.<p>` [r_p, D], in block order.
 */
export class FactorizedEmbedding {
  readonly N: number;
  readonly D: number;
  readonly u: tf.Variable[];
  readonly v: tf.Variable[];
  /** U.0, V.0, U.1, V.1, … */
  readonly variables: tf.Variable[];
  private readonly layout: Layout;

  /** Trainable copies of f's factors (f is neither kept nor changed). */
  constructor(f: Factorized, name: string) {
    ensureGradients();
    checkFactorized(f, `embedding ${name}`);
    this.N = f.N;
    this.D = f.D;
    this.layout = layoutOf(f);
    this.u = f.blocks.map((b, p) => trainable(Float32Array.from(b.U), [b.rows.length, b.rank], `${name}/U.${p}`));
    this.v = f.blocks.map((b, p) => trainable(Float32Array.from(b.V), [b.rank, f.D], `${name}/V.${p}`));
    this.variables = this.u.flatMap((u, p) => [u, this.v[p]!]);
  }

  /** Σₚ (|p|·r_p + r_p·D) = f.params. */
  paramCount(): number {
    return this.variables.reduce((a, v) => a + v.size, 0);
  }

  /**
   * ids:[n] → [n, D], differentiable in every Uₚ and Vₚ (zero gradients for blocks no id falls
   * in). The ids are grouped by block on the CPU; per block the U rows asked for are gathered
   * and multiplied by Vₚ, and the rows put back in token order. One tape node: its gradient
   * gathers dy by block, dVₚ = Ugₚᵀ·dyₚ, dUₚ = scatter-add of dyₚ·Vₚᵀ (no UnsortedSegmentSum,
   * which wasm lacks and tf.gather's gradient needs).
   */
  lookup(ids: Int32Array): tf.Tensor2D {
    const { N, D } = this;
    const { wordBlock, wordRow } = this.layout;
    const P = this.u.length;
    const counts = new Int32Array(P);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (!(id >= 0 && id < N)) throw new RangeError(`token id ${id} at ${i} outside the vocabulary 0..${N - 1}`);
      counts[wordBlock[id]!]!++;
    }
    const touched = Array.from({ length: P }, (_, p) => p).filter((p) => counts[p]! > 0);
    // Per touched block: the token positions (ascending) and their rows of Uₚ.
    const positions = touched.map((p) => new Int32Array(counts[p]!));
    const local = touched.map((p) => new Int32Array(counts[p]!));
    const slot = new Int32Array(P).fill(-1);
    touched.forEach((p, k) => (slot[p] = k));
    const fill = new Int32Array(touched.length);
    for (let i = 0; i < ids.length; i++) {
      const k = slot[wordBlock[ids[i]!]!]!;
      positions[k]![fill[k]!] = i;
      local[k]![fill[k]!++] = wordRow[ids[i]!]!;
    }
    // Row of the block-ordered result that holds token i.
    const nk = native();
    if (nk) return factorizedLookupNative(nk, this.u as tf.Tensor[] as tf.Tensor2D[], this.v as tf.Tensor[] as tf.Tensor2D[], ids.length, touched, local, positions);
    const inverse = new Int32Array(ids.length);
    let at = 0;
    for (const pos of positions) for (const i of pos) inverse[i] = at++;
    const f = tf.customGrad((...args: Args) => {
      const save = args[args.length - 1] as tf.GradSaveFunc;
      const vars = args.slice(0, -1) as tf.Tensor2D[];
      const gathered = touched.map((p, k) => tf.gather(vars[2 * p]!, tf.tensor1d(local[k]!, 'int32')) as tf.Tensor2D);
      const rows = gathered.map((g, k) => tf.matMul(g, vars[2 * touched[k]! + 1]!));
      let value: tf.Tensor;
      if (rows.length === 0) value = tf.zeros([0, D]);
      else if (rows.length === 1) value = rows[0]!;
      else value = tf.gather(tf.concat(rows, 0), tf.tensor1d(inverse, 'int32'));
      save(gathered);
      return {
        value,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
          tf.tidy(() => {
            const grads: (tf.Tensor | undefined)[] = vars.map(() => undefined);
            touched.forEach((p, k) => {
              const dyP = (touched.length === 1 ? dy : tf.gather(dy, tf.tensor1d(positions[k]!, 'int32'))) as tf.Tensor2D;
              grads[2 * p + 1] = tf.matMul(tf.transpose(saved[k]! as tf.Tensor2D), dyP);
              // scatterND sums rows of repeated ids (cpu, wasm and TensorFlow alike)
              const dRows = tf.matMul(dyP, tf.transpose(vars[2 * p + 1]!));
              grads[2 * p] = tf.scatterND(tf.tensor2d(local[k]!, [local[k]!.length, 1], 'int32'), dRows, vars[2 * p]!.shape);
            });
            return grads.map((g, j) => g ?? tf.zeros(vars[j]!.shape));
          }),
      };
    });
    return f(...this.variables) as tf.Tensor2D;
  }

  /** The current factors as a Factorized (fresh arrays; method and word maps from the one built from). */
  toFactorized(): Factorized {
    return withFactors(
      this.layout,
      this.u.map((u) => (u.dataSync() as Float32Array).slice()),
      this.v.map((v) => (v.dataSync() as Float32Array).slice()),
    );
  }

  /** `U.<p>`, `V.<p>` (F32) and the word maps `wordBlock`, `wordRow` (I32 [N]); see factorizedFromWeights. */
  exportWeights(): Record<string, TensorData> {
    const out: Record<string, TensorData> = {};
    this.u.forEach((u, p) => {
      out[`U.${p}`] = float32(u);
      out[`V.${p}`] = float32(this.v[p]!);
    });
    out['wordBlock'] = int32(this.layout.wordBlock);
    out['wordRow'] = int32(this.layout.wordRow);
    return out;
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}

/**
 * A factorized softmax over N words from hidden states of width D: the dense x·W + b with
 * A = Wᵀ:[N, D] in factorized form. Logits are computed per block, logitsₚ = (x·Vₚᵀ)·Uₚᵀ, and
 * concatenated in block order (block 0's words in row order, then block 1's, …): a permuted
 * vocabulary, in which the bias is stored and into which targets are remapped on the CPU.
 * Variables `<name>/Vt.<p>` [D, r_p], `<name>/Ut.<p>` [r_p, |p|] (stored transposed: the forward
 * pass multiplies without transposes) and `<name>/b` [N] (block order).
 */
export class FactorizedSoftmax {
  readonly N: number;
  readonly D: number;
  readonly vt: tf.Variable[];
  readonly ut: tf.Variable[];
  /** Bias in block order. */
  readonly b: tf.Variable;
  /** Vt.0, Ut.0, Vt.1, Ut.1, …, b */
  readonly variables: tf.Variable[];
  private readonly layout: Layout;
  /** [N]: column of word i in the block-ordered logits. */
  private readonly column: Int32Array;

  /** f: A = Wᵀ:[N, D] factorized; bias:[N] in word order. Trainable copies of both (neither kept). */
  constructor(f: Factorized, bias: Float32Array, name: string) {
    ensureGradients();
    checkFactorized(f, `softmax ${name}`);
    if (bias.length !== f.N) throw new Error(`softmax ${name}: bias has ${bias.length} values, N=${f.N}`);
    this.N = f.N;
    this.D = f.D;
    this.layout = layoutOf(f);
    const offsets: number[] = [];
    let at = 0;
    for (const b of f.blocks) {
      offsets.push(at);
      at += b.rows.length;
    }
    this.column = Int32Array.from({ length: f.N }, (_, i) => offsets[f.wordBlock[i]!]! + f.wordRow[i]!);
    const permuted = new Float32Array(f.N);
    for (let i = 0; i < f.N; i++) permuted[this.column[i]!] = bias[i]!;
    this.vt = f.blocks.map((b, p) => trainable(transposed(b.V, b.rank, f.D), [f.D, b.rank], `${name}/Vt.${p}`));
    this.ut = f.blocks.map((b, p) => trainable(transposed(b.U, b.rows.length, b.rank), [b.rank, b.rows.length], `${name}/Ut.${p}`));
    this.b = trainable(permuted, [f.N], `${name}/b`);
    this.variables = [...this.vt.flatMap((vt, p) => [vt, this.ut[p]!]), this.b];
  }

  /** f.params + N (the bias). */
  paramCount(): number {
    return this.variables.reduce((a, v) => a + v.size, 0);
  }

  /**
   * x:[n, D] → logits [n, N] in block order, differentiable in x and the factors (the bias added
   * after). One tape node: Hₚ = x·Vtₚ, Lₚ = Hₚ·Utₚ, concatenated; its gradient splits dL into
   * column blocks (columnBlocks) and forms dUtₚ = Hₚᵀ·dLₚ, dHₚ = dLₚ·Utₚᵀ, dVtₚ = xᵀ·dHₚ,
   * dx = Σₚ dHₚ·Vtₚᵀ, every operand transposed explicitly.
   */
  private blockLogits(x: tf.Tensor2D): tf.Tensor2D {
    if (x.rank !== 2 || x.shape[1] !== this.D) throw new Error(`factorized softmax: x is [${x.shape}], expected [n, ${this.D}]`);
    const sizes = this.ut.map((ut) => ut.shape[1]!);
    const f = tf.customGrad((...args: Args) => {
      const save = args[args.length - 1] as tf.GradSaveFunc;
      const [xs, ...factors] = args.slice(0, -1) as tf.Tensor2D[];
      const hs = this.vt.map((_, p) => tf.matMul(xs!, factors[2 * p]!));
      const ls = hs.map((hp, p) => tf.matMul(hp, factors[2 * p + 1]!));
      save([xs!, ...hs]);
      return {
        value: ls.length === 1 ? ls[0]! : tf.concat(ls, 1),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
          tf.tidy(() => {
            const [sx, ...sh] = saved as tf.Tensor2D[];
            const xT = tf.transpose(sx!);
            const dls = columnBlocks(dy as tf.Tensor2D, sizes);
            const grads: tf.Tensor[] = [];
            const dxs: tf.Tensor[] = [];
            dls.forEach((dl, p) => {
              const dh = tf.matMul(dl, tf.transpose(factors[2 * p + 1]!));
              grads.push(tf.matMul(xT, dh), tf.matMul(tf.transpose(sh[p]!), dl));
              dxs.push(tf.matMul(dh, tf.transpose(factors[2 * p]!)));
            });
            return [dxs.length === 1 ? dxs[0]! : tf.addN(dxs), ...grads];
          }),
      };
    });
    return tf.add(f(x, ...this.variables.slice(0, -1)), this.b) as tf.Tensor2D;
  }

  /** x:[n, D], targets:[n] word ids → scalar Σ −log softmax(x·W + b)[target]. */
  lossSum(x: tf.Tensor2D, targets: Int32Array): tf.Scalar {
    const remapped = new Int32Array(targets.length);
    for (let i = 0; i < targets.length; i++) {
      const y = targets[i]!;
      if (!(y >= 0 && y < this.N)) throw new RangeError(`target ${y} at ${i} outside the vocabulary 0..${this.N - 1}`);
      remapped[i] = this.column[y]!;
    }
    const nk = native();
    if (nk) {
      if (x.rank !== 2 || x.shape[1] !== this.D) throw new Error(`factorized softmax: x is [${x.shape}], expected [n, ${this.D}]`);
      if (targets.length !== x.shape[0]) throw new Error(`factorized softmax: ${x.shape[0]} rows but ${targets.length} targets`);
      return blockSoftmaxLossSumNative(nk, x, this.vt as tf.Tensor[] as tf.Tensor2D[], this.ut as tf.Tensor[] as tf.Tensor2D[], this.b as tf.Tensor as tf.Tensor1D, remapped);
    }
    return tf.tidy(() => softmaxCrossEntropySum(this.blockLogits(x), remapped));
  }

  /** x:[n, D] → x·W + b:[n, N] in word order (a gather: no gradient on wasm). */
  logits(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => tf.gather(this.blockLogits(x), tf.tensor1d(this.column, 'int32'), 1) as tf.Tensor2D);
  }

  /** The bias in word order. */
  bias(): Float32Array {
    const permuted = this.b.dataSync() as Float32Array;
    return Float32Array.from({ length: this.N }, (_, i) => permuted[this.column[i]!]!);
  }

  /** The current factors of A = Wᵀ as a Factorized (fresh arrays; the bias is bias()). */
  toFactorized(): Factorized {
    const l = this.layout;
    return withFactors(
      l,
      this.ut.map((ut, p) => transposed(ut.dataSync(), l.ranks[p]!, l.rows[p]!.length)),
      this.vt.map((vt, p) => transposed(vt.dataSync(), l.D, l.ranks[p]!)),
    );
  }

  /** `Vt.<p>`, `Ut.<p>` (F32, as stored), `b` (F32 [N], word order) and the word maps `wordBlock`, `wordRow` (I32 [N]). */
  exportWeights(): Record<string, TensorData> {
    const out: Record<string, TensorData> = {};
    this.vt.forEach((vt, p) => {
      out[`Vt.${p}`] = float32(vt);
      out[`Ut.${p}`] = float32(this.ut[p]!);
    });
    out['b'] = { shape: [this.N], data: this.bias() };
    out['wordBlock'] = int32(this.layout.wordBlock);
    out['wordRow'] = int32(this.layout.wordRow);
    return out;
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}

/**
 * The Factorized held by exported weights (keys without a prefix): the word maps `wordBlock`,
 * `wordRow` (I32 [N]) and per block `U.<p>` [|p|, r], `V.<p>` [r, D] (layout 'embedding') or
 * `Vt.<p>` [D, r], `Ut.<p>` [r, |p|] (layout 'softmax'). The method is not stored in the
 * weights: pass the one recorded elsewhere (default 'groupreduce'). Throws naming what is missing
 * or inconsistent.
 */
export function factorizedFromWeights(weights: Record<string, TensorData>, layout: 'embedding' | 'softmax', method: CompressionMethod = 'groupreduce'): Factorized {
  const get = (key: string, dtype: 'F32' | 'I32'): TensorData => {
    const t = Object.hasOwn(weights, key) ? weights[key] : undefined;
    if (!t) throw new Error(`${layout} factors: "${key}" is missing`);
    if (dtype === 'I32' ? !(t.data instanceof Int32Array) : !(t.data instanceof Float32Array)) throw new Error(`${layout} factors: "${key}" must be ${dtype}`);
    return t;
  };
  const wordBlock = get('wordBlock', 'I32').data as Int32Array;
  const wordRow = get('wordRow', 'I32').data as Int32Array;
  const N = wordBlock.length;
  if (N === 0 || wordRow.length !== N) throw new Error(`${layout} factors: wordBlock has ${N} entries, wordRow ${wordRow.length}`);
  let P = 0;
  for (let i = 0; i < N; i++) {
    const p = wordBlock[i]!;
    if (!(p >= 0 && p < N)) throw new Error(`${layout} factors: wordBlock[${i}] = ${p} is not a block index`);
    P = Math.max(P, p + 1);
  }
  const sizes = new Int32Array(P);
  for (let i = 0; i < N; i++) sizes[wordBlock[i]!]!++;
  const rows = Array.from(sizes, (m) => new Int32Array(m).fill(-1));
  for (let i = 0; i < N; i++) {
    const p = wordBlock[i]!;
    const t = wordRow[i]!;
    if (!(t >= 0 && t < sizes[p]!) || rows[p]![t] !== -1) throw new Error(`${layout} factors: wordRow[${i}] = ${t} is not a free row of block ${p} (${sizes[p]} words)`);
    rows[p]![t] = i;
  }
  const shapeOf = (key: string, t: TensorData, want: [number | undefined, number | undefined]): [number, number] => {
    if (t.shape.length !== 2 || want.some((w, k) => w !== undefined && t.shape[k] !== w)) throw new Error(`${layout} factors: "${key}" has shape [${t.shape}], expected [${want.map((w) => w ?? '·')}]`);
    return t.shape as [number, number];
  };
  let D: number | undefined;
  const blocks = rows.map((r, p) => {
    const m = r.length;
    if (m === 0) throw new Error(`${layout} factors: block ${p} has no words`);
    if (layout === 'embedding') {
      const u = get(`U.${p}`, 'F32');
      const [, rank] = shapeOf(`U.${p}`, u, [m, undefined]);
      const v = get(`V.${p}`, 'F32');
      [, D] = shapeOf(`V.${p}`, v, [rank, D]);
      return { rows: r, rank, U: (u.data as Float32Array).slice(), V: (v.data as Float32Array).slice() };
    }
    const ut = get(`Ut.${p}`, 'F32');
    const [rank] = shapeOf(`Ut.${p}`, ut, [undefined, m]);
    const vt = get(`Vt.${p}`, 'F32');
    [D] = shapeOf(`Vt.${p}`, vt, [D, rank]);
    return { rows: r, rank, U: transposed(ut.data, rank, m), V: transposed(vt.data, D, rank) };
  });
  const d = D!;
  const params = blocks.reduce((a, b) => a + b.rows.length * b.rank + b.rank * d, 0);
  const f: Factorized = { method, N, D: d, blocks, wordBlock: wordBlock.slice(), wordRow: wordRow.slice(), params, rate: (N * d) / params };
  checkFactorized(f, `${layout} factors`);
  return f;
}
