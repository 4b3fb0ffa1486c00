// Token-level cache plans from declarative conditions.
#include "dkv/experiment/plan.h"

#include <algorithm>

#include "dkv/core/error.h"

namespace dkv::experiment {

std::string fill_template(const std::string& tmpl, const std::string& passage,
                          const std::string& surrogate, const std::string& query) {
  std::string out;
  size_t i = 0;
  while (i < tmpl.size()) {
    bool replaced = false;
    for (const auto& [name, value] : {std::pair<const char*, const std::string*>{"{document}", &passage},
                                      {"{surrogate}", &surrogate},
                                      {"{query}", &query}}) {
      const size_t n = std::char_traits<char>::length(name);
      if (tmpl.compare(i, n, name) == 0) {
        out += *value;
        i += n;
        replaced = true;
        break;
      }
    }
    if (!replaced) out += tmpl[i++];
  }
  return out;
}

namespace {

size_t common_prefix(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  return n;
}

CachePlan plan_condition(const ExperimentSpec& spec, const ConditionSpec& c,
                         const SampleTexts& t, const EncodeFn& encode, std::optional<int64_t> bos) {
  std::vector<std::string> seg_text;
  for (const auto& s : c.segments) {
    std::string surrogate;
    if (s.surrogate != SurrogateKind::none) {
      auto it = t.surrogates.find(s.surrogate);
      DKV_CHECK(it != t.surrogates.end(), "no ", to_string(s.surrogate), " surrogate for ", c.id);
      surrogate = it->second;
    }
    seg_text.push_back(fill_template(spec.texts.templates.at(s.template_name), t.passage, surrogate, t.query));
  }
  CachePlan p;
  p.position_offset = c.position_offset;
  p.query_positions = c.query_positions;
  std::string joint;
  for (const auto& s : seg_text) joint += s;
  p.prefill_ids = encode(joint, true);
  // Tokenizers that add no BOS (SmolLM2, Qwen2) give caches without one; the report counts them.
  const bool has_bos = bos && !p.prefill_ids.empty() && p.prefill_ids[0] == *bos;
  if (!has_bos) p.flags |= kNoBosEntry;
  const bool any_cut = std::any_of(c.segments.begin(), c.segments.end(), [](auto& s) { return !s.keep; });
  if (!any_cut) return p;

  // Segment j covers entries [start[j], start[j + 1]); the first segment owns the BOS entry.
  const auto n = c.segments.size();
  std::vector<size_t> start(n + 1, 0);
  start[n] = p.prefill_ids.size();
  std::string prefix_text;
  for (size_t j = 0; j + 1 < n; ++j) {
    prefix_text += seg_text[j];
    const auto prefix_ids = encode(prefix_text, true);
    size_t b = common_prefix(prefix_ids, p.prefill_ids);
    if (b != prefix_ids.size()) p.flags |= kBoundaryMismatch;
    start[j + 1] = std::max(b, start[j]);
  }
  if (has_bos && !c.keep_bos && !c.segments[0].keep) p.flags |= kNoBosEntry;
  int64_t cut_so_far = 0;
  for (size_t j = 0; j < n; ++j) {
    for (size_t e = start[j]; e < start[j + 1]; ++e) {
      const bool keep = c.segments[j].keep || (e == 0 && has_bos && c.keep_bos);
      if (keep) {
        p.keep.push_back(static_cast<int64_t>(e));
        p.delta.push_back(c.reposition ? -cut_so_far : 0);
      } else {
        ++cut_so_far;
      }
    }
  }
  if (!c.reposition) p.delta.clear();
  return p;
}

}  // namespace

SamplePlan plan_sample(const ExperimentSpec& spec, const SampleTexts& t, const EncodeFn& encode,
                       std::optional<int64_t> bos_id) {
  SamplePlan plan;
  for (const auto& c : spec.conditions) plan.conditions.push_back(plan_condition(spec, c, t, encode, bos_id));
  plan.query_ids = encode(fill_template(spec.texts.query_prompt, t.passage, "", t.query), false);
  plan.answer_ids = encode(t.answer, false);
  if (plan.answer_ids.empty()) throw InputError("the answer '" + t.answer + "' has no tokens");
  if (plan.query_ids.empty()) throw InputError("the query prompt has no tokens (texts.query_prompt)");
  return plan;
}

}  // namespace dkv::experiment
