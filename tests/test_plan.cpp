// Condition plans on the committed Mistral-shaped tokenizer, and the study's identities
// end to end (plan -> cache -> score) on a tiny model with that vocabulary.
#include <gtest/gtest.h>

#include <cmath>

#include "dkv/experiment/plan.h"
#include "dkv/experiment/scoring.h"
#include "dkv/model/decoder.h"
#include "dkv/tokenizer/tokenizer.h"
#include "support.h"

namespace dkv::experiment {
namespace {

class Plans : public ::testing::Test {
 protected:
  void SetUp() override {
    tok_ = std::make_unique<tokenizer::Tokenizer>(
        tokenizer::Tokenizer::load(test::source_path("tests/data/tokenizers/mistral_sp")));
    spec_.conditions = study_conditions();
    auto empty = spec_.conditions[8];  // C2 with an empty prefix
    empty.id = "Z0";
    empty.segments[0] = {"empty_prefix", SurrogateKind::none, false};
    spec_.texts.templates["empty_prefix"] = "";
    spec_.conditions.push_back(empty);
    // Ends without a period: this small vocabulary merges ".\n\n", which would (rightly) flag
    // D1's boundary; the real Mistral vocabulary has no such merge.
    texts_ = {"The Eiffel Tower was built between 1887 and 1889 as the entrance arch for the World's Fair",
              "when was the eiffel tower built", "Between 1887 and 1889", {}};
    texts_.surrogates = {{SurrogateKind::generated, "eiffel tower construction date"},
                         {SurrogateKind::perfect, texts_.query},
                         {SurrogateKind::static_query, spec_.surrogate.static_query},
                         {SurrogateKind::random, "zq lorem 17 vx"}};
  }
  EncodeFn encode() const {
    return [this](const std::string& t, bool special) { return tok_->encode(t, special); };
  }
  SamplePlan plan() const {
    auto t = texts_;
    t.surrogates[SurrogateKind::generated] = texts_.surrogates.at(SurrogateKind::generated);
    auto p = plan_sample(spec_, t, encode(), tok_->bos_id());
    return p;
  }
  int index(const std::string& id) const {
    for (size_t i = 0; i < spec_.conditions.size(); ++i)
      if (spec_.conditions[i].id == id) return static_cast<int>(i);
    return -1;
  }
  std::unique_ptr<tokenizer::Tokenizer> tok_;
  ExperimentSpec spec_;
  SampleTexts texts_;
};

TEST_F(Plans, RowsWithoutABosEntryAreFlagged) {
  for (const auto& c : plan().conditions) EXPECT_EQ(c.flags & kNoBosEntry, 0u) << "mistral_sp adds <s>";
  // A tokenizer that adds no BOS (SmolLM2's GGUF): every row's cache starts without one.
  const auto smol = tokenizer::Tokenizer::load(test::source_path("tests/data/gguf/tiny_llama_bpe.gguf"));
  EncodeFn no_bos = [&](const std::string& t, bool) { return smol.encode(t, false); };
  auto p = plan_sample(spec_, texts_, no_bos, smol.bos_id());
  for (const auto& c : p.conditions) EXPECT_NE(c.flags & kNoBosEntry, 0u) << c.prefill_ids.size();
  // With a BOS, a cut that drops it (keep_bos: false) is flagged too, and only that one.
  spec_.conditions[index("C2")].keep_bos = false;
  p = plan();
  EXPECT_NE(p.conditions[index("C2")].flags & kNoBosEntry, 0u);
  EXPECT_EQ(p.conditions[index("C4")].flags & kNoBosEntry, 0u);
}

TEST_F(Plans, CutKeepsBosAndJointDocumentTokens) {
  auto p = plan();
  const auto& c2 = p.conditions[index("C2")];
  const auto pre = tok_->encode(fill_template(spec_.texts.templates["prefix"], "", "eiffel tower construction date", ""), true);
  ASSERT_EQ(c2.flags & kBoundaryMismatch, 0u);
  ASSERT_EQ(c2.keep.front(), 0);
  EXPECT_EQ(c2.prefill_ids[0], *tok_->bos_id());
  EXPECT_EQ(c2.keep[1], static_cast<int64_t>(pre.size()));
  EXPECT_EQ(c2.keep.size(), c2.prefill_ids.size() - pre.size() + 1);
  EXPECT_EQ(c2.delta[0], 0);
  EXPECT_EQ(c2.delta[1], -static_cast<int64_t>(pre.size() - 1));
  // The document's tokens come from the joint tokenization, which differs from the document
  // tokenized alone (the study's third bug): "Document" vs "▁Document".
  const auto alone = tok_->encode(fill_template(spec_.texts.templates["document"], texts_.passage, "", ""), false);
  std::vector<int64_t> joint(c2.prefill_ids.begin() + pre.size(), c2.prefill_ids.end());
  EXPECT_NE(joint, alone);
  EXPECT_TRUE(p.conditions[index("C1")].delta.empty());
  EXPECT_EQ(p.conditions[index("C1")].keep, c2.keep);
  // The query prompt starts with the lone "▁" HF's Mistral tokenizer gives "\n\n..." texts.
  EXPECT_EQ(p.query_ids, tok_->encode("\n\nQuery: " + texts_.query + "\n\nAnswer:", false));
}

TEST_F(Plans, BoundaryMismatchIsFlaggedNotHidden) {
  spec_.texts.templates["glued"] = "{surrogate}";  // no separator: merges across the boundary
  ConditionSpec c;
  c.id = "G";
  c.name = "glued";
  c.segments = {{"glued", SurrogateKind::generated, false}, {"bare_document", SurrogateKind::none, true}};
  c.reposition = true;
  spec_.conditions = {c};
  // A trailing space tokenizes as a lone "▁" alone but joins the next word in the joint text.
  texts_.surrogates[SurrogateKind::generated] = "Eiffel ";
  texts_.passage = "Tower";
  auto p = plan_sample(spec_, texts_, encode(), tok_->bos_id());
  EXPECT_NE(p.conditions[0].flags & kBoundaryMismatch, 0u);
  // The cut follows the longest common prefix: entries kept are exactly those after it.
  const auto pre = tok_->encode("Eiffel ", true);
  const auto& full = p.conditions[0].prefill_ids;
  size_t lcp = 0;
  while (lcp < pre.size() && lcp < full.size() && pre[lcp] == full[lcp]) ++lcp;
  EXPECT_EQ(p.conditions[0].keep.size(), 1 + full.size() - lcp);
}

TEST_F(Plans, StudyIdentitiesOnATinyModel) {
  auto o = test::tiny_options(model::Architecture::mistral, 51);
  o.vocab_size = static_cast<int64_t>(tok_->vocab_size());
  auto decoder = model::Decoder::load(test::tiny_model_dir(o, "plan-identities"));
  auto p = plan();
  auto s = score_plans(decoder, {p}, 1 << 20, nullptr)[0];
  const auto A1 = s[index("A1")], C1 = s[index("C1")], C2 = s[index("C2")], D1 = s[index("D1")];
  // Empty prefix: nothing cut, delta 0 -> A1 (the same prefill, so equal to rounding).
  EXPECT_NEAR(s[index("Z0")].nll_mean, A1.nll_mean, 1e-5);
  // D1's document tokens are a prefix of B4's (clean boundary), so D1 reuses A1's entries.
  ASSERT_EQ(p.conditions[index("D1")].flags, 0u);
  EXPECT_EQ(D1.nll_mean, A1.nll_mean);
  EXPECT_GT(std::abs(C1.nll_mean - C2.nll_mean), 1e-4);
  for (const auto& c : s) EXPECT_TRUE(std::isfinite(c.nll_mean));
}

}  // namespace
}  // namespace dkv::experiment
