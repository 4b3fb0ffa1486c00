// Binds the experiment's text functions to dkv::tokenizer.
#include "dkv/experiment/text_side.h"

#include <filesystem>
#include <memory>

#include "dkv/core/error.h"
#include "dkv/core/fingerprint.h"
#include "dkv/model/sentence_embedder.h"
#include "dkv/tokenizer/chat_template.h"
#include "dkv/tokenizer/tokenizer.h"

namespace dkv::experiment {

TextSide load_text_side(const std::string& model_dir, const std::string& chat_template,
                        const std::string& embedding_dir, int64_t embedding_max_tokens) {
  auto t = load_decoder_text_side(model_dir, chat_template);
  auto emb = std::make_shared<tokenizer::Tokenizer>(tokenizer::Tokenizer::load(embedding_dir));
  t.encode_for_embedding = [emb, embedding_max_tokens](const std::string& text) {
    return model::truncate_for_embedding(emb->encode(text, true), embedding_max_tokens);
  };
  return t;
}

TextSide load_decoder_text_side(const std::string& model_dir, const std::string& chat_template) {
  auto tok = std::make_shared<tokenizer::Tokenizer>(tokenizer::Tokenizer::load(model_dir));
  auto chat = std::make_shared<tokenizer::ChatTemplate>(
      tokenizer::ChatTemplate::for_tokenizer(*tok, chat_template));
  TextSide t;
  t.encode = [tok](const std::string& text, bool special) { return tok->encode(text, special); };
  t.decode = [tok](const std::vector<int64_t>& ids) { return tok->decode(ids, /*skip_special=*/true); };
  t.bos_id = tok->bos_id();
  if (auto eos = tok->eos_id()) t.eos_ids.push_back(*eos);
  t.vocab_size = static_cast<int64_t>(tok->vocab_size());
  t.render_user_turn = [chat](const std::string& system, const std::string& user) {
    std::vector<tokenizer::ChatMessage> msgs;
    if (!system.empty()) msgs.push_back({"system", system});
    msgs.push_back({"user", user});
    return chat->render(msgs, /*add_generation_prompt=*/true);
  };
  if (std::filesystem::is_regular_file(model_dir)) {  // a GGUF file: the tokenizer is in its metadata
    t.tokenizer_fingerprint = fingerprint_dir(model_dir);
    return t;
  }
  std::string files;
  for (const char* f : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"}) {
    const auto p = model_dir + "/" + f;
    files += std::filesystem::exists(p) ? fingerprint_file(p) : "-";
  }
  t.tokenizer_fingerprint = fingerprint_bytes(files);
  return t;
}

}  // namespace dkv::experiment
