// Chat templates: the tokenizer's Jinja through dkv's interpreter, or a built-in renderer that
// mirrors its family's Jinja source statement by statement (tests/golden/chat_templates.json).
#include "dkv/tokenizer/chat_template.h"

#include <nlohmann/json.hpp>

#include "dkv/core/error.h"
#include "dkv/tokenizer/jinja.h"
#include "dkv/tokenizer/tokenizer.h"
#include "tokenizer/text.h"

namespace dkv::tokenizer {

namespace {

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

ChatTemplate ChatTemplate::from_jinja(const std::string& text, const nlohmann::ordered_json& specials,
                                      const std::string& where) {
  ChatTemplate t(ChatFamily::kJinja, "", "");
  t.jinja_ = std::make_shared<const jinja::Template>(jinja::Template::parse(text, where));
  t.specials_ = std::make_shared<const nlohmann::ordered_json>(specials);
  return t;
}

ChatTemplate ChatTemplate::for_tokenizer(const Tokenizer& tok, const std::string& name) {
  if (!name.empty() && name != "auto") return by_name(name, tok.bos_token(), tok.eos_token());
  const std::string where = tok.source() + ": chat_template";
  if (tok.chat_template().empty())
    throw InputError(detail::concat(where, " is missing; set the YAML key model.chat_template to one of ",
                                    kNames, " (the family whose rendering the model expects)"));
  // HF passes tokenizer.special_tokens_map, which holds only the tokens that are set.
  // TODO: unk/pad/sep/cls/mask tokens too, once Tokenizer exposes them; no template in
  // tools/check_chat_templates.py's corpus renders differently without them.
  nlohmann::ordered_json specials = nlohmann::ordered_json::object();
  if (!tok.bos_token().empty()) specials["bos_token"] = tok.bos_token();
  if (!tok.eos_token().empty()) specials["eos_token"] = tok.eos_token();
  return from_jinja(tok.chat_template(), specials, where);
}

const char* ChatTemplate::name() const {
  switch (family_) {
    case ChatFamily::kJinja: return "auto";
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
    case ChatFamily::kJinja: {
      // The variables of HF apply_chat_template: messages, tools and documents (None when not
      // given), add_generation_prompt, then the special tokens map.
      nlohmann::ordered_json vars = nlohmann::ordered_json::object();
      auto& m = vars["messages"] = nlohmann::ordered_json::array();
      for (const auto& msg : msgs) m.push_back({{"role", msg.role}, {"content", msg.content}});
      vars["tools"] = nullptr;
      vars["documents"] = nullptr;
      vars["add_generation_prompt"] = gen;
      for (auto it = specials_->begin(); it != specials_->end(); ++it) vars[it.key()] = it.value();
      return jinja_->render(vars);
    }
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
