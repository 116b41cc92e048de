// Truncated SVD of a dense row-major matrix, and the symmetric eigensolver under it.
//
// Method: the Gram matrix of the smaller side (AᵀA, D×D, or AAᵀ when N < D) accumulated in
// float64 with a cache-blocked kernel, then Householder tridiagonalization, implicit QL for all
// eigenvalues (O(D²)), inverse iteration for only the k wanted eigenvectors, back-transformation,
// and a final Rayleigh–Ritz step (B = AV, eigen-decomposition of the k×k matrix BᵀB) that gives
// σᵢ = ‖A vᵢ‖ and exactly orthogonal U columns.
//
// Why: the Gram product costs N·D² flops and streams A once in blocks, which suits N up to 100k
// with D up to 1500 (randomized SVD needs ≥ 2 passes over A per power iteration and its
// accuracy depends on the spectrum's decay; ours does not). The eigensolver costs ≈ 4/3·D³
// (tridiagonalization) + O(D²·k), and nothing more.
// Limit: the Gram route squares the condition number. An eigenvalue λ = σ² carries an absolute
// error of about ε·D·σ₁² (ε = 2.2e-16), so σᵢ is accurate to ≈ ε·D·(σ₁/σᵢ)² relative: 1e-6 for
// σᵢ/σ₁ ≳ 2e-4 at D = 1500. Singular values far below that (near the noise floor of a float32
// input anyway) are not resolved; the leading ones, which truncation keeps, are.

/** A dense row-major matrix: element (i, j) is data[i·cols + j]. */
export interface Matrix {
  data: Float32Array | Float64Array;
  rows: number;
  cols: number;
}

/** Rank-k truncated SVD: A ≈ U·diag(S)·Vt. */
export interface Svd {
  /** [m, k] row-major, orthonormal columns. */
  U: Float64Array;
  /** [k], descending, non-negative. */
  S: Float64Array;
  /** [k, n] row-major (the rows are the right singular vectors). */
  Vt: Float64Array;
  rank: number;
}

/** Wraps a flat row-major array as a Matrix, checking that its length is rows·cols. */
export function matrix(data: Float32Array | Float64Array, rows: number, cols: number): Matrix {
  if (!Number.isInteger(rows) || rows < 1) throw new Error(`matrix: rows must be a positive integer, got ${rows}`);
  if (!Number.isInteger(cols) || cols < 1) throw new Error(`matrix: cols must be a positive integer, got ${cols}`);
  if (data.length !== rows * cols) throw new Error(`matrix: data has length ${data.length}, expected rows·cols = ${rows}·${cols} = ${rows * cols}`);
  return { data, rows, cols };
}

/** Throws unless A is a well-formed matrix with finite entries; `name` is used in the message. */
export function checkMatrix(A: Matrix, name = 'A'): void {
  if (!A || !(A.data instanceof Float32Array || A.data instanceof Float64Array)) throw new Error(`${name} must be a Matrix with Float32Array or Float64Array data`);
  if (!Number.isInteger(A.rows) || A.rows < 1 || !Number.isInteger(A.cols) || A.cols < 1) throw new Error(`${name}: rows and cols must be positive integers, got ${A.rows}×${A.cols}`);
  if (A.data.length !== A.rows * A.cols) throw new Error(`${name}: data has length ${A.data.length}, expected ${A.rows}·${A.cols} = ${A.rows * A.cols}`);
  const d = A.data;
  for (let i = 0; i < d.length; i++) {
    if (!Number.isFinite(d[i]!)) throw new Error(`${name} has a non-finite entry ${d[i]} at row ${Math.floor(i / A.cols)}, column ${i % A.cols}`);
  }
}

/**
 * Rank-k truncated SVD. A:[m,n] → U:[m,k], S:[k], Vt:[k,n], with k = rank ≤ min(m, n).
 * See the file comment for the method and its accuracy limit.
 */
export function svd(A: Matrix, rank: number): Svd {
  checkMatrix(A, 'A');
  const lim = Math.min(A.rows, A.cols);
  if (!Number.isInteger(rank) || rank < 1 || rank > lim) throw new Error(`svd: rank must be an integer in [1, min(rows, cols) = ${lim}], got ${rank}`);
  const rows = new Int32Array(A.rows);
  for (let i = 0; i < rows.length; i++) rows[i] = i;
  const { V, P, sigma } = topRightSubspace(A, rows, null, rank);
  const k = rank;
  const U = new Float64Array(A.rows * k);
  for (let i = 0; i < A.rows; i++) {
    for (let c = 0; c < k; c++) {
      const s = sigma[c]!;
      U[i * k + c] = s > 0 ? P[i * k + c]! / s : 0;
    }
  }
  orthonormalizeZeroColumns(U, A.rows, k, sigma);
  return { U, S: sigma, Vt: transpose(V, A.cols, k), rank: k };
}

/**
 * Kernel: the top-k right singular subspace of M = diag(√w)·A[rows] (w = null: all ones).
 * A:[N,D], rows:[n] → V:[D,k] (orthonormal columns, row-major), P = A[rows]·V:[n,k] (unweighted
 * rows), sigma:[k] the singular values of M, descending.
 */
export function topRightSubspace(A: Matrix, rows: Int32Array, w: Float64Array | null, k: number): { V: Float64Array; P: Float64Array; sigma: Float64Array } {
  const n = rows.length;
  const D = A.cols;
  let V: Float64Array;
  if (n >= D) {
    const G = gramCols(A, rows, w);
    V = symmetricEigTop(G, D, k).vectors; // [D, k]
  } else {
    // The n×n Gram matrix M·Mᵀ is the cheaper one; V = Mᵀ u / σ, then orthonormalized.
    const M = gatherRows(A, rows, w);
    const K = gramRows(M, n, D);
    const u = symmetricEigTop(K, n, k).vectors; // [n, k]
    V = new Float64Array(D * k);
    for (let i = 0; i < n; i++) {
      for (let d = 0; d < D; d++) {
        const m = M[i * D + d]!;
        if (m === 0) continue;
        const vo = d * k;
        const uo = i * k;
        for (let c = 0; c < k; c++) V[vo + c]! += m * u[uo + c]!;
      }
    }
    orthonormalizeColumns(V, D, k);
  }
  // Rayleigh–Ritz: P = A[rows]·V, B = diag(√w)·P, BᵀB = W Λ Wᵀ; V ← V·W, P ← P·W, σ = √Λ.
  let P = multiplyRows(A, rows, V, k);
  const C = new Float64Array(k * k);
  for (let i = 0; i < n; i++) {
    const wi = w ? w[i]! : 1;
    if (wi === 0) continue;
    const o = i * k;
    for (let a = 0; a < k; a++) {
      const pa = P[o + a]! * wi;
      if (pa === 0) continue;
      const co = a * k;
      for (let b = a; b < k; b++) C[co + b]! += pa * P[o + b]!;
    }
  }
  for (let a = 0; a < k; a++) for (let b = 0; b < a; b++) C[a * k + b] = C[b * k + a]!;
  const { values, vectors: W } = symmetricEigTop(C, k, k);
  V = multiplySmall(V, D, k, W);
  P = multiplySmall(P, n, k, W);
  const sigma = new Float64Array(k);
  for (let c = 0; c < k; c++) sigma[c] = Math.sqrt(Math.max(0, values[c]!));
  return { V, P, sigma };
}

/** X:[r,k] · W:[k,k] → [r,k]. */
function multiplySmall(X: Float64Array, r: number, k: number, W: Float64Array): Float64Array {
  const out = new Float64Array(r * k);
  for (let i = 0; i < r; i++) {
    const o = i * k;
    for (let a = 0; a < k; a++) {
      const x = X[o + a]!;
      if (x === 0) continue;
      const wo = a * k;
      for (let b = 0; b < k; b++) out[o + b]! += x * W[wo + b]!;
    }
  }
  return out;
}

/** A[rows]:[n,D] · V:[D,k] → [n,k] (float64): dot products of A's rows with Vᵀ's rows, 4×2 register tiles. */
export function multiplyRows(A: Matrix, rows: Int32Array, V: Float64Array, k: number): Float64Array {
  const D = A.cols;
  const a = A.data;
  const n = rows.length;
  const kp = (k + 1) & ~1;
  const Vt = new Float64Array(kp * D);
  for (let d = 0; d < D; d++) for (let c = 0; c < k; c++) Vt[c * D + d] = V[d * k + c]!;
  const P = new Float64Array(n * k);
  const np = (n + 3) & ~3;
  // Four rows at a time copied into a float64 buffer: the hot loop then reads one array type.
  const buf = new Float64Array(4 * D);
  const r0 = 0, r1 = D, r2 = 2 * D, r3 = 3 * D;
  for (let i = 0; i < np; i += 4) {
    // Rows past the end repeat the last row; their results are dropped.
    for (let u = 0; u < 4; u++) {
      const src = rows[Math.min(i + u, n - 1)]! * D;
      for (let t = 0; t < D; t++) buf[u * D + t] = a[src + t]!;
    }
    for (let c = 0; c < kp; c += 2) {
      const c0 = c * D, c1 = c0 + D;
      let s00 = 0, s01 = 0, s10 = 0, s11 = 0, s20 = 0, s21 = 0, s30 = 0, s31 = 0;
      for (let t = 0; t < D; t++) {
        const b0 = Vt[c0 + t]!, b1 = Vt[c1 + t]!;
        const a0 = buf[r0 + t]!, a1 = buf[r1 + t]!, a2 = buf[r2 + t]!, a3 = buf[r3 + t]!;
        s00 += a0 * b0; s01 += a0 * b1;
        s10 += a1 * b0; s11 += a1 * b1;
        s20 += a2 * b0; s21 += a2 * b1;
        s30 += a3 * b0; s31 += a3 * b1;
      }
      const sums = [s00, s01, s10, s11, s20, s21, s30, s31];
      for (let u = 0; u < 4; u++) {
        if (i + u >= n) break;
        for (let v = 0; v < 2; v++) if (c + v < k) P[(i + u) * k + c + v] = sums[u * 2 + v]!;
      }
    }
  }
  return P;
}

function gatherRows(A: Matrix, rows: Int32Array, w: Float64Array | null): Float64Array {
  const D = A.cols;
  const M = new Float64Array(rows.length * D);
  for (let i = 0; i < rows.length; i++) {
    const s = w ? Math.sqrt(w[i]!) : 1;
    const src = rows[i]! * D;
    for (let d = 0; d < D; d++) M[i * D + d] = s * A.data[src + d]!;
  }
  return M;
}

const CHUNK = 64; // rows of A per transposed panel in gramCols

/**
 * Σᵢ wᵢ·aᵢ·aᵢᵀ over the selected rows: A:[N,D], rows:[n] → G:[D,D] (float64, symmetric).
 * Rows are gathered CHUNK at a time into a transposed float64 panel X:[D,CHUNK] (scaled by √w),
 * and G += X·Xᵀ on the upper triangle by a 4×2 register tile.
 */
export function gramCols(A: Matrix, rows: Int32Array, w: Float64Array | null): Float64Array {
  const D = A.cols;
  const Dp = (D + 3) & ~3; // padded to a multiple of 4 (zero rows in the panel)
  const a = A.data;
  const X = new Float64Array(Dp * CHUNK);
  const G = new Float64Array(Dp * Dp);
  for (let start = 0; start < rows.length; start += CHUNK) {
    const L = Math.min(CHUNK, rows.length - start);
    if (L < CHUNK) X.fill(0);
    for (let t = 0; t < L; t++) {
      const s = w ? Math.sqrt(w[start + t]!) : 1;
      const src = rows[start + t]! * D;
      for (let d = 0; d < D; d++) X[d * CHUNK + t] = s * a[src + d]!;
    }
    syrkUpper(X, Dp, CHUNK, G);
  }
  return symmetrizeUnpad(G, Dp, D);
}

/** M:[n,D] → M·Mᵀ:[n,n] (float64, symmetric). */
function gramRows(M: Float64Array, n: number, D: number): Float64Array {
  const np = (n + 3) & ~3;
  const X = new Float64Array(np * D);
  X.set(M);
  const G = new Float64Array(np * np);
  syrkUpper(X, np, D, G);
  return symmetrizeUnpad(G, np, n);
}

/** G[j][k] += Σ_t X[j][t]·X[k][t] for k ≥ j (rounded to tiles), X:[R,L] with R % 4 == 0. */
function syrkUpper(X: Float64Array, R: number, L: number, G: Float64Array): void {
  for (let j = 0; j < R; j += 4) {
    const j0 = j * L, j1 = j0 + L, j2 = j1 + L, j3 = j2 + L;
    for (let k = j; k < R; k += 2) {
      const k0 = k * L, k1 = k0 + L;
      let s00 = 0, s01 = 0, s10 = 0, s11 = 0, s20 = 0, s21 = 0, s30 = 0, s31 = 0;
      for (let t = 0; t < L; t++) {
        const b0 = X[k0 + t]!, b1 = X[k1 + t]!;
        const a0 = X[j0 + t]!, a1 = X[j1 + t]!, a2 = X[j2 + t]!, a3 = X[j3 + t]!;
        s00 += a0 * b0; s01 += a0 * b1;
        s10 += a1 * b0; s11 += a1 * b1;
        s20 += a2 * b0; s21 += a2 * b1;
        s30 += a3 * b0; s31 += a3 * b1;
      }
      const g = j * R + k;
      G[g]! += s00; G[g + 1]! += s01;
      G[g + R]! += s10; G[g + R + 1]! += s11;
      G[g + 2 * R]! += s20; G[g + 2 * R + 1]! += s21;
      G[g + 3 * R]! += s30; G[g + 3 * R + 1]! += s31;
    }
  }
}

function symmetrizeUnpad(G: Float64Array, R: number, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const v = G[i * R + j]!;
      out[i * n + j] = v;
      out[j * n + i] = v;
    }
  }
  return out;
}

/**
 * The k largest eigenpairs of a symmetric matrix. G:[n,n] (row-major, only the lower triangle
 * is read; G is overwritten) → values:[k] descending, vectors:[n,k] (orthonormal columns).
 * Householder tridiagonalization, implicit QL for the eigenvalues, inverse iteration with
 * reorthogonalization for the k eigenvectors of the tridiagonal, back-transformation.
 */
export function symmetricEigTop(G: Float64Array, n: number, k: number): { values: Float64Array; vectors: Float64Array } {
  if (G.length !== n * n) throw new Error(`symmetricEigTop: G has length ${G.length}, expected ${n}·${n}`);
  if (!Number.isInteger(k) || k < 1 || k > n) throw new Error(`symmetricEigTop: k must be in [1, ${n}], got ${k}`);
  if (n === 1) return { values: Float64Array.of(G[0]!), vectors: Float64Array.of(1) };
  let gmax = 0;
  for (let i = 0; i < G.length; i++) gmax = Math.max(gmax, Math.abs(G[i]!));
  if (gmax === 0) {
    const vectors = new Float64Array(n * k);
    for (let c = 0; c < k; c++) vectors[c * k + c] = 1;
    return { values: new Float64Array(k), vectors };
  }
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  const beta = new Float64Array(n);
  tridiagonalize(G, n, d, e, beta);
  const all = tridiagonalEigenvalues(d.slice(), e.slice(), n);
  const order = Array.from(all.keys()).sort((x, y) => all[y]! - all[x]!);
  const values = new Float64Array(k);
  for (let c = 0; c < k; c++) values[c] = all[order[c]!]!;
  const Z = tridiagonalEigenvectors(d, e, n, values); // [n, k]
  // Back-transform: x = H₀·H₁·…·H_{n−3}·z, the reflectors stored right of the diagonal of G.
  // Columns of Z in chunks of BT, each chunk copied out contiguously ([n, BT], small enough to
  // stay in cache while every reflector is applied to it).
  const BT = 16;
  const chunk = new Float64Array(n * BT);
  const s = new Float64Array(BT);
  for (let c0 = 0; c0 < k; c0 += BT) {
    const w = Math.min(BT, k - c0);
    for (let i = 0; i < n; i++) for (let c = 0; c < w; c++) chunk[i * BT + c] = Z[i * k + c0 + c]!;
    for (let j = n - 3; j >= 0; j--) {
      const b = beta[j]!;
      if (b === 0) continue;
      s.fill(0);
      const vo = j * n;
      for (let i = j + 1; i < n; i++) {
        const v = G[vo + i]!;
        const zo = i * BT;
        for (let c = 0; c < w; c++) s[c]! += v * chunk[zo + c]!;
      }
      for (let c = 0; c < w; c++) s[c]! *= b;
      for (let i = j + 1; i < n; i++) {
        const v = G[vo + i]!;
        const zo = i * BT;
        for (let c = 0; c < w; c++) chunk[zo + c]! -= v * s[c]!;
      }
    }
    for (let i = 0; i < n; i++) for (let c = 0; c < w; c++) Z[i * k + c0 + c] = chunk[i * BT + c]!;
  }
  return { values, vectors: Z };
}

/**
 * Householder reduction of the symmetric G (lower triangle) to tridiagonal form T = QᵀGQ:
 * d = diag(T), e[i] = T[i+1][i]. Reflector j (I − β_j·v·vᵀ, v over indices j+1…n−1) is left in
 * row j right of the diagonal of G (the upper triangle, otherwise unused), contiguous.
 * One pass over the trailing block per step: the rank-2 update of step j is fused with the
 * matrix–vector product of step j+1 (whose reflector comes from the updated column j+1 first).
 */
function tridiagonalize(G: Float64Array, n: number, d: Float64Array, e: Float64Array, beta: Float64Array): void {
  let p = new Float64Array(n);
  let pn = new Float64Array(n);
  let v = new Float64Array(n);
  let vn = new Float64Array(n);
  const w = new Float64Array(n);
  // The reflector for column j of the current G into vv; sets e[j]; returns β (0: nothing to do).
  const house = (j: number, vv: Float64Array): number => {
    let sigma2 = 0;
    for (let i = j + 1; i < n; i++) {
      const x = G[i * n + j]!;
      sigma2 += x * x;
    }
    const x0 = G[(j + 1) * n + j]!;
    let rest = 0;
    for (let i = j + 2; i < n; i++) rest = Math.max(rest, Math.abs(G[i * n + j]!));
    if (rest === 0) {
      e[j] = x0;
      return 0;
    }
    const sigma = Math.sqrt(sigma2);
    const alpha = x0 >= 0 ? -sigma : sigma;
    e[j] = alpha;
    vv[j + 1] = x0 - alpha;
    for (let i = j + 2; i < n; i++) vv[i] = G[i * n + j]!;
    for (let i = j + 1; i < n; i++) G[j * n + i] = vv[i]!;
    return 1 / (sigma * (sigma + Math.abs(x0)));
  };
  if (n < 3) {
    for (let i = 0; i < n; i++) d[i] = G[i * n + i]!;
    e[0] = n > 1 ? G[n]! : 0;
    e[n - 1] = 0;
    return;
  }
  let b = house(0, v);
  if (b !== 0) {
    // p = A22·v for step 0 (lower triangle).
    for (let i = 1; i < n; i++) {
      const row = i * n;
      const vi = v[i]!;
      let acc = 0;
      for (let c = 1; c < i; c++) {
        const g = G[row + c]!;
        acc += g * v[c]!;
        p[c]! += g * vi;
      }
      p[i]! += acc + G[row + i]! * vi;
    }
  }
  for (let j = 0; j < n - 2; j++) {
    beta[j] = b;
    d[j] = G[j * n + j]!;
    const m = j + 1;
    if (b !== 0) {
      let pv = 0;
      for (let i = m; i < n; i++) {
        p[i]! *= b;
        pv += p[i]! * v[i]!;
      }
      const K = 0.5 * b * pv;
      for (let i = m; i < n; i++) w[i] = p[i]! - K * v[i]!;
      // Column m of the update first (rows below the diagonal), and its diagonal entry.
      const vm = v[m]!;
      const wm = w[m]!;
      for (let i = m + 1; i < n; i++) G[i * n + m]! -= v[i]! * wm + w[i]! * vm;
      G[m * n + m]! -= 2 * vm * wm;
    }
    const hasNext = m < n - 2;
    const bn = hasNext ? house(m, vn) : 0;
    const mn = m + 1;
    pn.fill(0);
    // Rows mn…n−1, columns mn…i: apply this step's update, accumulate next step's product.
    for (let i = mn; i < n; i++) {
      const row = i * n;
      const vi = v[i]!;
      const wi = w[i]!;
      if (bn !== 0) {
        const vni = vn[i]!;
        let acc = 0;
        if (b !== 0) {
          for (let c = mn; c < i; c++) {
            const g = G[row + c]! - (vi * w[c]! + wi * v[c]!);
            G[row + c] = g;
            acc += g * vn[c]!;
            pn[c]! += g * vni;
          }
          const gd = G[row + i]! - 2 * vi * wi;
          G[row + i] = gd;
          pn[i]! += acc + gd * vni;
        } else {
          for (let c = mn; c < i; c++) {
            const g = G[row + c]!;
            acc += g * vn[c]!;
            pn[c]! += g * vni;
          }
          pn[i]! += acc + G[row + i]! * vni;
        }
      } else if (b !== 0) {
        for (let c = mn; c <= i; c++) G[row + c]! -= vi * w[c]! + wi * v[c]!;
      }
    }
    [p, pn] = [pn, p];
    [v, vn] = [vn, v];
    b = bn;
  }
  d[n - 2] = G[(n - 2) * n + n - 2]!;
  d[n - 1] = G[(n - 1) * n + n - 1]!;
  e[n - 2] = G[(n - 1) * n + n - 2]!;
  e[n - 1] = 0;
  beta[n - 2] = 0;
  beta[n - 1] = 0;
}

/** All eigenvalues of the symmetric tridiagonal (d, e) by implicit QL; d and e are destroyed. */
function tridiagonalEigenvalues(d: Float64Array, e: Float64Array, n: number): Float64Array {
  e[n - 1] = 0;
  for (let l = 0; l < n; l++) {
    let iter = 0;
    let m: number;
    do {
      for (m = l; m < n - 1; m++) {
        const dd = Math.abs(d[m]!) + Math.abs(d[m + 1]!);
        if (Math.abs(e[m]!) <= Number.EPSILON * dd) break;
      }
      if (m !== l) {
        if (iter++ === 100) throw new Error('symmetricEigTop: implicit QL did not converge in 100 iterations');
        let g = (d[l + 1]! - d[l]!) / (2 * e[l]!);
        let r = Math.hypot(g, 1);
        g = d[m]! - d[l]! + e[l]! / (g + (g >= 0 ? Math.abs(r) : -Math.abs(r)));
        let s = 1;
        let c = 1;
        let p = 0;
        let i: number;
        let underflow = false;
        for (i = m - 1; i >= l; i--) {
          const f = s * e[i]!;
          const b = c * e[i]!;
          r = Math.hypot(f, g);
          e[i + 1] = r;
          if (r === 0) {
            d[i + 1]! -= p;
            e[m] = 0;
            underflow = true;
            break;
          }
          s = f / r;
          c = g / r;
          g = d[i + 1]! - p;
          r = (d[i]! - g) * s + 2 * c * b;
          p = s * r;
          d[i + 1] = g + p;
          g = c * r - b;
        }
        if (underflow) continue;
        d[l]! -= p;
        e[l] = g;
        e[m] = 0;
      }
    } while (m !== l);
  }
  return d;
}

/**
 * Eigenvectors of the tridiagonal (d, e) for the given eigenvalues (descending) by inverse
 * iteration (tridiagonal LU with partial pivoting), each reorthogonalized against the earlier ones.
 * → Z:[n, k] row-major.
 */
function tridiagonalEigenvectors(d: Float64Array, e: Float64Array, n: number, values: Float64Array): Float64Array {
  const k = values.length;
  let norm = 0;
  for (let i = 0; i < n; i++) norm = Math.max(norm, Math.abs(d[i]!) + Math.abs(e[i]!) + (i > 0 ? Math.abs(e[i - 1]!) : 0));
  const tiny = Math.max(norm * Number.EPSILON, 1e-300);
  const Z = new Float64Array(n * k);
  const cols: Float64Array[] = [];
  const dl = new Float64Array(n);
  const dd = new Float64Array(n);
  const du = new Float64Array(n);
  const du2 = new Float64Array(n);
  const piv = new Uint8Array(n);
  let seed = 0x9e3779b9;
  const rand = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 4294967296 - 0.5;
  };
  for (let c = 0; c < k; c++) {
    const mu = values[c]!;
    // LU of T − μI with partial pivoting (LAPACK dgttrf layout).
    for (let i = 0; i < n; i++) {
      dd[i] = d[i]! - mu;
      du[i] = e[i]!;
      dl[i] = e[i]!;
      du2[i] = 0;
      piv[i] = 0;
    }
    for (let i = 0; i < n - 1; i++) {
      if (Math.abs(dd[i]!) >= Math.abs(dl[i]!)) {
        if (dd[i] === 0) dd[i] = tiny;
        const f = dl[i]! / dd[i]!;
        dl[i] = f;
        dd[i + 1]! -= f * du[i]!;
      } else {
        const f = dd[i]! / dl[i]!;
        dd[i] = dl[i]!;
        dl[i] = f;
        const t = du[i]!;
        du[i] = dd[i + 1]!;
        dd[i + 1] = t - f * dd[i + 1]!;
        if (i < n - 2) {
          du2[i] = du[i + 1]!;
          du[i + 1] = -f * du[i + 1]!;
        }
        piv[i] = 1;
      }
    }
    if (dd[n - 1] === 0) dd[n - 1] = tiny;
    let x: Float64Array = new Float64Array(n);
    for (let i = 0; i < n; i++) x[i] = rand();
    for (let it = 0; it < 3; it++) {
      for (let i = 0; i < n - 1; i++) {
        if (piv[i]) {
          const t = x[i]!;
          x[i] = x[i + 1]!;
          x[i + 1] = t - dl[i]! * x[i]!;
        } else x[i + 1]! -= dl[i]! * x[i]!;
      }
      x[n - 1]! /= dd[n - 1]!;
      if (n > 1) x[n - 2] = (x[n - 2]! - du[n - 2]! * x[n - 1]!) / dd[n - 2]!;
      for (let i = n - 3; i >= 0; i--) x[i] = (x[i]! - du[i]! * x[i + 1]! - du2[i]! * x[i + 2]!) / dd[i]!;
      // One Gram–Schmidt pass between solves, two after the last ("twice is enough").
      x = orthonormalizeAgainst(x, cols, rand, it === 2 ? 2 : 1);
    }
    cols.push(x);
    for (let i = 0; i < n; i++) Z[i * k + c] = x[i]!;
  }
  return Z;
}

/** x minus its projection on the (orthonormal) basis (MGS, `passes` times), normalized; random if it vanishes. */
function orthonormalizeAgainst(x: Float64Array, basis: Float64Array[], rand: () => number, passes = 2): Float64Array {
  const n = x.length;
  for (let attempt = 0; attempt < 5; attempt++) {
    let before = 0;
    for (let i = 0; i < n; i++) before = Math.max(before, Math.abs(x[i]!));
    if (before > 0) for (let i = 0; i < n; i++) x[i]! /= before; // avoid overflow from the solve
    for (let pass = 0; pass < (attempt === 0 ? passes : 2); pass++) {
      for (const b of basis) {
        let dot = 0;
        for (let i = 0; i < n; i++) dot += b[i]! * x[i]!;
        for (let i = 0; i < n; i++) x[i]! -= dot * b[i]!;
      }
    }
    let nrm = 0;
    for (let i = 0; i < n; i++) nrm += x[i]! * x[i]!;
    nrm = Math.sqrt(nrm);
    if (nrm > 1e-8) {
      for (let i = 0; i < n; i++) x[i]! /= nrm;
      return x;
    }
    for (let i = 0; i < n; i++) x[i] = rand();
  }
  throw new Error('symmetricEigTop: could not find an orthogonal eigenvector');
}

/** Modified Gram–Schmidt on the columns of X:[r,k] in place (a vanishing column becomes a random orthogonal one). */
export function orthonormalizeColumns(X: Float64Array, r: number, k: number): void {
  let seed = 12345;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 4294967296 - 0.5;
  };
  const basis: Float64Array[] = [];
  for (let c = 0; c < k; c++) {
    const x = new Float64Array(r);
    for (let i = 0; i < r; i++) x[i] = X[i * k + c]!;
    const y = orthonormalizeAgainst(x, basis, rand);
    basis.push(y);
    for (let i = 0; i < r; i++) X[i * k + c] = y[i]!;
  }
}

/** U columns whose σ is 0 are filled with an orthonormal completion, so U stays orthonormal. */
function orthonormalizeZeroColumns(U: Float64Array, m: number, k: number, sigma: Float64Array): void {
  if (sigma.every((s) => s > 0)) return;
  orthonormalizeColumns(U, m, k);
}

/** X:[r,k] → Xᵀ:[k,r]. */
function transpose(X: Float64Array, r: number, k: number): Float64Array {
  const out = new Float64Array(r * k);
  for (let i = 0; i < r; i++) for (let c = 0; c < k; c++) out[c * r + i] = X[i * k + c]!;
  return out;
}
