// sentence-transformers (3.x) module list -> BERT + Pooling(mean) + optional Normalize.
#include "dkv/model/sentence_embedder.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>

#include "dkv/core/error.h"
#include "dkv/core/json_util.h"

namespace dkv::model {

using nlohmann::json;
namespace ju = json_util;

namespace {

constexpr const char* kTransformer = "sentence_transformers.models.Transformer";
constexpr const char* kPooling = "sentence_transformers.models.Pooling";
constexpr const char* kNormalize = "sentence_transformers.models.Normalize";

// Pooling keys sentence-transformers 3.x writes. Only mean pooling is implemented; the others
// must be false (a model that also concatenates CLS or max would have a wider vector).
void check_pooling(const std::string& path) {
  const auto j = ju::read_file(path);
  if (!j.is_object()) throw InputError(path + ": expected a JSON object");
  if (!ju::get_bool(j, "pooling_mode_mean_tokens", path))
    throw InputError(path + ": key 'pooling_mode_mean_tokens': expected true (dkv implements "
                     "mean pooling only), got false");
  for (const auto& [key, value] : j.items()) {
    if (key.rfind("pooling_mode_", 0) != 0 || key == "pooling_mode_mean_tokens") continue;
    if (!value.is_boolean())
      throw InputError(path + ": key '" + key + "': expected a boolean, got " + value.dump());
    if (value.get<bool>())
      throw InputError(path + ": key '" + key + "': pooling mode is not supported (dkv "
                       "implements pooling_mode_mean_tokens only); expected false, got true");
  }
  // include_prompt=false drops instruction tokens from the mean; we pool over every token.
  if (!ju::get_bool_or(j, "include_prompt", true, path))
    throw InputError(path + ": key 'include_prompt': false is not supported (expected true)");
}

}  // namespace

SentenceModules read_sentence_modules(const std::string& dir) {
  const auto where = dir + "/modules.json";
  const auto j = ju::read_file(where);
  if (!j.is_array() || j.empty())
    throw InputError(where + ": expected a non-empty list of modules");
  SentenceModules m;
  for (size_t i = 0; i < j.size(); ++i) {
    const auto w = where + ": [" + std::to_string(i) + "]";
    const auto type = ju::get_string(j[i], "type", w);
    const auto path = ju::get_string(j[i], "path", w);
    const auto full = path.empty() ? dir : dir + "/" + path;
    // Order matters: pooling consumes the transformer's token states, Normalize the pooled one.
    if (i == 0 && type == kTransformer) {
      m.transformer_path = full;
    } else if (i == 1 && type == kPooling) {
      m.pooling_path = full;
      check_pooling(full + "/config.json");
    } else if (i == 2 && type == kNormalize) {
      m.normalize = true;
    } else {
      static const char* expected[] = {kTransformer, kPooling, kNormalize};
      throw InputError(w + ": key 'type': expected \"" + std::string(expected[std::min<size_t>(i, 2)]) +
                       "\" (dkv supports Transformer, Pooling, optional Normalize, in that "
                       "order), got \"" + type + "\"");
    }
  }
  if (m.pooling_path.empty())
    throw InputError(where + ": no " + std::string(kPooling) + " module after the Transformer");
  const auto sbert = m.transformer_path + "/sentence_bert_config.json";
  if (std::filesystem::exists(sbert)) {
    const auto s = ju::read_file(sbert);
    m.max_seq_length = ju::get_int_or(s, "max_seq_length", 0, sbert);
    if (m.max_seq_length < 0)
      throw InputError(sbert + ": key 'max_seq_length': expected a positive integer");
  }
  return m;
}

SentenceEmbedder::SentenceEmbedder(SentenceModules modules, BertEncoder encoder)
    : modules_(std::move(modules)), encoder_(std::move(encoder)) {}

SentenceEmbedder SentenceEmbedder::load(const std::string& dir, at::ScalarType dtype,
                                        at::Device device) {
  auto modules = read_sentence_modules(dir);
  auto encoder = BertEncoder::load(modules.transformer_path, dtype, device);
  const auto pooling = modules.pooling_path + "/config.json";
  const auto dim = ju::get_int(ju::read_file(pooling), "word_embedding_dimension", pooling);
  if (dim != encoder.config().hidden_size)
    throw InputError(pooling + ": key 'word_embedding_dimension': expected " +
                     std::to_string(encoder.config().hidden_size) +
                     " (config.json hidden_size), got " + std::to_string(dim));
  return SentenceEmbedder(std::move(modules), std::move(encoder));
}

at::Tensor SentenceEmbedder::embed(const at::Tensor& ids, const at::Tensor& attention_mask) const {
  if (modules_.max_seq_length > 0 && ids.dim() == 2 && ids.size(1) > modules_.max_seq_length)
    throw InputError("SentenceEmbedder::embed: " + std::to_string(ids.size(1)) +
                     " tokens exceed " + modules_.transformer_path +
                     "/sentence_bert_config.json max_seq_length=" +
                     std::to_string(modules_.max_seq_length) +
                     "; truncate the ids as sentence-transformers does");
  const auto states = encoder_.forward(ids, attention_mask);  // [B, T, C]
  // sentence-transformers Pooling (mean): in the model dtype, count clamped at 1e-9.
  const auto m = attention_mask.to(states.device(), states.scalar_type()).unsqueeze(-1);  // [B, T, 1]
  const auto sum = (states * m).sum(1);                                                    // [B, C]
  auto pooled = sum / at::clamp_min(m.sum(1), 1e-9);
  if (modules_.normalize)  // torch.nn.functional.normalize(p=2, dim=1, eps=1e-12)
    pooled = pooled / at::clamp_min(pooled.norm(2, {1}, /*keepdim=*/true), 1e-12);
  return pooled.to(at::kFloat);
}

at::Tensor SentenceEmbedder::embed(const std::vector<std::vector<int64_t>>& sequences,
                                   int64_t batch_size) const {
  if (batch_size <= 0) throw InputError("SentenceEmbedder::embed: batch_size must be positive");
  const int64_t pad = encoder_.config().pad_token_id;
  std::vector<at::Tensor> out;
  for (size_t begin = 0; begin < sequences.size(); begin += batch_size) {
    const size_t end = std::min(sequences.size(), begin + static_cast<size_t>(batch_size));
    int64_t T = 0;
    for (size_t i = begin; i < end; ++i) T = std::max<int64_t>(T, sequences[i].size());
    const int64_t B = static_cast<int64_t>(end - begin);
    auto ids = at::full({B, T}, pad, at::kLong);
    auto mask = at::zeros({B, T}, at::kLong);
    for (int64_t b = 0; b < B; ++b) {
      const auto& s = sequences[begin + b];
      if (s.empty()) throw InputError("SentenceEmbedder::embed: sequence " +
                                      std::to_string(begin + b) + " has no tokens");
      const int64_t n = static_cast<int64_t>(s.size());
      ids[b].narrow(0, 0, n).copy_(at::tensor(s, at::kLong));
      mask[b].narrow(0, 0, n).fill_(1);
    }
    out.push_back(embed(ids, mask).cpu());
  }
  if (out.empty()) return at::empty({0, dimension()}, at::kFloat);
  return at::cat(out, 0);
}

at::Tensor cos_sim(const at::Tensor& a, const at::Tensor& b) {
  auto unit = [](const at::Tensor& x) {
    return x / at::clamp_min(x.norm(2, {1}, /*keepdim=*/true), 1e-12);
  };
  return at::mm(unit(a), unit(b).t());
}

std::vector<int64_t> truncate_for_embedding(std::vector<int64_t> ids, int64_t max_tokens) {
  if (max_tokens > 1 && static_cast<int64_t>(ids.size()) > max_tokens) {
    const auto last = ids.back();
    ids.resize(max_tokens - 1);
    ids.push_back(last);
  }
  return ids;
}

}  // namespace dkv::model
