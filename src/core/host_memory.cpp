// glibc malloc tuning (see host_memory.h for why).
#include "dkv/core/host_memory.h"

#include <malloc.h>

#include <cstdlib>

namespace dkv {

void keep_freed_host_memory() {
#if defined(__GLIBC__)
  // The user's explicit tunables take precedence.
  if (std::getenv("MALLOC_MMAP_THRESHOLD_") || std::getenv("MALLOC_TRIM_THRESHOLD_")) return;
  constexpr int kLargest = 512 << 20;    // blocks above this (a whole checkpoint shard) still mmap
  mallopt(M_MMAP_THRESHOLD, kLargest);
  mallopt(M_TRIM_THRESHOLD, 2 * kLargest);  // return the heap's free top only beyond this
  mallopt(M_TOP_PAD, 64 << 20);
#endif
}

}  // namespace dkv
