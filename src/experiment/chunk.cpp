// Work unit: surrogates (batched generation), random prefixes, similarity, plans, scoring.
#include "dkv/experiment/chunk.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "dkv/core/error.h"
#include "dkv/core/rng.h"
#include "dkv/experiment/named_surrogates.h"
#include "dkv/experiment/scoring.h"
#include "dkv/experiment/surrogate_text.h"
#include "dkv/model/decoder.h"
#include "dkv/model/generate.h"
#include "dkv/model/sentence_embedder.h"

namespace dkv::experiment {

namespace {

uint64_t key(const RunContext& ctx, int64_t index, Stream purpose) {
  return Rng::keyed({ctx.spec.runtime.seed, static_cast<uint64_t>(index), static_cast<uint64_t>(purpose)})
      .next_u64();
}

std::set<SurrogateKind> kinds_used(const ExperimentSpec& spec) {
  std::set<SurrogateKind> out;
  for (const auto& c : spec.conditions)
    for (const auto& s : c.segments) out.insert(s.surrogate);
  for (const auto& src : spec.surrogates)  // sources built on the generated surrogate
    if (src.of == "generated" || src.match_tokens == "generated") out.insert(SurrogateKind::generated);
  return out;
}

bool pairs_samples(const ExperimentSpec& spec) {
  for (const auto& c : spec.conditions)
    if (c.mix && c.mix->other_sample) return true;
  return false;
}

// Generated surrogates for samples `indices` (one batched generation).
std::vector<std::string> generate_surrogates(const RunContext& ctx, const std::vector<int64_t>& indices) {
  const auto& g = ctx.spec.surrogate;
  std::vector<std::vector<int64_t>> prompts;
  std::vector<uint64_t> seeds;
  for (auto i : indices) {
    const auto& s = ctx.samples[i];
    const auto user = g.instruction + fill_template(g.document_block, s.passage, "", s.query);
    // The rendered template carries its own BOS text ("<s>"), so no special tokens are added,
    // as HF apply_chat_template(tokenize=True) does.
    prompts.push_back(ctx.text.encode(ctx.text.render_user_turn(g.system_prompt, user), false));
    seeds.push_back(key(ctx, i, Stream::surrogate));
  }
  model::GenerateOptions opt;
  opt.max_new_tokens = g.max_new_tokens;
  opt.temperature = g.temperature;
  opt.top_k = g.top_k;
  opt.top_p = g.top_p;
  opt.eos_token_ids = ctx.text.eos_ids;
  opt.logits_for_whole_prompt = ctx.notebook_generation;
  auto out = model::generate(ctx.decoder, prompts, opt, seeds);
  std::vector<std::string> texts;
  for (const auto& ids : out) texts.push_back(clean_surrogate(ctx.text.decode(ids)));
  return texts;
}

std::string random_prefix_text(const RunContext& ctx, int64_t index) {
  const auto& g = ctx.spec.surrogate;
  const int64_t lo = g.random_token_margin, hi = ctx.text.vocab_size - g.random_token_margin;
  if (hi <= lo)
    throw ConfigError("surrogate.random_token_margin=" + std::to_string(lo) +
                      " leaves no token ids in a vocabulary of " + std::to_string(ctx.text.vocab_size));
  Rng rng(key(ctx, index, Stream::random_prefix));
  std::vector<int64_t> ids;
  for (int64_t k = 0; k < g.random_prefix_tokens; ++k)
    ids.push_back(lo + static_cast<int64_t>(rng.below(static_cast<uint64_t>(hi - lo))));
  return ctx.text.decode(ids);
}

}  // namespace

std::string clean_surrogate(const std::string& generated) { return clean_generated(generated, true, true); }

ChunkPlans plan_chunk(const RunContext& ctx, const std::vector<int64_t>& indices) {
  const auto kinds = kinds_used(ctx.spec);
  const auto N = static_cast<int64_t>(ctx.samples.size());
  const auto C = ctx.spec.conditions.size();
  ChunkPlans out;
  auto& rows = out.rows;
  auto& plans = out.plans;
  auto& planned = out.planned;
  rows.resize(indices.size());

  // Texts are built for the chunk's samples, then for the partners that mixes with
  // values_sample: other take values from (each with its own surrogates, keyed by its index).
  std::vector<int64_t> text_for = indices;
  if (pairs_samples(ctx.spec))
    for (auto i : indices) text_for.push_back(partner_of(ctx.spec.runtime.seed, i, N));
  const size_t T = text_for.size();
  // Generated surrogates, plus those of each sample's "irrelevant" partner (the next sample,
  // cyclically): its stream is keyed by its own index, so it is that sample's own surrogate.
  std::vector<int64_t> gen_for = text_for;
  if (kinds.count(SurrogateKind::irrelevant))
    for (auto i : indices) gen_for.push_back((i + 1) % N);
  std::vector<std::string> generated;
  if (kinds.count(SurrogateKind::generated) || kinds.count(SurrogateKind::irrelevant) ||
      kinds.count(SurrogateKind::shuffled))
    generated = generate_surrogates(ctx, gen_for);

  std::vector<SampleTexts> texts(T);
  std::vector<std::string> text_errors(T);
  std::vector<std::map<std::string, std::string>> builtin(T);
  for (size_t k = 0; k < T; ++k) {
    const auto& s = ctx.samples[text_for[k]];
    auto& t = texts[k];
    t.passage = s.passage;
    t.query = s.query;
    t.answer = s.answer;
    const int64_t i = text_for[k];
    t.unrelated_passage = [&ctx, i, N](int64_t step) { return ctx.samples[(i + step) % N].passage; };
    if (!generated.empty()) {
      t.surrogates[SurrogateKind::generated] = generated[k];
      t.surrogates[SurrogateKind::shuffled] = shuffled_words(generated[k], key(ctx, i, Stream::shuffle));
      if (kinds.count(SurrogateKind::irrelevant) && k < indices.size())
        t.surrogates[SurrogateKind::irrelevant] = generated[T + k];
      builtin[k]["generated"] = generated[k];
    }
    t.surrogates[SurrogateKind::perfect] = s.query;
    t.surrogates[SurrogateKind::static_query] = ctx.spec.surrogate.static_query;
    builtin[k]["perfect"] = s.query;
    builtin[k]["static"] = ctx.spec.surrogate.static_query;
    if (kinds.count(SurrogateKind::random)) {
      try {
        t.surrogates[SurrogateKind::random] = random_prefix_text(ctx, i);
      } catch (const InputError& e) {
        text_errors[k] = e.what();
      }
    }
  }
  if (!ctx.spec.surrogates.empty()) {
    std::vector<std::string> errors;
    auto named = named_surrogates(ctx, text_for, builtin, errors);
    for (size_t k = 0; k < T; ++k) {
      texts[k].named = std::move(named[k]);
      if (text_errors[k].empty()) text_errors[k] = errors[k];
    }
  }
  for (size_t k = 0; k < indices.size() && T > indices.size(); ++k) {
    texts[k].partner = std::make_shared<const SampleTexts>(texts[indices.size() + k]);
    if (text_errors[k].empty() && !text_errors[indices.size() + k].empty())
      text_errors[k] = "its partner sample " + std::to_string(text_for[indices.size() + k]) + ": " +
                       text_errors[indices.size() + k];
  }

  for (size_t k = 0; k < indices.size(); ++k) {
    const auto& s = ctx.samples[indices[k]];
    auto& row = rows[k];
    row.query_id = s.query_id;
    row.query = s.query;
    row.passage = s.passage;
    row.answer = s.answer;
    row.source_line = s.source_line;
    const double nan = std::numeric_limits<double>::quiet_NaN();
    row.nll.assign(C, nan);
    row.first_token_nll.assign(C, nan);
    row.answer_tokens.assign(C, 0);
    row.flags.assign(C, 0);
    row.similarity = nan;
    const auto& t = texts[k];
    if (!generated.empty()) row.surrogate = generated[k];
    if (auto it = t.surrogates.find(SurrogateKind::random); it != t.surrogates.end()) row.random_prefix = it->second;
    for (const auto& src : ctx.spec.surrogates) {
      auto it = t.named.find(src.name);
      row.named_surrogates.push_back(it == t.named.end() ? "" : it->second);
    }
    try {
      if (!text_errors[k].empty()) throw InputError(text_errors[k]);
      auto plan = plan_sample(ctx.spec, t, ctx.text.encode, ctx.text.bos_id);
      if (!plan.exclusion.empty()) {
        row.exclusion = plan.exclusion;
        for (auto& f : row.flags) f |= kExcluded;
        continue;
      }
      plans.push_back(std::move(plan));
      planned.push_back(k);
    } catch (const InputError& e) {
      row.error = e.what();
      for (auto& f : row.flags) f |= kFailed;
    }
  }

  out.generated = !generated.empty();
  return out;
}

std::vector<io::SampleRow> process_chunk(const RunContext& ctx, const std::vector<int64_t>& indices,
                                         std::vector<PlannedSample>* plans_out) {
  const auto start = std::chrono::steady_clock::now();
  const auto C = ctx.spec.conditions.size();
  auto chunk = plan_chunk(ctx, indices);
  auto& rows = chunk.rows;
  const auto& plans = chunk.plans;
  const auto& planned = chunk.planned;
  // Similarity of generated surrogate and real query (cosine of sentence embeddings).
  if (chunk.generated && ctx.embedder) {
    std::vector<std::vector<int64_t>> seqs;
    for (size_t k = 0; k < indices.size(); ++k) {
      seqs.push_back(ctx.text.encode_for_embedding(rows[k].surrogate));
      seqs.push_back(ctx.text.encode_for_embedding(rows[k].query));
    }
    auto v = ctx.embedder->embed(seqs);  // [2K, hidden]
    auto sim = model::cos_sim(v.slice(0, 0, v.size(0), 2), v.slice(0, 1, v.size(0), 2)).diagonal();
    for (size_t k = 0; k < indices.size(); ++k) rows[k].similarity = sim[k].item<double>();
  }

  auto scores = score_plans(ctx.decoder, plans, ctx.spec.runtime.token_budget, nullptr);
  if (plans_out)
    for (size_t p = 0; p < plans.size(); ++p) plans_out->push_back({indices[planned[p]], plans[p]});
  for (size_t p = 0; p < plans.size(); ++p) {
    auto& row = rows[planned[p]];
    for (size_t c = 0; c < C; ++c) {
      const auto& sc = scores[p][c];
      row.first_token_nll[c] = sc.nll_first_token;
      row.answer_tokens[c] = sc.answer_tokens;
      row.flags[c] = sc.flags;
      row.nll[c] = ctx.spec.scoring.skip_first_answer_token
                       ? (sc.answer_tokens > 1 ? (sc.nll_mean * sc.answer_tokens - sc.nll_first_token) /
                                                     (sc.answer_tokens - 1)
                                               : std::numeric_limits<double>::quiet_NaN())
                       : sc.nll_mean;
    }
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (auto& r : rows) {
    r.done = true;
    r.seconds = secs / static_cast<double>(rows.size());
  }
  return rows;
}

}  // namespace dkv::experiment
