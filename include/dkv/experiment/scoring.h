// Scoring: runs sample plans through the decoder and returns answer NLLs per condition.
// Two executors compute the same numbers: the optimized one (shared prefills, prefix
// extension, batched scoring with logits only where scored) and the notebook-shaped one
// (each condition alone, query and answer in separate passes, every logit), kept for
// `dkv bench experiment` and as an independent cross-check in tests.
#pragma once

#include <cstdint>
#include <vector>

#include "dkv/experiment/plan.h"

namespace dkv::model {
class Decoder;
}

namespace dkv::experiment {

struct ConditionScore {
  double nll_mean = 0;         // mean NLL (nats) over all answer tokens
  double nll_first_token = 0;  // NLL of the first answer token
  int32_t answer_tokens = 0;
  uint32_t flags = 0;          // PlanFlag bits
};

struct ScoringStats {
  double flops = 0;
  int64_t forwards = 0;
  int64_t prefills = 0;       // distinct prefills computed (optimized: after sharing)
};

// Optimized executor. Work is batched under `token_budget` (rows x padded length) in an order
// fixed by the plans alone, so a sample's numbers do not depend on how samples reach a rank.
std::vector<std::vector<ConditionScore>> score_plans(const model::Decoder& decoder,
                                                     const std::vector<SamplePlan>& plans,
                                                     int64_t token_budget, ScoringStats* stats);

// The notebook's shape: per condition its own prefill, then the query and the answer in two
// further passes, batch 1, logits for every position.
std::vector<std::vector<ConditionScore>> score_plans_naive(const model::Decoder& decoder,
                                                           const std::vector<SamplePlan>& plans,
                                                           ScoringStats* stats);

}  // namespace dkv::experiment
