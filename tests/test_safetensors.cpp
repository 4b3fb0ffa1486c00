// The safetensors header is untrusted: each malformed file gives an InputError naming the file
// (and tensor), never a crash. Also checkpoint-level checks: missing tensors, wrong shapes,
// sharded indexes.
#include <gtest/gtest.h>

#include <fstream>

#include "dkv/core/error.h"
#include "dkv/model/checkpoint.h"
#include "dkv/model/decoder.h"
#include "dkv/model/safetensors.h"
#include "support.h"

namespace dkv::model {
namespace {

using test::expect_input_error;

void write_raw(const std::string& path, const std::string& header, const std::string& data,
               int64_t declared_len = -1) {
  std::ofstream out(path, std::ios::binary);
  uint64_t n = declared_len >= 0 ? static_cast<uint64_t>(declared_len) : header.size();
  for (int i = 0; i < 8; ++i) out.put(static_cast<char>((n >> (8 * i)) & 0xff));
  out << header << data;
}

class SafetensorsErrors : public ::testing::Test {
 protected:
  std::string path_ = test::scratch_dir("st") + "/bad.safetensors";
  void open_expect(std::initializer_list<std::string> fragments) {
    expect_input_error([&] { SafetensorsFile::open(path_); }, fragments);
  }
};

TEST_F(SafetensorsErrors, TruncatedFile) {
  std::ofstream(path_, std::ios::binary) << "abc";
  open_expect({path_, "too short"});
}

TEST_F(SafetensorsErrors, HeaderLengthPastEof) {
  write_raw(path_, R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", "1234", 5000);
  open_expect({path_, "past the end"});
}

TEST_F(SafetensorsErrors, MalformedJson) {
  write_raw(path_, R"({"a":{"dtype":"F32",)", "");
  open_expect({path_, "malformed JSON"});
}

TEST_F(SafetensorsErrors, DuplicateTensorName) {
  write_raw(path_,
            R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
            "12345678");
  open_expect({path_, "duplicate", "'a'"});
}

TEST_F(SafetensorsErrors, OverlappingRanges) {
  write_raw(path_,
            R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
            "123456789012");
  open_expect({path_, "overlapping", "'a'", "'b'"});
}

TEST_F(SafetensorsErrors, WrongByteSizeForDtype) {
  write_raw(path_, R"({"w":{"dtype":"F16","shape":[3],"data_offsets":[0,4]}})", "1234");
  open_expect({path_, "'w'", "F16", "6 bytes", "span 4"});
}

TEST_F(SafetensorsErrors, UnknownDtype) {
  write_raw(path_, R"({"w":{"dtype":"F12","shape":[1],"data_offsets":[0,2]}})", "12");
  open_expect({path_, "'w'", "unknown dtype 'F12'"});
}

TEST_F(SafetensorsErrors, RangePastDataSection) {
  write_raw(path_, R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", "12345678");
  open_expect({path_, "'w'", "past the data section"});
}

TEST_F(SafetensorsErrors, NegativeShape) {
  write_raw(path_, R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", "1234");
  open_expect({path_, "'w'", "shape"});
}

TEST(Safetensors, RoundTripsEveryFloatDtype) {
  const auto path = test::scratch_dir("st-ok") + "/ok.safetensors";
  at::manual_seed(4);
  auto a = at::randn({3, 5});
  write_safetensors(path, {{"f32", a}, {"f16", a.to(at::kHalf)}, {"bf16", a.to(at::kBFloat16)},
                           {"i64", at::arange(7, at::kLong)}});
  auto f = SafetensorsFile::open(path);
  EXPECT_TRUE(at::equal(f.load("f32"), a));
  EXPECT_TRUE(at::equal(f.load("f16"), a.to(at::kHalf)));
  EXPECT_TRUE(at::equal(f.load("bf16", at::kFloat), a.to(at::kBFloat16).to(at::kFloat)));
  EXPECT_TRUE(at::equal(f.load("i64"), at::arange(7, at::kLong)));
  EXPECT_THROW(f.load("i64", at::kFloat), InputError);
  EXPECT_THROW(f.load("nope"), InputError);
}

class CheckpointErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::scratch_dir("ckpt");
    write_tiny_model(dir_, test::tiny_options(Architecture::llama, 5));
    file_ = SafetensorsFile::open(dir_ + "/model.safetensors").names();
  }
  // Rewrites the checkpoint with `edit` applied to its tensors.
  void rewrite(const std::function<void(std::vector<std::pair<std::string, at::Tensor>>&)>& edit) {
    auto f = SafetensorsFile::open(dir_ + "/model.safetensors");
    std::vector<std::pair<std::string, at::Tensor>> tensors;
    for (const auto& n : f.names()) tensors.emplace_back(n, f.load(n).clone());
    edit(tensors);
    write_safetensors(dir_ + "/model.safetensors", tensors);
  }
  std::string dir_;
  std::vector<std::string> file_;
};

TEST_F(CheckpointErrors, MissingTensor) {
  rewrite([](auto& t) {
    t.erase(std::find_if(t.begin(), t.end(),
                         [](auto& p) { return p.first == "model.layers.1.mlp.up_proj.weight"; }));
  });
  expect_input_error([&] { Decoder::load(dir_); },
                     {dir_, "missing tensor 'model.layers.1.mlp.up_proj.weight'"});
}

TEST_F(CheckpointErrors, WrongShapeNamesConfigKeys) {
  rewrite([](auto& t) {
    for (auto& p : t)
      if (p.first == "model.layers.0.self_attn.k_proj.weight") p.second = at::zeros({64, 64});
  });
  expect_input_error([&] { Decoder::load(dir_); },
                     {"model.safetensors", "model.layers.0.self_attn.k_proj.weight",
                      "expected [32, 64], got [64, 64]", "num_key_value_heads"});
}

TEST_F(CheckpointErrors, NoWeightFiles) {
  std::filesystem::remove(dir_ + "/model.safetensors");
  expect_input_error([&] { Checkpoint::open(dir_); }, {dir_, "no model.safetensors"});
}

TEST_F(CheckpointErrors, ShardedIndexLoadsAndChecksShards) {
  // Split the checkpoint into two shards with an index, as HF save_pretrained does.
  auto f = SafetensorsFile::open(dir_ + "/model.safetensors");
  std::vector<std::pair<std::string, at::Tensor>> a, b;
  nlohmann::json index{{"metadata", {{"total_size", 0}}}, {"weight_map", nlohmann::json::object()}};
  int i = 0;
  for (const auto& n : f.names()) {
    const bool first = i++ % 2 == 0;
    (first ? a : b).emplace_back(n, f.load(n).clone());
    index["weight_map"][n] = first ? "model-00001-of-00002.safetensors"
                                   : "model-00002-of-00002.safetensors";
  }
  auto reference = Decoder::load(dir_).forward({at::tensor({1L, 2L, 3L}).view({1, 3}), {}, {}, {}});
  std::filesystem::remove(dir_ + "/model.safetensors");
  write_safetensors(dir_ + "/model-00001-of-00002.safetensors", a);
  write_safetensors(dir_ + "/model-00002-of-00002.safetensors", b);
  std::ofstream(dir_ + "/model.safetensors.index.json") << index.dump();
  auto sharded = Decoder::load(dir_).forward({at::tensor({1L, 2L, 3L}).view({1, 3}), {}, {}, {}});
  EXPECT_TRUE(at::equal(reference, sharded));
  std::filesystem::remove(dir_ + "/model-00002-of-00002.safetensors");
  expect_input_error([&] { Checkpoint::open(dir_); },
                     {"model.safetensors.index.json", "model-00002-of-00002.safetensors",
                      "does not exist"});
}

TEST(ModelConfig, ErrorsNameFileAndKey) {
  auto base = to_hf_json(tiny_model_config(test::tiny_options(Architecture::llama)));
  auto expect = [&](const std::function<void(nlohmann::json&)>& edit,
                    std::initializer_list<std::string> fragments) {
    auto j = base;
    edit(j);
    expect_input_error([&] { parse_model_config(j, "m/config.json"); }, fragments);
  };
  expect([](auto& j) { j.erase("hidden_size"); }, {"m/config.json", "'hidden_size'"});
  expect([](auto& j) { j["hidden_size"] = "64"; }, {"'hidden_size'", "expected an integer"});
  expect([](auto& j) { j["architectures"] = {"GPT2LMHeadModel"}; },
         {"GPT2LMHeadModel", "LlamaForCausalLM"});
  expect([](auto& j) { j["num_key_value_heads"] = 3; }, {"num_key_value_heads=3"});
  expect([](auto& j) { j["rope_scaling"] = {{"rope_type", "weird"}, {"factor", 2.0}}; },
         {"rope_scaling", "weird"});
  expect([](auto& j) { j["hidden_act"] = "gelu"; }, {"hidden_act", "gelu"});
}

}  // namespace
}  // namespace dkv::model
