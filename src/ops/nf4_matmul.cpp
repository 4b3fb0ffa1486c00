// Entry checks for the NF4 product, then the fused kernel or the reference.
#include "dkv/ops/nf4_matmul.h"

#include <ATen/ATen.h>

#include "cuda/launchers.h"
#include "dkv/core/error.h"
#include "dkv/ops/dequantize.h"

namespace dkv::ops {

namespace {
constexpr int64_t kMaxFusedRows = 8;  // cuda::kNf4MatmulMaxRows
}

bool nf4_matmul_is_fused(int64_t rows, int64_t K, int64_t blocksize) {
  return rows >= 1 && rows <= kMaxFusedRows && K % 8 == 0 && blocksize % 8 == 0;
}

at::Tensor nf4_matmul_ref(const at::Tensor& x, const at::Tensor& packed, const at::Tensor& absmax, int64_t N,
                          int64_t K, int64_t blocksize) {
  return at::linear(x, dequantize_nf4(packed, absmax, N * K, blocksize, x.scalar_type()).view({N, K}));
}

at::Tensor nf4_matmul(const at::Tensor& x, const at::Tensor& packed, const at::Tensor& absmax, int64_t N,
                      int64_t K, int64_t blocksize) {
  if (x.dim() != 2 || x.size(1) != K)
    throw InputError(detail::concat("nf4_matmul: x must be [rows, K=", K, "], got ", x.sizes()));
  if (packed.device() != x.device() || absmax.device() != x.device())
    throw InputError("nf4_matmul: x, packed codes and absmax must be on one device");
  if (x.is_cuda() && nf4_matmul_is_fused(x.size(0), K, blocksize)) {
    // dequantize_nf4's checks cover packed and absmax; the fused path repeats the cheap ones.
    if (packed.scalar_type() != at::kByte || packed.numel() != N * K / 2 || absmax.scalar_type() != at::kFloat ||
        absmax.numel() != (N * K + blocksize - 1) / blocksize)
      throw InputError("nf4_matmul: packed must be uint8 [N*K/2] and absmax float32 [N*K/blocksize]");
    return cuda::nf4_matmul(x.contiguous(), packed, absmax, N, K, blocksize);
  }
  return nf4_matmul_ref(x, packed, absmax, N, K, blocksize);
}

}  // namespace dkv::ops
