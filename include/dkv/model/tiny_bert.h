// Random-weight sentence-transformers models in the all-MiniLM-L6-v2 layout, with a small
// WordPiece vocabulary, for tests and the demo.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dkv/model/bert_config.h"

namespace dkv::model {

struct TinyBertOptions {
  uint64_t seed = 0;
  int64_t hidden_size = 64;
  int64_t intermediate_size = 128;
  int64_t num_hidden_layers = 2;
  int64_t num_attention_heads = 4;
  int64_t max_position_embeddings = 128;
  int64_t max_seq_length = 128;  // sentence_bert_config.json
  bool normalize = true;         // list 2_Normalize in modules.json
  // Std of the random weights; HF initialises with 0.02, which makes attention near-uniform.
  double init_scale = 0.02;
};

// The tiny WordPiece vocabulary in id order, BERT-uncased shaped: [PAD]=0, [UNK]=1, [CLS]=2,
// [SEP]=3, [MASK]=4, then single characters, "##" characters, whole words and "##" suffixes,
// so that every lower-case ASCII word has a WordPiece split.
const std::vector<std::string>& tiny_bert_vocab();

// The BertConfig such a model declares (vocab_size = tiny_bert_vocab().size()).
BertConfig tiny_bert_config(const TinyBertOptions& options);

// Writes into `dir` (created if needed): config.json, model.safetensors (fp32, BertModel names
// without prefix, weights from dkv::Rng(seed)), modules.json, sentence_bert_config.json,
// config_sentence_transformers.json, 1_Pooling/config.json (mean), 2_Normalize/ when
// normalize, and the tokenizer: tokenizer.json (HF `tokenizers` format: BertNormalizer,
// BertPreTokenizer, WordPiece, TemplateProcessing), tokenizer_config.json,
// special_tokens_map.json and vocab.txt.
void write_tiny_bert(const std::string& dir, const TinyBertOptions& options);

}  // namespace dkv::model
