// Sentence-embedding invariants on a tiny random BERT written by write_tiny_bert (padding,
// unit length, batching, "bert." prefix), and loader errors that name the file and key.
// Agreement with sentence-transformers itself: test_embedding_golden.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include "dkv/core/error.h"
#include "dkv/core/json_util.h"
#include "dkv/model/safetensors.h"
#include "dkv/model/sentence_embedder.h"
#include "dkv/model/tiny_bert.h"
#include "dkv/tokenizer/tokenizer.h"
#include "support.h"

namespace dkv::model {
namespace {

using test::expect_input_error;

// Padded keys get exp(finfo.min) = 0 exactly, so only BLAS summation order over different
// padded lengths differs: a few fp32 ulps of values ~0.1-1, far below the 1e-6.
constexpr double kPaddingTolerance = 1e-6;

TinyBertOptions tiny_bert_options(bool normalize) {
  TinyBertOptions o;
  o.seed = 21;
  o.hidden_size = 64;
  o.intermediate_size = 112;
  o.num_hidden_layers = 2;
  o.num_attention_heads = 4;
  o.max_position_embeddings = 64;
  o.max_seq_length = 48;
  o.normalize = normalize;
  o.init_scale = 0.1;  // attention far from uniform, so a mask or position error shows
  return o;
}

std::string tiny_bert_dir(const std::string& name, bool normalize = true) {
  const auto dir = test::scratch_dir("bert-" + name);
  write_tiny_bert(dir, tiny_bert_options(normalize));
  return dir;
}

// Sequences shaped like tokenizer output: [CLS]=2 ... [SEP]=3, lengths 3 to 17.
std::vector<std::vector<int64_t>> sample_sequences() {
  std::vector<std::vector<int64_t>> seqs;
  int64_t next = 5;
  for (int64_t len : {5, 17, 3, 9, 12, 4, 16}) {
    std::vector<int64_t> s{2};
    for (int64_t i = 0; i < len - 2; ++i) s.push_back(5 + (next++ * 37) % 150);
    s.push_back(3);
    seqs.push_back(s);
  }
  return seqs;
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

// Rewrites dir/model.safetensors through `edit` (a list of name -> tensor it may change).
template <typename Edit>
void rewrite_weights(const std::string& dir, Edit edit) {
  const auto path = dir + "/model.safetensors";
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  {
    auto f = SafetensorsFile::open(path);
    for (const auto& name : f.names()) tensors.emplace_back(name, f.load(name).clone());
  }
  edit(tensors);
  write_safetensors(path, tensors);
}

TEST(BertEncoder, PaddingDoesNotChangePooledVector) {
  for (bool normalize : {false, true}) {
    const auto e = SentenceEmbedder::load(tiny_bert_dir("pad", normalize));
    const auto seqs = sample_sequences();
    const auto batched = e.embed(seqs, /*batch_size=*/64);  // padded to the longest (17)
    for (size_t i = 0; i < seqs.size(); ++i) {
      const auto n = static_cast<int64_t>(seqs[i].size());
      const auto alone = e.embed(at::tensor(seqs[i], at::kLong).view({1, n}),
                                 at::ones({1, n}, at::kLong));  // no padding at all
      EXPECT_LT(test::max_abs_diff(alone[0], batched[i]), kPaddingTolerance)
          << "sequence " << i << " (length " << n << "), normalize=" << normalize;
    }
    // A padded row's pad ids must not matter either: change them and compare.
    const int64_t T = 20;
    auto ids = at::full({1, T}, 0, at::kLong), mask = at::zeros({1, T}, at::kLong);
    ids[0].narrow(0, 0, 5).copy_(at::tensor(seqs[0], at::kLong));
    mask[0].narrow(0, 0, 5).fill_(1);
    auto other = ids.clone();
    other[0].narrow(0, 5, T - 5).fill_(77);
    EXPECT_LT(test::max_abs_diff(e.embed(ids, mask), e.embed(other, mask)), kPaddingTolerance);
  }
}

TEST(BertEncoder, MaskMattersAndPositionsMatter) {
  // Guards against a test that cannot fail: dropping the mask or reversing tokens must change
  // the vector by far more than the tolerances above.
  const auto e = SentenceEmbedder::load(tiny_bert_dir("mask", false));
  const auto s = sample_sequences()[1];
  const int64_t n = static_cast<int64_t>(s.size());
  auto ids = at::cat({at::tensor(s, at::kLong), at::full({6}, 9, at::kLong)}).view({1, n + 6});
  auto mask = at::cat({at::ones({n}, at::kLong), at::zeros({6}, at::kLong)}).view({1, n + 6});
  EXPECT_GT(test::max_abs_diff(e.embed(ids, mask), e.embed(ids, at::ones_like(mask))), 1e-3);
  auto rev = std::vector<int64_t>(s.rbegin(), s.rend());
  EXPECT_GT(test::max_abs_diff(e.embed({s}), e.embed({rev})), 1e-3);
}

TEST(SentenceEmbedder, NormalizedVectorsHaveUnitLength) {
  const auto e = SentenceEmbedder::load(tiny_bert_dir("unit", true));
  EXPECT_TRUE(e.modules().normalize);
  const auto norms = e.embed(sample_sequences()).to(at::kDouble).norm(2, {1});
  EXPECT_LT((norms - 1.0).abs().max().item<double>(), 1e-6);  // fp32 rounding of a unit vector
  // Without 2_Normalize the pooled vectors are not unit length (so the check above can fail).
  const auto raw = SentenceEmbedder::load(tiny_bert_dir("nonunit", false));
  EXPECT_FALSE(raw.modules().normalize);
  const auto raw_norms = raw.embed(sample_sequences()).to(at::kDouble).norm(2, {1});
  EXPECT_GT((raw_norms - 1.0).abs().max().item<double>(), 1e-2);
}

TEST(SentenceEmbedder, BatchEqualsOneByOne) {
  const auto e = SentenceEmbedder::load(tiny_bert_dir("batch", true));
  const auto seqs = sample_sequences();
  const auto one_by_one = e.embed(seqs, /*batch_size=*/1);
  for (int64_t batch_size : {2, 3, 64}) {
    const auto batched = e.embed(seqs, batch_size);
    ASSERT_EQ(batched.sizes(), one_by_one.sizes());
    EXPECT_LT(test::max_abs_diff(batched, one_by_one), kPaddingTolerance) << "batch " << batch_size;
  }
}

TEST(SentenceEmbedder, CosSimMatchesDoublePrecisionDefinition) {
  const auto e = SentenceEmbedder::load(tiny_bert_dir("cos", false));
  const auto v = e.embed(sample_sequences());
  const auto sim = cos_sim(v.narrow(0, 0, 3), v);  // [3, N]
  ASSERT_EQ(sim.sizes(), (at::IntArrayRef{3, v.size(0)}));
  const auto d = v.to(at::kDouble);
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < v.size(0); ++j) {
      const double ref = (d[i] * d[j]).sum().item<double>() /
                         (d[i].norm().item<double>() * d[j].norm().item<double>());
      EXPECT_NEAR(sim[i][j].item<double>(), ref, 1e-6) << i << "," << j;
    }
}

TEST(BertEncoder, LoadsBertPrefixedNamesIdentically) {
  const auto plain = tiny_bert_dir("noprefix", true), prefixed = tiny_bert_dir("prefix", true);
  rewrite_weights(prefixed, [](auto& tensors) {
    for (auto& [name, t] : tensors) name = "bert." + name;
  });
  const auto seqs = sample_sequences();
  EXPECT_EQ(test::max_abs_diff(SentenceEmbedder::load(plain).embed(seqs),
                               SentenceEmbedder::load(prefixed).embed(seqs)), 0.0);
}

TEST(BertEncoder, MissingTensorNamesDirectoryAndTensor) {
  const auto dir = tiny_bert_dir("missing");
  rewrite_weights(dir, [](auto& tensors) {
    tensors.erase(std::remove_if(tensors.begin(), tensors.end(), [](const auto& p) {
                    return p.first == "encoder.layer.1.output.dense.bias";
                  }), tensors.end());
  });
  expect_input_error([&] { SentenceEmbedder::load(dir); },
                     {dir, "missing tensor 'encoder.layer.1.output.dense.bias'"});
}

TEST(BertEncoder, NoEmbeddingsNamesBothAcceptedNames) {
  const auto dir = tiny_bert_dir("noembed");
  rewrite_weights(dir, [](auto& tensors) {
    for (auto& [name, t] : tensors) name = "encoder_only." + name;
  });
  expect_input_error([&] { SentenceEmbedder::load(dir); },
                     {dir, "'embeddings.word_embeddings.weight'",
                      "'bert.embeddings.word_embeddings.weight'"});
}

TEST(BertEncoder, WrongShapeNamesFileTensorExpectedAndGot) {
  const auto dir = tiny_bert_dir("shape");
  rewrite_weights(dir, [](auto& tensors) {
    for (auto& [name, t] : tensors)
      if (name == "encoder.layer.0.attention.self.query.weight") t = t.narrow(1, 0, 32).clone();
  });
  expect_input_error([&] { SentenceEmbedder::load(dir); },
                     {dir + "/model.safetensors", "encoder.layer.0.attention.self.query.weight",
                      "expected [64, 64]", "got [64, 32]", "hidden_size"});
}

TEST(BertEncoder, UnsupportedActivationNamesConfigKey) {
  const auto dir = tiny_bert_dir("act");
  auto j = json_util::read_file(dir + "/config.json");
  j["hidden_act"] = "gelu_new";
  write_text(dir + "/config.json", j.dump());
  expect_input_error([&] { SentenceEmbedder::load(dir); },
                     {dir + "/config.json", "hidden_act", "gelu_new"});
}

TEST(SentenceEmbedder, UnsupportedPoolingNamesFileAndKey) {
  for (const char* key : {"pooling_mode_cls_token", "pooling_mode_max_tokens",
                          "pooling_mode_mean_sqrt_len_tokens", "pooling_mode_lasttoken"}) {
    const auto dir = tiny_bert_dir("pool");
    auto j = json_util::read_file(dir + "/1_Pooling/config.json");
    j[key] = true;
    write_text(dir + "/1_Pooling/config.json", j.dump());
    expect_input_error([&] { SentenceEmbedder::load(dir); },
                       {dir + "/1_Pooling/config.json", key, "mean"});
  }
  const auto dir = tiny_bert_dir("nomean");
  auto j = json_util::read_file(dir + "/1_Pooling/config.json");
  j["pooling_mode_mean_tokens"] = false;
  j["pooling_mode_cls_token"] = true;
  write_text(dir + "/1_Pooling/config.json", j.dump());
  expect_input_error([&] { SentenceEmbedder::load(dir); },
                     {dir + "/1_Pooling/config.json", "pooling_mode_mean_tokens"});
}

TEST(SentenceEmbedder, UnknownModuleNamesModulesJsonAndType) {
  const auto dir = tiny_bert_dir("module");
  auto j = json_util::read_file(dir + "/modules.json");
  j[2]["type"] = "sentence_transformers.models.Dense";
  write_text(dir + "/modules.json", j.dump());
  expect_input_error([&] { SentenceEmbedder::load(dir); },
                     {dir + "/modules.json", "[2]", "'type'", "Dense"});
}

TEST(SentenceEmbedder, PoolingDimensionMustMatchHiddenSize) {
  const auto dir = tiny_bert_dir("dim");
  auto j = json_util::read_file(dir + "/1_Pooling/config.json");
  j["word_embedding_dimension"] = 384;
  write_text(dir + "/1_Pooling/config.json", j.dump());
  expect_input_error([&] { SentenceEmbedder::load(dir); },
                     {dir + "/1_Pooling/config.json", "word_embedding_dimension", "expected 64",
                      "got 384"});
}

TEST(SentenceEmbedder, OverlongInputNamesMaxSeqLength) {
  const auto dir = tiny_bert_dir("long");
  const auto e = SentenceEmbedder::load(dir);
  EXPECT_EQ(e.modules().max_seq_length, 48);
  std::vector<int64_t> s(49, 7);
  expect_input_error([&] { e.embed({s}); }, {"sentence_bert_config.json", "max_seq_length=48"});
  expect_input_error([&] { e.embed({{2, 999, 3}}); }, {"token ids", "vocab_size"});
}

TEST(EmbedCli, WritesLibraryVectorsForIdLines) {
  const auto dir = tiny_bert_dir("cli");
  const auto seqs = sample_sequences();
  const auto in = test::scratch_dir("embed-cli") + "/in.jsonl", out = in + ".out";
  {
    std::ofstream f(in);
    for (const auto& s : seqs) f << nlohmann::json{{"ids", s}}.dump() << "\n";
  }
  const auto cmd = std::string(DKV_BINARY) + " embed --model " + dir + " --batch-size 3 < " +
                   in + " > " + out;
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream f(out);
  std::vector<at::Tensor> rows;
  for (std::string line; std::getline(f, line);)
    rows.push_back(at::tensor(json_util::parse(line, out)["vector"].get<std::vector<float>>()));
  ASSERT_EQ(rows.size(), seqs.size());
  // JSON carries each float's shortest round-trip repr: exact, same batching as the library.
  EXPECT_EQ(test::max_abs_diff(at::stack(rows), SentenceEmbedder::load(dir).embed(seqs, 3)), 0.0);
}

TEST(EmbedCli, TextLinesUseTheModelsTokenizer) {
  const auto dir = tiny_bert_dir("cli");
  const auto in = test::scratch_dir("embed-cli-text") + "/in.jsonl", out = in + ".out";
  const std::string text = "what is the capital of australia";
  std::ofstream(in) << nlohmann::json{{"text", text}}.dump() << "\n";
  const auto cmd = std::string(DKV_BINARY) + " embed --model " + dir + " < " + in + " > " + out;
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream f(out);
  std::string line;
  ASSERT_TRUE(std::getline(f, line));
  auto got = at::tensor(json_util::parse(line, out)["vector"].get<std::vector<float>>());
  const auto ids = tokenizer::Tokenizer::load(dir).encode(text, true);
  EXPECT_EQ(test::max_abs_diff(got, SentenceEmbedder::load(dir).embed({ids})[0]), 0.0);
}

}  // namespace
}  // namespace dkv::model
