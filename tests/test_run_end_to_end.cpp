// `dkv run` end to end on tiny models: every row finite, uncut rows equal an independent
// one-pass recomputation from --dump-tokens, resume recomputes nothing, and bad inputs fail
// before anything is written.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "dkv/core/json_util.h"
#include "dkv/io/results_file.h"
#include "dkv/model/decoder.h"
#include "support.h"

namespace dkv::experiment {
namespace {

namespace fs = std::filesystem;

int run(const std::string& args) {
  const auto cmd = std::string(DKV_BINARY) + " " + args + " >/dev/null 2>&1";
  return std::system(cmd.c_str());
}

class RunEndToEnd : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(test::scratch_dir("run-e2e"));
    ASSERT_EQ(run("make-tiny-model " + *dir_ + "/decoder --arch mistral --seed 3 --init-scale 0.1 "
                  "--tokenizer " + test::source_path("tests/data/tokenizers/mistral_sp")), 0);
    ASSERT_EQ(run("make-tiny-model " + *dir_ + "/embedding --arch bert --seed 4"), 0);
  }
  static void TearDownTestSuite() { delete dir_; }
  std::string config(const std::string& name, const std::string& model_dir,
                     const std::string& quantization = "none") const {
    const auto path = *dir_ + "/" + name + ".yaml";
    std::ofstream(path) << "name: " << name << "\nmodel: {path: " << model_dir << ", quantization: " << quantization
                        << "}\nembedding: {path: " << *dir_ << "/embedding}\ndataset: {path: "
                        << test::source_path("configs/data/demo_msmarco.jsonl")
                        << ", num_samples: 3}\nsurrogate: {max_new_tokens: 4}\noutput: {dir: " << *dir_
                        << "/out-" << name << "}\n";
    return path;
  }
  static std::string* dir_;
};
std::string* RunEndToEnd::dir_ = nullptr;

TEST_F(RunEndToEnd, RowsFiniteAndUncutRowsMatchOnePassRecomputation) {
  ASSERT_EQ(run("run " + config("e2e", *dir_ + "/decoder") + " --dump-tokens"), 0);
  const auto out = *dir_ + "/out-e2e";
  const auto t = io::read_results(out + "/results.h5");
  ASSERT_EQ(t.num_done(), 3);
  for (const auto& r : t.rows)
    for (double v : r.nll) EXPECT_TRUE(std::isfinite(v));
  for (const char* f : {"report.md", "summary.csv", "figure.png"}) EXPECT_TRUE(fs::exists(out + "/" + f)) << f;

  // Independent path: no cache at all, one forward over context + query + answer at the dumped
  // positions. fp32, same model: agreement to ~1e-6; 1e-4 is the project's bound.
  const auto decoder = model::Decoder::load(*dir_ + "/decoder");
  std::ifstream dump(out + "/tokens.jsonl");
  int checked = 0;
  for (std::string line; std::getline(dump, line);) {
    const auto j = json_util::parse(line, "tokens.jsonl");
    const auto sample = j["sample"].get<int64_t>();
    const auto q = j["query_ids"].get<std::vector<int64_t>>();
    const auto a = j["answer_ids"].get<std::vector<int64_t>>();
    for (size_t c = 0; c < j["conditions"].size(); ++c) {
      const auto& cond = j["conditions"][c];
      auto ids = cond["prefill_ids"].get<std::vector<int64_t>>();
      if (cond["kept_entries"].size() != ids.size()) continue;  // cut rows need cache surgery
      std::vector<int64_t> pos = cond["kept_positions"].get<std::vector<int64_t>>();
      const int64_t lc = static_cast<int64_t>(ids.size());
      const int64_t first = cond["scored_positions"].get<int64_t>();
      ids.insert(ids.end(), q.begin(), q.end());
      ids.insert(ids.end(), a.begin(), a.end());
      for (size_t k = 0; k < q.size() + a.size(); ++k) pos.push_back(first + static_cast<int64_t>(k));
      const int64_t n = static_cast<int64_t>(ids.size());
      auto logits = decoder.forward({at::tensor(ids, at::kLong).view({1, n}),
                                     at::tensor(pos, at::kLong).view({1, n}), {}, {}})[0];
      auto logp = at::log_softmax(logits, -1);
      double sum = 0;
      for (size_t k = 0; k < a.size(); ++k)
        sum -= logp[lc + static_cast<int64_t>(q.size() + k) - 1][a[k]].item<double>();
      EXPECT_NEAR(t.rows[sample].nll[c], sum / a.size(), 1e-4)
          << "sample " << sample << " " << cond["id"].get<std::string>();
      ++checked;
    }
  }
  EXPECT_GE(checked, 3 * 8);  // A1 A2 A3 B1 B2 B3 B4 E2 per sample

  // Resume: nothing left to do, numbers unchanged.
  ASSERT_EQ(run("run " + config("e2e", *dir_ + "/decoder")), 0);
  const auto again = io::read_results(out + "/results.h5");
  for (size_t i = 0; i < t.rows.size(); ++i) EXPECT_EQ(again.rows[i].nll, t.rows[i].nll);
  EXPECT_EQ(again.created_utc, t.created_utc);
}

TEST_F(RunEndToEnd, Nf4AtLoadEqualsSavedNf4Checkpoint) {
  ASSERT_EQ(run("quantize " + *dir_ + "/decoder " + *dir_ + "/decoder-nf4"), 0);
  ASSERT_EQ(run("run " + config("nf4-at-load", *dir_ + "/decoder", "nf4")), 0);
  ASSERT_EQ(run("run " + config("nf4-saved", *dir_ + "/decoder-nf4", "nf4")), 0);
  ASSERT_EQ(run("run " + config("fp32", *dir_ + "/decoder")), 0);
  const auto at_load = io::read_results(*dir_ + "/out-nf4-at-load/results.h5");
  const auto saved = io::read_results(*dir_ + "/out-nf4-saved/results.h5");
  const auto fp32 = io::read_results(*dir_ + "/out-fp32/results.h5");
  double moved = 0;
  for (size_t i = 0; i < at_load.rows.size(); ++i) {
    // The same 4-bit weights either way: identical surrogates and NLLs.
    EXPECT_EQ(saved.rows[i].surrogate, at_load.rows[i].surrogate);
    EXPECT_EQ(saved.rows[i].nll, at_load.rows[i].nll);
    // Against fp32 on the conditions that involve no surrogate (A1-A3: passage alone).
    for (size_t c = 0; c < fp32.condition_ids.size(); ++c)
      if (fp32.condition_ids[c][0] == 'A')
        moved = std::max(moved, std::abs(fp32.rows[i].nll[c] - at_load.rows[i].nll[c]));
  }
  EXPECT_GT(moved, 1e-3);  // the run really used the quantized weights
  // A saved NF4 checkpoint is not silently run as something else.
  EXPECT_NE(run("run " + config("nf4-as-none", *dir_ + "/decoder-nf4")), 0);
  EXPECT_FALSE(fs::exists(*dir_ + "/out-nf4-as-none"));
}

TEST_F(RunEndToEnd, BadInputsFailBeforeWriting) {
  EXPECT_NE(run("run " + config("nomodel", *dir_ + "/missing")), 0);
  EXPECT_FALSE(fs::exists(*dir_ + "/out-nomodel"));
  const auto bad = *dir_ + "/bad.yaml";
  std::ofstream(bad) << "name: bad\nmodel: {path: x, dtyp: fp32}\n";
  EXPECT_NE(run("run " + bad), 0);
  const auto empty = *dir_ + "/empty.jsonl";
  std::ofstream(empty) << "";
  auto cfg = config("emptydata", *dir_ + "/decoder");
  std::string text;
  {
    std::ifstream in(cfg);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  text.replace(text.find(test::source_path("configs/data/demo_msmarco.jsonl")),
               test::source_path("configs/data/demo_msmarco.jsonl").size(), empty);
  std::ofstream(cfg) << text;
  EXPECT_NE(run("run " + cfg), 0);
  EXPECT_FALSE(fs::exists(*dir_ + "/out-emptydata/results.h5"));
}

TEST_F(RunEndToEnd, DifferentConfigIsRefusedAndNeverOverwritten) {
  const auto cfg = config("guard", *dir_ + "/decoder");
  ASSERT_EQ(run("run " + cfg), 0);
  const auto path = *dir_ + "/out-guard/results.h5";
  const auto before = fs::last_write_time(path);
  std::ofstream(cfg, std::ios::app) << "runtime: {seed: 7}\n";
  EXPECT_NE(run("run " + cfg), 0);
  EXPECT_EQ(fs::last_write_time(path), before);
  std::ofstream(path, std::ios::trunc) << "not hdf5";
  EXPECT_NE(run("run " + cfg), 0);  // a damaged file is reported, not replaced
  std::ifstream in(path);
  std::string content((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(content, "not hdf5");
}

}  // namespace
}  // namespace dkv::experiment
