// Decoder: the Llama/Mistral/Qwen2 and Gemma 3 forward passes with explicit positions,
// right-padding masks and a KvCache, following HF transformers' modeling code.
#pragma once

#include <ATen/core/Tensor.h>

#include <array>
#include <utility>
#include <vector>
#include <string>

#include "dkv/cache/kv_cache.h"
#include "dkv/model/decoder_weights.h"
#include "dkv/model/model_config.h"

namespace dkv::model {

struct LoadOptions {
  at::ScalarType dtype = at::kFloat;  // run dtype: fp32, fp16 or bf16
  at::Device device = at::kCPU;
  // Linear layers of the decoder blocks quantized at load; compute stays in `dtype`.
  Quantization quantization = Quantization::none;
};

struct ForwardInput {
  at::Tensor ids;             // [B, T] int64, right-padded
  at::Tensor positions;       // [B, T] int64; undefined -> cache length + 0..T-1 (HF default)
  at::Tensor attention_mask;  // [B, T] bool/int, 1 = real token; undefined -> all real
  at::Tensor logit_rows;      // [N] int64 flat indices b*T + t; undefined -> every position
  at::Tensor score_bias{};  // [B, T, S + T] float: added to the attention scores (after the mask; columns = cache entries then the new tokens); undefined = none
};

// What a forward does with the cache it is given.
enum class CacheWrite { store, discard };

class Decoder {
 public:
  // Loads config.json and the safetensors weights of an HF checkpoint directory.
  static Decoder load(const std::string& dir, const LoadOptions& options = {});
  Decoder(ModelConfig config, DecoderWeights weights, LoadOptions options);

  const ModelConfig& config() const { return config_; }
  const LoadOptions& options() const { return options_; }
  const DecoderWeights& weights() const { return weights_; }
  int64_t parameter_count() const;
  int64_t storage_bytes() const;  // weight memory as held (quantized layers at their packed size)
  cache::KvCache new_cache() const;

  // Runs the new tokens over `cache` (may be null or empty). Returns fp32 logits:
  // [B, T, V], or [N, V] for `logit_rows`. With CacheWrite::store the new entries (padding
  // ones marked invalid) are appended to the cache; with discard the cache is only read.
  // Attention: a new token sees the cache's valid entries and the earlier real new tokens;
  // with a sliding window W, only those whose entry ordinal lies in (i - W, i] (HF >= 4.42).
  // Mistral applies the window on every layer; Gemma 3 on its sliding layers only, as
  // transformers 4.56's masking_utils does (a cut cache is windowed by entry ordinal, not by
  // RoPE position). Gemma 3's sliding layers rotate with rope_local_base_freq, its full
  // layers with rope_theta (and rope_scaling); the cache carries each layer's spec.
  at::Tensor forward(const ForwardInput& input, cache::KvCache* cache = nullptr,
                     CacheWrite write = CacheWrite::store) const;

  // Benchmarks: while set, every forward adds its FLOP count (model::forward_flops of its
  // shapes, padding included) to *counter. nullptr stops counting.
  void count_flops_into(double* counter) const { flop_counter_ = counter; }

 private:
  // {full-attention bias, sliding-window bias (undefined when no layer slides)}.
  std::pair<at::Tensor, at::Tensor> attention_bias(const ForwardInput& input, const at::Tensor& new_valid,
                                                   const cache::KvCache* cache) const;
  at::Tensor layer_forward(int64_t index, const at::Tensor& x, const at::Tensor& cos,
                           const at::Tensor& sin, const at::Tensor& bias, cache::KvCache* cache,
                           bool store) const;
  at::Tensor norm(const at::Tensor& x, const at::Tensor& weight) const;

  ModelConfig config_;
  DecoderWeights weights_;
  LoadOptions options_;
  cache::RopeSpec rope_;                     // the full-attention layers'
  std::vector<cache::RopeSpec> layer_ropes_;  // per layer
  bool local_rope_ = false;                   // some layer's spec differs from rope_ ...
  int64_t local_layer_ = 0;                   // ... e.g. this one's
  mutable double* flop_counter_ = nullptr;
};

// The seven projections of a block, for code that walks every linear weight.
std::array<const LinearWeight*, 7> linear_weights(const LayerWeights& layer);
std::array<LinearWeight*, 7> linear_weights(LayerWeights& layer);

// HF LlamaRMSNorm: normalise in fp32, cast back, then scale by the weight.
at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps);
// HF Gemma3RMSNorm: normalise and scale by (1 + weight) in fp32, then cast back.
at::Tensor gemma_rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps);

}  // namespace dkv::model
