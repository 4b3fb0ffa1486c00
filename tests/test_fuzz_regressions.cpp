// Inputs the fuzzers found (tests/fuzz/regressions/<target>/) replayed on the core readers:
// each must end in dkv::InputError, never another exception or a crash. (The results-file
// findings replay in test_hardening_files.cpp, with the experiment side.)
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "dkv/core/error.h"
#include "dkv/core/json_util.h"
#include "dkv/model/safetensors.h"
#include "dkv/tokenizer/tokenizer.h"
#include "support.h"

namespace dkv {
namespace {

TEST(FuzzRegressions, SafetensorsFindingsAreInputErrors) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(test::source_path("tests/fuzz/regressions/safetensors_header"))) {
    ++n;
    EXPECT_THROW(model::SafetensorsFile::open(e.path().string()), InputError) << e.path();
  }
  EXPECT_GE(n, 1);
}

TEST(FuzzRegressions, TokenizerFindingsAreInputErrors) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(test::source_path("tests/fuzz/regressions/tokenizer_json"))) {
    ++n;
    // As the fuzz target: the tokenizer.json part ends at "\n\x01\n" when present.
    std::ifstream in(e.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    bytes = bytes.substr(0, bytes.find("\n\x01\n"));
    const auto json = test::scratch_dir("fuzz-tokenizer") + "/tokenizer.json";
    std::ofstream(json, std::ios::binary) << bytes;
    EXPECT_THROW(tokenizer::Tokenizer::from_file(json), InputError) << e.path();
  }
  EXPECT_GE(n, 1);
}

TEST(FuzzRegressions, JsonNumberOutOfRangeIsAnInputError) {
  EXPECT_THROW(json_util::parse("{\"a\": 5E155511}", "x.json"), InputError);
}

}  // namespace
}  // namespace dkv
