// Malformed GGUF files: each class of damage gives an InputError that names what is wrong,
// before anything is read past the end of the file.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include "dkv/model/checkpoint.h"
#include "dkv/model/gguf_file.h"
#include "dkv/tokenizer/tokenizer.h"
#include "support.h"

namespace dkv::model {
namespace {

// A byte-level GGUF writer for hand-made damage.
struct Bytes {
  std::vector<uint8_t> b;
  template <typename T>
  Bytes& put(T v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    b.insert(b.end(), p, p + sizeof(T));
    return *this;
  }
  Bytes& str(const std::string& s) {
    put<uint64_t>(s.size());
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  Bytes& pad(size_t alignment) {
    while (b.size() % alignment) b.push_back(0);
    return *this;
  }
};

// Header with one u32 key and one F32 tensor "t" of `n` elements at offset 0, then its data.
Bytes valid_file(uint64_t n = 8) {
  Bytes f;
  f.put<uint32_t>(0x46554747).put<uint32_t>(3).put<uint64_t>(1).put<uint64_t>(1);
  f.str("general.alignment").put<uint32_t>(4).put<uint32_t>(32);
  f.str("t").put<uint32_t>(1).put<uint64_t>(n).put<uint32_t>(0).put<uint64_t>(0);
  f.pad(32);
  for (uint64_t i = 0; i < n; ++i) f.put<float>(static_cast<float>(i));
  return f;
}

std::string write(const Bytes& f, const std::string& name) {
  const auto path = test::scratch_dir("gguf-bad") + "/" + name + ".gguf";
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(f.b.data()), f.b.size());
  return path;
}

void expect_error(const Bytes& f, const std::string& name, std::initializer_list<std::string> fragments) {
  const auto path = write(f, name);
  test::expect_input_error([&] { GgufFile::open(path); }, fragments);
}

TEST(GgufMalformed, TheValidBaseFileOpens) {  // so that each case below fails for its own reason
  const auto g = GgufFile::open(write(valid_file(), "valid"));
  ASSERT_NE(g.find_tensor("t"), nullptr);
  EXPECT_EQ(g.find_tensor("t")->size_bytes, 32u);
  EXPECT_EQ(g.get_int("general.alignment"), 32);
}

TEST(GgufMalformed, TruncatedFilesNameWhatIsMissing) {
  const auto full = valid_file();
  for (size_t keep : {size_t{3}, size_t{20}, size_t{40}, size_t{70}, full.b.size() - 4}) {
    Bytes cut;
    cut.b.assign(full.b.begin(), full.b.begin() + static_cast<std::ptrdiff_t>(keep));
    const auto path = write(cut, "truncated" + std::to_string(keep));
    try {
      GgufFile::open(path);
      ADD_FAILURE() << "no error for a file cut at " << keep;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
  }
  Bytes cut;
  cut.b.assign(full.b.begin(), full.b.end() - 4);
  expect_error(cut, "truncated-data", {"tensor 't'", "past its end", "truncated"});
}

TEST(GgufMalformed, HugeCountsAreRefusedBeforeAllocating) {
  Bytes f;
  f.put<uint32_t>(0x46554747).put<uint32_t>(3).put<uint64_t>(0).put<uint64_t>(uint64_t{1} << 60);
  expect_error(f, "huge-keys", {"metadata key count", "cannot fit"});
  Bytes g;
  g.put<uint32_t>(0x46554747).put<uint32_t>(3).put<uint64_t>(uint64_t{1} << 60).put<uint64_t>(0);
  expect_error(g, "huge-tensors", {"tensor count", "cannot fit"});
  Bytes s;
  s.put<uint32_t>(0x46554747).put<uint32_t>(3).put<uint64_t>(0).put<uint64_t>(1).put<uint64_t>(~uint64_t{0});
  s.b.resize(s.b.size() + 64);  // room for the one key the count announces
  expect_error(s, "huge-string", {"string length", "past the end"});
  Bytes a;
  a.put<uint32_t>(0x46554747).put<uint32_t>(3).put<uint64_t>(0).put<uint64_t>(1);
  a.str("tokenizer.ggml.tokens").put<uint32_t>(9).put<uint32_t>(8).put<uint64_t>(uint64_t{1} << 50);
  expect_error(a, "huge-array", {"tokenizer.ggml.tokens", "array of", "cannot fit"});
}

TEST(GgufMalformed, OffsetsPastTheEndOrMisalignedAreRefused) {
  auto f = valid_file();
  // The tensor offset is the last 8 bytes of the header, just before the padding.
  const size_t header_end = 4 + 4 + 8 + 8 + (8 + 17 + 4 + 4) + (8 + 1 + 4 + 8 + 4 + 8);
  uint64_t far = 1 << 20;
  std::memcpy(&f.b[header_end - 8], &far, 8);
  expect_error(f, "offset-past-end", {"tensor 't'", "past its end"});
  uint64_t odd = 4;
  std::memcpy(&f.b[header_end - 8], &odd, 8);
  expect_error(f, "offset-misaligned", {"tensor 't'", "offset 4", "alignment 32"});
}

TEST(GgufMalformed, UnknownTypesAreNamed) {
  auto f = valid_file();
  const size_t type_at = 4 + 4 + 8 + 8 + (8 + 17 + 4 + 4) + (8 + 1 + 4 + 8);
  uint32_t iq2 = 16;
  std::memcpy(&f.b[type_at], &iq2, 4);
  expect_error(f, "iq2", {"tensor 't'", "IQ2_XXS", "not supported"});
  uint32_t unknown = 999;
  std::memcpy(&f.b[type_at], &unknown, 4);
  expect_error(f, "unknown-tensor-type", {"unknown type 999"});
  auto g = valid_file();
  const size_t value_type_at = 4 + 4 + 8 + 8 + 8 + 17;
  std::memcpy(&g.b[value_type_at], &unknown, 4);
  expect_error(g, "unknown-value-type", {"general.alignment", "unknown value type 999"});
}

TEST(GgufMalformed, BadMagicVersionAndDuplicatesAreRefused) {
  auto f = valid_file();
  f.b[0] = 'X';
  expect_error(f, "magic", {"not a GGUF file"});
  auto v = valid_file();
  v.b[4] = 1;
  expect_error(v, "version1", {"GGUF version 1", "versions 2 and 3"});
  Bytes d;
  d.put<uint32_t>(0x46554747).put<uint32_t>(2).put<uint64_t>(0).put<uint64_t>(2);
  d.str("a").put<uint32_t>(4).put<uint32_t>(1).str("a").put<uint32_t>(4).put<uint32_t>(2);
  expect_error(d, "duplicate-key", {"metadata key 'a' appears twice"});
}

TEST(GgufMalformed, TokenTextsThatAreNotUtf8AreRefused) {  // fuzzer finding: an internal check fired
  Bytes f;
  f.put<uint32_t>(0x46554747).put<uint32_t>(3).put<uint64_t>(0).put<uint64_t>(3);
  f.str("tokenizer.ggml.model").put<uint32_t>(8).str("llama");
  f.str("tokenizer.ggml.tokens").put<uint32_t>(9).put<uint32_t>(8).put<uint64_t>(2).str("ab").str("\xe2\x96");
  f.str("tokenizer.ggml.scores").put<uint32_t>(9).put<uint32_t>(6).put<uint64_t>(2).put<float>(0).put<float>(0);
  const auto path = write(f, "token-not-utf8");
  test::expect_input_error([&] { tokenizer::Tokenizer::load(path); },
                           {"tokenizer.ggml.tokens'[1]", "not valid UTF-8"});
}

TEST(GgufMalformed, ACheckpointWithoutLlamaMetadataNamesTheKey) {
  const auto path = write(valid_file(), "no-arch");
  test::expect_input_error([&] { Checkpoint::open(path); }, {path, "general.architecture", "missing"});
}

}  // namespace
}  // namespace dkv::model
