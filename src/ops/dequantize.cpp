// Entry checks for weight dequantization, then dispatch by device.
#include <ATen/ATen.h>

#include "cuda/launchers.h"
#include "dkv/core/error.h"
#include "dkv/ops/dequantize.h"

namespace dkv::ops {

namespace {
int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

void expect(const at::Tensor& t, at::ScalarType dtype, int64_t numel, const char* what,
            const at::Tensor& data) {
  if (!t.defined() || t.scalar_type() != dtype || t.numel() != numel)
    throw InputError(detail::concat("dequantize: ", what, " must be ", c10::toString(dtype), " with ",
                                    numel, " elements, got ",
                                    t.defined() ? detail::concat(t.scalar_type(), " ", t.sizes())
                                                : std::string("nothing")));
  if (t.device() != data.device())
    throw InputError(detail::concat("dequantize: ", what, " is on ", t.device(), ", the data on ",
                                    data.device()));
}

void expect_output_dtype(at::ScalarType dtype) {
  if (dtype != at::kFloat && dtype != at::kHalf && dtype != at::kBFloat16)
    throw InputError("dequantize: output dtype must be fp32, fp16 or bf16");
}

void check_scales(const Nf4Scales& s, int64_t blocks, const at::Tensor& data) {
  if (!s.double_quantized()) {
    expect(s.absmax, at::kFloat, blocks, "NF4 absmax", data);
    return;
  }
  if (s.nested_blocksize <= 0)
    throw InputError(detail::concat("dequantize_nf4: nested blocksize ", s.nested_blocksize));
  expect(s.absmax_q, at::kByte, blocks, "double-quantized NF4 absmax", data);
  expect(s.nested_absmax, at::kFloat, ceil_div(blocks, s.nested_blocksize), "nested absmax", data);
  expect(s.nested_code, at::kFloat, 256, "nested 8-bit code", data);
}
}  // namespace

at::Tensor nf4_block_absmax(const Nf4Scales& s) {
  if (!s.double_quantized()) return s.absmax;
  return dequantize_blockwise_8bit(s.absmax_q, s.nested_code, s.nested_absmax, s.nested_blocksize, s.offset);
}

void check_nf4(const at::Tensor& packed, const Nf4Scales& scales, int64_t numel, int64_t blocksize) {
  // Even block sizes keep both weights of a packed byte in one block (bitsandbytes uses 64..4096).
  if (numel < 0 || blocksize <= 0 || blocksize % 2 != 0)
    throw InputError(detail::concat("dequantize_nf4: numel ", numel, " and blocksize ", blocksize,
                                    ": expected numel >= 0 and an even blocksize > 0"));
  expect(packed, at::kByte, ceil_div(numel, 2), "packed NF4 data", packed);
  check_scales(scales, ceil_div(numel, blocksize), packed);
}

at::Tensor dequantize_nf4(const at::Tensor& packed, const Nf4Scales& scales, int64_t numel,
                          int64_t blocksize, at::ScalarType dtype) {
  check_nf4(packed, scales, numel, blocksize);
  expect_output_dtype(dtype);
  if (packed.is_cuda()) return cuda::dequantize_nf4(packed, scales, numel, blocksize, dtype);
  return dequantize_nf4_ref(packed, nf4_block_absmax(scales), numel, blocksize, dtype);
}

at::Tensor dequantize_blockwise_8bit(const at::Tensor& q, const at::Tensor& code,
                                     const at::Tensor& absmax, int64_t blocksize, float offset) {
  if (blocksize <= 0) throw InputError(detail::concat("dequantize_blockwise_8bit: blocksize ", blocksize));
  expect(q, at::kByte, q.numel(), "8-bit codes", q);
  expect(code, at::kFloat, 256, "8-bit code table", q);
  expect(absmax, at::kFloat, ceil_div(q.numel(), blocksize), "8-bit block absmax", q);
  // Written with ATen ops so that it runs where the data lives (numel / 64 values per weight:
  // no kernel needed); dequantize_blockwise_8bit_ref is the loop it is tested against.
  const auto n = q.numel();
  const auto per_value = absmax.repeat_interleave(blocksize).narrow(0, 0, n);
  return code.index_select(0, q.reshape({n}).to(at::kLong)) * per_value + offset;
}

at::Tensor dequantize_int8_rows(const at::Tensor& q, const at::Tensor& scale, at::ScalarType dtype) {
  if (!q.defined() || q.dim() != 2 || q.scalar_type() != at::kChar)
    throw InputError("dequantize_int8_rows: q must be an int8 [rows, cols] tensor");
  expect(scale, at::kFloat, q.size(0), "int8 row scales", q);
  expect_output_dtype(dtype);
  if (q.is_cuda()) return cuda::dequantize_int8_rows(q, scale, dtype);
  return dequantize_int8_rows_ref(q, scale, dtype);
}

}  // namespace dkv::ops
