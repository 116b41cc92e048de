// The element-wise kernels for any CPU (the baseline instruction set of the target).
#include <cmath>
#include <cstdint>
#include <cstring>

#include "elementwise.h"

namespace lmsweep::portable {
#include "elementwise-impl.inc"
}  // namespace lmsweep::portable
