// lmsweep's native training kernels as a Node-API addon: matrix products, the fused softmax
// cross-entropy, the LSTM sequence, the Transformer's layer norm, GELU and causal attention, and
// the optimizer steps, on float32 typed arrays (in lmsweep these are views into the TensorFlow.js
// wasm heap, so nothing is copied). Every array's length
// is checked against the sizes given; a misfit throws a RangeError naming the argument.
#include <node_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "elementwise.h"
#include "gemm.h"
#include "pool.h"

namespace lmsweep {

Pool& pool() {
  static Pool* p = new Pool();  // never destroyed: its threads are detached
  return *p;
}

namespace {

const Elementwise& pickElementwise() {
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
  if (std::string(simdName()) == "avx2-fma") return avx2::kernels;
#endif
  return portable::kernels;
}

const Elementwise& ew() {
  static const Elementwise& k = pickElementwise();
  return k;
}

/** Splits [0, n) into about `parts` ranges, each at least `grain` long, and runs f(begin, end) on the pool. */
template <typename F>
void parallelRanges(long n, long grain, F f) {
  const long threads = pool().size();
  long parts = std::min<long>(threads * 2, std::max<long>(1, n / std::max<long>(1, grain)));
  if (parts <= 1) {
    f(0L, n);
    return;
  }
  const long step = (n + parts - 1) / parts;
  parts = (n + step - 1) / step;
  pool().run(parts, [&](long p) { f(p * step, std::min(n, (p + 1) * step)); });
}

/**
 * Splits rows [0, B) into one part per thread (at least MR rows each, whole MR multiples but
 * the last) when each row carries enough work (flopsPerRow·B over ~4 M), and runs f(r0, r1) on
 * the pool; the parts never share a row.
 */
template <typename F>
void forRowParts(long B, long flopsPerRow, F f) {
  long parts = std::min<long>(pool().size(), B / MR);
  if (parts <= 1 || flopsPerRow * B < (1L << 22)) {
    f(0L, B);
    return;
  }
  const long per = ((B + parts - 1) / parts + MR - 1) / MR * MR;
  parts = (B + per - 1) / per;
  pool().run(parts, [&](long p) { f(p * per, std::min(B, (p + 1) * per)); });
}

// ---- Node-API plumbing ----

struct Error {
  std::string message;
  bool range;
};

class Args {
 public:
  Args(napi_env env, napi_callback_info info, size_t expected) : env_(env), argv_(expected) {
    size_t argc = expected;
    napi_get_cb_info(env, info, &argc, argv_.data(), nullptr, nullptr);
    if (argc < expected) throw Error{"expected " + std::to_string(expected) + " arguments, got " + std::to_string(argc), false};
  }

  double num(size_t i, const char* name) const {
    double v;
    if (napi_get_value_double(env_, argv_[i], &v) != napi_ok) throw Error{std::string(name) + " must be a number", false};
    return v;
  }

  long size(size_t i, const char* name) const {
    const double v = num(i, name);
    if (!(v >= 0 && v <= 9.0e15 && std::floor(v) == v)) throw Error{std::string(name) + " must be a non-negative integer, got " + std::to_string(v), true};
    return static_cast<long>(v);
  }

  bool flag(size_t i, const char* name) const {
    bool v;
    if (napi_get_value_bool(env_, argv_[i], &v) != napi_ok) throw Error{std::string(name) + " must be a boolean", false};
    return v;
  }

  template <typename T>
  T* array(size_t i, const char* name, napi_typedarray_type want, const char* typeName, size_t minLength) const {
    bool is = false;
    napi_is_typedarray(env_, argv_[i], &is);
    if (!is) throw Error{std::string(name) + " must be a " + typeName, false};
    napi_typedarray_type type;
    size_t length;
    void* data;
    napi_get_typedarray_info(env_, argv_[i], &type, &length, &data, nullptr, nullptr);
    if (type != want) throw Error{std::string(name) + " must be a " + typeName, false};
    if (length < minLength) throw Error{std::string(name) + " holds " + std::to_string(length) + " elements, needs " + std::to_string(minLength), true};
    return static_cast<T*>(data);
  }

  /** Elements of the typed array at i (any element type). */
  size_t length(size_t i, const char* name) const {
    bool is = false;
    napi_is_typedarray(env_, argv_[i], &is);
    if (!is) throw Error{std::string(name) + " must be a typed array", false};
    napi_typedarray_type type;
    size_t n;
    napi_get_typedarray_info(env_, argv_[i], &type, &n, nullptr, nullptr, nullptr);
    return n;
  }

  float* f32(size_t i, const char* name, size_t n) const { return array<float>(i, name, napi_float32_array, "Float32Array", n); }
  int32_t* i32(size_t i, const char* name, size_t n) const { return array<int32_t>(i, name, napi_int32_array, "Int32Array", n); }
  double* f64(size_t i, const char* name, size_t n) const { return array<double>(i, name, napi_float64_array, "Float64Array", n); }

  napi_value number(double v) const {
    napi_value out;
    napi_create_double(env_, v, &out);
    return out;
  }

  napi_value undefined() const {
    napi_value out;
    napi_get_undefined(env_, &out);
    return out;
  }

 private:
  napi_env env_;
  std::vector<napi_value> argv_;
};

template <typename F>
napi_value guarded(napi_env env, F f) {
  try {
    return f();
  } catch (const Error& e) {
    if (e.range) napi_throw_range_error(env, nullptr, e.message.c_str());
    else napi_throw_type_error(env, nullptr, e.message.c_str());
  } catch (const std::exception& e) {
    napi_throw_error(env, nullptr, e.what());
  }
  return nullptr;
}

/** Every target a word of the vocabulary 0..V−1 (they index rows of P). */
void checkTargets(const int32_t* t, long n, long V) {
  for (long i = 0; i < n; i++)
    if (t[i] < 0 || t[i] >= V) throw Error{"target " + std::to_string(t[i]) + " at " + std::to_string(i) + " outside the vocabulary 0.." + std::to_string(V - 1), true};
}

// ---- exported functions ----

/** setThreads(n): threads of every later call (the caller's included); returns the count in effect. */
napi_value SetThreads(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info, 1);
    const long n = a.size(0, "threads");
    if (n < 1 || n > 256) throw Error{"threads must be 1..256, got " + std::to_string(n), true};
    pool().resize(static_cast<int>(n));
    return a.number(pool().size());
  });
}

napi_value Threads(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info, 0);
    return a.number(pool().size());
  });
}

napi_value Simd(napi_env env, napi_callback_info) {
  napi_value out;
  napi_create_string_utf8(env, simdName(), NAPI_AUTO_LENGTH, &out);
  return out;
}

/** Minimum length of a row-major operand with `rows`×`cols` of op(M) and leading dimension ld. */
size_t operandLength(long rows, long cols, long ld, bool trans) {
  const long r = trans ? cols : rows, c = trans ? rows : cols;
  return r == 0 || c == 0 ? 0 : static_cast<size_t>((r - 1) * ld + c);
}

/** sgemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc): C = alpha·op(A)·op(B) + beta·C. */
napi_value Sgemm(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info, 13);
    const bool ta = a.flag(0, "transA"), tb = a.flag(1, "transB");
    const long M = a.size(2, "M"), N = a.size(3, "N"), K = a.size(4, "K");
    const float alpha = static_cast<float>(a.num(5, "alpha"));
    const long lda = a.size(7, "lda"), ldb = a.size(9, "ldb"), ldc = a.size(12, "ldc");
    if (lda < (ta ? M : K) || ldb < (tb ? K : N) || ldc < N) throw Error{"a leading dimension is smaller than its matrix's row", true};
    const float* A = a.f32(6, "A", operandLength(M, K, lda, ta));
    const float* B = a.f32(8, "B", operandLength(K, N, ldb, tb));
    const float beta = static_cast<float>(a.num(10, "beta"));
    float* C = a.f32(11, "C", operandLength(M, N, ldc, false));
    gemm(M, N, K, alpha, MatRef{A, lda, ta}, MatRef{B, ldb, tb}, beta, C, ldc);
    return a.undefined();
  });
}

/** Rows of P:[n,V] (logits) += b, then exp(z − max) in place, rowSum their sums; returns Σᵢ −log softmax(zᵢ)[tᵢ]. */
double softmaxRows(long n, long V, float* P, const float* b, const int32_t* t, double* rowSum) {
  std::vector<double> loss(n);
  parallelRanges(n, 8, [&](long i0, long i1) {
    for (long i = i0; i < i1; i++) loss[i] = ew().softmaxRow(P + i * V, b, V, t[i], rowSum + i);
  });
  double total = 0;
  for (double l : loss) total += l;
  return total;
}

/** P:[n,V] = exp(z − max) → dz = g·(softmax − onehot) in place; db = its column sums. */
void softmaxGradRows(long n, long V, float g, float* P, const int32_t* t, const double* rowSum, float* db) {
  parallelRanges(n, 8, [&](long i0, long i1) {
    for (long i = i0; i < i1; i++) ew().softmaxGradRow(P + i * V, V, t[i], rowSum[i], g);
  });
  parallelRanges(V, 1024, [&](long j0, long j1) { ew().columnSums(P, n, V, j0, j1, db); });
}

/**
 * softmaxXentForward(n, h, V, x:[n,h], W:[h,V], b:[V], targets:[n], P:[n,V], rowSum:[n] f64) →
 * Σᵢ −log softmax(xᵢ·W + b)[tᵢ]; P keeps exp(z − max) and rowSum its row sums, for the backward.
 */
napi_value SoftmaxXentForward(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info, 9);
    const long n = a.size(0, "n"), h = a.size(1, "h"), V = a.size(2, "V");
    const float* x = a.f32(3, "x", n * h);
    const float* W = a.f32(4, "W", h * V);
    const float* b = a.f32(5, "b", V);
    const int32_t* t = a.i32(6, "targets", n);
    float* P = a.f32(7, "P", n * V);
    double* rowSum = a.f64(8, "rowSum", n);
    checkTargets(t, n, V);
    gemm(n, V, h, 1.0f, MatRef{x, h, false}, MatRef{W, V, false}, 0.0f, P, V);
    return a.number(softmaxRows(n, V, P, b, t, rowSum));
  });
}

/**
 * softmaxXentBackward(n, h, V, g, x, W, P, targets, rowSum, dx:[n,h], dW:[h,V], db:[V]): the
 * gradients of g·(the forward's loss); P becomes dz = g·(softmax − onehot) in place.
 */
napi_value SoftmaxXentBackward(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info, 12);
    const long n = a.size(0, "n"), h = a.size(1, "h"), V = a.size(2, "V");
    const float g = static_cast<float>(a.num(3, "g"));
    const float* x = a.f32(4, "x", n * h);
    const float* W = a.f32(5, "W", h * V);
    float* P = a.f32(6, "P", n * V);
    const int32_t* t = a.i32(7, "targets", n);
    const double* rowSum = a.f64(8, "rowSum", n);
    float* dx = a.f32(9, "dx", n * h);
    float* dW = a.f32(10, "dW", h * V);
    float* db = a.f32(11, "db", V);
    checkTargets(t, n, V);
    softmaxGradRows(n, V, g, P, t, rowSum, db);
    gemm(h, V, n, 1.0f, MatRef{x, h, true}, MatRef{P, V, false}, 0.0f, dW, V);
    gemm(n, h, V, 1.0f, MatRef{P, V, false}, MatRef{W, V, true}, 0.0f, dx, h);
    return a.undefined();
  });
}

/**
 * softmaxXentRows(n, V, P:[n,V], b:[V], targets:[n], rowSum:[n] f64) → Σᵢ −log softmax(zᵢ + b)[tᵢ]
 * for logits z already in P (e.g. a block softmax's products): P becomes exp(z + b − max) and
 * rowSum its row sums, as softmaxXentForward leaves them.
 */
napi_value SoftmaxXentRows(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info, 6);
    const long n = a.size(0, "n"), V = a.size(1, "V");
    float* P = a.f32(2, "P", n * V);
    const float* b = a.f32(3, "b", V);
    const int32_t* t = a.i32(4, "targets", n);
    double* rowSum = a.f64(5, "rowSum", n);
    checkTargets(t, n, V);
    return a.number(softmaxRows(n, V, P, b, t, rowSum));
  });
}

/** softmaxXentRowsBackward(n, V, g, P, targets, rowSum, db:[V]): P becomes dz = g·(softmax − onehot) in place, db its column sums. */
napi_value SoftmaxXentRowsBackward(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info, 7);
    const long n = a.size(0, "n"), V = a.size(1, "V");
    const float g = static_cast<float>(a.num(2, "g"));
    float* P = a.f32(3, "P", n * V);
    const int32_t* t = a.i32(4, "targets", n);
    const double* rowSum = a.f64(5, "rowSum", n);
    float* db = a.f32(6, "db", V);
    checkTargets(t, n, V);
    softmaxGradRows(n, V, g, P, t, rowSum, db);
    return a.undefined();
  });
}

/**
 * lstmForward(T, B, H, xProj:[T·B,4H], Wh:[H,4H], h0:[B,H], c0:[B,H], gates:[T·B,4H],
 * cells:[T·B,H], out:[(T+1)·B,H]): out holds h₁…h_T then c_T; gates the activated i, f, o, g
 * and cells c₁…c_T, for the backward.
 */
napi_value LstmForward(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info, 10);
    const long T = a.size(0, "T"), B = a.size(1, "B"), H = a.size(2, "H");
    const float* xp = a.f32(3, "xProj", T * B * 4 * H);
    const float* wh = a.f32(4, "Wh", H * 4 * H);
    const float* h0 = a.f32(5, "h0", B * H);
    const float* c0 = a.f32(6, "c0", B * H);
    float* G = a.f32(7, "gates", T * B * 4 * H);
    float* C = a.f32(8, "cells", T * B * H);
    float* out = a.f32(9, "out", (T + 1) * B * H);
    // (a thread_local named inside the lambda below would be each pool thread's own: take a reference)
    thread_local PackedB packedWh;
    PackedB& packed = packedWh;
    packB(MatRef{wh, 4 * H, false}, H, 4 * H, packed);
    std::memcpy(G, xp, sizeof(float) * T * B * 4 * H);
    // Rows of the batch are independent recurrences: each part runs all T steps for its rows.
    forRowParts(B, T * H * 4 * H, [&](long r0, long r1) {
      const long rows = r1 - r0;
      for (long t = 0; t < T; t++) {
        float* Gt = G + (t * B + r0) * 4 * H;
        const float* hPrev = t == 0 ? h0 + r0 * H : out + ((t - 1) * B + r0) * H;
        const float* cPrev = t == 0 ? c0 + r0 * H : C + ((t - 1) * B + r0) * H;
        gemmPacked(rows, 4 * H, H, 1.0f, MatRef{hPrev, H, false}, packed, 1.0f, Gt, 4 * H, false);
        ew().lstmCell(rows, H, Gt, cPrev, C + (t * B + r0) * H, out + (t * B + r0) * H);
      }
    });
    std::memcpy(out + T * B * H, C + (T - 1) * B * H, sizeof(float) * B * H);
    return a.undefined();
  });
}

/**
 * lstmBackward(T, B, H, Wh, h0, c0, gates, cells, out, dy:[(T+1)·B,H], dXProj:[T·B,4H],
 * dWh:[H,4H]): gradients of the forward's outputs h₁…h_T (dy's last B rows, for c_T, are
 * ignored; no gradient flows into h0, c0).
 */
napi_value LstmBackward(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info, 12);
    const long T = a.size(0, "T"), B = a.size(1, "B"), H = a.size(2, "H");
    const float* wh = a.f32(3, "Wh", H * 4 * H);
    const float* h0 = a.f32(4, "h0", B * H);
    const float* c0 = a.f32(5, "c0", B * H);
    const float* G = a.f32(6, "gates", T * B * 4 * H);
    const float* C = a.f32(7, "cells", T * B * H);
    const float* out = a.f32(8, "out", (T + 1) * B * H);
    const float* dy = a.f32(9, "dy", (T + 1) * B * H);
    float* dG = a.f32(10, "dXProj", T * B * 4 * H);
    float* dWh = a.f32(11, "dWh", H * 4 * H);
    if (T == 0) {
      std::memset(dWh, 0, sizeof(float) * H * 4 * H);
      return a.undefined();
    }
    // dh_{t−1} = dG_t · Whᵀ: Whᵀ packed once for the T steps
    thread_local PackedB packedWhT;
    PackedB& whT = packedWhT;
    packB(MatRef{wh, 4 * H, true}, 4 * H, H, whT);
    std::vector<float> dhNext(B * H), dcNext(B * H, 0.0f);
    forRowParts(B, T * H * 4 * H, [&](long r0, long r1) {
      const long rows = r1 - r0;
      for (long t = T - 1; t >= 0; t--) {
        const long o = t * B + r0;
        const float* cPrev = t == 0 ? c0 + r0 * H : C + (o - B) * H;
        float* dGt = dG + o * 4 * H;
        ew().lstmCellGrad(rows, H, G + o * 4 * H, C + o * H, cPrev, dy + o * H, t == T - 1 ? nullptr : dhNext.data() + r0 * H, dcNext.data() + r0 * H, dGt);
        if (t > 0) gemmPacked(rows, H, 4 * H, 1.0f, MatRef{dGt, 4 * H, false}, whT, 0.0f, dhNext.data() + r0 * H, H, false);
      }
    });
    // dWh = Σ_t h_{t−1}ᵀ · dG_t: h0 for t = 0, then out's rows h₁…h_{T−1}
    gemm(H, 4 * H, B, 1.0f, MatRef{h0, H, true}, MatRef{dG, 4 * H, false}, 0.0f, dWh, 4 * H);
    if (T > 1) gemm(H, 4 * H, (T - 1) * B, 1.0f, MatRef{out, H, true}, MatRef{dG + B * 4 * H, 4 * H, false}, 1.0f, dWh, 4 * H);
    return a.undefined();
  });
}

/**
 * phmWeight(n, p, q, A:[n,n,n], S:[n,p,q], W:[n·p, n·q]): the PHM weight W = Σᵢ Aᵢ ⊗ Sᵢ,
 * W[a·p + b, c·q + e] = Σᵢ A[i,a,c]·S[i,b,e] (n·d·k multiply-adds, one pass over W).
 */
napi_value PhmWeight(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info, 6);
    const long n = a.size(0, "n"), p = a.size(1, "p"), q = a.size(2, "q");
    const float* A = a.f32(3, "A", n * n * n);
    const float* S = a.f32(4, "S", n * p * q);
    float* W = a.f32(5, "W", n * p * n * q);
    const long k = n * q;
    // one task per range of rows (a, b) of W
    parallelRanges(n * p, std::max<long>(1, 16384 / std::max<long>(1, k)), [&](long r0, long r1) {
      for (long r = r0; r < r1; r++) {
        const long ra = r / p, b = r % p;
        for (long c = 0; c < n; c++) {
          float* w = W + r * k + c * q;
          for (long e = 0; e < q; e++) w[e] = 0.0f;
          for (long i = 0; i < n; i++) {
            const float coef = A[(i * n + ra) * n + c];
            const float* srow = S + (i * p + b) * q;
            for (long e = 0; e < q; e++) w[e] += coef * srow[e];
          }
        }
      }
    });
    return a.undefined();
  });
}

/**
 * phmWeightBackward(n, p, q, A, S, dW:[n·p, n·q], dA:[n,n,n], dS:[n,p,q]): the gradients of
 * Σ dW⊙W in A and S: dA[i,a,c] = Σ_{b,e} S[i,b,e]·dW[a·p+b, c·q+e], dS[i,b,e] = Σ_{a,c} A[i,a,c]·dW[a·p+b, c·q+e].
 * Rows b of S in fixed blocks, dA's partial sums (double) added in block order: the result does
 * not depend on the thread count.
 */
napi_value PhmWeightBackward(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info, 8);
    const long n = a.size(0, "n"), p = a.size(1, "p"), q = a.size(2, "q");
    const float* A = a.f32(3, "A", n * n * n);
    const float* S = a.f32(4, "S", n * p * q);
    const float* dW = a.f32(5, "dW", n * p * n * q);
    float* dA = a.f32(6, "dA", n * n * n);
    float* dS = a.f32(7, "dS", n * p * q);
    const long n3 = n * n * n, k = n * q;
    constexpr long ROWS = 8;
    const long blocks = (p + ROWS - 1) / ROWS;
    std::vector<double> partial(static_cast<size_t>(blocks * n3), 0.0);
    auto task = [&](long blk) {
      double* pa = partial.data() + blk * n3;
      for (long b = blk * ROWS; b < std::min(p, (blk + 1) * ROWS); b++) {
        for (long i = 0; i < n; i++) {
          float* ds = dS + (i * p + b) * q;
          for (long e = 0; e < q; e++) ds[e] = 0.0f;
        }
        for (long ra = 0; ra < n; ra++) {
          const float* wrow = dW + (ra * p + b) * k;
          for (long c = 0; c < n; c++) {
            const float* g = wrow + c * q;
            for (long i = 0; i < n; i++) {
              const float coef = A[(i * n + ra) * n + c];
              const float* srow = S + (i * p + b) * q;
              float* ds = dS + (i * p + b) * q;
              float dot[16] = {};
              long e = 0;
              for (; e + 16 <= q; e += 16)
                for (int l = 0; l < 16; l++) {
                  ds[e + l] += coef * g[e + l];
                  dot[l] += srow[e + l] * g[e + l];
                }
              double total = 0;
              for (; e < q; e++) {
                ds[e] += coef * g[e];
                total += static_cast<double>(srow[e]) * g[e];
              }
              for (int l = 0; l < 16; l++) total += dot[l];
              pa[(i * n + ra) * n + c] += total;
            }
          }
        }
      }
    };
    if (blocks > 1 && n * p * k >= (1L << 16)) pool().run(blocks, task);
    else
      for (long blk = 0; blk < blocks; blk++) task(blk);
    for (long j = 0; j < n3; j++) {
      double total = 0;
      for (long blk = 0; blk < blocks; blk++) total += partial[blk * n3 + j];
      dA[j] = static_cast<float>(total);
    }
    return a.undefined();
  });
}

/** adam(x, g, m, v, out, scale, alpha, beta1, beta2, eps): one Adam step on g·scale (m, v in place; out = the new x). */
napi_value Adam(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info, 10);
    const long n = static_cast<long>(a.length(0, "x"));
    const float* x = a.f32(0, "x", n);
    const float* g = a.f32(1, "g", n);
    float* m = a.f32(2, "m", n);
    float* v = a.f32(3, "v", n);
    float* out = a.f32(4, "out", n);
    const float scale = static_cast<float>(a.num(5, "scale")), alpha = static_cast<float>(a.num(6, "alpha"));
    const double b1 = a.num(7, "beta1"), b2 = a.num(8, "beta2");
    const float eps = static_cast<float>(a.num(9, "eps"));
    // 1 − β in double: in float, 1 − 0.999f is 0.0010000467, off by 5e-5 relative
    const float f1 = static_cast<float>(b1), f2 = static_cast<float>(b2), c1 = static_cast<float>(1.0 - b1), c2 = static_cast<float>(1.0 - b2);
    parallelRanges(n, 1L << 16, [&](long i0, long i1) { ew().adam(i0, i1, x, g, m, v, out, scale, alpha, f1, f2, c1, c2, eps); });
    return a.undefined();
  });
}

/** sgd(x, g, out, k): out = x − k·g. */
napi_value Sgd(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info, 4);
    const long n = static_cast<long>(a.length(0, "x"));
    const float* x = a.f32(0, "x", n);
    const float* g = a.f32(1, "g", n);
    float* out = a.f32(2, "out", n);
    const float k = static_cast<float>(a.num(3, "k"));
    parallelRanges(n, 1L << 16, [&](long i0, long i1) { ew().sgd(i0, i1, x, g, out, k); });
    return a.undefined();
  });
}

/**
 * sumSquares(x) → Σ x² (double accumulation), summed in fixed blocks in a fixed order, so the
 * result does not depend on the thread count (a gradient norm feeds clipping: a trial must not
 * train differently on a machine with more cores).
 */
napi_value SumSquares(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info, 1);
    const long n = static_cast<long>(a.length(0, "x"));
    const float* x = a.f32(0, "x", n);
    constexpr long BLOCK = 1L << 15;
    const long blocks = (n + BLOCK - 1) / BLOCK;
    std::vector<double> acc(blocks, 0.0);
    auto task = [&](long b) { acc[b] = ew().sumSquares(b * BLOCK, std::min(n, (b + 1) * BLOCK), x); };
    if (blocks > 1) pool().run(blocks, task);
    else if (blocks == 1) task(0);
    double total = 0;
    for (double v : acc) total += v;
    return a.number(total);
  });
}

/** gelu(x, y): y = GELU(x), the tanh form (GPT-2's; PyTorch's approximate='tanh'). */
napi_value Gelu(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info, 2);
    const long n = static_cast<long>(a.length(0, "x"));
    const float* x = a.f32(0, "x", n);
    float* y = a.f32(1, "y", n);
    parallelRanges(n, 1L << 15, [&](long i0, long i1) { ew().gelu(i0, i1, x, y); });
    return a.undefined();
  });
}

/** geluBackward(x, dy, dx): dx = dy·GELU'(x). */
napi_value GeluBackward(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info, 3);
    const long n = static_cast<long>(a.length(0, "x"));
    const float* x = a.f32(0, "x", n);
    const float* dy = a.f32(1, "dy", n);
    float* dx = a.f32(2, "dx", n);
    parallelRanges(n, 1L << 15, [&](long i0, long i1) { ew().geluGrad(i0, i1, x, dy, dx); });
    return a.undefined();
  });
}

/**
 * layerNormForward(n, d, eps, x:[n,d], gamma:[d], beta:[d], y:[n,d], xhat:[n,d], rstd:[n]):
 * per row x̂ = (x − μ)·rstd with rstd = 1/√(σ² + ε) (mean and biased variance in double), y = x̂⊙γ + β.
 */
napi_value LayerNormForward(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info, 9);
    const long n = a.size(0, "n"), d = a.size(1, "d");
    const double eps = a.num(2, "eps");
    const float* x = a.f32(3, "x", n * d);
    const float* g = a.f32(4, "gamma", d);
    const float* b = a.f32(5, "beta", d);
    float* y = a.f32(6, "y", n * d);
    float* xhat = a.f32(7, "xhat", n * d);
    float* rstd = a.f32(8, "rstd", n);
    parallelRanges(n, std::max<long>(1, 16384 / std::max<long>(1, d)), [&](long r0, long r1) {
      for (long i = r0; i < r1; i++) {
        const float* xr = x + i * d;
        double mean = 0;
        for (long j = 0; j < d; j++) mean += xr[j];
        mean /= static_cast<double>(d);
        double var = 0;
        for (long j = 0; j < d; j++) var += (xr[j] - mean) * (xr[j] - mean);
        const double r = 1.0 / std::sqrt(var / static_cast<double>(d) + eps);
        rstd[i] = static_cast<float>(r);
        for (long j = 0; j < d; j++) {
          const float h = static_cast<float>((xr[j] - mean) * r);
          xhat[i * d + j] = h;
          y[i * d + j] = h * g[j] + b[j];
        }
      }
    });
    return a.undefined();
  });
}

/**
 * layerNormBackward(n, d, dy, xhat, rstd, gamma, dx, dgamma, dbeta): dγ = Σ_rows dy⊙x̂, dβ = Σ_rows dy,
 * dx = rstd·(g − mean(g) − x̂·mean(g⊙x̂)) with g = dy⊙γ. dγ and dβ are summed over fixed blocks of
 * rows in block order: the same on any thread count.
 */
napi_value LayerNormBackward(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info, 9);
    const long n = a.size(0, "n"), d = a.size(1, "d");
    const float* dy = a.f32(2, "dy", n * d);
    const float* xhat = a.f32(3, "xhat", n * d);
    const float* rstd = a.f32(4, "rstd", n);
    const float* g = a.f32(5, "gamma", d);
    float* dx = a.f32(6, "dx", n * d);
    float* dg = a.f32(7, "dgamma", d);
    float* db = a.f32(8, "dbeta", d);
    constexpr long ROWS = 64;
    const long blocks = (n + ROWS - 1) / ROWS;
    std::vector<double> partial(static_cast<size_t>(blocks * 2 * d), 0.0);
    auto task = [&](long blk) {
      double* pg = partial.data() + blk * 2 * d;
      double* pb = pg + d;
      for (long i = blk * ROWS; i < std::min(n, (blk + 1) * ROWS); i++) {
        const float* dyr = dy + i * d;
        const float* hr = xhat + i * d;
        double mg = 0, mgh = 0;
        for (long j = 0; j < d; j++) {
          const double gy = static_cast<double>(dyr[j]) * g[j];
          mg += gy;
          mgh += gy * hr[j];
          pg[j] += static_cast<double>(dyr[j]) * hr[j];
          pb[j] += dyr[j];
        }
        mg /= static_cast<double>(d);
        mgh /= static_cast<double>(d);
        const double r = rstd[i];
        for (long j = 0; j < d; j++) dx[i * d + j] = static_cast<float>(r * (static_cast<double>(dyr[j]) * g[j] - mg - hr[j] * mgh));
      }
    };
    if (blocks > 1 && n * d >= (1L << 14)) pool().run(blocks, task);
    else
      for (long blk = 0; blk < blocks; blk++) task(blk);
    for (long j = 0; j < d; j++) {
      double sg = 0, sb = 0;
      for (long blk = 0; blk < blocks; blk++) {
        sg += partial[blk * 2 * d + j];
        sb += partial[blk * 2 * d + d + j];
      }
      dg[j] = static_cast<float>(sg);
      db[j] = static_cast<float>(sb);
    }
    return a.undefined();
  });
}

/** The strided block of one (sequence b, head h) in a time-major [T·B, d] matrix: T rows of dh columns. */
MatRef headBlock(const float* m, long B, long d, long b, long h, long dh, bool trans) { return MatRef{m + b * d + h * dh, B * d, trans}; }

/**
 * causalAttentionForward(T, B, heads, dh, q, k, v:[T·B, heads·dh] (row t·B + b), out:[T·B, heads·dh],
 * P:[B·heads, T, T]): per sequence b and head h, S = Q·Kᵀ/√dh, P = softmax over s ≤ t (0 above the
 * diagonal), out = P·V. One task per (b, h) on the pool; each writes its own columns of its own rows.
 */
napi_value CausalAttentionForward(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info, 9);
    const long T = a.size(0, "T"), B = a.size(1, "B"), H = a.size(2, "heads"), dh = a.size(3, "dh");
    const long d = H * dh, rows = T * B;
    const float* q = a.f32(4, "q", rows * d);
    const float* k = a.f32(5, "k", rows * d);
    const float* v = a.f32(6, "v", rows * d);
    float* out = a.f32(7, "out", rows * d);
    float* P = a.f32(8, "P", B * H * T * T);
    const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(dh)));
    auto task = [&](long bh) {
      const long b = bh / H, h = bh % H;
      float* p = P + bh * T * T;
      PackedB packed;
      packB(headBlock(k, B, d, b, h, dh, true), dh, T, packed, false);
      gemmPacked(T, T, dh, scale, headBlock(q, B, d, b, h, dh, false), packed, 0.0f, p, T, false);
      for (long t = 0; t < T; t++) {
        float* row = p + t * T;
        float mx = -INFINITY;
        for (long s = 0; s <= t; s++) mx = std::max(mx, row[s]);
        double sum = 0;
        for (long s = 0; s <= t; s++) sum += (row[s] = std::exp(row[s] - mx));
        const float inv = static_cast<float>(1.0 / sum);
        for (long s = 0; s <= t; s++) row[s] *= inv;
        for (long s = t + 1; s < T; s++) row[s] = 0.0f;
      }
      packB(headBlock(v, B, d, b, h, dh, false), T, dh, packed, false);
      gemmPacked(T, dh, T, 1.0f, MatRef{p, T, false}, packed, 0.0f, out + b * d + h * dh, B * d, false);
    };
    if (B * H > 1) pool().run(B * H, task);
    else task(0);
    return a.undefined();
  });
}

/**
 * causalAttentionBackward(T, B, heads, dh, q, k, v, P, dy, dq, dk, dv): with dP = dY·Vᵀ and
 * dS = P⊙(dP − rowsum(P⊙dP))/√dh, dQ = dS·K, dK = dSᵀ·Q, dV = Pᵀ·dY, per (b, h) as the forward.
 */
napi_value CausalAttentionBackward(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info, 12);
    const long T = a.size(0, "T"), B = a.size(1, "B"), H = a.size(2, "heads"), dh = a.size(3, "dh");
    const long d = H * dh, rows = T * B;
    const float* q = a.f32(4, "q", rows * d);
    const float* k = a.f32(5, "k", rows * d);
    const float* v = a.f32(6, "v", rows * d);
    const float* P = a.f32(7, "P", B * H * T * T);
    const float* dy = a.f32(8, "dy", rows * d);
    float* dq = a.f32(9, "dq", rows * d);
    float* dk = a.f32(10, "dk", rows * d);
    float* dv = a.f32(11, "dv", rows * d);
    const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(dh)));
    auto task = [&](long bh) {
      const long b = bh / H, h = bh % H, off = b * d + h * dh;
      const float* p = P + bh * T * T;
      std::vector<float> ds(static_cast<size_t>(T * T));
      PackedB packed;
      packB(headBlock(v, B, d, b, h, dh, true), dh, T, packed, false);
      gemmPacked(T, T, dh, 1.0f, headBlock(dy, B, d, b, h, dh, false), packed, 0.0f, ds.data(), T, false);
      for (long t = 0; t < T; t++) {
        const float* pr = p + t * T;
        float* row = ds.data() + t * T;
        double dot = 0;
        for (long s = 0; s <= t; s++) dot += static_cast<double>(pr[s]) * row[s];
        for (long s = 0; s <= t; s++) row[s] = static_cast<float>(pr[s] * (row[s] - dot) * scale);
        for (long s = t + 1; s < T; s++) row[s] = 0.0f;
      }
      packB(headBlock(k, B, d, b, h, dh, false), T, dh, packed, false);
      gemmPacked(T, dh, T, 1.0f, MatRef{ds.data(), T, false}, packed, 0.0f, dq + off, B * d, false);
      packB(headBlock(q, B, d, b, h, dh, false), T, dh, packed, false);
      gemmPacked(T, dh, T, 1.0f, MatRef{ds.data(), T, true}, packed, 0.0f, dk + off, B * d, false);
      packB(headBlock(dy, B, d, b, h, dh, false), T, dh, packed, false);
      gemmPacked(T, dh, T, 1.0f, MatRef{p, T, true}, packed, 0.0f, dv + off, B * d, false);
    };
    if (B * H > 1) pool().run(B * H, task);
    else task(0);
    return a.undefined();
  });
}

napi_value Init(napi_env env, napi_value exports) {
  const napi_property_descriptor fns[] = {
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"threads", nullptr, Threads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"simd", nullptr, Simd, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sgemm", nullptr, Sgemm, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"softmaxXentForward", nullptr, SoftmaxXentForward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"softmaxXentBackward", nullptr, SoftmaxXentBackward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"softmaxXentRows", nullptr, SoftmaxXentRows, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"softmaxXentRowsBackward", nullptr, SoftmaxXentRowsBackward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"lstmForward", nullptr, LstmForward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"lstmBackward", nullptr, LstmBackward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"phmWeight", nullptr, PhmWeight, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"phmWeightBackward", nullptr, PhmWeightBackward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"adam", nullptr, Adam, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sgd", nullptr, Sgd, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sumSquares", nullptr, SumSquares, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"gelu", nullptr, Gelu, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"geluBackward", nullptr, GeluBackward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"layerNormForward", nullptr, LayerNormForward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"layerNormBackward", nullptr, LayerNormBackward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"causalAttentionForward", nullptr, CausalAttentionForward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"causalAttentionBackward", nullptr, CausalAttentionBackward, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof fns / sizeof fns[0], fns);
  return exports;
}

}  // namespace
}  // namespace lmsweep

NAPI_MODULE(NODE_GYP_MODULE_NAME, lmsweep::Init)
