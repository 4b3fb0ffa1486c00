// Experiment YAML: defaults are the study's, errors name file, line and key; the dataset
// reader applies the study's filters and a seeded shuffle.
#include <gtest/gtest.h>

#include <fstream>

#include "dkv/core/error.h"
#include "dkv/experiment/dataset.h"
#include "dkv/experiment/spec.h"
#include "dkv/report/report_run.h"
#include "support.h"

namespace dkv::experiment {
namespace {

const char* kMinimal = "name: t\nmodel: {path: m}\nembedding: {path: e}\ndataset: {path: d}\n";

template <typename Fn>
std::string error_of(Fn fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(ExperimentSpec, DefaultsAreTheStudy) {
  auto s = parse_spec(kMinimal, "t.yaml");
  EXPECT_EQ(s.conditions.size(), 15u);
  EXPECT_EQ(s.conditions[2].id, "A3");
  EXPECT_EQ(s.conditions[2].position_offset, 20);
  EXPECT_EQ(s.runtime.seed, 42u);
  EXPECT_EQ(s.dataset.num_samples, 200);
  EXPECT_DOUBLE_EQ(s.surrogate.temperature, 0.3);
  EXPECT_EQ(s.surrogate.max_new_tokens, 45);
  EXPECT_EQ(s.texts.query_prompt, "\n\nQuery: {query}\n\nAnswer:");
  EXPECT_EQ(s.output.dir, "results/t");
  // The resolved YAML reads back to the same spec.
  auto again = parse_spec(resolved_yaml(s), "resolved.yaml");
  EXPECT_EQ(resolved_yaml(again), resolved_yaml(s));
}

TEST(ExperimentSpec, ErrorsNameFileLineAndKey) {
  auto e = error_of([] { parse_spec(std::string(kMinimal) + "runtime:\n  sed: 3\n", "x.yaml"); });
  EXPECT_NE(e.find("x.yaml:6:3: runtime.sed: unknown key"), std::string::npos) << e;
  e = error_of([] { parse_spec(std::string(kMinimal) + "runtime:\n  seed: abc\n", "x.yaml"); });
  EXPECT_NE(e.find("runtime.seed: expected an integer"), std::string::npos) << e;
  e = error_of([] { parse_spec("name: t\nembedding: {path: e}\ndataset: {path: d}\n", "x.yaml"); });
  EXPECT_NE(e.find("model"), std::string::npos) << e;
  e = error_of([] { parse_spec(std::string(kMinimal) + "model: [\n", "x.yaml"); });
  EXPECT_NE(e.find("malformed YAML"), std::string::npos) << e;
  e = error_of([] {
    parse_spec(std::string(kMinimal) +
                   "extra_conditions:\n  - {id: F1, name: f, segments: [{template: prefix}]}\n",
               "x.yaml");
  });
  EXPECT_NE(e.find("uses {surrogate}"), std::string::npos) << e;
  e = error_of([] {
    parse_spec(std::string(kMinimal) +
                   "extra_conditions:\n  - {id: A1, name: dup, segments: [{template: document}]}\n",
               "x.yaml");
  });
  EXPECT_NE(e.find("duplicate condition id 'A1'"), std::string::npos) << e;
}

TEST(ExperimentSpec, ReportBlockOverridesTheStudysComparisons) {
  auto s = parse_spec(std::string(kMinimal) +
                          "report:\n  baseline: A2\n  ordering: [[C2, D1]]\n  figure_condition: C4\n",
                      "r.yaml");
  const auto r = report::apply_overrides(s.report);
  EXPECT_EQ(r.baseline, "A2");
  ASSERT_EQ(r.ordering.size(), 1u);
  EXPECT_EQ(r.ordering[0].a, "C2");
  EXPECT_EQ(r.figure_condition, "C4");
  EXPECT_EQ(r.surrogate_quality, stats::ReportSpec{}.surrogate_quality);  // untouched default
  // The resolved YAML (stored in results.h5) carries the block, so `dkv report` reuses it.
  EXPECT_EQ(parse_spec(resolved_yaml(s), "again.yaml").report.baseline, std::optional<std::string>("A2"));
  auto e = error_of([] { parse_spec(std::string(kMinimal) + "report:\n  baseline: Z9\n", "r.yaml"); });
  EXPECT_NE(e.find("report.baseline: no condition with id 'Z9'"), std::string::npos) << e;
  e = error_of([] { parse_spec(std::string(kMinimal) + "report:\n  ordering: [[C2]]\n", "r.yaml"); });
  EXPECT_NE(e.find("expected pairs"), std::string::npos) << e;
}

TEST(ExperimentSpec, ShippedConfigsParse) {
  for (const char* f : {"configs/demo.yaml", "configs/demo_tiny.yaml", "configs/exp01_directed_kvcache.yaml",
                        "configs/exp02_irrelevant_shuffled.yaml"}) {
    auto s = load_spec(test::source_path(f));
    EXPECT_GE(s.conditions.size(), 15u) << f;
  }
  EXPECT_EQ(load_spec(test::source_path("configs/exp02_irrelevant_shuffled.yaml")).conditions.size(), 17u);
}

TEST(Dataset, StudyFiltersAndSeededShuffle) {
  DatasetSpec d;
  d.path = test::source_path("configs/data/demo_msmarco.jsonl");
  d.num_samples = 10;
  DatasetReport rep;
  auto a = load_samples(d, 42, &rep);
  ASSERT_EQ(a.size(), 10u);
  EXPECT_EQ(rep.candidates, 20);  // candidate_factor 2 x 10
  EXPECT_EQ(rep.malformed, 1);
  EXPECT_EQ(rep.no_answer, 1);
  EXPECT_EQ(rep.no_passage, 1);
  for (const auto& s : a) {
    EXPECT_GE(word_count(s.passage), 50);
    EXPECT_FALSE(s.answer.empty());
  }
  auto b = load_samples(d, 42, nullptr);
  auto c = load_samples(d, 43, nullptr);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].query, b[i].query);
  bool differs = false;
  for (size_t i = 0; i < a.size(); ++i) differs |= a[i].query != c[i].query;
  EXPECT_TRUE(differs);
}

TEST(Dataset, WellFormedAnswerPreferredAndEmptyFileNamed) {
  const auto dir = test::scratch_dir("ds");
  const std::string passage(60 * 5, 'x');
  std::string words;
  for (int i = 0; i < 60; ++i) words += "word ";
  std::ofstream(dir + "/d.jsonl")
      << R"({"query":"q","answers":["plain"],"wellFormedAnswers":["Well formed."],"passages":[{"is_selected":1,"passage_text":")"
      << words << R"(","url":"u"}]})" << "\n"
      << R"({"query":"q2","answers":["first"],"wellFormedAnswers":"[]","passages":{"is_selected":[1],"passage_text":[")"
      << words << R"("]}})" << "\n";
  DatasetSpec d;
  d.path = dir + "/d.jsonl";
  d.num_samples = 5;
  auto s = load_samples(d, 1, nullptr);
  ASSERT_EQ(s.size(), 2u);
  for (const auto& x : s) EXPECT_EQ(x.answer, x.query == "q" ? "Well formed." : "first");
  std::ofstream(dir + "/empty.jsonl") << "\n";
  d.path = dir + "/empty.jsonl";
  auto e = error_of([&] { load_samples(d, 1, nullptr); });
  EXPECT_NE(e.find("empty.jsonl: no usable sample"), std::string::npos) << e;
  d.path = dir + "/missing.jsonl";
  EXPECT_THROW(load_samples(d, 1, nullptr), InputError);
}

}  // namespace
}  // namespace dkv::experiment
