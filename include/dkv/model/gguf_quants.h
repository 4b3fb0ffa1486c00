// ggml tensor types and their dequantization to fp32, block by block, as ggml's
// dequantize_row_* and the gguf Python package's quants.py define them. Needs no LibTorch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace dkv::model {

// ggml_type values (ggml.h); only those dkv can read are named.
enum class GgmlType : uint32_t {
  f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3, q5_0 = 6, q5_1 = 7, q8_0 = 8,
  q2_k = 10, q3_k = 11, q4_k = 12, q5_k = 13, q6_k = 14, bf16 = 30,
};

struct GgmlTypeInfo {
  const char* name;        // as ggml prints it: F32, Q4_K, ...
  int64_t block_elements;  // elements per block (1 for plain floats)
  size_t block_bytes;
};

// Layout of a type dkv can dequantize; nullptr for any other value. `ggml_type_name` also
// names the ggml types dkv does not read (IQ*, TQ*, Q8_1, ...) so errors can say which.
const GgmlTypeInfo* ggml_type_info(uint32_t type);
std::string ggml_type_name(uint32_t type);

// Dequantizes `n` elements (a multiple of the type's block size) from `src` into `dst`.
// Bit-exact with gguf-py's dequantize (fp32 arithmetic in the same order, no fused
// multiply-add): tests/golden/gguf_dequant_golden.json checks every type.
void dequantize_ggml(GgmlType type, const uint8_t* src, float* dst, int64_t n);

// IEEE half to float, exact for every input (subnormals, infinities, NaN payloads).
float half_to_float(uint16_t h);

}  // namespace dkv::model
