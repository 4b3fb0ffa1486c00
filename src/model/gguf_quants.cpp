// ggml block formats (ggml-common.h) dequantized to fp32. Each loop computes element e of a
// block from the same products as gguf-py's numpy code, in the same order: for the K-quants the
// sub-block scale d * sc is rounded to fp32 first, then multiplied by the code, then the
// sub-block minimum dmin * m is subtracted. CMakeLists.txt compiles this file with
// -ffp-contract=off so that no fused multiply-add changes the last bit.
#include "dkv/model/gguf_quants.h"

#include <cstring>

#include "dkv/core/error.h"

namespace dkv::model {

namespace {

constexpr int64_t kQK = 32;    // elements per block of the legacy formats (QK4_0, QK8_0, ...)
constexpr int64_t kQKK = 256;  // elements per super-block of the K-quants (QK_K)

const GgmlTypeInfo kF32{"F32", 1, 4}, kF16{"F16", 1, 2}, kBF16{"BF16", 1, 2};
const GgmlTypeInfo kQ4_0{"Q4_0", kQK, 2 + kQK / 2}, kQ4_1{"Q4_1", kQK, 4 + kQK / 2};
const GgmlTypeInfo kQ5_0{"Q5_0", kQK, 2 + 4 + kQK / 2}, kQ5_1{"Q5_1", kQK, 4 + 4 + kQK / 2};
const GgmlTypeInfo kQ8_0{"Q8_0", kQK, 2 + kQK};
const GgmlTypeInfo kQ2_K{"Q2_K", kQKK, 2 + 2 + kQKK / 16 + kQKK / 4};
const GgmlTypeInfo kQ3_K{"Q3_K", kQKK, 2 + kQKK / 4 + kQKK / 8 + 12};
const GgmlTypeInfo kQ4_K{"Q4_K", kQKK, 2 + 2 + 12 + kQKK / 2};
const GgmlTypeInfo kQ5_K{"Q5_K", kQKK, 2 + 2 + 12 + kQKK / 8 + kQKK / 2};
const GgmlTypeInfo kQ6_K{"Q6_K", kQKK, 2 + kQKK / 2 + kQKK / 4 + kQKK / 16};

uint16_t read_u16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t read_u32(const uint8_t* p) {
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}
float read_half(const uint8_t* p) { return half_to_float(read_u16(p)); }

// Q4_0/Q4_1: element j < 16 is the low nibble of qs[j], element j + 16 its high nibble.
uint8_t nibble_code(const uint8_t* qs, int64_t e) {
  return e < kQK / 2 ? (qs[e] & 0x0F) : (qs[e - kQK / 2] >> 4);
}
// Q5_0/Q5_1: the fifth bit of element e is bit e of the 32-bit qh.
uint8_t five_bit_code(const uint8_t* qs, uint32_t qh, int64_t e) {
  return static_cast<uint8_t>(nibble_code(qs, e) | (((qh >> e) & 1u) << 4));
}

// Q4_K/Q5_K: eight 6-bit scales and minima packed in 12 bytes (ggml's get_scale_min_k4).
void k4_scale_min(const uint8_t* s, int j, uint8_t& sc, uint8_t& m) {
  if (j < 4) {
    sc = s[j] & 63;
    m = s[j + 4] & 63;
  } else {
    sc = static_cast<uint8_t>((s[j + 4] & 0x0F) | ((s[j - 4] >> 2) & 0x30));
    m = static_cast<uint8_t>((s[j + 4] >> 4) | ((s[j] >> 2) & 0x30));
  }
}

void q4_0(const uint8_t* b, float* y) {
  const float d = read_half(b);
  for (int64_t e = 0; e < kQK; ++e) y[e] = d * static_cast<float>(int{nibble_code(b + 2, e)} - 8);
}
void q4_1(const uint8_t* b, float* y) {
  const float d = read_half(b), m = read_half(b + 2);
  for (int64_t e = 0; e < kQK; ++e) y[e] = d * static_cast<float>(nibble_code(b + 4, e)) + m;
}
void q5_0(const uint8_t* b, float* y) {
  const float d = read_half(b);
  const uint32_t qh = read_u32(b + 2);
  for (int64_t e = 0; e < kQK; ++e)
    y[e] = d * static_cast<float>(int{five_bit_code(b + 6, qh, e)} - 16);
}
void q5_1(const uint8_t* b, float* y) {
  const float d = read_half(b), m = read_half(b + 2);
  const uint32_t qh = read_u32(b + 4);
  for (int64_t e = 0; e < kQK; ++e) y[e] = d * static_cast<float>(five_bit_code(b + 8, qh, e)) + m;
}
void q8_0(const uint8_t* b, float* y) {
  const float d = read_half(b);
  for (int64_t e = 0; e < kQK; ++e) y[e] = static_cast<float>(static_cast<int8_t>(b[2 + e])) * d;
}

// Super-blocks of 256: two halves of 128, each read as four 32-element rows of 2-bit fields
// (Q2_K, Q3_K, Q6_K's high bits) or two rows of nibbles (Q4_K, Q5_K, Q6_K's low bits).
void q2_k(const uint8_t* b, float* y) {
  const uint8_t* scales = b;
  const uint8_t* qs = b + kQKK / 16;
  const float d = read_half(qs + kQKK / 4), dmin = read_half(qs + kQKK / 4 + 2);
  for (int64_t e = 0; e < kQKK; ++e) {
    const int64_t half = e / 128, shift = ((e % 128) / 32) * 2, l = e % 32;
    const uint8_t sc = scales[e / 16];
    const float dl = d * static_cast<float>(sc & 0x0F), ml = dmin * static_cast<float>(sc >> 4);
    const float q = static_cast<float>((qs[half * 32 + l] >> shift) & 3);
    y[e] = dl * q - ml;
  }
}
void q3_k(const uint8_t* b, float* y) {
  const uint8_t* hmask = b;
  const uint8_t* qs = b + kQKK / 8;
  const uint8_t* s = qs + kQKK / 4;
  const float d = read_half(s + 12);
  float dl[16];
  for (int g = 0; g < 16; ++g) {
    const int low = g < 8 ? (s[g] & 0x0F) : (s[g - 8] >> 4);
    const int high = (s[8 + g % 4] >> (2 * (g / 4))) & 3;
    dl[g] = d * static_cast<float>(static_cast<int8_t>(low | (high << 4)) - 32);
  }
  for (int64_t e = 0; e < kQKK; ++e) {
    const int64_t half = e / 128, shift = ((e % 128) / 32) * 2, l = e % 32;
    const int ql = (qs[half * 32 + l] >> shift) & 3;
    const int hbit = (hmask[l] >> (e / 32)) & 1;  // a set bit means no -4 offset
    y[e] = dl[e / 16] * static_cast<float>(ql - ((hbit ^ 1) << 2));
  }
}
void q45_k(const uint8_t* b, float* y, bool five) {
  const float d = read_half(b), dmin = read_half(b + 2);
  const uint8_t* s = b + 4;
  const uint8_t* qh = b + 16;
  const uint8_t* qs = five ? qh + kQKK / 8 : qh;
  for (int j = 0; j < 8; ++j) {
    uint8_t sc, m;
    k4_scale_min(s, j, sc, m);
    const float d1 = d * static_cast<float>(sc), m1 = dmin * static_cast<float>(m);
    const uint8_t* row = qs + (j / 2) * 32;
    for (int l = 0; l < 32; ++l) {
      int q = (j % 2 == 0) ? (row[l] & 0x0F) : (row[l] >> 4);
      if (five) q |= ((qh[l] >> j) & 1) << 4;
      y[j * 32 + l] = d1 * static_cast<float>(q) - m1;
    }
  }
}
void q6_k(const uint8_t* b, float* y) {
  const uint8_t* ql = b;
  const uint8_t* qh = b + kQKK / 2;
  const uint8_t* scales = qh + kQKK / 4;
  const float d = read_half(scales + kQKK / 16);
  for (int64_t e = 0; e < kQKK; ++e) {
    const int64_t half = e / 128, r = e % 128;
    const int low = (ql[half * 64 + r % 64] >> (4 * (r / 64))) & 0x0F;
    const int high = (qh[half * 32 + r % 32] >> (2 * (r / 32))) & 3;
    const float dl = d * static_cast<float>(static_cast<int8_t>(scales[e / 16]));
    y[e] = dl * static_cast<float>((low | (high << 4)) - 32);
  }
}

}  // namespace

float half_to_float(uint16_t h) {
  const uint32_t sign = uint32_t{h & 0x8000u} << 16;
  uint32_t exp = (h >> 10) & 0x1F, mant = h & 0x3FFu, bits;
  if (exp == 0x1F) {
    bits = sign | 0x7F800000u | (mant << 13);
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  } else if (mant == 0) {
    bits = sign;
  } else {  // subnormal: normalise the mantissa
    int e = -1;
    do {
      ++e;
      mant <<= 1;
    } while ((mant & 0x400u) == 0);
    bits = sign | (static_cast<uint32_t>(112 - e) << 23) | ((mant & 0x3FFu) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

const GgmlTypeInfo* ggml_type_info(uint32_t type) {
  switch (static_cast<GgmlType>(type)) {
    case GgmlType::f32: return &kF32;
    case GgmlType::f16: return &kF16;
    case GgmlType::bf16: return &kBF16;
    case GgmlType::q4_0: return &kQ4_0;
    case GgmlType::q4_1: return &kQ4_1;
    case GgmlType::q5_0: return &kQ5_0;
    case GgmlType::q5_1: return &kQ5_1;
    case GgmlType::q8_0: return &kQ8_0;
    case GgmlType::q2_k: return &kQ2_K;
    case GgmlType::q3_k: return &kQ3_K;
    case GgmlType::q4_k: return &kQ4_K;
    case GgmlType::q5_k: return &kQ5_K;
    case GgmlType::q6_k: return &kQ6_K;
  }
  return nullptr;
}

std::string ggml_type_name(uint32_t type) {
  if (const auto* info = ggml_type_info(type)) return info->name;
  // ggml.h names of the types dkv does not dequantize, for error messages.
  static const std::pair<uint32_t, const char*> kOther[] = {
      {9, "Q8_1"},     {15, "Q8_K"},   {16, "IQ2_XXS"}, {17, "IQ2_XS"}, {18, "IQ3_XXS"},
      {19, "IQ1_S"},   {20, "IQ4_NL"}, {21, "IQ3_S"},   {22, "IQ2_S"},  {23, "IQ4_XS"},
      {24, "I8"},      {25, "I16"},    {26, "I32"},     {27, "I64"},    {28, "F64"},
      {29, "IQ1_M"},   {34, "TQ1_0"},  {35, "TQ2_0"},   {39, "MXFP4"}};
  for (const auto& [id, name] : kOther)
    if (id == type) return name;
  return "unknown type " + std::to_string(type);
}

void dequantize_ggml(GgmlType type, const uint8_t* src, float* dst, int64_t n) {
  const GgmlTypeInfo* info = ggml_type_info(static_cast<uint32_t>(type));
  DKV_CHECK(info != nullptr && n % info->block_elements == 0, "dequantize_ggml: ", n,
            " elements of type ", static_cast<uint32_t>(type));
  const int64_t blocks = n / info->block_elements;
  switch (type) {
    case GgmlType::f32:
      std::memcpy(dst, src, static_cast<size_t>(n) * 4);
      return;
    case GgmlType::f16:
      for (int64_t i = 0; i < n; ++i) dst[i] = read_half(src + 2 * i);
      return;
    case GgmlType::bf16:
      for (int64_t i = 0; i < n; ++i) {
        const uint32_t bits = uint32_t{read_u16(src + 2 * i)} << 16;
        std::memcpy(dst + i, &bits, 4);
      }
      return;
    default:
      break;
  }
  for (int64_t k = 0; k < blocks; ++k) {
    const uint8_t* b = src + static_cast<size_t>(k) * info->block_bytes;
    float* y = dst + k * info->block_elements;
    switch (type) {
      case GgmlType::q4_0: q4_0(b, y); break;
      case GgmlType::q4_1: q4_1(b, y); break;
      case GgmlType::q5_0: q5_0(b, y); break;
      case GgmlType::q5_1: q5_1(b, y); break;
      case GgmlType::q8_0: q8_0(b, y); break;
      case GgmlType::q2_k: q2_k(b, y); break;
      case GgmlType::q3_k: q3_k(b, y); break;
      case GgmlType::q4_k: q45_k(b, y, false); break;
      case GgmlType::q5_k: q45_k(b, y, true); break;
      case GgmlType::q6_k: q6_k(b, y); break;
      default: DKV_CHECK(false, "dequantize_ggml: unhandled type ", info->name);
    }
  }
}

}  // namespace dkv::model
