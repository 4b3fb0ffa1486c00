// LibTorch launchers for the dequantization kernels and the fused NF4 product (built only against a LibTorch with CUDA).
#include <ATen/ATen.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include <algorithm>

#include "cuda/dequantize_kernel.h"
#include "cuda/nf4_matmul_kernel.h"
#include "cuda/launch_util.h"
#include "cuda/launchers.h"
#include "dkv/ops/dequantize.h"

namespace dkv::cuda {

at::Tensor dequantize_nf4(const at::Tensor& packed, const at::Tensor& absmax, int64_t numel,
                          int64_t blocksize, at::ScalarType dtype) {
  const c10::cuda::CUDAGuard guard(packed.device());
  auto p_in = packed.contiguous();
  auto a_in = absmax.contiguous();
  auto out = at::empty({numel}, packed.options().dtype(dtype));
  DequantizeNf4Params p{};
  p.packed = p_in.data_ptr<uint8_t>();
  p.absmax = a_in.data_ptr<float>();
  p.out = out.data_ptr();
  p.numel = numel;
  p.blocksize = blocksize;
  std::copy(ops::nf4_code().begin(), ops::nf4_code().end(), p.code);
  p.dtype = float_dtype(dtype);
  check_launch(launch_dequantize_nf4(p, c10::cuda::getCurrentCUDAStream().stream()), "dequantize_nf4");
  return out;
}

at::Tensor dequantize_int8_rows(const at::Tensor& q, const at::Tensor& scale, at::ScalarType dtype) {
  const c10::cuda::CUDAGuard guard(q.device());
  auto q_in = q.contiguous();
  auto s_in = scale.contiguous();
  auto out = at::empty(q.sizes(), q.options().dtype(dtype));
  DequantizeInt8Params p{};
  p.q = q_in.data_ptr<int8_t>();
  p.scale = s_in.data_ptr<float>();
  p.out = out.data_ptr();
  p.rows = q.size(0);
  p.cols = q.size(1);
  p.dtype = float_dtype(dtype);
  check_launch(launch_dequantize_int8_rows(p, c10::cuda::getCurrentCUDAStream().stream()),
               "dequantize_int8_rows");
  return out;
}

at::Tensor nf4_matmul(const at::Tensor& x, const at::Tensor& packed, const at::Tensor& absmax, int64_t N,
                      int64_t K, int64_t blocksize) {
  const c10::cuda::CUDAGuard guard(x.device());
  auto a_in = absmax.contiguous();
  auto p_in = packed.contiguous();
  auto y = at::empty({x.size(0), N}, x.options());
  Nf4MatmulParams p{};
  p.x = x.data_ptr();
  p.packed = p_in.data_ptr<uint8_t>();
  p.absmax = a_in.data_ptr<float>();
  p.y = y.data_ptr();
  p.T = x.size(0);
  p.N = N;
  p.K = K;
  p.blocksize = blocksize;
  std::copy(ops::nf4_code().begin(), ops::nf4_code().end(), p.code);
  p.dtype = float_dtype(x.scalar_type());
  check_launch(launch_nf4_matmul(p, c10::cuda::getCurrentCUDAStream().stream()), "nf4_matmul");
  return y;
}

}  // namespace dkv::cuda
