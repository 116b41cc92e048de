// The element-wise kernels compiled for AVX2 with FMA (x86-64 only; chosen at run time where the CPU has them).
#include <cmath>
#include <cstdint>
#include <cstring>

#include "elementwise.h"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC target("avx2,fma")
#endif

namespace lmsweep::avx2 {
#include "elementwise-impl.inc"
}  // namespace lmsweep::avx2

#if defined(__clang__)
#pragma clang attribute pop
#endif
#endif
