// FLOP counts of decoder forwards from shapes alone, for benchmarks that compare plans.
#pragma once

#include <cstdint>

#include "dkv/model/model_config.h"

namespace dkv::model {

// One forward of B rows x T new tokens over `past` cached entries per row, with `logit_rows`
// rows through the lm_head: 2 FLOPs per weight per token for every linear layer, 4*T*S*D per
// head for attention scores and mixing (S = past + T), 2*hidden*V per logit row.
double forward_flops(const ModelConfig& config, int64_t batch, int64_t tokens, int64_t past,
                     int64_t logit_rows);

}  // namespace dkv::model
