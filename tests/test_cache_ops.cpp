// Matched tokenization and cache operations on the real decoder (a tiny random model with the
// committed Mistral-shaped tokenizer): identities that hold by construction, checked end to
// end through plans, caches and scores.
#include <gtest/gtest.h>

#include <cmath>

#include "dkv/experiment/plan.h"
#include "dkv/experiment/scoring.h"
#include "dkv/model/decoder.h"
#include "dkv/tokenizer/tokenizer.h"
#include "support.h"

namespace dkv::experiment {
namespace {

class CacheOps : public ::testing::Test {
 protected:
  void SetUp() override {
    tok_ = std::make_unique<tokenizer::Tokenizer>(
        tokenizer::Tokenizer::load(test::source_path("tests/data/tokenizers/mistral_sp")));
    auto o = test::tiny_options(model::Architecture::llama, 23);
    o.vocab_size = static_cast<int64_t>(tok_->vocab_size());
    o.num_hidden_layers = 3;
    decoder_ = std::make_unique<model::Decoder>(model::Decoder::load(test::tiny_model_dir(o, "cache-ops")));
    // Ends with a period: this vocabulary merges ".\n\n", so joint tokenization moves the
    // boundary of every suffix condition (and flags it); matched tokenization cannot.
    texts_ = {"The Eiffel Tower was built between 1887 and 1889 as the entrance arch for the World's Fair.",
              "when was the eiffel tower built", "Between 1887 and 1889", {}};
    texts_.surrogates = {{SurrogateKind::generated, "eiffel tower construction date"},
                         {SurrogateKind::perfect, texts_.query},
                         {SurrogateKind::static_query, "What are the key facts I need to know?"},
                         {SurrogateKind::random, "zq lorem 17 vx"}};
  }
  EncodeFn encode() const {
    return [this](const std::string& t, bool special) { return tok_->encode(t, special); };
  }
  SamplePlan plan(const ExperimentSpec& spec) const { return plan_sample(spec, texts_, encode(), tok_->bos_id()); }
  static int index(const ExperimentSpec& spec, const std::string& id) {
    for (size_t i = 0; i < spec.conditions.size(); ++i)
      if (spec.conditions[i].id == id) return static_cast<int>(i);
    ADD_FAILURE() << "no condition " << id;
    return 0;
  }
  // Budget 1: every scoring row runs alone, so two rows with bit-identical caches and
  // continuations go through identical kernels and must give bit-identical NLLs.
  std::vector<ConditionScore> score_alone(const SamplePlan& p, ScoringStats* st = nullptr) const {
    return score_plans(*decoder_, {p}, 1, st)[0];
  }
  static ConditionSpec mix(const std::string& id, const std::string& keys, const std::string& values) {
    ConditionSpec c;
    c.id = c.name = id;
    c.mix = CacheMixSpec{keys, values};
    return c;
  }
  std::unique_ptr<tokenizer::Tokenizer> tok_;
  std::unique_ptr<model::Decoder> decoder_;
  SampleTexts texts_;
};

TEST_F(CacheOps, MatchedTokenizationMakesEveryCutExact) {
  ExperimentSpec spec;
  spec.conditions = study_conditions();
  uint32_t joint_flags = 0;
  for (const auto& c : plan(spec).conditions) joint_flags |= c.flags;
  ASSERT_NE(joint_flags & kBoundaryMismatch, 0u) << "the joint case must show the problem, or this test proves nothing";
  spec.texts.tokenization = "matched";
  const auto p = plan(spec);
  for (const auto& c : p.conditions) EXPECT_EQ(c.flags & kBoundaryMismatch, 0u);
  // Every condition holds the same document ids: A1's entries 1.. are C2's and D1's kept ones.
  const auto& a1 = p.conditions[index(spec, "A1")];
  const std::vector<int64_t> doc(a1.prefill_ids.begin() + 1, a1.prefill_ids.end());
  for (const char* id : {"C2", "D1", "C5"}) {
    const auto& c = p.conditions[index(spec, id)];
    std::vector<int64_t> kept;
    for (size_t i = 1; i < c.keep.size(); ++i) kept.push_back(c.prefill_ids[c.keep[i]]);
    EXPECT_EQ(kept, doc) << id;
    EXPECT_EQ(c.prefill_ids[c.keep[0]], *tok_->bos_id()) << id;
  }
}

TEST_F(CacheOps, MatchedD1EqualsA1BitForBit) {
  ExperimentSpec spec;
  spec.conditions = study_conditions();
  spec.texts.tokenization = "matched";
  const auto r = score_alone(plan(spec));
  EXPECT_EQ(r[index(spec, "D1")].nll_mean, r[index(spec, "A1")].nll_mean);
  EXPECT_EQ(r[index(spec, "D1")].nll_first_token, r[index(spec, "A1")].nll_first_token);
  // ... while the suffix kept (B4) and the prefix cut (C2) do change the NLL.
  EXPECT_GT(std::abs(r[index(spec, "B4")].nll_mean - r[index(spec, "A1")].nll_mean), 1e-4);
  EXPECT_GT(std::abs(r[index(spec, "C2")].nll_mean - r[index(spec, "A1")].nll_mean), 1e-4);
}

TEST_F(CacheOps, HybridIdentitiesHold) {
  ExperimentSpec spec;
  spec.texts.tokenization = "matched";
  auto all = study_conditions();
  spec.conditions = {all[0], all[11]};  // A1 (bare) and C5 (cut static prefix, re-positioned)
  auto add = [&](ConditionSpec c) { spec.conditions.push_back(std::move(c)); };
  add(mix("values_from_bare", "A1", "A1"));
  add(mix("values_only", "A1", "C5"));
  auto all_layers = mix("values_only_all_layers", "A1", "C5");
  all_layers.mix->layers = {0, 1, 2};
  add(all_layers);
  auto alpha0 = mix("alpha_0", "A1", "C5");
  alpha0.mix->alpha = 0;
  add(alpha0);
  auto alpha1 = mix("alpha_1", "A1", "C5");
  alpha1.mix->alpha = 1.0;
  add(alpha1);
  auto half = mix("alpha_half", "A1", "C5");
  half.mix->alpha = 0.5;
  add(half);
  add(mix("keys_only", "C5", "A1"));
  auto one_layer = mix("values_layer_1", "A1", "C5");
  one_layer.mix->layers = {1};
  add(one_layer);
  const auto p = plan(spec);
  ScoringStats st;
  const auto r = score_alone(p, &st);
  auto nll = [&](const char* id) { return r[index(spec, id)].nll_mean; };
  EXPECT_EQ(nll("values_from_bare"), nll("A1"));
  EXPECT_EQ(nll("values_only_all_layers"), nll("values_only"));
  EXPECT_EQ(nll("alpha_0"), nll("A1"));
  EXPECT_EQ(nll("alpha_1"), nll("values_only"));
  // Keys and values sources swapped: a different cache, a different NLL.
  EXPECT_GT(std::abs(nll("keys_only") - nll("values_only")), 1e-4);
  EXPECT_GT(std::abs(nll("values_only") - nll("A1")), 1e-4);
  EXPECT_GT(std::abs(nll("values_layer_1") - nll("values_only")), 1e-6);
  EXPECT_NE(nll("alpha_half"), nll("A1"));
  EXPECT_NE(nll("alpha_half"), nll("values_only"));
  // The planner sees through mixes: A1's and C5's prefills only.
  EXPECT_EQ(st.prefills, 2);
}

TEST_F(CacheOps, ValuesFromAnotherSampleOnTheOverlap) {
  ExperimentSpec spec;
  spec.texts.tokenization = "matched";
  auto all = study_conditions();
  spec.conditions = {all[0], all[11], mix("same", "A1", "C5"), mix("cross", "A1", "C5")};
  spec.conditions[3].mix->other_sample = true;
  // A partner with the very same texts: its cache is this sample's, so the cross mix must equal
  // the same-sample one bit for bit (and it shares the prefill).
  texts_.partner = std::make_shared<const SampleTexts>(texts_);
  ScoringStats st;
  auto r = score_alone(plan(spec), &st);
  EXPECT_EQ(r[3].nll_mean, r[2].nll_mean);
  EXPECT_EQ(st.prefills, 2);
  // A partner with a shorter, different passage: values replaced on the overlap only.
  auto other = texts_;
  other.passage = "Mount Fuji is the highest mountain in Japan.";
  other.partner = nullptr;
  texts_.partner = std::make_shared<const SampleTexts>(other);
  const auto p = plan(spec);
  ASSERT_EQ(p.partner.size(), 1u);
  const auto& own = p.conditions[0];
  const auto& theirs = p.partner[0];
  EXPECT_LT(theirs.doc_end - theirs.doc_begin, own.doc_end - own.doc_begin);
  r = score_alone(p);
  EXPECT_TRUE(std::isfinite(r[3].nll_mean));
  EXPECT_GT(std::abs(r[3].nll_mean - r[2].nll_mean), 1e-5);
}

TEST_F(CacheOps, RepetitionOfOneIsThePlainCutAndKRepeatsTheIds) {
  ExperimentSpec spec;
  spec.texts.tokenization = "matched";
  auto c5 = study_conditions()[11];
  auto r1 = c5, r3 = c5;
  r1.id = "R1";
  r1.segments[0].repeat = 1;
  r3.id = "R3";
  r3.segments[0].repeat = 3;
  spec.conditions = {c5, r1, r3};
  const auto p = plan(spec);
  EXPECT_EQ(p.conditions[1].prefill_ids, p.conditions[0].prefill_ids);
  const auto prefix = tok_->encode(fill_template(spec.texts.templates.at("prefix"), "", texts_.surrogates.at(
                                                     SurrogateKind::static_query), ""), false);
  const auto doc = tok_->encode(fill_template(spec.texts.templates.at("document"), texts_.passage, "", ""), false);
  EXPECT_EQ(p.conditions[2].prefill_ids.size(), 1 + 3 * prefix.size() + doc.size());
  EXPECT_EQ(p.conditions[2].keep.size(), 1 + doc.size());  // BOS + the document: all repeats cut
  const auto r = score_alone(p);
  EXPECT_EQ(r[1].nll_mean, r[0].nll_mean);
  EXPECT_GT(std::abs(r[2].nll_mean - r[0].nll_mean), 1e-6);
}

TEST_F(CacheOps, BosOnlyAndPaddingAndBias) {
  ExperimentSpec spec;
  spec.texts.tokenization = "matched";
  auto all = study_conditions();
  ConditionSpec bos;
  bos.id = bos.name = "BOS";
  bos.bos_only = true;
  auto padded = all[0];
  padded.id = "PAD";
  padded.pad_to_tokens = 60;
  auto biased = all[11];
  biased.id = "BIAS";
  biased.prefix_bias = -1e4;  // the document rows cannot see the prefix
  auto faint = all[11];
  faint.id = "FAINT";
  faint.prefix_bias = 1e-30;  // below every score's fp32 ulp: must leave C5's numbers
  spec.conditions = {all[0], bos, padded, all[11], biased, faint};
  texts_.unrelated_passage = [](int64_t k) { return "Unrelated passage number " + std::to_string(k) + " about rivers."; };
  const auto p = plan(spec);
  EXPECT_EQ(p.conditions[1].prefill_ids, std::vector<int64_t>{*tok_->bos_id()});
  EXPECT_EQ(p.conditions[2].prefill_ids.size(), 60u);
  EXPECT_FALSE(p.conditions[4].bias_columns.empty());
  ScoringStats st;
  const auto r = score_alone(p, &st);
  for (const auto& s : r) EXPECT_TRUE(std::isfinite(s.nll_mean));
  EXPECT_GT(std::abs(r[1].nll_mean - r[0].nll_mean), 1e-4);
  EXPECT_GT(std::abs(r[2].nll_mean - r[0].nll_mean), 1e-4);
  // Biased builds are prefills of their own (C5's is not reused), and the bias changes the
  // cache only through the document rows' attention.
  EXPECT_EQ(st.prefills, 6);  // BOS, A1 and PAD (each extending the one before), C5, BIAS, FAINT
  EXPECT_GT(std::abs(r[4].nll_mean - r[3].nll_mean), 1e-4);
  EXPECT_NEAR(r[5].nll_mean, r[3].nll_mean, 1e-6);
}

TEST_F(CacheOps, ExcludedSamplesAreNeverScored) {
  ExperimentSpec spec;
  spec.conditions = {study_conditions()[0]};
  spec.scoring.answer_template = " {answer}";
  spec.scoring.min_answer_tokens = 50;
  const auto p = plan(spec);
  EXPECT_NE(p.exclusion.find("scoring.min_answer_tokens = 50"), std::string::npos) << p.exclusion;
  EXPECT_TRUE(p.conditions.empty());
  spec.scoring.min_answer_tokens = 1;
  EXPECT_TRUE(plan(spec).exclusion.empty());
  EXPECT_EQ(plan(spec).answer_ids, tok_->encode(" Between 1887 and 1889", false));
}

}  // namespace
}  // namespace dkv::experiment
