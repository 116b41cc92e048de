// The native kernels against float64 references on plain arrays: every transpose and edge of the
// matrix product, the fused softmax cross-entropy and LSTM passes, the Transformer's kernels, the optimizer steps; results
// that do not depend on the thread count; bad arguments refused by name. Skipped where the addon
// was not built (nn's backend test requires it wherever a C++ compiler is present).
import { expectClose } from '@lmsweep/algorithms';
import { afterAll, describe, expect, it } from 'vitest';
import { loadNativeKernels, type NativeKernels } from './index.ts';

const load = loadNativeKernels();
const k = load.kernels as NativeKernels;

let seed = 12345;
const rand = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};
const randn = (n: number, scale = 1) => Float32Array.from({ length: n }, () => (rand() * 2 - 1) * scale);

/** op(A)·op(B) in float64, row-major, for leading dimensions lda, ldb. */
function refGemm(ta: boolean, tb: boolean, M: number, N: number, K: number, A: Float32Array, lda: number, B: Float32Array, ldb: number): Float64Array {
  const C = new Float64Array(M * N);
  for (let i = 0; i < M; i++)
    for (let p = 0; p < K; p++) {
      const a = ta ? A[p * lda + i]! : A[i * lda + p]!;
      for (let j = 0; j < N; j++) C[i * N + j]! += a * (tb ? B[j * ldb + p]! : B[p * ldb + j]!);
    }
  return C;
}

describe.skipIf(!load.kernels)('native kernels', () => {
  afterAll(() => k.setThreads(1));

  it('say which micro-kernel runs and take a thread count', () => {
    expect(['avx2-fma', 'portable']).toContain(k.simd());
    expect(k.setThreads(2)).toBe(2);
    expect(k.threads()).toBe(2);
    expect(k.setThreads(1)).toBe(1);
    expect(() => k.setThreads(0)).toThrow(/threads must be 1\.\.256/);
  });

  // Sizes around the blocking (MR 6, NR 16, KC 256, MC 96) and degenerate ones.
  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [7, 17, 5],
    [6, 16, 256],
    [13, 33, 300],
    [97, 50, 513],
    [20, 800, 200],
    [5, 3, 0],
  ];
  it.each(shapes)('sgemm %i×%i×%i: C = α·op(A)·op(B) + β·C for every transpose, padded leading dimensions (rtol 1e-5, atol 1e-6·K)', (M, N, K) => {
    for (const ta of [false, true])
      for (const tb of [false, true]) {
        const lda = (ta ? M : K) + 3;
        const ldb = (tb ? K : N) + 1;
        const ldc = N + 2;
        const A = randn((ta ? K : M) * lda);
        const B = randn((tb ? N : K) * ldb);
        const C0 = randn(M * ldc);
        const C = C0.slice();
        k.sgemm(ta, tb, M, N, K, 0.5, A, lda, B, ldb, 0.25, C, ldc);
        const R = refGemm(ta, tb, M, N, K, A, lda, B, ldb);
        const got: number[] = [];
        const want: number[] = [];
        for (let i = 0; i < M; i++)
          for (let j = 0; j < N; j++) {
            got.push(C[i * ldc + j]!);
            want.push(0.5 * R[i * N + j]! + 0.25 * C0[i * ldc + j]!);
          }
        expectClose(got, want, { rtol: 1e-5, atol: 1e-6 * Math.max(1, K) });
        // the padding between rows of C is never written
        for (let i = 0; i < M; i++) for (let j = N; j < ldc; j++) expect(C[i * ldc + j]).toBe(C0[i * ldc + j]);
      }
  });

  it('sgemm with beta 0 never reads C (NaN there stays out), and gives the same bits on 1 and 2 threads', () => {
    const [M, N, K] = [130, 300, 700];
    const A = randn(M * K);
    const B = randn(K * N);
    const C1 = new Float32Array(M * N).fill(NaN);
    k.sgemm(false, false, M, N, K, 1, A, K, B, N, 0, C1, N);
    expect(C1.every(Number.isFinite)).toBe(true);
    k.setThreads(2);
    const C2 = new Float32Array(M * N).fill(NaN);
    k.sgemm(false, false, M, N, K, 1, A, K, B, N, 0, C2, N);
    k.setThreads(1);
    expect(Buffer.from(C2.buffer).equals(Buffer.from(C1.buffer))).toBe(true);
  });

  it('refuses arrays too short for the sizes, naming the argument', () => {
    const a = new Float32Array(6);
    expect(() => k.sgemm(false, false, 2, 3, 4, 1, a, 4, new Float32Array(12), 3, 0, new Float32Array(6), 3)).toThrow(/A holds 6 elements, needs 8/);
    expect(() => k.sgemm(false, false, 2, 3, 3, 1, a, 3, new Float32Array(9), 3, 0, new Float32Array(5), 3)).toThrow(/C holds 5 elements, needs 6/);
    expect(() => k.sgemm(false, false, 2, 3, 3, 1, a, 2, new Float32Array(9), 3, 0, new Float32Array(6), 3)).toThrow(/leading dimension/);
    expect(() => k.sgemm(false, false, -1, 3, 3, 1, a, 3, a, 3, 0, a, 3)).toThrow(/M must be a non-negative integer/);
    expect(() => k.sgemm(false, false, 2, 3, 3, 1, new Float64Array(6) as unknown as Float32Array, 3, a, 3, 0, a, 3)).toThrow(/A must be a Float32Array/);
    expect(() => k.softmaxXentForward(2, 1, 3, new Float32Array(2), new Float32Array(3), new Float32Array(3), new Int32Array([0, 3]), new Float32Array(6), new Float64Array(2))).toThrow(/target 3 at 1 outside the vocabulary 0\.\.2/);
  });

  it('softmax cross-entropy: loss and dx, dW, db equal float64 references (rtol 1e-5, atol 1e-6)', () => {
    const [n, h, V] = [23, 9, 301];
    const x = randn(n * h, 2);
    const W = randn(h * V, 1.5);
    const b = randn(V, 3);
    const t = Int32Array.from({ length: n }, (_, i) => (i * 37 + 5) % V);
    const g = 0.37;
    const z = refGemm(false, false, n, V, h, x, h, W, V);
    let loss = 0;
    const dz = new Float64Array(n * V);
    for (let i = 0; i < n; i++) {
      let mx = -Infinity;
      for (let j = 0; j < V; j++) mx = Math.max(mx, (z[i * V + j]! += b[j]!));
      let s = 0;
      for (let j = 0; j < V; j++) s += Math.exp(z[i * V + j]! - mx);
      loss += Math.log(s) + mx - z[i * V + t[i]!]!;
      for (let j = 0; j < V; j++) dz[i * V + j] = (g * Math.exp(z[i * V + j]! - mx)) / s - (j === t[i] ? g : 0);
    }
    const P = new Float32Array(n * V);
    const rowSum = new Float64Array(n);
    expectClose(k.softmaxXentForward(n, h, V, x, W, b, t, P, rowSum), loss, { rtol: 1e-5 });
    const [dx, dW, db] = [new Float32Array(n * h), new Float32Array(h * V), new Float32Array(V)];
    k.softmaxXentBackward(n, h, V, g, x, W, P, t, rowSum, dx, dW, db);
    const refDx = new Float64Array(n * h);
    const refDW = new Float64Array(h * V);
    const refDb = new Float64Array(V);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < V; j++) {
        const d = dz[i * V + j]!;
        refDb[j]! += d;
        for (let c = 0; c < h; c++) {
          refDx[i * h + c]! += d * W[c * V + j]!;
          refDW[c * V + j]! += x[i * h + c]! * d;
        }
      }
    expectClose(dx, refDx, { rtol: 1e-5, atol: 1e-6 });
    expectClose(dW, refDW, { rtol: 1e-5, atol: 1e-6 });
    expectClose(db, refDb, { rtol: 1e-5, atol: 1e-6 });
  });

  it('softmax rows on given logits (a block softmax’s): loss, dz and db equal float64 references and the fused kernel’s (rtol 1e-5, atol 1e-6)', () => {
    const [n, h, V] = [17, 5, 263];
    const x = randn(n * h, 2);
    const W = randn(h * V, 1.5);
    const b = randn(V, 3);
    const t = Int32Array.from({ length: n }, (_, i) => (i * 41 + 3) % V);
    const g = -0.61;
    const z = refGemm(false, false, n, V, h, x, h, W, V);
    let loss = 0;
    const dz = new Float64Array(n * V);
    const refDb = new Float64Array(V);
    for (let i = 0; i < n; i++) {
      let mx = -Infinity;
      for (let j = 0; j < V; j++) mx = Math.max(mx, z[i * V + j]! + b[j]!);
      let s = 0;
      for (let j = 0; j < V; j++) s += Math.exp(z[i * V + j]! + b[j]! - mx);
      loss += Math.log(s) + mx - z[i * V + t[i]!]! - b[t[i]!]!;
      for (let j = 0; j < V; j++) {
        dz[i * V + j] = (g * Math.exp(z[i * V + j]! + b[j]! - mx)) / s - (j === t[i] ? g : 0);
        refDb[j]! += dz[i * V + j]!;
      }
    }
    const P = Float32Array.from(z);
    const rowSum = new Float64Array(n);
    expectClose(k.softmaxXentRows(n, V, P, b, t, rowSum), loss, { rtol: 1e-5 });
    // the same state as the fused forward leaves, so either backward applies
    const P2 = new Float32Array(n * V);
    const rowSum2 = new Float64Array(n);
    k.softmaxXentForward(n, h, V, x, W, b, t, P2, rowSum2);
    expectClose(P, P2, { rtol: 1e-5, atol: 1e-6 });
    expectClose(rowSum, rowSum2, { rtol: 1e-5 });
    const db = new Float32Array(V);
    k.softmaxXentRowsBackward(n, V, g, P, t, rowSum, db);
    expectClose(P, dz, { rtol: 1e-5, atol: 1e-6 });
    expectClose(db, refDb, { rtol: 1e-5, atol: 1e-6 });
    expect(() => k.softmaxXentRows(n, V, new Float32Array(n * V - 1), b, t, rowSum)).toThrow(/P holds \d+ elements, needs \d+/);
    expect(() => k.softmaxXentRowsBackward(n, V, g, P, Int32Array.from(t, (v, i) => (i === 2 ? V : v)), rowSum, db)).toThrow(/target 263 at 2 outside the vocabulary 0\.\.262/);
  });

  it('softmax cross-entropy: a NaN logit makes the loss NaN (divergence stays visible)', () => {
    const [n, h, V] = [2, 2, 40];
    const W = randn(h * V);
    W[5] = NaN;
    expect(k.softmaxXentForward(n, h, V, randn(n * h), W, randn(V), new Int32Array([0, 1]), new Float32Array(n * V), new Float64Array(n))).toBeNaN();
  });

  /** T steps of an LSTM in float64: outputs h₁…h_T, c_T; and the gradients of Σ dy⊙(h₁…h_T). */
  function refLstm(T: number, B: number, H: number, xp: Float32Array, wh: Float32Array, h0: Float32Array, c0: Float32Array, dy: Float32Array) {
    const sig = (v: number) => 1 / (1 + Math.exp(-v));
    const hs: Float64Array[] = [Float64Array.from(h0)];
    const cs: Float64Array[] = [Float64Array.from(c0)];
    const acts: Float64Array[] = [];
    for (let t = 0; t < T; t++) {
      const a = new Float64Array(B * 4 * H);
      const h = new Float64Array(B * H);
      const c = new Float64Array(B * H);
      for (let b = 0; b < B; b++) {
        for (let j = 0; j < 4 * H; j++) {
          let s = xp[(t * B + b) * 4 * H + j]!;
          for (let p = 0; p < H; p++) s += hs[t]![b * H + p]! * wh[p * 4 * H + j]!;
          a[b * 4 * H + j] = j < 3 * H ? sig(s) : Math.tanh(s);
        }
        for (let j = 0; j < H; j++) {
          const o = b * 4 * H;
          c[b * H + j] = a[o + H + j]! * cs[t]![b * H + j]! + a[o + j]! * a[o + 3 * H + j]!;
          h[b * H + j] = a[o + 2 * H + j]! * Math.tanh(c[b * H + j]!);
        }
      }
      acts.push(a);
      hs.push(h);
      cs.push(c);
    }
    const dG = new Float64Array(T * B * 4 * H);
    const dWh = new Float64Array(H * 4 * H);
    let dh = new Float64Array(B * H);
    const dc = new Float64Array(B * H);
    for (let t = T - 1; t >= 0; t--) {
      const a = acts[t]!;
      const nextDh = new Float64Array(B * H);
      for (let b = 0; b < B; b++)
        for (let j = 0; j < H; j++) {
          const o = b * 4 * H;
          const [i, f, og, g] = [a[o + j]!, a[o + H + j]!, a[o + 2 * H + j]!, a[o + 3 * H + j]!];
          const dhv = dy[(t * B + b) * H + j]! + dh[b * H + j]!;
          const tc = Math.tanh(cs[t + 1]![b * H + j]!);
          const dcv = dhv * og * (1 - tc * tc) + dc[b * H + j]!;
          const row = (t * B + b) * 4 * H;
          dG[row + j] = dcv * g * i * (1 - i);
          dG[row + H + j] = dcv * cs[t]![b * H + j]! * f * (1 - f);
          dG[row + 2 * H + j] = dhv * tc * og * (1 - og);
          dG[row + 3 * H + j] = dcv * i * (1 - g * g);
          dc[b * H + j] = dcv * f;
        }
      for (let b = 0; b < B; b++)
        for (let p = 0; p < H; p++) {
          let s = 0;
          for (let j = 0; j < 4 * H; j++) {
            const d = dG[(t * B + b) * 4 * H + j]!;
            s += d * wh[p * 4 * H + j]!;
            dWh[p * 4 * H + j]! += hs[t]![b * H + p]! * d;
          }
          nextDh[b * H + p] = s;
        }
      dh = nextDh;
    }
    return { hs, cs, dG, dWh };
  }

  it.each([
    [1, 1, 3, 1],
    [5, 7, 8, 1],
    [6, 20, 16, 2],
  ])('LSTM sequence T=%i B=%i H=%i (%i threads): outputs, dXProj and dWh equal float64 references (rtol 1e-4, atol 1e-5)', (T, B, H, threads) => {
    k.setThreads(threads);
    const xp = randn(T * B * 4 * H, 1.5);
    const wh = randn(H * 4 * H, 0.5);
    const h0 = randn(B * H, 0.5);
    const c0 = randn(B * H, 0.5);
    const dy = randn((T + 1) * B * H);
    const ref = refLstm(T, B, H, xp, wh, h0, c0, dy);
    const gates = new Float32Array(T * B * 4 * H);
    const cells = new Float32Array(T * B * H);
    const out = new Float32Array((T + 1) * B * H);
    k.lstmForward(T, B, H, xp, wh, h0, c0, gates, cells, out);
    const wantOut = new Float64Array((T + 1) * B * H);
    for (let t = 0; t < T; t++) wantOut.set(ref.hs[t + 1]!, t * B * H);
    wantOut.set(ref.cs[T]!, T * B * H);
    expectClose(out, wantOut, { rtol: 1e-4, atol: 1e-5 });
    const [dX, dWh] = [new Float32Array(T * B * 4 * H), new Float32Array(H * 4 * H)];
    k.lstmBackward(T, B, H, wh, h0, c0, gates, cells, out, dy, dX, dWh);
    expectClose(dX, ref.dG, { rtol: 1e-4, atol: 1e-5 });
    expectClose(dWh, ref.dWh, { rtol: 1e-4, atol: 1e-5 });
    k.setThreads(1);
  });

  // p around the backward's row blocks (8), q around its 16 lanes, n up to 8
  it.each([
    [2, 3, 5],
    [4, 20, 36],
    [2, 800, 800],
    [8, 9, 17],
  ])('PHM weight n=%i p=%i q=%i: W = Σ Aᵢ⊗Sᵢ and dA, dS equal float64 references (rtol 1e-5, atol 1e-6·terms); dA, dS the same bits on 1 and 2 threads', (n, p, q) => {
    const A = randn(n ** 3);
    const S = randn(n * p * q);
    const dW = randn(n * p * n * q);
    const W = new Float32Array(n * p * n * q);
    k.phmWeight(n, p, q, A, S, W);
    const refW = new Float64Array(W.length);
    const [refA, refS] = [new Float64Array(n ** 3), new Float64Array(n * p * q)];
    for (let i = 0; i < n; i++)
      for (let a = 0; a < n; a++)
        for (let c = 0; c < n; c++) {
          const coef = A[(i * n + a) * n + c]!;
          for (let b = 0; b < p; b++)
            for (let e = 0; e < q; e++) {
              const w = (a * p + b) * n * q + c * q + e;
              refW[w]! += coef * S[(i * p + b) * q + e]!;
              refA[(i * n + a) * n + c]! += S[(i * p + b) * q + e]! * dW[w]!;
              refS[(i * p + b) * q + e]! += coef * dW[w]!;
            }
        }
    expectClose(W, refW, { rtol: 1e-5, atol: 1e-6 * n });
    const grads = (threads: number) => {
      k.setThreads(threads);
      const [dA, dS] = [new Float32Array(n ** 3).fill(NaN), new Float32Array(n * p * q).fill(NaN)];
      k.phmWeightBackward(n, p, q, A, S, dW, dA, dS);
      k.setThreads(1);
      return [dA, dS] as const;
    };
    const [dA, dS] = grads(1);
    // dA sums p·q products (double accumulation), dS n² of them
    expectClose(dA, refA, { rtol: 1e-5, atol: 1e-6 * Math.sqrt(p * q) });
    expectClose(dS, refS, { rtol: 1e-5, atol: 1e-6 * n });
    const [dA2, dS2] = grads(2);
    expect(Buffer.from(dA2.buffer).equals(Buffer.from(dA.buffer))).toBe(true);
    expect(Buffer.from(dS2.buffer).equals(Buffer.from(dS.buffer))).toBe(true);
    expect(() => k.phmWeight(n, p, q, A, S, new Float32Array(W.length - 1))).toThrow(/W holds \d+ elements, needs \d+/);
    expect(() => k.phmWeightBackward(n, p, q, A.subarray(1), S, dW, dA, dS)).toThrow(/A holds \d+ elements, needs \d+/);
  });

  it('adam, sgd and sumSquares equal their float64 formulas; sumSquares is the same on 1 and 2 threads', () => {
    const n = 100_003;
    const x = randn(n);
    const g = randn(n, 3);
    const m = randn(n, 0.1);
    const v = Float32Array.from(randn(n, 0.1), Math.abs);
    const [m0, v0] = [m.slice(), v.slice()];
    const out = new Float32Array(n);
    const [scale, alpha, b1, b2, eps] = [0.5, 0.01, 0.9, 0.999, 1e-8];
    k.adam(x, g, m, v, out, scale, alpha, b1, b2, eps);
    const want = { m: new Float64Array(n), v: new Float64Array(n), x: new Float64Array(n) };
    for (let i = 0; i < n; i++) {
      const gs = g[i]! * scale;
      want.m[i] = b1 * m0[i]! + (1 - b1) * gs;
      want.v[i] = b2 * v0[i]! + (1 - b2) * gs * gs;
      want.x[i] = x[i]! - (alpha * want.m[i]!) / (Math.sqrt(want.v[i]!) + eps);
    }
    expectClose(m, want.m, { rtol: 1e-5, atol: 1e-7 });
    expectClose(v, want.v, { rtol: 1e-5, atol: 1e-9 });
    expectClose(out, want.x, { rtol: 1e-5, atol: 1e-6 });
    k.sgd(x, g, out, 0.3);
    expectClose(out, Float64Array.from(x, (xi, i) => xi - 0.3 * g[i]!), { rtol: 1e-6, atol: 1e-7 });
    const ss = x.reduce((a, xi) => a + xi * xi, 0);
    const one = k.sumSquares(x);
    expectClose(one, ss, { rtol: 1e-6 });
    k.setThreads(2);
    expect(k.sumSquares(x)).toBe(one);
    k.setThreads(1);
    expect(() => k.adam(x, g.subarray(1), m, v, out, 1, 1, 0.9, 0.999, 1e-8)).toThrow(/g holds 100002 elements, needs 100003/);
  });
  // Their values against float64 references: libs/nn transformer-ops.test.ts (on wasm+native).
  it('the Transformer kernels (layer norm, GELU, causal attention) give the same bits on 1 and 2 threads and refuse short arrays by name', () => {
    const [T, B, H, dh] = [9, 5, 3, 8];
    const d = H * dh;
    const rows = T * B;
    const [q, kk, v, dy] = [0, 1, 2, 3].map(() => randn(rows * d));
    const [g, b] = [randn(d), randn(d)];
    const run = () => {
      const out = { att: new Float32Array(rows * d), P: new Float32Array(B * H * T * T), dq: new Float32Array(rows * d), dk: new Float32Array(rows * d), dv: new Float32Array(rows * d) };
      k.causalAttentionForward(T, B, H, dh, q!, kk!, v!, out.att, out.P);
      k.causalAttentionBackward(T, B, H, dh, q!, kk!, v!, out.P, dy!, out.dq, out.dk, out.dv);
      const ln = { y: new Float32Array(rows * d), xhat: new Float32Array(rows * d), rstd: new Float32Array(rows), dx: new Float32Array(rows * d), dg: new Float32Array(d), db: new Float32Array(d) };
      k.layerNormForward(rows, d, 1e-5, q!, g!, b!, ln.y, ln.xhat, ln.rstd);
      k.layerNormBackward(rows, d, dy!, ln.xhat, ln.rstd, g!, ln.dx, ln.dg, ln.db);
      const ge = { y: new Float32Array(rows * d), dx: new Float32Array(rows * d) };
      k.gelu(q!, ge.y);
      k.geluBackward(q!, dy!, ge.dx);
      return [...Object.values(out), ...Object.values(ln), ...Object.values(ge)];
    };
    const one = run();
    k.setThreads(2);
    const two = run();
    k.setThreads(1);
    one.forEach((a, i) => expect(Buffer.from(two[i]!.buffer).equals(Buffer.from(a.buffer))).toBe(true));
    // each attention row's weights sum to 1 over s ≤ t, and are 0 after t
    const P = one[1]!;
    for (let t = 0; t < T; t++) {
      const row = P.subarray(t * T, (t + 1) * T);
      expectClose(row.subarray(0, t + 1).reduce((a, x) => a + x, 0), 1, { rtol: 1e-6 });
      expect(row.subarray(t + 1).every((x) => x === 0)).toBe(true);
    }
    expect(() => k.causalAttentionForward(T, B, H, dh, q!, kk!, v!, new Float32Array(rows * d), new Float32Array(10))).toThrow(/P holds 10 elements, needs 1215/);
    // Blocks large enough that packing them would go to the pool (T·dh ≥ 2¹⁶), from inside the pool's own tasks: no deadlock, the same bits.
    const [T2, B2, H2, dh2] = [256, 2, 2, 256];
    const n2 = T2 * B2 * H2 * dh2;
    const [q2, k2, v2, dy2] = [0, 1, 2, 3].map(() => randn(n2));
    const big = () => {
      const o = { att: new Float32Array(n2), P: new Float32Array(B2 * H2 * T2 * T2), dq: new Float32Array(n2), dk: new Float32Array(n2), dv: new Float32Array(n2) };
      k.causalAttentionForward(T2, B2, H2, dh2, q2!, k2!, v2!, o.att, o.P);
      k.causalAttentionBackward(T2, B2, H2, dh2, q2!, k2!, v2!, o.P, dy2!, o.dq, o.dk, o.dv);
      return Object.values(o);
    };
    const big1 = big();
    k.setThreads(2);
    const big2 = big();
    k.setThreads(1);
    big1.forEach((a, i) => expect(Buffer.from(big2[i]!.buffer).equals(Buffer.from(a.buffer))).toBe(true));
    expect(big1.every((a) => a.every(Number.isFinite))).toBe(true);
    expect(() => k.layerNormForward(rows, d, 1e-5, q!, g!.subarray(1), b!, new Float32Array(rows * d), new Float32Array(rows * d), new Float32Array(rows))).toThrow(/gamma holds 23 elements, needs 24/);
  });
});
