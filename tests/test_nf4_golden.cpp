// NF4 against bitsandbytes itself: code tables, packed bytes, absmax, double quantization and
// dequantized values, from tests/golden/nf4_golden.json (tools/gen_nf4_golden.py runs
// bitsandbytes 0.50.2's own quantize_4bit / dequantize_4bit on the CPU).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "dkv/core/json_util.h"
#include "dkv/model/int8_weight.h"
#include "dkv/model/nf4_weight.h"
#include "dkv/ops/dequantize.h"
#include "support.h"

namespace dkv::model {
namespace {

const char* kRegenerate =
    "regenerate with: tools/setup-python.sh && .venv/bin/python tools/gen_nf4_golden.py";

const nlohmann::json& golden() {
  static const auto g = json_util::read_file(test::source_path("tests/golden/nf4_golden.json"));
  return g;
}

// Float32 values are stored as the shortest decimals that round-trip through double -> float.
std::vector<float> floats(const nlohmann::json& j) {
  std::vector<float> out;
  for (const auto& v : j) out.push_back(static_cast<float>(v.get<double>()));
  return out;
}

at::Tensor float_tensor(const nlohmann::json& j) { return at::tensor(floats(j), at::kFloat); }

at::Tensor byte_tensor(const nlohmann::json& j) {
  return at::tensor(j.get<std::vector<int64_t>>(), at::kLong).to(at::kByte);
}

// The case's input weight in its own dtype.
at::Tensor case_weight(const nlohmann::json& c) {
  const auto shape = c["shape"].get<std::vector<int64_t>>();
  if (c.contains("weight")) return float_tensor(c["weight"]).view(shape);
  if (c.contains("weight_bf16_bits")) {
    std::vector<int16_t> bits;
    for (const auto& b : c["weight_bf16_bits"]) bits.push_back(static_cast<int16_t>(b.get<uint16_t>()));
    return at::tensor(bits, at::kShort).view(at::kBFloat16).view(shape).clone();
  }
  // The documented LCG recipe: w = k * 2^-13 with k = (sum of 4 draws >> 24) - 510.
  uint32_t s = c["recipe_seed"].get<uint32_t>();
  int64_t n = shape[0] * shape[1];
  std::vector<float> w(static_cast<size_t>(n));
  for (auto& v : w) {
    int64_t k = 0;
    for (int d = 0; d < 4; ++d) {
      s = s * 1664525u + 1013904223u;
      k += s >> 24;
    }
    v = static_cast<float>(k - 510) * (1.0f / 8192.0f);
  }
  EXPECT_EQ(std::vector<float>(w.begin(), w.begin() + 8), floats(c["weight_head"])) << "recipe misread";
  return at::tensor(w, at::kFloat).view(shape);
}

// Compares the dequantized weight to the golden values (all of them, or the sampled indices).
void expect_dequant(const at::Tensor& got, const nlohmann::json& c, const nlohmann::json& expected) {
  auto flat = got.to(at::kFloat).reshape({-1});
  if (c.contains("dequant_sample_index"))
    flat = flat.index_select(0, at::tensor(c["dequant_sample_index"].get<std::vector<int64_t>>(), at::kLong));
  // Bit-exact: one fp32 product per value, then the same single rounding to the input dtype.
  EXPECT_TRUE(at::equal(flat, float_tensor(expected))) << "max diff " << test::max_abs_diff(flat, float_tensor(expected));
}

TEST(Nf4Golden, CodeTablesEqualBitsandbytes) {
  const auto& g = golden();
  const auto& code = ops::nf4_code();
  EXPECT_EQ(std::vector<float>(code.begin(), code.end()), floats(g["nf4_code"])) << kRegenerate;
  const auto& dyn = dynamic_map_signed();
  EXPECT_EQ(std::vector<float>(dyn.begin(), dyn.end()), floats(g["dynamic_code"])) << kRegenerate;
}

TEST(Nf4Golden, QuantizeMatchesBitsandbytesByteForByte) {
  for (const auto& [name, c] : golden()["cases"].items()) {
    SCOPED_TRACE(name);
    const auto w = case_weight(c);
    const auto plain = quantize_nf4(w, /*double_quant=*/false);
    EXPECT_TRUE(at::equal(plain.packed, byte_tensor(c["packed"]))) << kRegenerate;
    EXPECT_TRUE(at::equal(plain.absmax, float_tensor(c["absmax"])));
    expect_dequant(dequantize(plain, w.scalar_type()), c, c["dequant_plain"]);

    const auto nested = quantize_nf4(w, /*double_quant=*/true);
    const auto& n = c["nested"];
    EXPECT_TRUE(at::equal(nested.packed, plain.packed));  // double quantization leaves the codes alone
    // The offset is a float32 mean: summation order may move its last bit (bitsandbytes uses
    // torch.mean), so allow 2 ulps; the 8-bit codes then still agree.
    const float offset = static_cast<float>(n["offset"].get<double>());
    EXPECT_NEAR(nested.offset, offset, 2 * std::abs(offset) * 1.2e-7);
    EXPECT_TRUE(at::equal(nested.absmax_q, byte_tensor(n["qabsmax"])));
    EXPECT_TRUE(at::equal(nested.nested_absmax, float_tensor(n["nested_absmax"])));
  }
}

TEST(Nf4Golden, DequantizeFromStoredPiecesIsBitExact) {
  for (const auto& [name, c] : golden()["cases"].items()) {
    SCOPED_TRACE(name);
    const auto& n = c["nested"];
    Nf4Weight w;
    w.shape = c["shape"].get<std::vector<int64_t>>();
    w.packed = byte_tensor(c["packed"]);
    w.absmax_q = byte_tensor(n["qabsmax"]);
    w.nested_absmax = float_tensor(n["nested_absmax"]);
    w.nested_code = float_tensor(golden()["dynamic_code"]);
    w.offset = static_cast<float>(n["offset"].get<double>());
    EXPECT_TRUE(at::equal(nf4_absmax(w), float_tensor(n["absmax_dequant"])));
    const auto dtype = c["dtype"] == "bfloat16" ? at::kBFloat16 : at::kFloat;
    expect_dequant(dequantize(w, dtype), c, n["dequant"]);
  }
}

TEST(Nf4Golden, Int8RowCodesEqualLlmInt8) {
  // LLM.int8 quantizes rows the same way (absmax per row, round half to even of w * 127/absmax).
  const auto& g = golden()["int8"];
  const auto shape = g["shape"].get<std::vector<int64_t>>();
  const auto w = float_tensor(g["weight"]).view(shape).to(at::kHalf);
  const auto q = quantize_int8_rows(w);
  const auto cb = at::tensor(g["CB"].get<std::vector<int64_t>>(), at::kLong).view(shape).to(at::kChar);
  EXPECT_TRUE(at::equal(q.q, cb));
  EXPECT_TRUE(at::allclose(q.scale * 127.0f, float_tensor(g["SCB"]), 1e-6, 0));
}

}  // namespace
}  // namespace dkv::model
