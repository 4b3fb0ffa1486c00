// Linear weights saved already quantized by HF's bitsandbytes integration (Linear4bit state
// dicts, as `save_pretrained` writes them for load_in_4bit models), and the writer dkv uses to
// save a checkpoint that way (`dkv quantize`), so that ranks load 4-bit weights directly.
//
// For a linear weight named W (e.g. "model.layers.0.mlp.down_proj.weight") bitsandbytes'
// QuantState.as_dict(packed=True) stores:
//   W                                    uint8 [ceil(n / 2), 1]   packed codes, high nibble first
//   W.absmax                             uint8 [blocks] (double-quantized) or float32 [blocks]
//   W.quant_map                          float32 [16]             the NF4 code
//   W.nested_absmax, W.nested_quant_map  float32                  double quantization only
//   W.quant_state.bitsandbytes__nf4      uint8 [bytes]            JSON: quant_type, blocksize,
//                                                                 dtype, shape, nested_* keys
#pragma once

#include <string>
#include <vector>

#include "dkv/model/nf4_weight.h"

namespace dkv::model {

class Checkpoint;

// The key whose presence marks W as saved in bitsandbytes' 4-bit format.
std::string bnb_nf4_state_key(const std::string& weight_name);

// Reads W and its quant_state tensors, checking every dtype, size and the JSON against
// `expected_shape` (from config.json). InputError names the file, tensor and JSON key.
Nf4Weight read_bnb_nf4(const Checkpoint& checkpoint, const std::string& weight_name,
                       const std::vector<int64_t>& expected_shape);

// The tensors bitsandbytes would save for `w` under `weight_name`; `dtype_name` is the
// QuantState dtype ("float16", "bfloat16" or "float32": the weight's dtype before quantizing).
std::vector<std::pair<std::string, at::Tensor>> bnb_nf4_tensors(const std::string& weight_name,
                                                                 const Nf4Weight& w,
                                                                 const std::string& dtype_name);

// Writes `dst_dir`: `src_dir`'s checkpoint with the decoder blocks' linear weights NF4
// (double-quantized) in bitsandbytes' format, config.json with HF's quantization_config, and
// the other files of `src_dir` (tokenizer, generation config) copied.
void save_bnb_nf4_checkpoint(const std::string& src_dir, const std::string& dst_dir);

}  // namespace dkv::model
