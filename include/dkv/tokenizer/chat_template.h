// Chat templates of the instruct models dkv runs, rendered natively: the text HF's
// apply_chat_template(messages, tokenize=False, add_generation_prompt) gives. Not a Jinja
// engine: a tokenizer_config.json `chat_template` is recognised only when it is one of the
// known template strings, otherwise the YAML key model.chat_template must name the family.
#pragma once

#include <string>
#include <vector>

namespace dkv::tokenizer {

class Tokenizer;

struct ChatMessage {
  std::string role;  // "system", "user" or "assistant"
  std::string content;
};

enum class ChatFamily {
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
  // Recognises a known template string (as found in tokenizer_config.json). Throws InputError
  // "<where>: chat_template is not one dkv knows ...; set model.chat_template" otherwise.
  static ChatTemplate detect(const std::string& template_text, std::string bos_token,
                             std::string eos_token, const std::string& where);
  // The tokenizer's own template, or `name` when non-empty (the YAML model.chat_template).
  static ChatTemplate for_tokenizer(const Tokenizer& tok, const std::string& name = "");

  // Throws InputError where HF's template raises (roles not alternating user/assistant, a
  // system message for Mistral, unknown roles).
  std::string render(const std::vector<ChatMessage>& messages, bool add_generation_prompt) const;

  ChatFamily family() const { return family_; }
  const char* name() const;

 private:
  ChatTemplate(ChatFamily f, std::string bos, std::string eos)
      : family_(f), bos_(std::move(bos)), eos_(std::move(eos)) {}
  ChatFamily family_;
  std::string bos_, eos_;
};

}  // namespace dkv::tokenizer
