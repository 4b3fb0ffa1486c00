// BertModel forward as transformers 4.43 modeling_bert runs it in eager mode (the path
// sentence-transformers takes): post-norm blocks, additive finfo.min mask, erf GELU.
// Shapes: B batch, T tokens, H heads, D head_dim, C hidden, I intermediate.
#include "dkv/model/bert_encoder.h"

#include <ATen/ATen.h>

#include <cmath>
#include <limits>

#include "dkv/core/error.h"
#include "dkv/model/checkpoint.h"

namespace dkv::model {

BertEncoder BertEncoder::load(const std::string& dir, at::ScalarType dtype, at::Device device) {
  auto config = load_bert_config(dir + "/config.json");
  auto ckpt = Checkpoint::open(dir);
  auto weights = load_bert_weights(ckpt, config, dtype, device);
  return BertEncoder(std::move(config), std::move(weights), dtype, device);
}

BertEncoder::BertEncoder(BertConfig config, BertWeights weights, at::ScalarType dtype,
                         at::Device device)
    : config_(std::move(config)), w_(std::move(weights)), dtype_(dtype), device_(device) {}

namespace {
void check_range(const at::Tensor& t, int64_t limit, const char* what, const char* key) {
  if (t.numel() == 0) return;
  const int64_t lo = t.min().item<int64_t>(), hi = t.max().item<int64_t>();
  if (lo < 0 || hi >= limit)
    throw InputError(std::string(what) + ": values must lie in [0, " + std::to_string(limit) +
                     ") (config.json: " + key + "), got [" + std::to_string(lo) + ", " +
                     std::to_string(hi) + "]");
}
}  // namespace

at::Tensor BertEncoder::forward(const at::Tensor& ids_in, const at::Tensor& mask_in,
                                const at::Tensor& types_in) const {
  if (ids_in.dim() != 2 || mask_in.sizes() != ids_in.sizes())
    throw InputError("BertEncoder::forward: expected ids and attention_mask of equal shape [B, T], got " +
                     c10::str(ids_in.sizes()) + " and " + c10::str(mask_in.sizes()));
  const int64_t B = ids_in.size(0), T = ids_in.size(1), C = config_.hidden_size;
  const int64_t H = config_.num_attention_heads, D = config_.head_dim();
  if (T > config_.max_position_embeddings)
    throw InputError("BertEncoder::forward: " + std::to_string(T) +
                     " tokens exceed config.json max_position_embeddings=" +
                     std::to_string(config_.max_position_embeddings));
  const auto ids = ids_in.to(device_, at::kLong);
  check_range(ids, config_.vocab_size, "token ids", "vocab_size");
  const auto types = types_in.defined() ? types_in.to(device_, at::kLong) : at::zeros_like(ids);
  if (types.sizes() != ids.sizes())
    throw InputError("BertEncoder::forward: token_type_ids shape " + c10::str(types.sizes()) +
                     " differs from ids " + c10::str(ids.sizes()));
  check_range(types, config_.type_vocab_size, "token_type_ids", "type_vocab_size");
  const double eps = config_.layer_norm_eps;

  // BertEmbeddings: (word + token_type) + position, in HF's order of additions, then LayerNorm.
  const auto pos = at::arange(T, ids.options());
  auto x = at::embedding(w_.word_embeddings, ids) + at::embedding(w_.token_type_embeddings, types);
  x = x + at::embedding(w_.position_embeddings, pos).unsqueeze(0);
  x = at::layer_norm(x, {C}, w_.embed_norm, w_.embed_norm_bias, eps);  // x: [B, T, C]

  // HF get_extended_attention_mask: (1 - mask) * finfo(dtype).min added to the scores, so a
  // padded key gets exp(-huge) = 0 exactly and real tokens see the same softmax as unpadded.
  const double lowest = dtype_ == at::kFloat ? std::numeric_limits<float>::lowest()
                        : dtype_ == at::kDouble ? std::numeric_limits<double>::lowest()
                        : dtype_ == at::kHalf   ? -65504.0
                                                : -3.3895313892515355e38;  // bf16
  const auto mask = mask_in.to(device_, dtype_);
  const auto bias = ((1.0 - mask) * lowest).view({B, 1, 1, T});  // [B, 1, 1, T]
  const double scale = std::sqrt(static_cast<double>(D));

  auto heads = [&](const at::Tensor& t) { return t.view({B, T, H, D}).transpose(1, 2); };
  for (const auto& l : w_.layers) {
    const auto q = heads(at::linear(x, l.query, l.query_bias));  // [B, H, T, D]
    const auto k = heads(at::linear(x, l.key, l.key_bias));
    const auto v = heads(at::linear(x, l.value, l.value_bias));
    // HF divides the scores by sqrt(D) after the matmul (not q before); same order here.
    auto scores = at::matmul(q, k.transpose(-1, -2)) / scale + bias;  // [B, H, T, T]
    const auto probs = at::softmax(scores, -1);
    const auto ctx = at::matmul(probs, v).transpose(1, 2).reshape({B, T, C});
    const auto a = at::layer_norm(at::linear(ctx, l.attn_out, l.attn_out_bias) + x, {C},
                                  l.attn_norm, l.attn_norm_bias, eps);
    // hidden_act "gelu": exact erf GELU (at::gelu's default approximate="none").
    const auto h = at::gelu(at::linear(a, l.intermediate, l.intermediate_bias));  // [B, T, I]
    x = at::layer_norm(at::linear(h, l.output, l.output_bias) + a, {C}, l.output_norm,
                       l.output_norm_bias, eps);
  }
  return x;  // [B, T, C]
}

}  // namespace dkv::model
