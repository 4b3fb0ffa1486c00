// Chat templates of the instruct models dkv runs: the text HF's
// apply_chat_template(messages, tokenize=False, add_generation_prompt) gives. By default the
// model's own Jinja `chat_template` (tokenizer_config.json or GGUF metadata) is rendered by
// dkv's Jinja interpreter (dkv/tokenizer/jinja.h); the YAML key model.chat_template may name a
// built-in (mistral, llama2, llama3, chatml) instead, rendered natively.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace dkv::tokenizer {

class Tokenizer;
namespace jinja {
class Template;
}

struct ChatMessage {
  std::string role;  // "system", "user" or "assistant"
  std::string content;
};

enum class ChatFamily {
  kJinja,    // the tokenizer's own Jinja template (YAML: auto)
  kMistral,  // Mistral-7B-Instruct-v0.2: <s>[INST] u [/INST]a</s>..., no system role
  kLlama2,   // Llama-2-chat: <s>[INST] <<SYS>>\ns\n<</SYS>>\n\nu [/INST] a </s>...
  kLlama3,   // Llama-3-Instruct: <|start_header_id|>role<|end_header_id|>\n\ncontent<|eot_id|>
  kChatML,   // Qwen2-Instruct ChatML, with Qwen's default system prompt when none is given
};

class ChatTemplate {
 public:
  // name: mistral, llama2, llama3 or chatml. Throws ConfigError listing them otherwise.
  static ChatTemplate by_name(const std::string& name, std::string bos_token,
                              std::string eos_token);
  // A Jinja chat template. `special_tokens` (a JSON object such as {"bos_token": "<s>"}) are
  // passed to the template as HF passes tokenizer.special_tokens_map. Throws InputError
  // "<where>:<line>:<column>: ..." for a syntax error or a construct dkv does not implement.
  static ChatTemplate from_jinja(const std::string& template_text,
                                 const nlohmann::ordered_json& special_tokens,
                                 const std::string& where);
  // `name` empty or "auto": the tokenizer's own template through from_jinja (InputError naming
  // the YAML key model.chat_template when the tokenizer has none); otherwise by_name(name).
  static ChatTemplate for_tokenizer(const Tokenizer& tok, const std::string& name = "");

  // Throws InputError where HF's template raises (raise_exception: roles not alternating, a
  // system message the model does not take, unknown roles; or any Jinja runtime error).
  std::string render(const std::vector<ChatMessage>& messages, bool add_generation_prompt) const;

  ChatFamily family() const { return family_; }
  const char* name() const;  // the YAML spelling: auto, mistral, llama2, llama3, chatml

 private:
  ChatTemplate(ChatFamily f, std::string bos, std::string eos)
      : family_(f), bos_(std::move(bos)), eos_(std::move(eos)) {}
  ChatFamily family_;
  std::string bos_, eos_;
  std::shared_ptr<const jinja::Template> jinja_;          // kJinja only
  std::shared_ptr<const nlohmann::ordered_json> specials_;  // kJinja only
};

}  // namespace dkv::tokenizer
