// JSONL token dumps.
#include "dkv/experiment/token_dump.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "dkv/core/error.h"

namespace dkv::experiment {

TokenDump::TokenDump(const std::string& path) : path_(path), out_(path, std::ios::app) {
  if (!out_) throw IoError("cannot open " + path + " for appending");
}

void TokenDump::write(const experiment::ExperimentSpec& spec,
                      const std::vector<experiment::PlannedSample>& plans) {
  for (const auto& ps : plans) {
    nlohmann::json line{{"sample", ps.index}, {"query_ids", ps.plan.query_ids},
                        {"answer_ids", ps.plan.answer_ids}, {"conditions", nlohmann::json::array()}};
    for (size_t c = 0; c < ps.plan.conditions.size(); ++c) {
      const auto& p = ps.plan.conditions[c];
      if (p.mix) {  // no prefill of its own: which caches it mixes
        const auto& m = *p.mix;
        line["conditions"].push_back({{"id", spec.conditions[c].id},
                                      {"mix", {{"keys", spec.conditions[m.keys].id},
                                               {"values", m.from_partner ? "partner" : spec.conditions[m.values].id},
                                               {"layers", m.layers},
                                               {"alpha", m.alpha},
                                               {"document_entries", {p.doc_begin, p.doc_end}}}},
                                      {"flags", p.flags}});
        continue;
      }
      std::vector<int64_t> kept = p.keep, pos;
      if (kept.empty())
        for (size_t i = 0; i < p.prefill_ids.size(); ++i) kept.push_back(static_cast<int64_t>(i));
      for (size_t i = 0; i < kept.size(); ++i)
        pos.push_back(p.position_offset + kept[i] + (p.delta.empty() ? 0 : p.delta[i]));
      const int64_t scored = p.query_positions == experiment::QueryPositions::after_last
                                 ? *std::max_element(pos.begin(), pos.end()) + 1
                                 : static_cast<int64_t>(kept.size());
      line["conditions"].push_back({{"id", spec.conditions[c].id},
                                    {"prefill_ids", p.prefill_ids},
                                    {"prefill_positions", p.position_offset},
                                    {"kept_entries", kept},
                                    {"kept_positions", pos},
                                    {"scored_positions", scored},
                                    {"flags", p.flags}});
    }
    out_ << line.dump() << "\n";
  }
  out_.flush();
  if (!out_) throw IoError("write failed: " + path_);
}

}  // namespace dkv::experiment
