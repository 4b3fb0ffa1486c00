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

at::Tensor nf4_matmul_ref(const at::Tensor& x, const at::Tensor& packed, const Nf4Scales& scales, int64_t N,
                          int64_t K, int64_t blocksize) {
  return at::linear(x, dequantize_nf4(packed, scales, N * K, blocksize, x.scalar_type()).view({N, K}));
}

at::Tensor nf4_matmul(const at::Tensor& x, const at::Tensor& packed, const Nf4Scales& scales, int64_t N,
                      int64_t K, int64_t blocksize) {
  if (x.dim() != 2 || x.size(1) != K)
    throw InputError(detail::concat("nf4_matmul: x must be [rows, K=", K, "], got ", x.sizes()));
  const auto dtype = x.scalar_type();
  if (dtype != at::kFloat && dtype != at::kHalf && dtype != at::kBFloat16)
    throw InputError("nf4_matmul: x must be fp32, fp16 or bf16");
  if (packed.device() != x.device())
    throw InputError("nf4_matmul: x and the packed codes must be on one device");
  if (x.is_cuda() && nf4_matmul_is_fused(x.size(0), K, blocksize)) {
    check_nf4(packed, scales, N * K, blocksize);
    return cuda::nf4_matmul(x.contiguous(), packed, scales, N, K, blocksize);
  }
  return nf4_matmul_ref(x, packed, scales, N, K, blocksize);
}

}  // namespace dkv::ops
