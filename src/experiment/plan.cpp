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

std::string repeated(const std::string& text, int64_t k) {
  std::string out;
  for (int64_t i = 0; i < k; ++i) out += text;
  return out;
}

// The special tokens the tokenizer puts before a text (BOS, or nothing for SmolLM2/Qwen2):
// encode(x, true) = leading + encode(x, false) [+ trailing, ignored].
std::vector<int64_t> leading_specials(const EncodeFn& encode, const std::string& sample_text) {
  const auto with = encode(sample_text, true), without = encode(sample_text, false);
  for (size_t k = 0; k + without.size() <= with.size(); ++k)
    if (std::equal(without.begin(), without.end(), with.begin() + k)) return {with.begin(), with.begin() + k};
  throw InputError("the tokenizer's encoding with special tokens does not contain its encoding without them "
                   "(texts.tokenization: matched needs encode(x, true) = specials + encode(x, false))");
}

struct Planner {
  const ExperimentSpec& spec;
  const EncodeFn& encode;
  std::optional<int64_t> bos;
  std::vector<int64_t> leading;  // matched mode

  std::string segment_text(const SegmentSpec& s, const SampleTexts& t, const std::string& cid) const {
    std::string surrogate;
    if (s.surrogate == SurrogateKind::named) {
      auto it = t.named.find(s.source);
      DKV_CHECK(it != t.named.end(), "no surrogate '", s.source, "' for ", cid);
      surrogate = it->second;
    } else if (s.surrogate != SurrogateKind::none) {
      auto it = t.surrogates.find(s.surrogate);
      DKV_CHECK(it != t.surrogates.end(), "no ", to_string(s.surrogate), " surrogate for ", cid);
      surrogate = it->second;
    }
    return fill_template(spec.texts.templates.at(s.template_name), t.passage, surrogate, t.query);
  }

  CachePlan bos_only(const ConditionSpec& c) const {
    CachePlan p;
    p.position_offset = c.position_offset;
    p.query_positions = c.query_positions;
    if (!bos) throw InputError("condition " + c.id + ": bos_only needs a BOS token, and this tokenizer has none");
    p.prefill_ids = {*bos};
    p.doc_begin = p.doc_end = 1;
    return p;
  }

  CachePlan plan(const ConditionSpec& c, const SampleTexts& t) const {
    if (c.bos_only) return bos_only(c);
    const bool matched = spec.texts.tokenization == "matched";
    const auto n = c.segments.size();
    const bool any_cut = std::any_of(c.segments.begin(), c.segments.end(), [](const SegmentSpec& s) { return !s.keep; });
    std::vector<std::string> seg_text;
    for (const auto& s : c.segments) seg_text.push_back(segment_text(s, t, c.id));
    CachePlan p;
    p.position_offset = c.position_offset;
    p.query_positions = c.query_positions;
    // Segment j covers prefill entries [start[j], start[j + 1]); the first segment owns the
    // leading special tokens (the BOS entry).
    std::vector<size_t> start(n + 1, 0);
    if (matched) {
      p.prefill_ids = leading;
      for (size_t j = 0; j < n; ++j) {
        if (j > 0) start[j] = p.prefill_ids.size();
        const auto ids = encode(seg_text[j], false);  // repeated as ids: every copy tokenizes alike
        for (int64_t r = 0; r < c.segments[j].repeat; ++r) p.prefill_ids.insert(p.prefill_ids.end(), ids.begin(), ids.end());
      }
    } else {
      for (size_t j = 0; j < n; ++j) seg_text[j] = repeated(seg_text[j], c.segments[j].repeat);
      std::string joint;
      for (const auto& s : seg_text) joint += s;
      p.prefill_ids = encode(joint, true);
      std::string prefix_text;
      for (size_t j = 0; j + 1 < n; ++j) {
        prefix_text += seg_text[j];
        const auto prefix_ids = encode(prefix_text, true);
        size_t b = common_prefix(prefix_ids, p.prefill_ids);
        // Flagged only where a cut follows the boundary: a condition that keeps every segment
        // has the joint ids whatever the boundary (its document range alone may shift).
        if (b != prefix_ids.size() && any_cut) p.flags |= kBoundaryMismatch;
        start[j + 1] = std::max(b, start[j]);
      }
    }
    start[n] = p.prefill_ids.size();
    // Tokenizers that add no BOS (SmolLM2, Qwen2) give caches without one; the report counts them.
    const bool has_bos = bos && !p.prefill_ids.empty() && p.prefill_ids[0] == *bos;
    if (!has_bos) p.flags |= kNoBosEntry;
    if (has_bos && !c.keep_bos && !c.segments[0].keep) p.flags |= kNoBosEntry;
    int64_t cut_so_far = 0;
    std::vector<int64_t> keep, delta;
    size_t doc_segment = n;
    for (size_t j = 0; j < n; ++j)
      if (doc_segment == n && c.segments[j].keep &&
          spec.texts.templates.at(c.segments[j].template_name).find("{document}") != std::string::npos)
        doc_segment = j;
    for (size_t j = 0; j < n; ++j) {
      if (j == doc_segment) p.doc_begin = static_cast<int64_t>(keep.size());
      for (size_t e = start[j]; e < start[j + 1]; ++e) {
        const bool kept = c.segments[j].keep || (e == 0 && has_bos && c.keep_bos);
        if (kept) {
          if (j == doc_segment && e == 0) p.doc_begin = 1;  // the BOS entry is not the document's
          keep.push_back(static_cast<int64_t>(e));
          delta.push_back(c.reposition ? -cut_so_far : 0);
        } else {
          ++cut_so_far;
          if (c.prefix_bias != 0 && !(e == 0 && has_bos)) p.bias_columns.push_back(static_cast<int64_t>(e));
        }
      }
      if (j == doc_segment) p.doc_end = static_cast<int64_t>(keep.size());
    }
    p.bias = p.bias_columns.empty() ? 0 : c.prefix_bias;
    pad(c, t, p, keep, delta, cut_so_far);
    if (cut_so_far > 0) {
      p.keep = std::move(keep);
      if (c.reposition) p.delta = std::move(delta);
    }
    return p;
  }

  // pad_to_tokens: other samples' passages (each tokenized alone) appended and kept until the
  // scored cache holds that many entries.
  void pad(const ConditionSpec& c, const SampleTexts& t, CachePlan& p, std::vector<int64_t>& keep,
           std::vector<int64_t>& delta, int64_t cut) const {
    int64_t missing = c.pad_to_tokens - static_cast<int64_t>(keep.size());
    if (missing <= 0) return;
    if (!t.unrelated_passage) throw InputError("condition " + c.id + ": pad_to_tokens needs other samples' passages");
    for (int64_t k = 1; missing > 0; ++k) {
      if (k > 10000) throw InputError("condition " + c.id + ": the dataset's passages cannot pad to " +
                                      std::to_string(c.pad_to_tokens) + " tokens");
      auto ids = encode(t.unrelated_passage(k), false);
      if (static_cast<int64_t>(ids.size()) > missing) ids.resize(static_cast<size_t>(missing));
      for (auto id : ids) {
        keep.push_back(static_cast<int64_t>(p.prefill_ids.size()));
        delta.push_back(c.reposition ? -cut : 0);
        p.prefill_ids.push_back(id);
      }
      missing -= static_cast<int64_t>(ids.size());
    }
  }
};

int index_of(const ExperimentSpec& spec, const std::string& id) {
  for (size_t i = 0; i < spec.conditions.size(); ++i)
    if (spec.conditions[i].id == id) return static_cast<int>(i);
  throw ConfigError("no condition with id '" + id + "'");
}

std::string with_answer(const std::string& tmpl, const std::string& answer) {
  std::string out = tmpl;
  const auto at = out.find("{answer}");
  if (at != std::string::npos) out.replace(at, 8, answer);
  return out;
}

}  // namespace

SamplePlan plan_sample(const ExperimentSpec& spec, const SampleTexts& t, const EncodeFn& encode,
                       std::optional<int64_t> bos_id) {
  Planner planner{spec, encode, bos_id, {}};
  if (spec.texts.tokenization == "matched") planner.leading = leading_specials(encode, t.passage);
  SamplePlan plan;
  plan.answer_ids = encode(with_answer(spec.scoring.answer_template, t.answer), false);
  if (plan.answer_ids.empty()) throw InputError("the answer '" + t.answer + "' has no tokens");
  plan.query_ids = encode(fill_template(spec.texts.query_prompt, t.passage, "", t.query), false);
  if (plan.query_ids.empty()) throw InputError("the query prompt has no tokens (texts.query_prompt)");
  if (static_cast<int64_t>(plan.answer_ids.size()) < spec.scoring.min_answer_tokens) {
    plan.exclusion = "the answer has " + std::to_string(plan.answer_ids.size()) + " token(s), fewer than " +
                     "scoring.min_answer_tokens = " + std::to_string(spec.scoring.min_answer_tokens);
    return plan;
  }
  std::map<int, int> partner_of;  // condition index -> index into plan.partner
  for (const auto& c : spec.conditions) {
    if (!c.mix) {
      plan.conditions.push_back(planner.plan(c, t));
      continue;
    }
    CachePlan p;
    CacheMix m;
    m.keys = index_of(spec, c.mix->keys);
    const int v = index_of(spec, c.mix->values);
    m.from_partner = c.mix->other_sample;
    if (m.from_partner) {
      if (!t.partner) throw InputError("condition " + c.id + ": values_sample: other needs another sample's texts");
      auto it = partner_of.find(v);
      if (it == partner_of.end()) {
        it = partner_of.emplace(v, static_cast<int>(plan.partner.size())).first;
        plan.partner.push_back(planner.plan(spec.conditions[v], *t.partner));
      }
      m.values = it->second;
    } else {
      m.values = v;
    }
    m.layers = c.mix->layers;
    m.range_from = c.mix->range_from;
    m.range_to = c.mix->range_to;
    m.alpha = c.mix->alpha;
    p.query_positions = c.query_positions;
    p.mix = m;
    plan.conditions.push_back(std::move(p));
  }
  // A mix takes its layout (entries, positions, document range, flags) from its keys side,
  // which comes earlier or later in the list: filled in once all are planned.
  for (auto& p : plan.conditions) {
    if (!p.mix) continue;
    const auto& k = plan.conditions[p.mix->keys];
    const auto& v = p.mix->from_partner ? plan.partner[p.mix->values] : plan.conditions[p.mix->values];
    p.doc_begin = k.doc_begin;
    p.doc_end = k.doc_end;
    p.flags = k.flags | v.flags;
    const auto entries = [](const CachePlan& c) { return c.keep.empty() ? c.prefill_ids.size() : c.keep.size(); };
    if (!p.mix->from_partner && entries(k) != entries(v)) p.flags |= kLayoutMismatch;
  }
  return plan;
}

}  // namespace dkv::experiment
