// Checkpoints saved already quantized by bitsandbytes: the state-dict layout against the one
// bitsandbytes 0.50.2 itself produced (tests/golden/nf4_golden.json, "serialized"), a whole
// tiny model round-tripped through `dkv quantize`, and errors that name the bad tensor or key.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "dkv/core/json_util.h"
#include "dkv/model/bnb_checkpoint.h"
#include "dkv/model/checkpoint.h"
#include "dkv/model/decoder.h"
#include "dkv/model/safetensors.h"
#include "support.h"

namespace dkv::model {
namespace {

namespace fs = std::filesystem;

const nlohmann::json& golden() {
  static const auto g = json_util::read_file(test::source_path("tests/golden/nf4_golden.json"));
  return g;
}

at::ScalarType dtype_of(const std::string& torch_name) {
  if (torch_name == "uint8") return at::kByte;
  return at::kFloat;
}

// One state-dict entry of the golden as a tensor (the packed weight is the case's bytes).
at::Tensor golden_tensor(const nlohmann::json& entry) {
  const auto shape = entry["shape"].get<std::vector<int64_t>>();
  const auto& values = entry.contains("values") ? entry["values"] : golden()["cases"]["bf16_128x64"]["packed"];
  if (dtype_of(entry["dtype"]) == at::kByte)
    return at::tensor(values.get<std::vector<int64_t>>(), at::kLong).to(at::kByte).view(shape);
  std::vector<float> f;
  for (const auto& v : values) f.push_back(static_cast<float>(v.get<double>()));
  return at::tensor(f, at::kFloat).view(shape);
}

std::string state_text(const at::Tensor& t) {
  const auto c = t.contiguous();
  return std::string(reinterpret_cast<const char*>(c.data_ptr<uint8_t>()), static_cast<size_t>(c.numel()));
}

TEST(BnbCheckpoint, WriterMatchesBitsandbytesStateDict) {
  const auto& s = golden()["serialized"];
  const auto prefix = s["prefix"].get<std::string>();
  const auto& c = golden()["cases"]["bf16_128x64"];
  std::vector<int16_t> bits;
  for (const auto& b : c["weight_bf16_bits"]) bits.push_back(static_cast<int16_t>(b.get<uint16_t>()));
  const auto w = at::tensor(bits, at::kShort).view(at::kBFloat16).view({128, 64});
  const auto written = bnb_nf4_tensors(prefix + "weight", quantize_nf4(w), "bfloat16");
  ASSERT_EQ(written.size(), s["tensors"].size());
  for (const auto& [key, t] : written) {
    SCOPED_TRACE(key);
    ASSERT_TRUE(s["tensors"].contains(key));
    const auto& entry = s["tensors"][key];
    EXPECT_EQ(t.sizes().vec(), entry["shape"].get<std::vector<int64_t>>());
    EXPECT_EQ(t.scalar_type(), dtype_of(entry["dtype"]));
    if (entry.contains("text")) {
      // Same JSON (the offset's last float32 bit may differ with summation order: see the
      // NF4 golden test), and the same key order and separators as json.dumps.
      const auto ours = json_util::parse(state_text(t), key), theirs = entry["decoded"];
      for (const auto& [k, v] : theirs.items())
        if (k != "nested_offset") EXPECT_EQ(ours[k], v) << k;
      EXPECT_NEAR(ours["nested_offset"].get<double>(), theirs["nested_offset"].get<double>(), 1e-8);
      continue;
    }
    EXPECT_TRUE(at::equal(t, golden_tensor(entry)));
  }
}

// Writes `tensors` and `config` as a checkpoint directory.
std::string write_checkpoint(const std::string& name, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                             const nlohmann::json& config) {
  const auto dir = test::scratch_dir(name);
  write_safetensors(dir + "/model.safetensors", tensors);
  std::ofstream(dir + "/config.json") << config.dump();
  return dir;
}

TEST(BnbCheckpoint, ReadsBitsandbytesStateDictBitExactly) {
  const auto& s = golden()["serialized"];
  const auto prefix = s["prefix"].get<std::string>();
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const auto& [key, entry] : s["tensors"].items()) tensors.emplace_back(key, golden_tensor(entry));
  const auto dir = write_checkpoint("bnb-golden", tensors, nlohmann::json::object());
  const auto w = read_bnb_nf4(Checkpoint::open(dir), prefix + "weight", {128, 64});
  ASSERT_TRUE(w.double_quantized());
  const auto& c = golden()["cases"]["bf16_128x64"];
  auto flat = dequantize(w, at::kBFloat16).to(at::kFloat).reshape({-1});
  flat = flat.index_select(0, at::tensor(c["dequant_sample_index"].get<std::vector<int64_t>>(), at::kLong));
  std::vector<float> expected;
  for (const auto& v : c["nested"]["dequant"]) expected.push_back(static_cast<float>(v.get<double>()));
  EXPECT_TRUE(at::equal(flat, at::tensor(expected, at::kFloat)));
  test::expect_input_error([&] { read_bnb_nf4(Checkpoint::open(dir), prefix + "weight", {64, 128}); },
                           {"quant_state.bitsandbytes__nf4", "key 'shape'", "[128, 64]", "[64, 128]"});
}

class SavedNf4 : public ::testing::Test {
 protected:
  void SetUp() override {
    src_ = test::tiny_model_dir(test::tiny_options(Architecture::llama, 31), "bnb-src");
    dst_ = test::scratch_dir("bnb-dst");
    save_bnb_nf4_checkpoint(src_, dst_);
  }
  // dst_ with one tensor replaced (or removed when `value` is undefined) and `config_edit`
  // applied to config.json.
  std::string variant(const std::string& name, const std::string& key, const at::Tensor& value,
                      const std::function<void(nlohmann::json&)>& config_edit = nullptr) const {
    const auto ckpt = Checkpoint::open(dst_);
    std::vector<std::pair<std::string, at::Tensor>> tensors;
    for (const auto& file : ckpt.files())
      for (const auto& n : SafetensorsFile::open(file).names()) {
        if (n == key) {
          if (value.defined()) tensors.emplace_back(n, value);
        } else {
          tensors.emplace_back(n, ckpt.load(n));
        }
      }
    auto config = json_util::read_file(dst_ + "/config.json");
    if (config_edit) config_edit(config);
    return write_checkpoint(name, tensors, config);
  }
  std::string src_, dst_;
};

TEST_F(SavedNf4, LoadsExactlyAsQuantizingAtLoad) {
  const auto at_load = Decoder::load(src_, {at::kFloat, at::kCPU, Quantization::nf4});
  const auto saved = Decoder::load(dst_, {at::kFloat, at::kCPU, Quantization::nf4});
  EXPECT_EQ(saved.storage_bytes(), at_load.storage_bytes());
  ForwardInput in;
  in.ids = at::tensor(std::vector<int64_t>{1, 9, 4, 77, 30, 2}, at::kLong).view({1, 6});
  EXPECT_TRUE(at::equal(saved.forward(in), at_load.forward(in)));
  EXPECT_EQ(json_util::read_file(dst_ + "/config.json")["quantization_config"]["bnb_4bit_quant_type"], "nf4");
}

TEST_F(SavedNf4, BadStateIsRefusedNamingTheTensor) {
  const std::string w = "model.layers.1.mlp.up_proj.weight";
  test::expect_input_error([&] { Decoder::load(dst_); }, {"config.json", "quantization_config", "model.quantization: nf4"});
  const LoadOptions nf4{at::kFloat, at::kCPU, Quantization::nf4};
  auto bad_map = Checkpoint::open(dst_).load(w + ".quant_map").clone();
  bad_map[3] = 0.5f;
  test::expect_input_error([&] { Decoder::load(variant("bnb-map", w + ".quant_map", bad_map), nf4); },
                           {w + ".quant_map", "NF4 code"});
  test::expect_input_error([&] { Decoder::load(variant("bnb-absmax", w + ".absmax", at::Tensor()), nf4); },
                           {"missing tensor", w + ".absmax"});
  const std::string bad_json = "{\"quant_type\": \"nf4\", \"blocksize\": 64";
  const auto truncated = at::tensor(at::ArrayRef<uint8_t>(reinterpret_cast<const uint8_t*>(bad_json.data()),
                                                          bad_json.size()), at::kByte);
  test::expect_input_error([&] { Decoder::load(variant("bnb-json", bnb_nf4_state_key(w), truncated), nf4); },
                           {bnb_nf4_state_key(w)});
  test::expect_input_error([&] { Decoder::load(variant("bnb-state", bnb_nf4_state_key(w), at::Tensor()), nf4); },
                           {w, "no '" + bnb_nf4_state_key(w) + "'"});
  auto fp4 = [](nlohmann::json& c) { c["quantization_config"]["bnb_4bit_quant_type"] = "fp4"; };
  test::expect_input_error([&] { Decoder::load(variant("bnb-fp4", "", at::Tensor(), fp4), nf4); },
                           {"bnb_4bit_quant_type 'fp4'"});
  auto gptq = [](nlohmann::json& c) { c["quantization_config"] = {{"quant_method", "gptq"}}; };
  test::expect_input_error([&] { Decoder::load(variant("bnb-gptq", "", at::Tensor(), gptq), nf4); },
                           {"quant_method 'gptq'"});
}

}  // namespace
}  // namespace dkv::model
