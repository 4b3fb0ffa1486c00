// tokenizer.json "model" section: BPE (models/bpe/*.rs) and WordPiece (models/wordpiece) as in
// HF tokenizers 0.19, with a word -> ids cache so repeated words are merged once.
#include <cstdio>
#include <mutex>
#include <shared_mutex>
#include <queue>
#include <unordered_map>

#include "dkv/core/error.h"
#include "dkv/core/json_util.h"
#include "tokenizer/pipeline.h"
#include "tokenizer/text.h"

namespace dkv::tokenizer {

using nlohmann::json;

namespace {

// Thread-safe bounded cache of word -> ids. HF caches 10k words of < 256 bytes; we keep more
// (corpora repeat the same passages) and stop inserting when full rather than evicting.
class WordCache {
 public:
  bool get(const std::string& w, std::vector<int64_t>& out) const {
    std::shared_lock<std::shared_mutex> lock(mu_);  // readers share: hits dominate
    auto it = map_.find(w);
    if (it == map_.end()) return false;
    out.insert(out.end(), it->second.begin(), it->second.end());
    return true;
  }
  void put(const std::string& w, const int64_t* ids, size_t n) {
    if (w.size() >= kMaxWordBytes) return;
    std::unique_lock<std::shared_mutex> lock(mu_);
    if (map_.size() < kCapacity) map_.emplace(w, std::vector<int64_t>(ids, ids + n));
  }

 private:
  static constexpr size_t kCapacity = 200000;
  static constexpr size_t kMaxWordBytes = 256;
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, std::vector<int64_t>> map_;
};

class VocabModel : public Model {
 public:
  std::unordered_map<std::string, int64_t> vocab;
  std::unordered_map<int64_t, std::string> reverse;
  std::optional<int64_t> token_to_id(const std::string& t) const override {
    auto it = vocab.find(t);
    if (it == vocab.end()) return std::nullopt;
    return it->second;
  }
  const std::string* id_to_token(int64_t id) const override {
    auto it = reverse.find(id);
    return it == reverse.end() ? nullptr : &it->second;
  }
  size_t vocab_size() const override { return vocab.size(); }
};

void read_vocab(VocabModel& m, const json& j, const std::string& ctx) {
  const json& v = json_util::require(j, "vocab", ctx);
  if (!v.is_object())
    throw InputError(detail::concat(ctx, ".vocab: expected an object {token: id}"));
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (!it.value().is_number_integer())
      throw InputError(detail::concat(ctx, ".vocab['", it.key(), "']: expected an integer id, got ",
                                      it.value().dump()));
    int64_t id = it.value().get<int64_t>();
    m.vocab.emplace(it.key(), id);
    m.reverse.emplace(id, it.key());
  }
}

class Bpe : public VocabModel {
 public:
  struct Merge {
    int64_t rank, new_id;
  };
  std::unordered_map<uint64_t, Merge> merges;
  std::optional<int64_t> unk_id;
  std::string prefix, suffix;
  bool fuse_unk = false, byte_fallback = false, ignore_merges = false;
  int64_t byte_ids[256];  // -1 where <0xNN> is not in the vocabulary
  mutable WordCache cache;

  static uint64_t key(int64_t a, int64_t b) {
    return (static_cast<uint64_t>(a) << 32) | static_cast<uint32_t>(b);
  }

  void tokenize(const std::string& w, std::vector<int64_t>& out) const override {
    if (w.empty()) return;
    if (ignore_merges) {
      auto it = vocab.find(w);
      if (it != vocab.end()) {
        out.push_back(it->second);
        return;
      }
    }
    if (cache.get(w, out)) return;
    size_t first = out.size();
    merge_word(w, out);
    cache.put(w, out.data() + first, out.size() - first);
  }

  // HF BPE::merge_word + Word::merge_all: symbols in a linked list, a min-heap of (rank, pos);
  // stale heap entries are skipped when the pair no longer matches. O(n log n) per word.
  void merge_word(const std::string& w, std::vector<int64_t>& out) const {
    struct Sym {
      int64_t id;
      long prev, next;
      size_t len;
    };
    std::vector<Sym> syms;
    bool unk = false;  // a pending unk symbol of unk_len bytes
    size_t unk_len = 0;
    auto add = [&](int64_t id, size_t len) {
      long n = static_cast<long>(syms.size());
      syms.push_back({id, n - 1, n + 1, len});
    };
    auto cps = text::decode(w);
    for (size_t i = 0; i < cps.size(); ++i) {
      std::string s = w.substr(cps[i].begin, cps[i].end - cps[i].begin);
      size_t byte_len = s.size();
      if (i > 0 && !prefix.empty()) s = prefix + s;
      if (i + 1 == cps.size() && !suffix.empty()) s += suffix;
      auto it = vocab.find(s);
      if (it != vocab.end()) {
        if (unk) {
          add(*unk_id, unk_len);
          unk = false;
        }
        add(it->second, byte_len);
        continue;
      }
      if (byte_fallback) {
        bool all = true;
        for (unsigned char b : s) all = all && byte_ids[b] >= 0;
        if (all) {
          // HF keeps a pending unk pending across byte-fallback symbols.
          for (unsigned char b : s) add(byte_ids[b], 1);
          continue;
        }
      }
      if (unk_id) {
        if (unk && fuse_unk) {
          unk_len += byte_len;
        } else {
          if (unk) add(*unk_id, unk_len);
          unk = true;
          unk_len = byte_len;
        }
      }
    }
    if (unk) add(*unk_id, unk_len);
    if (syms.empty()) return;
    syms.back().next = -1;

    struct Item {
      int64_t rank;
      size_t pos;
      int64_t new_id;
      bool operator<(const Item& o) const {  // max-heap inverted: lowest rank, then lowest pos
        return rank != o.rank ? rank > o.rank : pos > o.pos;
      }
    };
    std::priority_queue<Item> queue;
    for (size_t i = 0; i + 1 < syms.size(); ++i) {
      auto it = merges.find(key(syms[i].id, syms[i + 1].id));
      if (it != merges.end()) queue.push({it->second.rank, i, it->second.new_id});
    }
    while (!queue.empty()) {
      Item top = queue.top();
      queue.pop();
      Sym& cur = syms[top.pos];
      if (cur.len == 0 || cur.next == -1) continue;
      size_t next_pos = static_cast<size_t>(cur.next);
      Sym right = syms[next_pos];
      auto it = merges.find(key(cur.id, right.id));
      if (it == merges.end() || it->second.new_id != top.new_id) continue;
      cur.id = top.new_id;
      cur.len += right.len;
      cur.next = right.next;
      syms[next_pos].len = 0;
      if (right.next >= 0 && static_cast<size_t>(right.next) < syms.size())
        syms[right.next].prev = static_cast<long>(top.pos);
      if (cur.prev >= 0) {
        auto p = merges.find(key(syms[cur.prev].id, cur.id));
        if (p != merges.end())
          queue.push({p->second.rank, static_cast<size_t>(cur.prev), p->second.new_id});
      }
      if (cur.next >= 0 && static_cast<size_t>(cur.next) < syms.size()) {
        auto n = merges.find(key(cur.id, syms[cur.next].id));
        if (n != merges.end()) queue.push({n->second.rank, top.pos, n->second.new_id});
      }
    }
    for (const Sym& s : syms)
      if (s.len > 0) out.push_back(s.id);
  }
};

class WordPiece : public VocabModel {
 public:
  int64_t unk_id = 0;
  std::string prefix = "##";
  size_t max_chars = 100;
  mutable WordCache cache;

  void tokenize(const std::string& w, std::vector<int64_t>& out) const override {
    if (w.empty()) return;
    if (cache.get(w, out)) return;
    size_t first = out.size();
    piece(w, out);
    cache.put(w, out.data() + first, out.size() - first);
  }
  // Greedy longest-match-first (HF WordPiece::tokenize); any unmatched rest makes the whole
  // word [UNK]. Words are bounded by max_input_chars_per_word, so the scan is bounded too.
  void piece(const std::string& w, std::vector<int64_t>& out) const {
    auto cps = text::decode(w);
    if (cps.size() > max_chars) {
      out.push_back(unk_id);
      return;
    }
    std::vector<int64_t> sub;
    size_t start = 0;
    while (start < cps.size()) {
      size_t end = cps.size();
      bool found = false;
      while (start < end) {
        std::string s = w.substr(cps[start].begin, cps[end - 1].end - cps[start].begin);
        if (start > 0) s = prefix + s;
        auto it = vocab.find(s);
        if (it != vocab.end()) {
          sub.push_back(it->second);
          found = true;
          break;
        }
        --end;
      }
      if (!found) {
        out.push_back(unk_id);
        return;
      }
      start = end;
    }
    out.insert(out.end(), sub.begin(), sub.end());
  }
};

std::string opt_string(const json& j, const char* k, const std::string& ctx) {
  if (!j.contains(k) || j[k].is_null()) return "";
  return json_util::get_string(j, k, ctx);
}

}  // namespace

std::unique_ptr<Model> make_model(const json& j, const std::string& key, const std::string& where) {
  const std::string type = get_type(j, key, where);
  const std::string ctx = where + ": " + key;
  if (type == "BPE") {
    auto m = std::make_unique<Bpe>();
    read_vocab(*m, j, ctx);
    if (j.contains("dropout") && !j["dropout"].is_null() &&
        json_util::get_number(j, "dropout", ctx) != 0.0)
      throw InputError(ctx + ".dropout: BPE dropout is random; dkv supports only null or 0");
    std::string unk = opt_string(j, "unk_token", ctx);
    if (!unk.empty()) {
      auto it = m->vocab.find(unk);
      if (it == m->vocab.end())
        throw InputError(detail::concat(ctx, ".unk_token '", unk, "' is not in model.vocab"));
      m->unk_id = it->second;
    }
    m->prefix = opt_string(j, "continuing_subword_prefix", ctx);
    m->suffix = opt_string(j, "end_of_word_suffix", ctx);
    m->fuse_unk = json_util::get_bool_or(j, "fuse_unk", false, ctx);
    m->byte_fallback = json_util::get_bool_or(j, "byte_fallback", false, ctx);
    m->ignore_merges = json_util::get_bool_or(j, "ignore_merges", false, ctx);
    if (m->byte_fallback) {
      // HF looks up format!("<{:#04X}>", b): "<0x" + two uppercase hex digits + ">".
      for (int b = 0; b < 256; ++b) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        auto it = m->vocab.find(name);
        m->byte_ids[b] = it == m->vocab.end() ? -1 : it->second;
      }
    }
    const json& merges = json_util::require(j, "merges", ctx);
    if (!merges.is_array()) throw InputError(ctx + ".merges: expected an array");
    for (size_t r = 0; r < merges.size(); ++r) {
      std::string a, b;
      const json& e = merges[r];
      if (e.is_string()) {
        const std::string& s = e.get_ref<const std::string&>();
        size_t sp = s.find(' ');
        if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos)
          throw InputError(detail::concat(ctx, ".merges[", r, "]: expected \"a b\", got '", s, "'"));
        a = s.substr(0, sp), b = s.substr(sp + 1);
      } else if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) {
        a = e[0].get<std::string>(), b = e[1].get<std::string>();
      } else {
        throw InputError(detail::concat(ctx, ".merges[", r, "]: expected \"a b\" or [a, b], got ",
                                        e.dump()));
      }
      std::string merged = a + (m->prefix.empty() || b.compare(0, m->prefix.size(), m->prefix)
                                    ? b
                                    : b.substr(m->prefix.size()));
      auto ia = m->vocab.find(a), ib = m->vocab.find(b), im = m->vocab.find(merged);
      if (ia == m->vocab.end() || ib == m->vocab.end() || im == m->vocab.end())
        throw InputError(detail::concat(ctx, ".merges[", r, "]: '", a, "', '", b, "' or '", merged,
                                        "' is not in model.vocab"));
      // A repeated pair keeps its last rank, as HF's collect() into a HashMap does.
      m->merges[Bpe::key(ia->second, ib->second)] = Bpe::Merge{static_cast<int64_t>(r), im->second};
    }
    return m;
  }
  if (type == "WordPiece") {
    auto m = std::make_unique<WordPiece>();
    read_vocab(*m, j, ctx);
    std::string unk = json_util::get_string(j, "unk_token", ctx);
    auto it = m->vocab.find(unk);
    if (it == m->vocab.end())
      throw InputError(detail::concat(ctx, ".unk_token '", unk, "' is not in model.vocab"));
    m->unk_id = it->second;
    m->prefix = opt_string(j, "continuing_subword_prefix", ctx);
    m->max_chars =
        static_cast<size_t>(json_util::get_int_or(j, "max_input_chars_per_word", 100, ctx));
    return m;
  }
  throw_unsupported(where, key, type, "BPE, WordPiece");
}

}  // namespace dkv::tokenizer
