// GGUF checkpoints: dequantization bit-exact with gguf-py, a tiny Llama stored in every type
// against HF transformers on the same dequantized weights, and the tokenizers built from the
// metadata against HF tokenizers. Goldens and files: tools/gen_gguf_golden.py.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

#include "dkv/core/json_util.h"
#include "dkv/model/decoder.h"
#include "dkv/model/gguf_checkpoint.h"
#include "dkv/model/gguf_file.h"
#include "dkv/tokenizer/tokenizer.h"
#include "support.h"

namespace dkv::model {
namespace {

const char* kRegenerate = "regenerate with: tools/setup-python.sh && .venv/bin/python tools/gen_gguf_golden.py";

std::vector<uint8_t> from_hex(const std::string& hex) {
  std::vector<uint8_t> out(hex.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
  return out;
}

TEST(GgufDequant, EveryTypeIsBitExactWithGgufPy) {
  const auto golden = json_util::read_file(test::source_path("tests/golden/gguf_dequant_golden.json"));
  std::set<std::string> types;
  for (const auto& c : golden["cases"]) {
    const auto type = c["type"].get<std::string>();
    const auto n = c["elements"].get<int64_t>();
    const auto blocks = from_hex(c["blocks_hex"].get<std::string>());
    const auto expected = from_hex(c["expected_f32_hex"].get<std::string>());
    const auto* info = ggml_type_info(c["type_id"].get<uint32_t>());
    ASSERT_NE(info, nullptr) << type;
    ASSERT_EQ(blocks.size(), static_cast<size_t>(n / info->block_elements) * info->block_bytes) << type;
    std::vector<float> out(static_cast<size_t>(n));
    dequantize_ggml(static_cast<GgmlType>(c["type_id"].get<uint32_t>()), blocks.data(), out.data(), n);
    // Bit patterns, not values: NaN payloads and signed zeros count too.
    EXPECT_EQ(std::memcmp(out.data(), expected.data(), expected.size()), 0) << type << "; " << kRegenerate;
    types.insert(type);
  }
  EXPECT_EQ(types.size(), 13u) << "F32 F16 BF16 Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q2_K..Q6_K";
}

TEST(GgufDequant, CorruptingOneCodeByteChangesTheOutput) {  // the golden comparison can fail
  const auto golden = json_util::read_file(test::source_path("tests/golden/gguf_dequant_golden.json"));
  for (const auto& c : golden["cases"]) {
    if (c["type"] != "Q4_K") continue;
    auto blocks = from_hex(c["blocks_hex"].get<std::string>());
    const auto n = c["elements"].get<int64_t>();
    std::vector<float> a(n), b(n);
    dequantize_ggml(GgmlType::q4_k, blocks.data(), a.data(), n);
    blocks[40] ^= 0x11;
    dequantize_ggml(GgmlType::q4_k, blocks.data(), b.data(), n);
    EXPECT_NE(std::memcmp(a.data(), b.data(), a.size() * 4), 0);
  }
}

class TinyGguf : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    golden_ = new nlohmann::json(json_util::read_file(test::source_path("tests/golden/gguf_tiny.json")));
  }
  static void TearDownTestSuite() { delete golden_; }
  static nlohmann::json* golden_;
  static std::string path(const char* name) { return test::source_path(std::string("tests/data/gguf/") + name); }
};
nlohmann::json* TinyGguf::golden_ = nullptr;

at::Tensor ids_tensor(const nlohmann::json& ids) {
  auto v = ids.get<std::vector<int64_t>>();
  return at::tensor(v, at::kLong).view({1, static_cast<int64_t>(v.size())});
}

// fp32 on both sides over the same dequantized weights; differences come from summation order
// only (a few ulps of logits of magnitude ~1), far below the 1e-4 asked for.
constexpr double kLogitTolerance = 1e-4;

TEST_F(TinyGguf, LogitsMatchHfOnTheDequantizedWeights) {
  for (const char* file : {"tiny_llama_bpe.gguf", "tiny_llama_spm.gguf"}) {
    const auto decoder = Decoder::load(path(file));
    EXPECT_TRUE(decoder.config().tie_word_embeddings) << "no output.weight means tied embeddings";
    for (const auto& [name, c] : (*golden_)["logits"].items()) {
      ForwardInput in;
      in.ids = ids_tensor(c["ids"]);
      if (!c["positions"].is_null()) in.positions = ids_tensor(c["positions"]);
      std::vector<at::Tensor> rows;
      for (const auto& r : c["logits"]) rows.push_back(at::tensor(r.get<std::vector<float>>()));
      const auto logits = decoder.forward(in).squeeze(0);
      EXPECT_LT(test::max_abs_diff(logits, at::stack(rows)), kLogitTolerance) << file << "/" << name << "; " << kRegenerate;
    }
  }
}

TEST_F(TinyGguf, QkRowsAreUnpermutedForRotateHalf) {
  // Reading the permuted q rows as they are stored must give other logits: the un-permutation
  // is what makes the comparison above pass.
  const auto g = GgufFile::open(path("tiny_llama_bpe.gguf"));
  const auto refs = hf_tensor_names(g, hf_config_from_gguf(g));
  auto q = refs.at("model.layers.0.self_attn.q_proj.weight");
  EXPECT_EQ(q.unpermute_heads, 4);
  EXPECT_EQ(refs.at("model.layers.0.self_attn.k_proj.weight").unpermute_heads, 2);
  EXPECT_EQ(refs.at("model.layers.0.self_attn.v_proj.weight").unpermute_heads, 0);
  const auto hf = load_gguf_tensor(q, at::kFloat);
  q.unpermute_heads = 0;
  const auto stored = load_gguf_tensor(q, at::kFloat);
  EXPECT_GT(test::max_abs_diff(hf, stored), 1e-3);
  EXPECT_TRUE(at::equal(std::get<0>(hf.sort(0)), std::get<0>(stored.sort(0)))) << "a permutation of rows only";
}

TEST_F(TinyGguf, ConfigComesFromTheLlamaMetadata) {
  const auto g = GgufFile::open(path("tiny_llama_bpe.gguf"));
  const auto c = parse_model_config(hf_config_from_gguf(g), g.path());
  EXPECT_EQ(c.architecture_name, "LlamaForCausalLM");
  EXPECT_EQ(c.hidden_size, 256);
  EXPECT_EQ(c.num_hidden_layers, 2);
  EXPECT_EQ(c.num_attention_heads, 4);
  EXPECT_EQ(c.num_key_value_heads, 2);
  EXPECT_EQ(c.head_dim, 64);
  // The epsilon exactly as stored: the f32 nearest 1e-5, widened.
  EXPECT_EQ(c.rms_norm_eps, static_cast<double>(1e-5f));
  EXPECT_EQ(c.rope_theta, 10000.0);
  EXPECT_EQ(c.vocab_size, (*golden_)["vocab"].get<int64_t>());
}

TEST_F(TinyGguf, TokenizersFromMetadataMatchHfTokenizers) {
  for (const auto& [file, key] : {std::pair{"tiny_llama_bpe.gguf", "tokenizer_bpe"}, {"tiny_llama_spm.gguf", "tokenizer_spm"}}) {
    const auto tok = tokenizer::Tokenizer::load(path(file));
    size_t mismatches = 0, n = 0;
    for (const auto& c : (*golden_)[key]) {
      const auto ids = tok.encode(c["text"].get<std::string>(), true);
      if (ids != c["ids"].get<std::vector<int64_t>>()) {
        if (++mismatches <= 3) ADD_FAILURE() << file << ": " << c["text"].dump();
      }
      ++n;
    }
    EXPECT_EQ(mismatches, 0u) << file << " over " << n << " texts; " << kRegenerate;
    EXPECT_GT(n, 120u);
  }
}

TEST_F(TinyGguf, SpecialTokensAndBosComeFromTheMetadata) {
  const auto bpe = tokenizer::Tokenizer::load(path("tiny_llama_bpe.gguf"));
  EXPECT_EQ(bpe.bos_id(), 0);
  EXPECT_EQ(bpe.add_bos_token(), true);
  EXPECT_EQ(bpe.encode("x", true).front(), 0);
  EXPECT_EQ(bpe.encode("<|eot_id|>", false), std::vector<int64_t>{4}) << "control tokens match in raw text";
  const auto spm = tokenizer::Tokenizer::load(path("tiny_llama_spm.gguf"));
  EXPECT_EQ(spm.bos_token(), "<s>");
  EXPECT_EQ(spm.eos_token(), "</s>");
  EXPECT_EQ(spm.decode(spm.encode("Query: what is 42?", false)), "Query: what is 42?");
}

}  // namespace
}  // namespace dkv::model

namespace dkv::model {
namespace {

TEST(GgufImport, TheHfFolderLoadsToTheSameModelAndTokenizer) {
  const auto gguf = test::source_path("tests/data/gguf/tiny_llama_bpe.gguf");
  const auto dir = test::scratch_dir("gguf-import") + "/hf";
  const auto cmd = std::string(DKV_BINARY) + " import-gguf " + gguf + " " + dir + " > /dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  const auto from_gguf = Decoder::load(gguf), from_dir = Decoder::load(dir);
  ForwardInput in;
  in.ids = at::tensor(std::vector<int64_t>{5, 17, 300, 2, 99}, at::kLong).view({1, 5});
  EXPECT_TRUE(at::equal(from_gguf.forward(in), from_dir.forward(in))) << "fp32 copies of the same weights";
  const auto a = tokenizer::Tokenizer::load(gguf), b = tokenizer::Tokenizer::load(dir);
  const std::string text = "The price is $4.5 million <|eot_id|> answer\n\nQuery:";
  EXPECT_EQ(a.encode(text, true), b.encode(text, true));
  EXPECT_EQ(a.chat_template(), b.chat_template());
  EXPECT_EQ(a.bos_token(), b.bos_token());
  // A second import into the same folder is refused: nothing already written is replaced.
  EXPECT_NE(std::system((cmd + " 2>/dev/null").c_str()), 0);
}

}  // namespace
}  // namespace dkv::model
