// Tokenizer API, error messages, invariants (round trips, long words) and `dkv tokenize`.
// Exact ids against HF are in test_tokenizer_golden.cpp.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "dkv/core/error.h"
#include "dkv/core/json_util.h"
#include "dkv/tokenizer/tokenizer.h"
#include "support.h"

namespace {

using dkv::tokenizer::Tokenizer;
using nlohmann::json;

std::string data_dir(const std::string& name) {
  return dkv::test::source_path("tests/data/tokenizers/" + name);
}

// Writes a copy of a committed tokenizer with `edit` applied to its tokenizer.json.
std::string edited(const std::string& base, const std::string& name,
                   const std::function<void(json&)>& edit) {
  json j = dkv::json_util::read_file(data_dir(base) + "/tokenizer.json");
  edit(j);
  std::string dir = dkv::test::scratch_dir(name);
  std::ofstream(dir + "/tokenizer.json") << j.dump();
  return dir;
}

// Expects InputError whose message contains every fragment.
void expect_input_error(const std::string& dir, std::vector<std::string> fragments) {
  try {
    Tokenizer::load(dir);
    ADD_FAILURE() << "expected InputError for " << dir;
  } catch (const dkv::InputError& e) {
    for (const auto& f : fragments)
      EXPECT_NE(std::string(e.what()).find(f), std::string::npos)
          << "message lacks '" << f << "': " << e.what();
  }
}

TEST(TokenizerErrors, NameTheFileAndKey) {
  expect_input_error(dkv::test::scratch_dir("tok_empty"), {"tok_empty/tokenizer.json", "not found"});
  expect_input_error(edited("bert_wp", "tok_nomodel", [](json& j) { j.erase("model"); }),
                     {"tok_nomodel/tokenizer.json", "'model'"});
  expect_input_error(edited("bert_wp", "tok_unigram", [](json& j) { j["model"]["type"] = "Unigram"; }),
                     {"tokenizer.json", "model.type 'Unigram' is not supported", "BPE, WordPiece"});
  expect_input_error(
      edited("bert_wp", "tok_pre", [](json& j) { j["pre_tokenizer"] = {{"type", "Foo"}}; }),
      {"tok_pre/tokenizer.json: pre_tokenizer.type 'Foo' is not supported (supported: Sequence"});
  expect_input_error(edited("llama3_bl", "tok_seq",
                            [](json& j) { j["pre_tokenizer"]["pretokenizers"][1]["type"] = "Bar"; }),
                     {"pre_tokenizer.pretokenizers[1].type 'Bar'"});
  expect_input_error(
      edited("bert_wp", "tok_norm", [](json& j) { j["normalizer"] = {{"type", "Baz"}}; }),
      {"normalizer.type 'Baz' is not supported"});
  expect_input_error(
      edited("bert_wp", "tok_dec", [](json& j) { j["decoder"] = {{"type", "CTC"}}; }),
      {"decoder.type 'CTC' is not supported"});
  expect_input_error(
      edited("bert_wp", "tok_post", [](json& j) { j["post_processor"] = {{"type", "Qux"}}; }),
      {"post_processor.type 'Qux' is not supported"});
  expect_input_error(
      edited("mistral_sp", "tok_merge", [](json& j) { j["model"]["merges"][3] = "nope"; }),
      {"model.merges[3]"});
  std::string bad = dkv::test::scratch_dir("tok_malformed");
  std::ofstream(bad + "/tokenizer.json") << "{\"model\": {";
  try {
    Tokenizer::load(bad);
    ADD_FAILURE() << "expected an error for malformed JSON";
  } catch (const dkv::Error& e) {
    EXPECT_NE(std::string(e.what()).find("tok_malformed/tokenizer.json"), std::string::npos)
        << e.what();
  }
}

TEST(TokenizerApi, MistralShapedIdsAndSpecials) {
  Tokenizer tok = Tokenizer::load(data_dir("mistral_sp"));
  EXPECT_EQ(tok.model_type(), "BPE");
  EXPECT_EQ(tok.token_to_id("<unk>"), 0);
  EXPECT_EQ(tok.bos_id(), 1);
  EXPECT_EQ(tok.eos_id(), 2);
  EXPECT_EQ(tok.token_to_id("<0x0A>"), 3 + 0x0A);
  EXPECT_EQ(tok.id_to_token(2), "</s>");
  EXPECT_EQ(tok.add_bos_token(), true);
  EXPECT_EQ(tok.vocab_size(), 1620u);  // documented in tests/data/tokenizers/README.md
  EXPECT_EQ(tok.encode("Hello", true).front(), 1);
  EXPECT_THROW(tok.decode({99999}), dkv::InputError);
  EXPECT_THROW(tok.encode(std::string("bad \xff utf8")), dkv::InputError);
}

TEST(TokenizerApi, CopiedFixtureEncodesTheSame) {
  std::string dest = dkv::test::scratch_dir("tok_copy");
  Tokenizer copy = dkv::tokenizer::copy_tokenizer_files(data_dir("mistral_sp"), dest);
  Tokenizer orig = Tokenizer::load(data_dir("mistral_sp"));
  EXPECT_EQ(copy.encode("Document:\nThe store opens at 9:00."), orig.encode("Document:\nThe store opens at 9:00."));
  EXPECT_EQ(copy.chat_template(), orig.chat_template());
  EXPECT_EQ(copy.bos_id(), 1);
  EXPECT_THROW(dkv::tokenizer::copy_tokenizer_files(dkv::test::scratch_dir("tok_none"), dest),
               dkv::InputError);
}

// Random text over ASCII, Latin-1, CJK and astral code points survives encode -> decode through
// byte fallback (SentencePiece layout) and byte-level BPE.
TEST(TokenizerBpe, ByteFallbackRoundTrips) {
  std::mt19937 rng(5);
  const char32_t ranges[][2] = {{0x20, 0x7E}, {0xA0, 0x24F}, {0x4E00, 0x9FFF}, {0x1F300, 0x1FAFF},
                                {'\n', '\n'}, {0x300, 0x36F}};
  for (const char* name : {"mistral_sp", "llama3_bl"}) {
    Tokenizer tok = Tokenizer::load(data_dir(name));
    for (int n = 0; n < 200; ++n) {
      std::string s;
      s += 'x';  // a leading space would lose one "▁" to the decoder's Strip, as in HF
      for (int k = 0; k < 30; ++k) {
        const auto& r = ranges[rng() % 6];
        char32_t c = r[0] + rng() % (r[1] - r[0] + 1);
        // append UTF-8
        if (c < 0x80) {
          s += static_cast<char>(c);
        } else if (c < 0x800) {
          s += static_cast<char>(0xC0 | (c >> 6)), s += static_cast<char>(0x80 | (c & 0x3F));
        } else if (c < 0x10000) {
          s += static_cast<char>(0xE0 | (c >> 12)), s += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
          s += static_cast<char>(0x80 | (c & 0x3F));
        } else {
          s += static_cast<char>(0xF0 | (c >> 18)), s += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
          s += static_cast<char>(0x80 | ((c >> 6) & 0x3F)), s += static_cast<char>(0x80 | (c & 0x3F));
        }
      }
      ASSERT_EQ(tok.decode(tok.encode(s, true), true), s) << name;
    }
  }
}

// A 200k-character word must not take quadratic time (HF's heap-based merge is O(n log n)).
TEST(TokenizerBpe, LongWordsMergeWithoutQuadraticTime) {
  std::string word;
  for (int i = 0; i < 20000; ++i) word += "storeopens";
  for (const char* name : {"mistral_sp", "llama3_bl"}) {
    Tokenizer tok = Tokenizer::load(data_dir(name));
    auto t0 = std::chrono::steady_clock::now();
    auto ids = tok.encode(word, false);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_LT(s, 2.0) << name << ": " << ids.size() << " ids";
    EXPECT_EQ(tok.decode(ids), name == std::string("mistral_sp") ? word : word);
    // The same short word repeated gives the same ids each time (the word cache is consistent).
    auto a = tok.encode("storeopens storeopens", false);
    EXPECT_EQ(a, tok.encode("storeopens storeopens", false));
  }
}

TEST(TokenizerBpe, ConcurrentEncodesAgree) {
  Tokenizer tok = Tokenizer::load(data_dir("llama3_bl"));
  const std::string text = "How much does coffee cost? Most people pay between $20 and $300.";
  auto want = tok.encode(text);
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) ok[t] += tok.encode(text) == want;
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(ok[t], 200);
}

TEST(TokenizerWordPiece, OverlongWordsBecomeUnk) {
  Tokenizer tok = Tokenizer::load(data_dir("bert_wp"));
  auto unk = *tok.token_to_id("[UNK]");
  auto ids = tok.encode(std::string(101, 'a'), false);  // max_input_chars_per_word = 100
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_EQ(ids[0], unk);
  EXPECT_NE(tok.encode(std::string(100, 'a'), false), std::vector<int64_t>{unk});
  auto with = tok.encode("hello", true);
  EXPECT_EQ(with.front(), *tok.token_to_id("[CLS]"));
  EXPECT_EQ(with.back(), *tok.token_to_id("[SEP]"));
}

TEST(TokenizerCli, TokenizeMatchesLibrary) {
  std::string dir = dkv::test::scratch_dir("cli_tokenize");
  std::ofstream(dir + "/in.jsonl") << "{\"text\": \"Hello world\"}\n{\"text\": \"<s>x\\n y\"}\n";
  for (bool special : {true, false}) {
    std::string cmd = std::string(DKV_BINARY) + " tokenize --tokenizer " + data_dir("mistral_sp") +
                      (special ? "" : " --no-special") + " < " + dir + "/in.jsonl";
    FILE* f = popen(cmd.c_str(), "r");
    ASSERT_NE(f, nullptr);
    std::string out;
    char buf[4096];
    while (size_t n = fread(buf, 1, sizeof buf, f)) out.append(buf, n);
    ASSERT_EQ(pclose(f), 0) << cmd;
    Tokenizer tok = Tokenizer::load(data_dir("mistral_sp"));
    std::string want = json{{"ids", tok.encode("Hello world", special)}}.dump() + "\n" +
                       json{{"ids", tok.encode("<s>x\n y", special)}}.dump() + "\n";
    EXPECT_EQ(out, want);
  }
}

}  // namespace
