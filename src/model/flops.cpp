// FLOP model of the Llama-family forward.
#include "dkv/model/flops.h"

namespace dkv::model {

double forward_flops(const ModelConfig& c, int64_t batch, int64_t tokens, int64_t past,
                     int64_t logit_rows) {
  const double D = static_cast<double>(c.head_dim);
  const double attn_weights = static_cast<double>(c.hidden_size) * D *
                              (2.0 * c.num_attention_heads + 2.0 * c.num_key_value_heads);
  const double mlp_weights = 3.0 * c.hidden_size * c.intermediate_size;
  const double rows = static_cast<double>(batch) * tokens;
  const double linear = 2.0 * rows * (attn_weights + mlp_weights) * c.num_hidden_layers;
  const double attention =
      4.0 * rows * static_cast<double>(past + tokens) * D * c.num_attention_heads * c.num_hidden_layers;
  const double head = 2.0 * static_cast<double>(logit_rows) * c.hidden_size * c.vocab_size;
  return linear + attention + head;
}

}  // namespace dkv::model
