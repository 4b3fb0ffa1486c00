// Llama-family and Gemma 3 decoder forward. Shapes: B batch, T new tokens, S = cached + new entries,
// H query heads, Hkv kv heads, G = H / Hkv, D head_dim, V vocab.
#include "dkv/model/decoder.h"

#include <ATen/ATen.h>

#include <cmath>
#include <limits>

#include "dkv/core/error.h"
#include "dkv/model/checkpoint.h"
#include "dkv/model/flops.h"

namespace dkv::model {

using at::Tensor;

namespace {
bool same_angles(const cache::RopeSpec& a, const cache::RopeSpec& b) {
  return a.theta == b.theta && a.scaling.type == b.scaling.type && a.scaling.factor == b.scaling.factor;
}

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}
}  // namespace

Decoder Decoder::load(const std::string& dir, const LoadOptions& options) {
  auto ckpt = Checkpoint::open(dir);
  auto config = ckpt.is_gguf() ? parse_model_config(hf_config_from_gguf(*ckpt.gguf()), dir)
                               : load_model_config(dir + "/config.json");
  auto weights = load_decoder_weights(ckpt, config, options.dtype, options.device, options.quantization);
  return Decoder(std::move(config), std::move(weights), options);
}

Decoder::Decoder(ModelConfig config, DecoderWeights weights, LoadOptions options)
    : config_(std::move(config)), weights_(std::move(weights)), options_(options),
      rope_(config_.rope()) {
  for (int64_t l = 0; l < config_.num_hidden_layers; ++l) {
    layer_ropes_.push_back(config_.layer_rope(l));
    if (!same_angles(layer_ropes_.back(), rope_)) {
      DKV_CHECK(!local_rope_ || same_angles(layer_ropes_.back(), layer_ropes_[local_layer_]),
                "more than two RoPE specs across layers");
      local_rope_ = true;
      local_layer_ = l;
    }
  }
}

namespace {
// One list of a block's projections for both constnesses.
template <typename Layer>
auto projections(Layer& l) {
  return std::array{&l.q_proj, &l.k_proj, &l.v_proj, &l.o_proj, &l.gate_proj, &l.up_proj, &l.down_proj};
}
}  // namespace

std::array<LinearWeight*, 7> linear_weights(LayerWeights& l) { return projections(l); }
std::array<const LinearWeight*, 7> linear_weights(const LayerWeights& l) { return projections(l); }

namespace {
// Sums `of_tensor` over the full-precision tensors and `of_linear` over the block projections,
// counting a tied lm_head once.
template <typename OfTensor, typename OfLinear>
int64_t sum_over_weights(const DecoderWeights& w, bool tied, OfTensor of_tensor, OfLinear of_linear) {
  auto sum = [&](const Tensor& t) { return t.defined() ? of_tensor(t) : int64_t{0}; };
  int64_t n = sum(w.embed_tokens) + sum(w.norm) + (tied ? 0 : sum(w.lm_head));
  for (const auto& l : w.layers) {
    for (const Tensor* t : {&l.input_layernorm, &l.post_attention_layernorm, &l.q_bias, &l.k_bias,
                            &l.v_bias, &l.gate_bias, &l.up_bias, &l.down_bias, &l.q_norm, &l.k_norm,
                            &l.pre_feedforward_layernorm, &l.post_feedforward_layernorm})
      n += sum(*t);
    for (const LinearWeight* p : linear_weights(l)) n += of_linear(*p);
  }
  return n;
}
}  // namespace

int64_t Decoder::parameter_count() const {
  return sum_over_weights(weights_, config_.tie_word_embeddings, [](const Tensor& t) { return t.numel(); },
                          [](const LinearWeight& p) { return p.numel(); });
}

int64_t Decoder::storage_bytes() const {
  return sum_over_weights(
      weights_, config_.tie_word_embeddings,
      [](const Tensor& t) { return t.numel() * static_cast<int64_t>(t.element_size()); },
      [](const LinearWeight& p) { return p.storage_bytes(); });
}

cache::KvCache Decoder::new_cache() const { return cache::KvCache(layer_ropes_); }

Tensor rms_norm(const Tensor& x, const Tensor& weight, double eps) {
  auto h = x.to(at::kFloat);
  auto variance = h.pow(2).mean(-1, /*keepdim=*/true);
  h = h * at::rsqrt(variance + eps);
  return weight * h.to(x.scalar_type());
}

Tensor gemma_rms_norm(const Tensor& x, const Tensor& weight, double eps) {
  auto h = x.to(at::kFloat);
  h = h * at::rsqrt(h.pow(2).mean(-1, /*keepdim=*/true) + eps);
  return (h * (weight.to(at::kFloat) + 1.0)).to(x.scalar_type());
}

Tensor Decoder::norm(const Tensor& x, const Tensor& weight) const {
  return config_.gemma() ? gemma_rms_norm(x, weight, config_.rms_norm_eps)
                         : rms_norm(x, weight, config_.rms_norm_eps);
}

std::pair<Tensor, Tensor> Decoder::attention_bias(const ForwardInput& in, const Tensor& new_valid,
                                                 const cache::KvCache* cache) const {
  const auto B = in.ids.size(0), T = in.ids.size(1);
  const auto opts_long = in.ids.options().dtype(at::kLong);
  const bool has_past = cache && !cache->empty();
  const auto past_len = has_past ? cache->lengths() : at::zeros({B}, opts_long);
  // Ordinal of each new token among its sequence's entries (valid ones are contiguous first).
  auto new_ord = past_len.unsqueeze(1) + new_valid.to(at::kLong).cumsum(1) - 1;  // [B, T]
  auto idx = at::arange(T, opts_long);
  // New-token keys: causal by index, real tokens only; the diagonal is always open so that
  // padding rows (whose outputs are ignored) never see an all-masked row.
  auto eye = at::eye(T, in.ids.options().dtype(at::kBool)).unsqueeze(0);
  auto allowed_new = (idx.unsqueeze(0) <= idx.unsqueeze(1)).unsqueeze(0) &
                     new_valid.unsqueeze(1);                                       // [B, T, T]
  allowed_new = allowed_new | eye;
  Tensor allowed = allowed_new, key_ord = new_ord;
  if (has_past) {
    auto allowed_past = cache->valid().unsqueeze(1).expand({B, T, cache->capacity()});
    allowed = at::cat({allowed_past, allowed_new}, 2);                              // [B, T, S]
    key_ord = at::cat({cache->ordinals(), new_ord}, 1);                             // [B, S]
  }
  const auto S = allowed.size(2);
  Tensor score_bias;
  if (in.score_bias.defined()) {
    const std::vector<int64_t> want{B, T, S};
    if (in.score_bias.sizes().vec() != want)
      throw InputError("Decoder::forward: score_bias must be [B, T, S + T] = " + shape_string(want) +
                       ", got " + shape_string(in.score_bias.sizes().vec()));
    score_bias = in.score_bias.to(in.ids.device()).to(options_.dtype);
  }
  auto to_bias = [&](const Tensor& ok) {
    auto bias = at::zeros(ok.sizes(), in.ids.options().dtype(options_.dtype));
    bias.masked_fill_(at::logical_not(ok), -std::numeric_limits<float>::infinity());
    // The mask holds only 0 and -inf, so folding the caller's bias in here gives the same
    // scores as adding it after the mask: s + (0 + b) = s + b, s + (-inf + b) = -inf.
    if (score_bias.defined()) bias = bias + score_bias;
    return bias.view({B, 1, 1, T, S});  // broadcast over [Hkv, G]
  };
  Tensor sliding;
  if (config_.sliding_window) {
    // HF >= 4.42: a query with ordinal i sees keys with ordinal in (i - W, i].
    auto in_window = allowed & (key_ord.unsqueeze(1) > new_ord.unsqueeze(2) - *config_.sliding_window);
    in_window = in_window | at::cat({at::zeros({B, T, S - T}, allowed.options()), eye.expand({B, T, T})}, 2);
    sliding = to_bias(in_window);
  }
  bool any_full = false;
  for (int64_t l = 0; l < config_.num_hidden_layers; ++l) any_full |= !config_.layer_is_sliding(l);
  return {any_full ? to_bias(allowed) : Tensor(), sliding};
}

Tensor Decoder::layer_forward(int64_t index, const Tensor& x, const Tensor& cos, const Tensor& sin,
                              const Tensor& bias, cache::KvCache* cache, bool store) const {
  const auto& w = weights_.layers[index];
  const auto B = x.size(0), T = x.size(1);
  const auto H = config_.num_attention_heads, Hkv = config_.num_key_value_heads;
  const auto D = config_.head_dim, G = H / Hkv;
  const bool gemma = config_.gemma();

  auto h = norm(x, w.input_layernorm);
  auto q = w.q_proj.apply(h, w.q_bias).view({B, T, H, D}).transpose(1, 2);    // [B, H, T, D]
  auto k = w.k_proj.apply(h, w.k_bias).view({B, T, Hkv, D}).transpose(1, 2);  // [B, Hkv, T, D]
  auto v = w.v_proj.apply(h, w.v_bias).view({B, T, Hkv, D}).transpose(1, 2);
  if (gemma) {  // Gemma3Attention: q_norm / k_norm over head_dim before RoPE
    q = gemma_rms_norm(q, w.q_norm, config_.rms_norm_eps);
    k = gemma_rms_norm(k, w.k_norm, config_.rms_norm_eps);
  }
  q = cache::apply_rotary(q, cos, sin, rope_.pairing);
  k = cache::apply_rotary(k, cos, sin, rope_.pairing).contiguous();
  v = v.contiguous();
  Tensor k_all = k, v_all = v;
  if (cache) std::tie(k_all, v_all) = cache->extend_layer(index, k, v, store);
  const auto S = k_all.size(2);

  // Grouped-query attention without repeating K/V: query head h uses kv head h / G, so the
  // G query heads of one kv head are stacked along the row axis: [B, Hkv, G*T, D].
  auto qg = q.contiguous().view({B, Hkv, G * T, D});
  auto scores = at::matmul(qg, k_all.transpose(2, 3)).view({B, Hkv, G, T, S});
  // Gemma 3: query_pre_attn_scalar ** -0.5 (HF's `scaling`); Llama family: 1 / sqrt(D).
  scores = scores * (gemma ? config_.attention_scale() : 1.0 / std::sqrt(static_cast<double>(D))) + bias;
  // HF: softmax in fp32, then back to the activation dtype.
  auto probs = at::softmax(scores, -1, at::kFloat).to(x.scalar_type()).view({B, Hkv, G * T, S});
  auto attn = at::matmul(probs, v_all).view({B, H, T, D}).transpose(1, 2).reshape({B, T, H * D});
  if (gemma) {
    // Gemma3DecoderLayer: post-attention norm on the attention output; GeGLU between
    // pre- and post-feed-forward norms.
    auto out = x + gemma_rms_norm(w.o_proj.apply(attn), w.post_attention_layernorm, config_.rms_norm_eps);
    h = gemma_rms_norm(out, w.pre_feedforward_layernorm, config_.rms_norm_eps);
    auto mlp = w.down_proj.apply(at::gelu(w.gate_proj.apply(h), "tanh") * w.up_proj.apply(h));
    return out + gemma_rms_norm(mlp, w.post_feedforward_layernorm, config_.rms_norm_eps);
  }
  auto out = x + w.o_proj.apply(attn);

  h = rms_norm(out, w.post_attention_layernorm, config_.rms_norm_eps);
  auto mlp = w.down_proj.apply(at::silu(w.gate_proj.apply(h, w.gate_bias)) * w.up_proj.apply(h, w.up_bias),
                               w.down_bias);
  return out + mlp;
}

Tensor Decoder::forward(const ForwardInput& in, cache::KvCache* cache, CacheWrite write) const {
  if (!in.ids.defined() || in.ids.dim() != 2 || in.ids.scalar_type() != at::kLong)
    throw InputError("Decoder::forward: ids must be a [B, T] int64 tensor");
  const auto B = in.ids.size(0), T = in.ids.size(1);
  DKV_CHECK(T > 0, "forward with no tokens");
  if (in.ids.min().item<int64_t>() < 0 || in.ids.max().item<int64_t>() >= config_.vocab_size)
    throw InputError("Decoder::forward: token ids must lie in [0, vocab_size=" +
                     std::to_string(config_.vocab_size) + ")");
  const bool has_past = cache && !cache->empty();
  if (has_past && cache->batch() != B)
    throw InputError("Decoder::forward: cache holds " + std::to_string(cache->batch()) +
                     " sequences, input has " + std::to_string(B));
  auto ids = in.ids.to(options_.device);
  Tensor new_valid = in.attention_mask.defined()
                         ? in.attention_mask.to(options_.device).to(at::kBool)
                         : at::ones({B, T}, ids.options().dtype(at::kBool));
  Tensor positions;
  if (in.positions.defined()) {
    if (in.positions.sizes() != in.ids.sizes())
      throw InputError("Decoder::forward: positions must have the shape of ids");
    positions = in.positions.to(options_.device).to(at::kLong);
  } else {
    positions = has_past ? cache->next_positions(T)
                         : at::arange(T, ids.options()).unsqueeze(0).expand({B, T});
  }
  ForwardInput local = in;
  local.ids = ids;
  auto [full_bias, sliding_bias] = attention_bias(local, new_valid, cache);
  auto [cos, sin] = cache::cos_sin(rope_, positions);  // [B, T, D] fp32
  Tensor local_cos, local_sin;  // Gemma 3's sliding layers (all share one local spec)
  if (local_rope_) std::tie(local_cos, local_sin) = cache::cos_sin(layer_ropes_[local_layer_], positions);

  const bool store = write == CacheWrite::store;
  auto x = at::embedding(weights_.embed_tokens, ids);  // [B, T, hidden]
  if (config_.gemma()) {
    // Gemma3TextScaledWordEmbedding: x * sqrt(hidden) as a scalar tensor of torch's default
    // dtype at init (fp32, fp64 for fp64 models) cast to the weight dtype.
    const auto scalar_dtype = x.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
    auto scale = at::scalar_tensor(std::sqrt(static_cast<double>(config_.hidden_size)), scalar_dtype);
    x = x * scale.to(x.device()).to(x.scalar_type());
  }
  for (int64_t l = 0; l < config_.num_hidden_layers; ++l) {
    const bool sliding = config_.layer_is_sliding(l);
    const bool local_angles = local_rope_ && !same_angles(layer_ropes_[l], rope_);
    x = layer_forward(l, x, local_angles ? local_cos : cos, local_angles ? local_sin : sin,
                      sliding ? sliding_bias : full_bias, cache, store);
  }
  if (cache && store) cache->commit_entries(positions.contiguous(), new_valid);

  if (flop_counter_)
    *flop_counter_ += forward_flops(config_, B, T, has_past ? cache->capacity() - (store ? T : 0) : 0,
                                    in.logit_rows.defined() ? in.logit_rows.numel() : B * T);
  if (in.logit_rows.defined()) {
    auto rows = in.logit_rows.to(options_.device).to(at::kLong);
    x = x.reshape({B * T, -1}).index_select(0, rows);
  }
  x = norm(x, weights_.norm);
  auto logits = at::linear(x, weights_.lm_head);
  if (config_.final_logit_softcapping) {
    // HF Gemma3ForCausalLM: logits / cap -> tanh -> * cap, in the model dtype.
    const double cap = *config_.final_logit_softcapping;
    logits = at::tanh(logits / cap) * cap;
  }
  return logits.to(at::kFloat);
}

}  // namespace dkv::model
