// results.h5: round trips, and foreign or damaged files give InputError and stay untouched.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "dkv/core/error.h"
#include "dkv/io/results_file.h"
#include "support.h"

namespace dkv::io {
namespace {

ResultsTable sample_table() {
  RunIdentity id{"0.1.0", "name: t\n", "abc", "m", "t", "e", "d"};
  auto t = new_table(id, {"A1", "C2"}, {"baseline", "trunc_generated_corrected"}, 3);
  t.rows[1].done = true;
  t.rows[1].query = "what is é ✓?";
  t.rows[1].passage = std::string("multi\nline"), t.rows[1].surrogate = "s";
  t.rows[1].nll = {1.25, 0.5};
  t.rows[1].first_token_nll = {2.0, 1.0};
  t.rows[1].answer_tokens = {3, 3};
  t.rows[1].flags = {0, 1};
  t.rows[1].similarity = 0.75;
  t.rows[2].error = "boom";
  return t;
}

std::string slurp(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(ResultsFile, RoundTripsEveryField) {
  const auto path = test::scratch_dir("rf") + "/results.h5";
  auto t = sample_table();
  write_results(path, t);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  auto r = read_results(path);
  EXPECT_EQ(r.identity.config_hash, "abc");
  EXPECT_EQ(r.condition_ids, t.condition_ids);
  EXPECT_EQ(r.num_done(), 1);
  EXPECT_EQ(r.rows[1].query, "what is é ✓?");
  EXPECT_EQ(r.rows[1].passage, "multi\nline");
  EXPECT_EQ(r.rows[1].nll, t.rows[1].nll);
  EXPECT_EQ(r.rows[1].flags, t.rows[1].flags);
  EXPECT_EQ(r.rows[2].error, "boom");
  EXPECT_TRUE(std::isnan(r.rows[0].nll[0]));
}

TEST(ResultsFile, NamedSurrogatesAndExclusionsRoundTrip) {
  const auto path = test::scratch_dir("rf-named") + "/results.h5";
  auto t = sample_table();
  t.surrogate_names = {"llm_keywords", "factual"};
  for (auto& r : t.rows) r.named_surrogates = {"kw " + r.query, "What are the key facts I need to know?"};
  t.rows[0].exclusion = "the answer has 1 token(s), fewer than scoring.min_answer_tokens = 2";
  write_results(path, t);
  const auto r = read_results(path);
  EXPECT_EQ(r.surrogate_names, t.surrogate_names);
  for (size_t i = 0; i < t.rows.size(); ++i) EXPECT_EQ(r.rows[i].named_surrogates, t.rows[i].named_surrogates) << i;
  EXPECT_EQ(r.rows[0].exclusion, t.rows[0].exclusion);
  EXPECT_EQ(r.rows[1].exclusion, "");
  // A file without sources has no surrogates group and reads back without names.
  auto plain = sample_table();
  write_results(path, plain);
  EXPECT_TRUE(read_results(path).surrogate_names.empty());
}

TEST(ResultsFile, GarbageAndTruncatedFilesAreRejectedUntouched) {
  const auto dir = test::scratch_dir("rf-bad");
  auto t = sample_table();
  write_results(dir + "/good.h5", t);
  const auto good = slurp(dir + "/good.h5");
  std::ofstream(dir + "/garbage.h5", std::ios::binary) << "this is not hdf5 at all";
  std::ofstream(dir + "/truncated.h5", std::ios::binary) << good.substr(0, good.size() / 2);
  for (const char* name : {"garbage.h5", "truncated.h5"}) {
    const auto p = dir + "/" + name;
    const auto before = slurp(p);
    EXPECT_THROW(read_results(p), InputError) << name;
    EXPECT_EQ(slurp(p), before) << name << " was modified";
  }
}

TEST(ResultsFile, ForeignHdf5IsNamedAsSuch) {
  const auto path = test::scratch_dir("rf-foreign") + "/other.h5";
  hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  H5Fclose(f);
  try {
    read_results(path);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("not a dkv results file"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace dkv::io
