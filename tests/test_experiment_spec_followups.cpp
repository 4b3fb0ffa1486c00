// The follow-up keys of the experiment YAML (tokenization, surrogate sources, cache mixes,
// BOS-only caches, repetition, padding, bias, answer scoring): parsed, resolved and read back,
// and bad values named by key.
#include <gtest/gtest.h>

#include "dkv/core/error.h"
#include "dkv/experiment/spec.h"
#include "support.h"

namespace dkv::experiment {
namespace {

const std::string kBase = "name: t\nmodel: {path: m}\nembedding: {path: e}\ndataset: {path: d}\n";
const std::string kConds =
    "conditions:\n"
    "  - {id: bare, name: bare, segments: [{template: document}]}\n"
    "  - {id: primed, name: p, reposition: true, segments: [{template: prefix, surrogate: kw, keep: false}, "
    "{template: document}]}\n";
const std::string kSources = "surrogates:\n  kw: {kind: keywords, count: 5}\n";

std::string error_of(const std::string& yaml) {
  try {
    parse_spec(yaml, "f.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(ExperimentSpecFollowups, EveryNewKeyRoundTripsThroughTheResolvedConfig) {
  const auto yaml = kBase + "texts: {tokenization: matched}\n" +
                    "surrogates:\n"
                    "  q: {kind: llm, instruction: 'Ask.', temperature: 0, max_new_tokens: 9, passage_word_cap: 50}\n"
                    "  s: {kind: static, text: 'What is it?'}\n"
                    "  kw: {kind: keywords, count: 5, min_chars: 3, from: query}\n"
                    "  other: {kind: keywords_of_other}\n"
                    "  e: {kind: echo, word_cap: 12}\n"
                    "  sh: {kind: shuffled, of: kw, unit: tokens}\n"
                    "  r: {kind: random_tokens, match_tokens: q, margin: 10}\n" +
                    kConds +
                    "  - {id: rep, name: r, segments: [{template: prefix, surrogate: s, keep: false, repeat: 3}, "
                    "{template: document}]}\n"
                    "  - {id: mix, name: m, mix: {keys: bare, values: primed, layers: [0, '2-3'], document_range: "
                    "[0.25, 0.75], alpha: 2.5}}\n"
                    "  - {id: cross, name: c, mix: {keys: bare, values: primed, values_sample: other}}\n"
                    "  - {id: bos, name: b, bos_only: true}\n"
                    "  - {id: pad, name: p, pad_to_tokens: 256, segments: [{template: document}]}\n"
                    "  - {id: bias, name: b, prefix_bias: -2, segments: [{template: prefix, surrogate: s, keep: false}, "
                    "{template: document}]}\n"
                    "scoring: {answer_template: ' {answer}', min_answer_tokens: 2}\n";
  const auto s = parse_spec(yaml, "f.yaml");
  const auto again = parse_spec(resolved_yaml(s), "resolved.yaml");
  EXPECT_EQ(resolved_yaml(again), resolved_yaml(s));
  EXPECT_EQ(again.texts.tokenization, "matched");
  ASSERT_EQ(again.surrogates.size(), 7u);
  EXPECT_EQ(again.surrogates[0].passage_word_cap, 50);
  EXPECT_EQ(again.surrogates[2].from, "query");
  EXPECT_EQ(again.surrogates[5].unit, "tokens");
  EXPECT_EQ(again.surrogates[6].match_tokens, "q");
  const auto& mix = *again.conditions[3].mix;
  EXPECT_EQ(mix.layers, (std::vector<int64_t>{0, 2, 3}));
  EXPECT_DOUBLE_EQ(mix.range_from, 0.25);
  EXPECT_DOUBLE_EQ(mix.alpha, 2.5);
  EXPECT_TRUE(again.conditions[4].mix->other_sample);
  EXPECT_TRUE(again.conditions[5].bos_only);
  EXPECT_EQ(again.conditions[6].pad_to_tokens, 256);
  EXPECT_DOUBLE_EQ(again.conditions[7].prefix_bias, -2);
  EXPECT_EQ(again.conditions[2].segments[0].repeat, 3);
  EXPECT_EQ(again.conditions[1].segments[0].source, "kw");
  EXPECT_EQ(again.scoring.answer_template, " {answer}");
  EXPECT_EQ(again.scoring.min_answer_tokens, 2);
}

TEST(ExperimentSpecFollowups, ConfigsWithoutTheNewKeysKeepTheirResolvedText) {
  // Results files of earlier runs resume only if their config hash is unchanged.
  const auto s = parse_spec(kBase, "f.yaml");
  const auto text = resolved_yaml(s);
  for (const char* key : {"tokenization", "surrogates", "mix", "bos_only", "repeat", "answer_template",
                          "min_answer_tokens", "pad_to_tokens", "prefix_bias"})
    EXPECT_EQ(text.find(key), std::string::npos) << key;
}

TEST(ExperimentSpecFollowups, BadValuesNameTheirKey) {
  struct Case {
    std::string yaml, fragment;
  };
  const std::vector<Case> cases = {
      {kBase + "texts: {tokenization: mixed}\n", "texts.tokenization: 'mixed' is not one of joint, matched"},
      {kBase + kSources + kConds + "  - {id: m, name: m, mix: {keys: nope, values: primed}}\n",
       "condition m: mix.keys: no condition with id 'nope'"},
      {kBase + kSources + kConds +
           "  - {id: suf, name: s, segments: [{template: document}, {template: suffix, surrogate: kw}]}\n"
           "  - {id: m, name: m, mix: {keys: bare, values: suf}}\n",
       "keys and values must come from caches of the same entries"},
      {kBase + kSources + kConds + "  - {id: m, name: m, mix: {keys: bare, values: primed, layers: ['3-1']}}\n",
       "conditions[2].mix.layers: '3-1' is not a layer index or a range"},
      {kBase + kSources + kConds + "  - {id: m, name: m, mix: {keys: bare, values: primed, document_range: [0.5, 0.2]}}\n",
       "conditions[2].mix.document_range: expected [from, to]"},
      {kBase + kSources + kConds + "  - {id: m, name: m, segments: [{template: document}], mix: {keys: bare, values: primed}}\n",
       "conditions[2].segments: a mix condition builds no cache of its own"},
      {kBase + kSources + kConds + "  - {id: m, name: m, mix: {keys: bare, values: primed}}\n"
                                   "  - {id: m2, name: m, mix: {keys: m, values: primed}}\n",
       "mix.keys: 'm' is itself a mix"},
      {kBase + "surrogates:\n  x: {kind: telepathy}\n", "surrogates.x.kind: 'telepathy' is not one of"},
      {kBase + "surrogates:\n  x: {kind: shuffled, of: y}\n", "surrogates.x: 'y' is not a source defined above it"},
      {kBase + "surrogates:\n  generated: {kind: static, text: a}\n", "'generated' is a built-in surrogate"},
      {kBase + "surrogates:\n  x: {kind: static}\n", "surrogates.x.text: required key is missing"},
      {kBase + "surrogates:\n  x: {kind: static, text: a, count: 3}\n", "surrogates.x.count: unknown key"},
      {kBase + "surrogates:\n  x: {kind: random_tokens, length: 0}\n", "surrogates.x.length: must be positive"},
      {kBase + "surrogates:\n  x: {kind: random_tokens, length: 3, match_tokens: perfect}\n", "give length or match_tokens"},
      {kBase + kSources + kConds + "  - {id: r, name: r, segments: [{template: document, repeat: 0}]}\n",
       "segments[0].repeat: must be positive"},
      {kBase + kSources + kConds + "  - {id: b, name: b, prefix_bias: 1, segments: [{template: document}]}\n",
       "conditions[2].prefix_bias: needs a cut segment"},
      {kBase + "scoring: {answer_template: 'no placeholder'}\n", "scoring.answer_template: must contain {answer}"},
      {kBase + "scoring: {min_answer_tokens: -1}\n", "scoring.min_answer_tokens: must be >= 0"},
      {kBase + kConds, "unknown surrogate 'kw'"},
      {kBase + kSources + kConds + "  - {id: m, name: m, mix: {keys: bare, values: primed, layers: ['0-99999999999']}}\n",
       "layer 99999999999 is beyond any model"},
      {kBase + kSources + kConds + "  - {id: r, name: r, segments: [{template: document, repeat: 20000}]}\n",
       "segments[0].repeat: at most 10000"},
      {kBase + kSources + kConds + "  - {id: p, name: p, pad_to_tokens: 99999999999, segments: [{template: document}]}\n",
       "conditions[2].pad_to_tokens: must lie in [0, 4194304]"},
  };
  for (const auto& c : cases) {
    const auto e = error_of(c.yaml);
    EXPECT_NE(e.find(c.fragment), std::string::npos) << "got: " << e << "\nwanted: " << c.fragment;
  }
}

TEST(ExperimentSpecFollowups, ImpossibleLayersAreRefusedBeforeAnyWork) {
  const auto s = parse_spec(kBase + kSources + kConds + "  - {id: m, name: m, mix: {keys: bare, values: primed, layers: [0, 30]}}\n",
                            "f.yaml");
  EXPECT_NO_THROW(validate_against_model(s, 31));
  try {
    validate_against_model(s, 30);
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("condition m: mix.layers: layer 30 does not exist (the model has 30 layers"),
              std::string::npos) << e.what();
  }
}

TEST(ExperimentSpecFollowups, StudyFollowupConfigsParse) {
  for (const char* f : {"configs/v2_06_prefix_suffix_stacked.yaml", "configs/v2_07_surrogate_types.yaml",
                        "configs/v2_08_kv_hybrids.yaml"}) {
    const auto s = load_spec(test::source_path(f));
    EXPECT_EQ(s.texts.tokenization, "matched") << f;
    EXPECT_GE(s.conditions.size(), 11u) << f;
  }
}

}  // namespace
}  // namespace dkv::experiment
