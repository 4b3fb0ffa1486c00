// Surrogate sources of the `surrogates:` block: LLM prompts, static texts, extracted keywords,
// echoes, shuffles and length-matched random tokens (study v2, notes section 3).
#include "dkv/experiment/named_surrogates.h"

#include <ATen/ATen.h>

#include "dkv/core/error.h"
#include "dkv/core/rng.h"
#include "dkv/experiment/surrogate_text.h"
#include "dkv/model/generate.h"

namespace dkv::experiment {

namespace {

// FNV-1a of a source's name: its random streams are keyed by name, so adding a source does not
// change another's draws.
uint64_t name_key(const std::string& name) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : name) h = (h ^ c) * 1099511628211ull;
  return h;
}

uint64_t stream_seed(const RunContext& ctx, int64_t index, Stream purpose, const std::string& name) {
  return Rng::keyed({ctx.spec.runtime.seed, static_cast<uint64_t>(index), static_cast<uint64_t>(purpose), name_key(name)})
      .next_u64();
}

std::vector<std::string> generate_source(const RunContext& ctx, const SurrogateSource& src,
                                         const std::vector<int64_t>& indices) {
  std::vector<std::vector<int64_t>> prompts;
  std::vector<uint64_t> seeds;
  for (auto i : indices) {
    const auto& s = ctx.samples[i];
    const auto passage = cap_words(s.passage, src.passage_word_cap);
    const auto user = src.instruction + fill_template(src.document_block, passage, "", s.query);
    prompts.push_back(ctx.text.encode(ctx.text.render_user_turn(src.system_prompt, user), false));
    seeds.push_back(stream_seed(ctx, i, Stream::named_source, src.name));
  }
  model::GenerateOptions opt;
  opt.max_new_tokens = src.max_new_tokens;
  opt.temperature = src.temperature;
  opt.top_k = ctx.spec.surrogate.top_k;
  opt.top_p = ctx.spec.surrogate.top_p;
  opt.eos_token_ids = ctx.text.eos_ids;
  opt.logits_for_whole_prompt = ctx.notebook_generation;
  const auto out = model::generate(ctx.decoder, prompts, opt, seeds);
  std::vector<std::string> texts;
  for (const auto& ids : out) texts.push_back(clean_generated(ctx.text.decode(ids), src.first_line, src.strip_quotes));
  return texts;
}

std::string shuffled_tokens(const RunContext& ctx, const std::string& text, uint64_t seed) {
  auto ids = ctx.text.encode(text, false);
  Rng rng(seed);
  for (size_t i = ids.size(); i > 1; --i) std::swap(ids[i - 1], ids[rng.below(i)]);
  return ctx.text.decode(ids);
}

std::string random_tokens(const RunContext& ctx, const SurrogateSource& src, int64_t length, uint64_t seed) {
  if (length == 0) return "";
  const int64_t lo = src.margin, hi = ctx.text.vocab_size - src.margin;
  if (hi <= lo)
    throw ConfigError("surrogates." + src.name + ".margin=" + std::to_string(lo) + " leaves no token ids in a vocabulary of " +
                      std::to_string(ctx.text.vocab_size));
  Rng rng(seed);
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::vector<int64_t> ids;
    for (int64_t k = 0; k < length; ++k) ids.push_back(lo + static_cast<int64_t>(rng.below(static_cast<uint64_t>(hi - lo))));
    auto text = ctx.text.decode(ids);
    if (static_cast<int64_t>(ctx.text.encode(text, false).size()) == length) return text;
  }
  throw InputError("surrogates." + src.name + ": 100 draws of " + std::to_string(length) +
                   " random tokens never decoded to a text that re-encodes to " + std::to_string(length) + " tokens");
}

}  // namespace

int64_t partner_of(uint64_t seed, int64_t index, int64_t n) {
  if (n < 2) throw InputError("a source or mix that pairs samples needs at least 2 samples, the run has " + std::to_string(n));
  Rng rng = Rng::keyed({seed, static_cast<uint64_t>(index), static_cast<uint64_t>(Stream::partner)});
  auto j = static_cast<int64_t>(rng.below(static_cast<uint64_t>(n - 1)));
  return j >= index ? j + 1 : j;
}

std::vector<std::map<std::string, std::string>> named_surrogates(
    const RunContext& ctx, const std::vector<int64_t>& indices,
    const std::vector<std::map<std::string, std::string>>& builtin, std::vector<std::string>& errors) {
  const auto K = indices.size();
  const auto N = static_cast<int64_t>(ctx.samples.size());
  std::vector<std::map<std::string, std::string>> out(K);
  errors.assign(K, "");
  for (const auto& src : ctx.spec.surrogates) {
    std::vector<std::string> generated;
    if (src.kind == "llm") generated = generate_source(ctx, src, indices);
    for (size_t k = 0; k < K; ++k) {
      if (!errors[k].empty()) continue;
      const auto i = indices[k];
      const auto& s = ctx.samples[i];
      auto lookup = [&](const std::string& name) -> const std::string& {
        if (auto it = out[k].find(name); it != out[k].end()) return it->second;
        return builtin[k].at(name);  // spec checks: defined above, or a built-in
      };
      try {
        std::string text;
        if (src.kind == "llm") text = generated[k];
        else if (src.kind == "static") text = src.text;
        else if (src.kind == "query") text = s.query;
        else if (src.kind == "keywords") text = keywords(src.from == "query" ? s.query : s.passage, src.count, src.min_chars);
        else if (src.kind == "keywords_of_other")
          text = keywords(ctx.samples[partner_of(ctx.spec.runtime.seed, i, N)].passage, src.count, src.min_chars);
        else if (src.kind == "echo") text = first_sentence(s.passage, src.word_cap);
        else if (src.kind == "shuffled")
          text = src.unit == "words" ? shuffled_words(lookup(src.of), stream_seed(ctx, i, Stream::shuffle, src.name))
                                     : shuffled_tokens(ctx, lookup(src.of), stream_seed(ctx, i, Stream::shuffle, src.name));
        else if (src.kind == "random_tokens") {
          const int64_t length = src.match_tokens.empty()
                                     ? src.length
                                     : static_cast<int64_t>(ctx.text.encode(lookup(src.match_tokens), false).size());
          text = random_tokens(ctx, src, length, stream_seed(ctx, i, Stream::random_prefix, src.name));
        } else {
          throw Error("unknown surrogate source kind " + src.kind);
        }
        out[k][src.name] = std::move(text);
      } catch (const InputError& e) {
        errors[k] = e.what();
      }
    }
  }
  return out;
}

}  // namespace dkv::experiment
