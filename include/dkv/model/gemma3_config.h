// Gemma 3 config.json <-> ModelConfig (HF Gemma3TextConfig, transformers 4.56 semantics): the
// text-only Gemma3ForCausalLM file, or the `text_config` of a Gemma3ForConditionalGeneration one.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <string>

#include "dkv/model/model_config.h"

namespace dkv::model {

// `j` is the whole config.json; `name` its architectures[0]. Missing keys take
// Gemma3TextConfig's defaults, as HF does (multimodal checkpoints list only the keys that
// differ). Throws InputError naming the key for unsupported values (attention logit
// soft-capping, bidirectional attention, an unknown layer type).
ModelConfig parse_gemma3_config(const nlohmann::json& j, const std::string& name, const std::string& where);

// The config.json transformers 4.56 writes for a text-only Gemma3ForCausalLM.
nlohmann::json gemma3_hf_json(const ModelConfig& config);

}  // namespace dkv::model
