// Single-precision matrix products for the native kernels: C = alpha·op(A)·op(B) + beta·C,
// row-major, op = identity or transpose, packed in the BLIS way (B whole into NR-column slivers,
// A per MC×KC block into MR-row slivers) around a 6×16 AVX2/FMA micro-kernel where the CPU has
// one, a portable one elsewhere. Work is shared by the pool (pool.h) in MC×(N chunk) tasks.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace lmsweep {

/** A row-major matrix operand: element (i, j) of op(M) is trans ? p[j·ld + i] : p[i·ld + j]. */
struct MatRef {
  const float* p;
  long ld;
  bool trans;
  float at(long i, long j) const { return trans ? p[j * ld + i] : p[i * ld + j]; }
};

constexpr int MR = 6;
constexpr int NR = 16;
constexpr int KC = 256;
constexpr int MC = 96;

/** Float storage aligned to 64 bytes (a cache line: packed slivers then load aligned). */
class AlignedBuffer {
 public:
  float* get(size_t n) {
    if (n + 16 > raw_.size()) raw_.resize(n + 16);
    const auto addr = reinterpret_cast<uintptr_t>(raw_.data());
    return raw_.data() + ((64 - addr % 64) % 64) / sizeof(float);
  }

 private:
  std::vector<float> raw_;
};

/** B:[K, N] packed once, reusable across products with the same right operand (an LSTM's Wh over T steps). */
struct PackedB {
  long K = 0, N = 0;
  long slivers = 0;
  float* data = nullptr;  // [ceil(K/KC) blocks][slivers][KC][NR], zero-padded
  AlignedBuffer storage;
  const float* block(long pcBlock, long sliver) const { return data + ((pcBlock * slivers + sliver) * KC) * NR; }
};

/** op(B):[K, N] packed into out; threaded false: on the calling thread only (inside a task of the pool, which cannot nest). */
void packB(const MatRef& b, long K, long N, PackedB& out, bool threaded = true);

/**
 * C:[M, N] (leading dimension ldc) = alpha·op(A):[M, K] · B + beta·C; beta 0 never reads C.
 * threaded false: on the calling thread only (inside a task of the pool, which cannot nest).
 */
void gemmPacked(long M, long N, long K, float alpha, const MatRef& a, const PackedB& b, float beta, float* c, long ldc, bool threaded = true);

/** The same with B packed here. */
void gemm(long M, long N, long K, float alpha, const MatRef& a, const MatRef& b, float beta, float* c, long ldc);

/** Which micro-kernel runs: "avx2-fma" or "portable". */
const char* simdName();

}  // namespace lmsweep
