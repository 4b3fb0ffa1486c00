// LibTorch launchers for the dequantization kernels and the fused NF4 product (built only
// against a LibTorch with CUDA).
#include <ATen/ATen.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include <algorithm>

#include "cuda/dequantize_kernel.h"
#include "cuda/nf4_matmul_kernel.h"
#include "cuda/launch_util.h"
#include "cuda/launchers.h"

namespace dkv::cuda {

namespace {
// Contiguous views of an NF4 weight's absmax pieces, alive until the launch is queued (the
// caching allocator keeps their memory for the stream's later work), and the kernel's view.
struct DeviceScales {
  explicit DeviceScales(const Nf4Scales& s) {
    if (!s.double_quantized()) {
      absmax = s.absmax.contiguous();
      source.absmax = absmax.data_ptr<float>();
      return;
    }
    absmax_q = s.absmax_q.contiguous();
    nested_absmax = s.nested_absmax.contiguous();
    nested_code = s.nested_code.contiguous();
    source.absmax_q = absmax_q.data_ptr<uint8_t>();
    source.nested_absmax = nested_absmax.data_ptr<float>();
    source.nested_code = nested_code.data_ptr<float>();
    source.offset = s.offset;
    source.nested_blocksize = s.nested_blocksize;
  }
  at::Tensor absmax, absmax_q, nested_absmax, nested_code;
  Nf4ScaleSource source;
};
}  // namespace

at::Tensor dequantize_nf4(const at::Tensor& packed, const Nf4Scales& scales, int64_t numel,
                          int64_t blocksize, at::ScalarType dtype) {
  const c10::cuda::CUDAGuard guard(packed.device());
  auto p_in = packed.contiguous();
  const DeviceScales s(scales);
  auto out = at::empty({numel}, packed.options().dtype(dtype));
  DequantizeNf4Params p{};
  p.packed = p_in.data_ptr<uint8_t>();
  p.scales = s.source;
  p.out = out.data_ptr();
  p.numel = numel;
  p.blocksize = blocksize;
  std::copy(nf4_code().begin(), nf4_code().end(), p.code);
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

at::Tensor nf4_matmul(const at::Tensor& x, const at::Tensor& packed, const Nf4Scales& scales, int64_t N,
                      int64_t K, int64_t blocksize) {
  const c10::cuda::CUDAGuard guard(x.device());
  const DeviceScales s(scales);
  auto p_in = packed.contiguous();
  auto y = at::empty({x.size(0), N}, x.options());
  Nf4MatmulParams p{};
  p.x = x.data_ptr();
  p.packed = p_in.data_ptr<uint8_t>();
  p.scales = s.source;
  p.y = y.data_ptr();
  p.T = x.size(0);
  p.N = N;
  p.K = K;
  p.blocksize = blocksize;
  std::copy(nf4_code().begin(), nf4_code().end(), p.code);
  p.dtype = float_dtype(x.scalar_type());
  check_launch(launch_nf4_matmul(p, c10::cuda::getCurrentCUDAStream().stream()), "nf4_matmul");
  return y;
}

}  // namespace dkv::cuda
