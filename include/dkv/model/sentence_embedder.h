// SentenceEmbedder: a sentence-transformers directory (all-MiniLM-L6-v2 layout) on token ids:
// BERT encoder, mean pooling over the attention mask, optional L2 normalisation.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "dkv/model/bert_encoder.h"

namespace dkv::model {

// What modules.json, 1_Pooling/config.json and sentence_bert_config.json declare.
struct SentenceModules {
  std::string transformer_path;  // the BERT directory (modules.json path "" = the root)
  std::string pooling_path;      // e.g. <dir>/1_Pooling
  bool normalize = false;        // a sentence_transformers.models.Normalize module is listed
  int64_t max_seq_length = 0;    // sentence_bert_config.json; 0 = not declared
};

// Reads and validates the module list. Supported: Transformer, then Pooling with
// pooling_mode_mean_tokens only, then an optional Normalize. Any other module type or pooling
// mode is an InputError naming the file and key. 2_Normalize/ may be absent (it holds no
// files; sentence-transformers does not read it).
SentenceModules read_sentence_modules(const std::string& dir);

class SentenceEmbedder {
 public:
  static SentenceEmbedder load(const std::string& dir, at::ScalarType dtype = at::kFloat,
                               at::Device device = at::kCPU);

  // ids, attention_mask: [B, T] right-padded (mask 1 = token). Returns [B, hidden] in fp32:
  // the sentence-transformers Pooling mean (sum of masked token states / clamp(count, 1e-9)),
  // L2-normalised (x / max(|x|, 1e-12), as F.normalize) when the module list says so.
  // Throws InputError when T exceeds sentence_bert_config.json max_seq_length (truncation is
  // the tokenizer's job: ids must already be cut as sentence-transformers cuts them).
  at::Tensor embed(const at::Tensor& ids, const at::Tensor& attention_mask) const;

  // Batched convenience: pads each group of `batch_size` sequences on the right with the
  // config's pad_token_id and stacks the results in input order: [N, hidden], fp32, CPU.
  at::Tensor embed(const std::vector<std::vector<int64_t>>& sequences, int64_t batch_size = 32) const;

  const SentenceModules& modules() const { return modules_; }
  const BertEncoder& encoder() const { return encoder_; }
  int64_t dimension() const { return encoder_.config().hidden_size; }

 private:
  SentenceEmbedder(SentenceModules modules, BertEncoder encoder);
  SentenceModules modules_;
  BertEncoder encoder_;
};

// sentence-transformers' truncation of a tokenized text ([CLS] ... [SEP]) to max_seq_length:
// the content is cut, the closing special token kept. max_tokens <= 1 leaves ids unchanged.
std::vector<int64_t> truncate_for_embedding(std::vector<int64_t> ids, int64_t max_tokens);

// Cosine similarity of every row of a [N, C] with every row of b [M, C] -> [N, M], as
// sentence_transformers.util.cos_sim (rows normalised with eps 1e-12, then a matrix product).
at::Tensor cos_sim(const at::Tensor& a, const at::Tensor& b);

}  // namespace dkv::model
