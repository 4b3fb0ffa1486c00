// Launchers for builds without CUDA: asking for a CUDA op is an error, never a CPU fallback.
#include "cuda/launchers.h"
#include "dkv/core/error.h"

namespace dkv::cuda {

namespace {
[[noreturn]] void no_cuda(const char* op) {
  throw Error(std::string(op) + ": a CUDA tensor was given but dkv was built without CUDA "
              "(reconfigure with -DDKV_WITH_CUDA=ON against a LibTorch with CUDA)");
}
}  // namespace

void rotate_keys(at::Tensor&, const at::Tensor&, const RopeSpec&) { no_cuda("rotate_keys"); }

at::Tensor dequantize_nf4(const at::Tensor&, const Nf4Scales&, int64_t, int64_t, at::ScalarType) {
  no_cuda("dequantize_nf4");
}

at::Tensor dequantize_int8_rows(const at::Tensor&, const at::Tensor&, at::ScalarType) {
  no_cuda("dequantize_int8_rows");
}

at::Tensor nf4_matmul(const at::Tensor&, const at::Tensor&, const Nf4Scales&, int64_t, int64_t, int64_t) {
  no_cuda("nf4_matmul");
}

}  // namespace dkv::cuda
