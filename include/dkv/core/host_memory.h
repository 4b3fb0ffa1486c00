// How the process's host allocator treats large blocks.
#pragma once

namespace dkv {

// Keeps freed blocks of up to 512 MB in glibc's heap for reuse instead of returning each to the
// kernel. Every forward allocates fresh activations (and, with quantized weights, one expanded
// weight per linear layer); glibc serves blocks above its mmap threshold (at most 32 MB by
// default) with mmap, so each would be page-faulted and zeroed again on every use. The dkv tool
// calls this once at start-up; environment settings (MALLOC_MMAP_THRESHOLD_ etc.) still win.
void keep_freed_host_memory();

}  // namespace dkv
