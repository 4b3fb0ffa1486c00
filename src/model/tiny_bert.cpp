// Random sentence-transformers BERT models in the all-MiniLM-L6-v2 file layout.
#include "dkv/model/tiny_bert.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "dkv/core/error.h"
#include "dkv/core/rng.h"
#include "dkv/model/bert_weights.h"
#include "dkv/model/safetensors.h"

namespace dkv::model {

using ojson = nlohmann::ordered_json;

namespace {

const char* const kSpecials[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};

// Words of the experiment's prompts and MS MARCO-like questions; the exact list only fixes ids.
const char* const kWords[] = {
    "the", "of", "and", "a", "to", "in", "is", "was", "for", "on", "that", "with", "as", "by",
    "it", "at", "from", "be", "this", "an", "are", "or", "which", "what", "who", "how", "when",
    "where", "why", "does", "do", "can", "many", "much", "long", "cost", "price", "year", "years",
    "day", "time", "people", "city", "country", "water", "food", "body", "name", "number",
    "first", "new", "used", "called", "made", "world", "state", "part", "area", "average",
    "question", "answer", "document", "query", "search", "passage", "text", "about", "take",
    "make", "mean", "best", "good", "most", "some", "all", "one", "two", "three", "hundred",
    "dollars", "miles", "minutes", "hours", "cause", "symptoms", "treatment", "definition",
    "history", "weather", "temperature", "river", "paris", "france", "capital", "cafe",
    "university", "school", "health", "energy", "light", "sun", "earth", "moon"};

const char* const kSuffixes[] = {"##s", "##es", "##ed", "##ing", "##er", "##ly", "##ion",
                                 "##al", "##ic", "##ity", "##ment", "##ness"};

}  // namespace

const std::vector<std::string>& tiny_bert_vocab() {
  static const std::vector<std::string> vocab = [] {
    std::vector<std::string> v(std::begin(kSpecials), std::end(kSpecials));
    for (char c : std::string("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")) v.emplace_back(1, c);
    for (char c = '0'; c <= '9'; ++c) v.emplace_back(1, c);
    for (char c = 'a'; c <= 'z'; ++c) v.emplace_back(1, c);
    for (char c = '0'; c <= '9'; ++c) v.push_back(std::string("##") + c);
    for (char c = 'a'; c <= 'z'; ++c) v.push_back(std::string("##") + c);
    for (const char* w : kWords) v.emplace_back(w);
    for (const char* s : kSuffixes) v.emplace_back(s);
    return v;
  }();
  return vocab;
}

BertConfig tiny_bert_config(const TinyBertOptions& o) {
  if (o.num_attention_heads <= 0 || o.hidden_size % o.num_attention_heads != 0)
    throw InputError("make-tiny-model: hidden_size must be a multiple of num_attention_heads");
  if (o.max_seq_length <= 0 || o.max_seq_length > o.max_position_embeddings)
    throw InputError("make-tiny-model: max_seq_length must lie in [1, max_position_embeddings]");
  BertConfig c;
  c.architecture_name = "BertModel";
  c.vocab_size = static_cast<int64_t>(tiny_bert_vocab().size());
  c.hidden_size = o.hidden_size;
  c.num_hidden_layers = o.num_hidden_layers;
  c.num_attention_heads = o.num_attention_heads;
  c.intermediate_size = o.intermediate_size;
  c.max_position_embeddings = o.max_position_embeddings;
  c.type_vocab_size = 2;
  c.layer_norm_eps = 1e-12;
  c.pad_token_id = 0;
  return c;
}

namespace {

void write_json(const std::string& path, const ojson& j) {
  std::ofstream out(path);
  out << j.dump(2) << "\n";
  if (!out) throw IoError("write failed: " + path);
}

ojson added_token(int64_t id, const std::string& content) {
  return {{"id", id}, {"content", content}, {"single_word", false}, {"lstrip", false},
          {"rstrip", false}, {"normalized", false}, {"special", true}};
}

// tokenizer.json as HF `tokenizers` (0.19) serialises a BertTokenizerFast for bert-base-uncased.
ojson tokenizer_json() {
  const auto& vocab = tiny_bert_vocab();
  ojson added = ojson::array();
  for (int64_t i = 0; i < 5; ++i) added.push_back(added_token(i, kSpecials[i]));
  auto special = [](const char* s) { return ojson{{"SpecialToken", {{"id", s}, {"type_id", 0}}}}; };
  auto seq = [](const char* s, int type) { return ojson{{"Sequence", {{"id", s}, {"type_id", type}}}}; };
  ojson pair_sep = {{"SpecialToken", {{"id", "[SEP]"}, {"type_id", 1}}}};
  ojson vocab_map = ojson::object();
  for (size_t i = 0; i < vocab.size(); ++i) vocab_map[vocab[i]] = i;
  return {
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens", added},
      {"normalizer",
       {{"type", "BertNormalizer"}, {"clean_text", true}, {"handle_chinese_chars", true},
        {"strip_accents", nullptr}, {"lowercase", true}}},
      {"pre_tokenizer", {{"type", "BertPreTokenizer"}}},
      {"post_processor",
       {{"type", "TemplateProcessing"},
        {"single", {special("[CLS]"), seq("A", 0), special("[SEP]")}},
        {"pair", {special("[CLS]"), seq("A", 0), special("[SEP]"), seq("B", 1), pair_sep}},
        {"special_tokens",
         {{"[CLS]", {{"id", "[CLS]"}, {"ids", {2}}, {"tokens", {"[CLS]"}}}},
          {"[SEP]", {{"id", "[SEP]"}, {"ids", {3}}, {"tokens", {"[SEP]"}}}}}}}},
      {"decoder", {{"type", "WordPiece"}, {"prefix", "##"}, {"cleanup", true}}},
      {"model",
       {{"type", "WordPiece"}, {"unk_token", "[UNK]"}, {"continuing_subword_prefix", "##"},
        {"max_input_chars_per_word", 100}, {"vocab", vocab_map}}},
  };
}

// tokenizer_config.json as transformers 4.43 saves a BertTokenizer(Fast).
ojson tokenizer_config_json(int64_t model_max_length) {
  ojson decoder = ojson::object();
  for (int64_t i = 0; i < 5; ++i) {
    auto t = added_token(i, kSpecials[i]);
    t.erase("id");
    decoder[std::to_string(i)] = t;
  }
  return {{"added_tokens_decoder", decoder},
          {"clean_up_tokenization_spaces", true},
          {"cls_token", "[CLS]"},
          {"do_basic_tokenize", true},
          {"do_lower_case", true},
          {"mask_token", "[MASK]"},
          {"model_max_length", model_max_length},
          {"never_split", nullptr},
          {"pad_token", "[PAD]"},
          {"sep_token", "[SEP]"},
          {"strip_accents", nullptr},
          {"tokenize_chinese_chars", true},
          {"tokenizer_class", "BertTokenizer"},
          {"unk_token", "[UNK]"}};
}

void write_weights(const std::string& path, const BertConfig& config, const TinyBertOptions& o) {
  Rng rng(o.seed);
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const auto& slot : bert_weight_table(config)) {
    auto t = at::empty(slot.shape, at::kFloat);
    float* p = t.data_ptr<float>();
    for (int64_t i = 0; i < t.numel(); ++i) {
      const double z = rng.normal();
      // LayerNorm weights near 1 and biases near 0 (HF: exactly 1 and 0; noise makes them
      // testable). Linear biases get the same scale as weights so a dropped bias shows.
      p[i] = static_cast<float>(slot.kind == BertWeightKind::norm ? 1.0 + 0.1 * z
                                                                  : o.init_scale * z);
    }
    tensors.emplace_back(slot.name, t);
  }
  // HF BertModel also saves the position_ids buffer; written so the layout matches the real file.
  tensors.emplace_back("embeddings.position_ids",
                       at::arange(config.max_position_embeddings, at::kLong).unsqueeze(0));
  write_safetensors(path, tensors, {{"format", "pt"}});
}

}  // namespace

void write_tiny_bert(const std::string& dir, const TinyBertOptions& o) {
  const auto config = tiny_bert_config(o);
  namespace fs = std::filesystem;
  fs::create_directories(dir + "/1_Pooling");
  write_weights(dir + "/model.safetensors", config, o);
  write_json(dir + "/config.json", to_hf_json(config));
  ojson modules = ojson::array();
  modules.push_back({{"idx", 0}, {"name", "0"}, {"path", ""},
                     {"type", "sentence_transformers.models.Transformer"}});
  modules.push_back({{"idx", 1}, {"name", "1"}, {"path", "1_Pooling"},
                     {"type", "sentence_transformers.models.Pooling"}});
  if (o.normalize) {
    fs::create_directories(dir + "/2_Normalize");
    modules.push_back({{"idx", 2}, {"name", "2"}, {"path", "2_Normalize"},
                       {"type", "sentence_transformers.models.Normalize"}});
  }
  write_json(dir + "/modules.json", modules);
  write_json(dir + "/1_Pooling/config.json",
             {{"word_embedding_dimension", config.hidden_size},
              {"pooling_mode_cls_token", false},
              {"pooling_mode_mean_tokens", true},
              {"pooling_mode_max_tokens", false},
              {"pooling_mode_mean_sqrt_len_tokens", false},
              {"pooling_mode_weightedmean_tokens", false},
              {"pooling_mode_lasttoken", false},
              {"include_prompt", true}});
  write_json(dir + "/sentence_bert_config.json",
             {{"max_seq_length", o.max_seq_length}, {"do_lower_case", false}});
  write_json(dir + "/config_sentence_transformers.json",
             {{"__version__", {{"sentence_transformers", "3.0.1"}, {"transformers", "4.43.4"},
                               {"pytorch", "1.13.0"}}},
              {"prompts", ojson::object()},
              {"default_prompt_name", nullptr}});
  write_json(dir + "/tokenizer.json", tokenizer_json());
  write_json(dir + "/tokenizer_config.json", tokenizer_config_json(config.max_position_embeddings));
  write_json(dir + "/special_tokens_map.json",
             {{"cls_token", "[CLS]"}, {"mask_token", "[MASK]"}, {"pad_token", "[PAD]"},
              {"sep_token", "[SEP]"}, {"unk_token", "[UNK]"}});
  std::ofstream vocab(dir + "/vocab.txt");
  for (const auto& token : tiny_bert_vocab()) vocab << token << "\n";
  if (!vocab) throw IoError("write failed: " + dir + "/vocab.txt");
}

}  // namespace dkv::model
