// Rows travel between ranks as bytes (dist/row_codec.h): every field survives, named
// surrogates and exclusions included.
#include <gtest/gtest.h>

#include "dkv/dist/row_codec.h"

namespace dkv::dist {
namespace {

TEST(RowCodec, EveryFieldSurvivesTheTrip) {
  io::SampleRow r;
  r.done = true;
  r.query_id = "q1";
  r.query = "what is é";
  r.passage = "multi\nline";
  r.answer = "a";
  r.surrogate = "s";
  r.random_prefix = "zq";
  r.error = "";
  r.exclusion = "too short";
  r.named_surrogates = {"kw one", "", "What are the key facts I need to know?"};
  r.source_line = 17;
  r.similarity = 0.5;
  r.seconds = 1.5;
  r.nll = {1.0, 2.0};
  r.first_token_nll = {3.0, 4.0};
  r.answer_tokens = {2, 2};
  r.flags = {0, 16};
  const auto back = decode_rows(encode_rows({{7, r}}));
  ASSERT_EQ(back.size(), 1u);
  const auto& b = back[0].second;
  EXPECT_EQ(back[0].first, 7);
  EXPECT_EQ(b.exclusion, r.exclusion);
  EXPECT_EQ(b.named_surrogates, r.named_surrogates);
  EXPECT_EQ(b.query, r.query);
  EXPECT_EQ(b.passage, r.passage);
  EXPECT_EQ(b.random_prefix, r.random_prefix);
  EXPECT_EQ(b.source_line, 17);
  EXPECT_EQ(b.nll, r.nll);
  EXPECT_EQ(b.flags, r.flags);
}

}  // namespace
}  // namespace dkv::dist
