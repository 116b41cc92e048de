#include "gemm.h"

#include <algorithm>
#include <cstring>

#include "pool.h"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define LMSWEEP_X86 1
#endif

namespace lmsweep {

namespace {

/**
 * Portable micro-kernel: acc[MR][NR] = Σ_k a[k][r]·b[k][c] over kc packed steps, then
 * C = beta·C + acc on the first K block (beta 0: C = acc) or C += acc after it, for the mr×nr
 * corner that lies inside C.
 */
void kernelPortable(long kc, const float* a, const float* b, float* c, long ldc, int mr, int nr, bool first, float beta) {
  float acc[MR][NR] = {};
  for (long k = 0; k < kc; k++) {
    const float* bk = b + k * NR;
    const float* ak = a + k * MR;
    for (int r = 0; r < MR; r++) {
      const float ar = ak[r];
      for (int j = 0; j < NR; j++) acc[r][j] += ar * bk[j];
    }
  }
  for (int r = 0; r < mr; r++) {
    float* cr = c + r * ldc;
    for (int j = 0; j < nr; j++) cr[j] = first ? (beta == 0.0f ? acc[r][j] : beta * cr[j] + acc[r][j]) : cr[j] + acc[r][j];
  }
}

#ifdef LMSWEEP_X86
__attribute__((target("avx2,fma"))) void kernelAvx2(long kc, const float* a, const float* b, float* c, long ldc, int mr, int nr, bool first, float beta) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  for (long k = 0; k < kc; k++) {
    const __m256 b0 = _mm256_loadu_ps(b);
    const __m256 b1 = _mm256_loadu_ps(b + 8);
    __m256 ar = _mm256_broadcast_ss(a + 0);
    c00 = _mm256_fmadd_ps(ar, b0, c00);
    c01 = _mm256_fmadd_ps(ar, b1, c01);
    ar = _mm256_broadcast_ss(a + 1);
    c10 = _mm256_fmadd_ps(ar, b0, c10);
    c11 = _mm256_fmadd_ps(ar, b1, c11);
    ar = _mm256_broadcast_ss(a + 2);
    c20 = _mm256_fmadd_ps(ar, b0, c20);
    c21 = _mm256_fmadd_ps(ar, b1, c21);
    ar = _mm256_broadcast_ss(a + 3);
    c30 = _mm256_fmadd_ps(ar, b0, c30);
    c31 = _mm256_fmadd_ps(ar, b1, c31);
    ar = _mm256_broadcast_ss(a + 4);
    c40 = _mm256_fmadd_ps(ar, b0, c40);
    c41 = _mm256_fmadd_ps(ar, b1, c41);
    ar = _mm256_broadcast_ss(a + 5);
    c50 = _mm256_fmadd_ps(ar, b0, c50);
    c51 = _mm256_fmadd_ps(ar, b1, c51);
    a += MR;
    b += NR;
  }
  const __m256 acc[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
  if (mr == MR && nr == NR) {
    const __m256 vb = _mm256_set1_ps(beta);
    for (int r = 0; r < MR; r++) {
      float* cr = c + r * ldc;
      for (int h = 0; h < 2; h++) {
        __m256 v = acc[r][h];
        if (!first) v = _mm256_add_ps(_mm256_loadu_ps(cr + 8 * h), v);
        else if (beta != 0.0f) v = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr + 8 * h), v);
        _mm256_storeu_ps(cr + 8 * h, v);
      }
    }
    return;
  }
  alignas(32) float tile[MR][NR];
  for (int r = 0; r < MR; r++) {
    _mm256_store_ps(tile[r], acc[r][0]);
    _mm256_store_ps(tile[r] + 8, acc[r][1]);
  }
  for (int r = 0; r < mr; r++) {
    float* cr = c + r * ldc;
    for (int j = 0; j < nr; j++) cr[j] = first ? (beta == 0.0f ? tile[r][j] : beta * cr[j] + tile[r][j]) : cr[j] + tile[r][j];
  }
}

bool cpuHasAvx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#endif

using Kernel = void (*)(long, const float*, const float*, float*, long, int, int, bool, float);

Kernel pickKernel() {
#ifdef LMSWEEP_X86
  if (cpuHasAvx2()) return kernelAvx2;
#endif
  return kernelPortable;
}

const Kernel kernel = pickKernel();

/** Packs op(A)[i0 : i0+mc, p0 : p0+kc] (times alpha) into MR-row slivers [kc][MR], zero-padded. */
void packA(const MatRef& a, long i0, long mc, long p0, long kc, float alpha, float* out) {
  for (long s = 0; s < mc; s += MR) {
    const int mr = static_cast<int>(std::min<long>(MR, mc - s));
    float* dst = out + s * kc;
    if (!a.trans) {
      // row i of A is contiguous in k
      for (int r = 0; r < MR; r++) {
        if (r >= mr) {
          for (long k = 0; k < kc; k++) dst[k * MR + r] = 0.0f;
          continue;
        }
        const float* src = a.p + (i0 + s + r) * a.ld + p0;
        for (long k = 0; k < kc; k++) dst[k * MR + r] = alpha * src[k];
      }
    } else {
      // op(A)(i, k) = A[k][i]: a row of A holds MR consecutive i
      for (long k = 0; k < kc; k++) {
        const float* src = a.p + (p0 + k) * a.ld + i0 + s;
        for (int r = 0; r < MR; r++) dst[k * MR + r] = r < mr ? alpha * src[r] : 0.0f;
      }
    }
  }
}

}  // namespace

const char* simdName() {
#ifdef LMSWEEP_X86
  if (kernel == kernelAvx2) return "avx2-fma";
#endif
  return "portable";
}

void packB(const MatRef& b, long K, long N, PackedB& out, bool threaded) {
  out.K = K;
  out.N = N;
  out.slivers = (N + NR - 1) / NR;
  const long blocks = (K + KC - 1) / KC;
  out.data = out.storage.get(static_cast<size_t>(blocks * out.slivers * KC * NR));
  // One task per sliver of NR columns, all K blocks.
  auto task = [&](long s) {
    const long j0 = s * NR;
    const int nr = static_cast<int>(std::min<long>(NR, N - j0));
    for (long pb = 0; pb < blocks; pb++) {
      const long p0 = pb * KC;
      const long kc = std::min<long>(KC, K - p0);
      float* dst = const_cast<float*>(out.block(pb, s));
      if (!b.trans) {
        for (long k = 0; k < kc; k++) {
          const float* src = b.p + (p0 + k) * b.ld + j0;
          float* d = dst + k * NR;
          if (nr == NR) std::memcpy(d, src, sizeof(float) * NR);
          else
            for (int j = 0; j < NR; j++) d[j] = j < nr ? src[j] : 0.0f;
        }
      } else {
        // op(B)(k, j) = B[j][k]: column j of op(B) is contiguous in k
        for (int j = 0; j < NR; j++) {
          if (j >= nr) {
            for (long k = 0; k < kc; k++) dst[k * NR + j] = 0.0f;
            continue;
          }
          const float* src = b.p + (j0 + j) * b.ld + p0;
          for (long k = 0; k < kc; k++) dst[k * NR + j] = src[k];
        }
      }
      for (long k = kc; k < KC; k++) std::memset(dst + k * NR, 0, sizeof(float) * NR);
    }
  };
  if (threaded && K * N >= 1L << 16) pool().run(out.slivers, task);
  else
    for (long s = 0; s < out.slivers; s++) task(s);
}

void gemmPacked(long M, long N, long K, float alpha, const MatRef& a, const PackedB& b, float beta, float* c, long ldc, bool threaded) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    for (long i = 0; i < M; i++)
      for (long j = 0; j < N; j++) c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
    return;
  }
  const long mBlocks = (M + MC - 1) / MC;
  const long kBlocks = (K + KC - 1) / KC;
  const bool parallel = threaded && pool().size() > 1 && M * N * K >= 1L << 22;
  // A packed whole (alpha applied), [mBlocks][kBlocks][MC·KC]: each block once, not once per N chunk.
  const long aBlock = ((MC + MR - 1) / MR) * MR * KC;
  thread_local AlignedBuffer aStorage;
  float* ap = aStorage.get(static_cast<size_t>(mBlocks * kBlocks * aBlock));
  auto packTask = [&](long t) {
    const long mb = t / kBlocks, pb = t % kBlocks;
    const long i0 = mb * MC, p0 = pb * KC;
    packA(a, i0, std::min<long>(MC, M - i0), p0, std::min<long>(KC, K - p0), alpha, ap + t * aBlock);
  };
  if (parallel && M * K >= 1L << 16) pool().run(mBlocks * kBlocks, packTask);
  else
    for (long t = 0; t < mBlocks * kBlocks; t++) packTask(t);
  // N in chunks whose B panel (K × chunk) stays in L2 while every M block runs over it.
  long chunkSlivers = std::max<long>(1, (192L * 1024) / (std::min<long>(K, KC) * NR * 4));
  if (parallel) chunkSlivers = std::min(chunkSlivers, std::max<long>(1, b.slivers * mBlocks / (pool().size() * 4)));
  chunkSlivers = std::min(chunkSlivers, b.slivers);
  const long nChunks = (b.slivers + chunkSlivers - 1) / chunkSlivers;
  auto task = [&](long t) {
    const long nc = t / mBlocks;
    const long mb = t % mBlocks;
    const long i0 = mb * MC;
    const long mc = std::min<long>(MC, M - i0);
    const long s0 = nc * chunkSlivers;
    const long s1 = std::min<long>(b.slivers, s0 + chunkSlivers);
    for (long pb = 0; pb < kBlocks; pb++) {
      const long kc = std::min<long>(KC, K - pb * KC);
      const float* ablk = ap + (mb * kBlocks + pb) * aBlock;
      for (long s = s0; s < s1; s++) {
        const long j0 = s * NR;
        const int nr = static_cast<int>(std::min<long>(NR, N - j0));
        const float* bs = b.block(pb, s);
        for (long r = 0; r < mc; r += MR) {
          const int mr = static_cast<int>(std::min<long>(MR, mc - r));
          kernel(kc, ablk + r * kc, bs, c + (i0 + r) * ldc + j0, ldc, mr, nr, pb == 0, beta);
        }
      }
    }
  };
  const long tasks = mBlocks * nChunks;
  if (parallel) pool().run(tasks, task);
  else
    for (long t = 0; t < tasks; t++) task(t);
}

void gemm(long M, long N, long K, float alpha, const MatRef& a, const MatRef& b, float beta, float* c, long ldc) {
  thread_local PackedB packed;
  packB(b, K, N, packed);
  gemmPacked(M, N, K, alpha, a, packed, beta, c, ldc);
}

}  // namespace lmsweep
