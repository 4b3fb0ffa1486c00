// Native renderers for the known chat templates; each mirrors its Jinja source (kept verbatim
// in kKnown for detection) statement by statement.
#include "dkv/tokenizer/chat_template.h"

#include "dkv/core/error.h"
#include "dkv/tokenizer/tokenizer.h"
#include "tokenizer/text.h"

namespace dkv::tokenizer {

namespace {

// The chat_template strings of the hub's tokenizer_config.json files (Mistral-7B-Instruct-v0.2,
// Llama-2-7b-chat-hf, Meta-Llama-3-8B-Instruct, Qwen2-*-Instruct). tools/gen_tokenizer_golden.py
// renders the same strings with transformers for tests/golden/chat_templates.json.
struct Known {
  ChatFamily family;
  const char* text;
};
const Known kKnown[] = {
    {ChatFamily::kMistral,
     "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != "
     "(loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate "
     "user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}"
     "{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}"
     "{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant "
     "roles are supported!') }}{% endif %}{% endfor %}"},
    {ChatFamily::kLlama2,
     "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set "
     "system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set "
     "system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] "
     "== 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must "
     "alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and "
     "system_message != false %}{% set content = '<<SYS>>\\n' + system_message + "
     "'\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}"
     "{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + "
     "' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + "
     "eos_token }}{% endif %}{% endfor %}"},
    {ChatFamily::kLlama3,
     "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = "
     "'<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim "
     "+ '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}"
     "{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant"
     "<|end_header_id|>\n\n' }}{% endif %}"},
    {ChatFamily::kChatML,
     "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
     "{{ '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}{% endif %}"
     "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
     "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"},
};

const char* kNames = "mistral, llama2, llama3, chatml";

// Python str.strip() (Jinja's trim filter too): Unicode White_Space plus U+001C..U+001F.
std::string py_strip(const std::string& s) {
  auto cps = text::decode(s);
  auto space = [](char32_t c) { return text::is_whitespace(c) || (c >= 0x1C && c <= 0x1F); };
  size_t a = 0, e = cps.size();
  while (a < e && space(cps[a].cp)) ++a;
  while (e > a && space(cps[e - 1].cp)) --e;
  return a == e ? "" : s.substr(cps[a].begin, cps[e - 1].end - cps[a].begin);
}

std::string trim_ascii(const std::string& s) {
  size_t a = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
  return a == std::string::npos ? "" : s.substr(a, e - a + 1);
}

void check_alternation(const std::vector<ChatMessage>& msgs, size_t first) {
  for (size_t i = first; i < msgs.size(); ++i)
    if ((msgs[i].role == "user") != ((i - first) % 2 == 0))
      throw InputError(detail::concat("chat template: message ", i, " has role '", msgs[i].role,
                                      "': conversation roles must alternate "
                                      "user/assistant/user/assistant/..."));
}

}  // namespace

ChatTemplate ChatTemplate::by_name(const std::string& name, std::string bos, std::string eos) {
  ChatFamily f;
  if (name == "mistral") {
    f = ChatFamily::kMistral;
  } else if (name == "llama2") {
    f = ChatFamily::kLlama2;
  } else if (name == "llama3") {
    f = ChatFamily::kLlama3;
  } else if (name == "chatml") {
    f = ChatFamily::kChatML;
  } else {
    throw ConfigError(detail::concat("model.chat_template: '", name,
                                     "' is not a known chat template (known: ", kNames, ")"));
  }
  return ChatTemplate(f, std::move(bos), std::move(eos));
}

ChatTemplate ChatTemplate::detect(const std::string& tmpl, std::string bos, std::string eos,
                                  const std::string& where) {
  const std::string t = trim_ascii(tmpl);
  for (const Known& k : kKnown)
    if (t == k.text) return ChatTemplate(k.family, std::move(bos), std::move(eos));
  throw InputError(detail::concat(
      where, ": chat_template ",
      tmpl.empty() ? std::string("is missing") : "is not one dkv recognises (" +
                                                     std::to_string(tmpl.size()) + " chars)",
      "; set the YAML key model.chat_template to one of ", kNames,
      " (the family whose rendering the model expects)"));
}

ChatTemplate ChatTemplate::for_tokenizer(const Tokenizer& tok, const std::string& name) {
  if (!name.empty()) return by_name(name, tok.bos_token(), tok.eos_token());
  return detect(tok.chat_template(), tok.bos_token(), tok.eos_token(),
                tok.source() + "/tokenizer_config.json");
}

const char* ChatTemplate::name() const {
  switch (family_) {
    case ChatFamily::kMistral: return "mistral";
    case ChatFamily::kLlama2: return "llama2";
    case ChatFamily::kLlama3: return "llama3";
    case ChatFamily::kChatML: return "chatml";
  }
  return "?";
}

std::string ChatTemplate::render(const std::vector<ChatMessage>& msgs, bool gen) const {
  std::string out;
  switch (family_) {
    case ChatFamily::kMistral:
      // add_generation_prompt is ignored: the text already ends with " [/INST]".
      out = bos_;
      check_alternation(msgs, 0);
      for (const auto& m : msgs) {
        if (m.role == "user")
          out += "[INST] " + m.content + " [/INST]";
        else if (m.role == "assistant")
          out += m.content + eos_;
        else
          throw InputError("chat template mistral: role '" + m.role +
                           "': only user and assistant roles are supported");
      }
      break;
    case ChatFamily::kLlama2: {
      size_t first = 0;
      bool has_system = !msgs.empty() && msgs[0].role == "system";
      if (has_system) first = 1;
      check_alternation(msgs, first);
      for (size_t i = first; i < msgs.size(); ++i) {
        std::string content = msgs[i].content;
        if (i == first && has_system)
          content = "<<SYS>>\n" + msgs[0].content + "\n<</SYS>>\n\n" + content;
        if (msgs[i].role == "user")
          out += bos_ + "[INST] " + py_strip(content) + " [/INST]";
        else if (msgs[i].role == "assistant")
          out += " " + py_strip(content) + " " + eos_;
      }
      break;
    }
    case ChatFamily::kLlama3:
      for (size_t i = 0; i < msgs.size(); ++i) {
        if (i == 0) out += bos_;
        out += "<|start_header_id|>" + msgs[i].role + "<|end_header_id|>\n\n" +
               py_strip(msgs[i].content) + "<|eot_id|>";
      }
      if (gen) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
      break;
    case ChatFamily::kChatML:
      for (size_t i = 0; i < msgs.size(); ++i) {
        if (i == 0 && msgs[0].role != "system")
          out += "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n";
        out += "<|im_start|>" + msgs[i].role + "\n" + msgs[i].content + "<|im_end|>\n";
      }
      if (gen) out += "<|im_start|>assistant\n";
      break;
  }
  return out;
}

}  // namespace dkv::tokenizer
