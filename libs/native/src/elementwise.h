// Element-wise and row-wise kernels of the training step, written as plain loops the compiler
// vectorizes: compiled twice, for AVX2/FMA (elementwise-avx2.cc) and portably
// (elementwise-portable.cc), into the namespaces `avx2` and `portable`; kernels.cc picks one at
// load. Reductions keep 16 independent lanes (vectorized without reassociating floats), and every
// clamp is written so that NaN passes through (a diverging trial must still show NaN).
#pragma once
#include <cstdint>

namespace lmsweep {

struct Elementwise {
  /** Row i of z:[·, V] (logits) += bias, then exp(z − max) in place; returns −log softmax(z)[target] and Σ exp(z − max) in *sum. */
  double (*softmaxRow)(float* z, const float* bias, long V, int target, double* sum);
  /** Row of p = exp(z − max) → g·(p / sum − onehot(target)) in place. */
  void (*softmaxGradRow)(float* p, long V, int target, double sum, float g);
  /** out[j0:j1] = Σ_i p[i·V + j] over n rows (double accumulation). */
  void (*columnSums)(const float* p, long n, long V, long j0, long j1, float* out);
  /**
   * LSTM cell on `rows` rows: gates G:[rows, 4H] (pre-activations, order i f o g) become
   * σ(i), σ(f), σ(o), tanh(g) in place; c = f⊙cPrev + i⊙g, h = o⊙tanh(c).
   */
  void (*lstmCell)(long rows, long H, float* G, const float* cPrev, float* c, float* h);
  /**
   * Its backward on `rows` rows: dh = dOut (+ dhNext), dc = dh⊙o⊙(1 − tanh²c) + dcNext;
   * dG:[rows, 4H] = [dc⊙g⊙i(1−i), dc⊙cPrev⊙f(1−f), dh⊙tanh(c)⊙o(1−o), dc⊙i⊙(1−g²)]; dcNext ← dc⊙f.
   * dhNext may be null (last step); dcNext holds zeros then.
   */
  void (*lstmCellGrad)(long rows, long H, const float* G, const float* c, const float* cPrev, const float* dOut, const float* dhNext, float* dcNext, float* dG);
  /** Adam on [i0, i1): g·scale into the moments m, v (in place; c1 = 1 − b1, c2 = 1 − b2, formed in double by the caller); out = x − alpha·m / (√v + eps). */
  void (*adam)(long i0, long i1, const float* x, const float* g, float* m, float* v, float* out, float scale, float alpha, float b1, float b2, float c1, float c2, float eps);
  /** out = x − k·g on [i0, i1). */
  void (*sgd)(long i0, long i1, const float* x, const float* g, float* out, float k);
  /** Σ x² on [i0, i1), in double. */
  double (*sumSquares)(long i0, long i1, const float* x);
  /** y = GELU(x) in its tanh form, x·(1 + tanh(c·(x + a·x³)))/2, on [i0, i1). */
  void (*gelu)(long i0, long i1, const float* x, float* y);
  /** dx = dy·GELU'(x) on [i0, i1). */
  void (*geluGrad)(long i0, long i1, const float* x, const float* dy, float* dx);
};

namespace avx2 {
extern const Elementwise kernels;
}
namespace portable {
extern const Elementwise kernels;
}

}  // namespace lmsweep
