// MS MARCO reading and the study's sample selection.
#include "dkv/experiment/dataset.h"

#include <nlohmann/json.hpp>
#include <zlib.h>

#include <cctype>

#include "dkv/core/error.h"
#include "dkv/core/rng.h"

namespace dkv::experiment {

using nlohmann::json;

int64_t word_count(const std::string& text) {
  int64_t n = 0;
  bool in_word = false;
  for (unsigned char ch : text) {
    // Python's str.split() also splits on Unicode spaces; MS MARCO passages are ASCII-spaced.
    const bool space = std::isspace(ch) != 0;
    if (!space && !in_word) ++n;
    in_word = !space;
  }
  return n;
}

namespace {

// Line reader over gzip or plain files (zlib reads uncompressed files transparently).
class LineReader {
 public:
  explicit LineReader(const std::string& path) : path_(path), file_(gzopen(path.c_str(), "rb")) {
    if (!file_) throw InputError(path + ": cannot open the dataset file");
  }
  ~LineReader() {
    if (file_) gzclose(file_);
  }
  bool next(std::string& line) {
    line.clear();
    char buf[65536];
    while (gzgets(file_, buf, sizeof buf)) {
      line += buf;
      if (!line.empty() && line.back() == '\n') {
        line.pop_back();
        return true;
      }
    }
    int err = 0;
    gzerror(file_, &err);
    if (err != Z_OK && err != Z_STREAM_END)
      throw InputError(path_ + ": read error (corrupt gzip stream?)");
    return !line.empty();
  }

 private:
  std::string path_;
  gzFile file_;
};

struct Passage {
  int64_t is_selected;
  std::string text;
};

std::vector<Passage> passages_of(const json& j) {
  const auto& p = j.at("passages");
  std::vector<Passage> out;
  if (p.is_array()) {  // Microsoft: [{is_selected, passage_text, url}]
    for (const auto& e : p) out.push_back({e.at("is_selected").get<int64_t>(), e.at("passage_text").get<std::string>()});
  } else if (p.is_object()) {  // HF export: {is_selected: [...], passage_text: [...]}
    const auto& sel = p.at("is_selected");
    const auto& txt = p.at("passage_text");
    if (sel.size() != txt.size()) throw std::runtime_error("passages lists differ in length");
    for (size_t i = 0; i < sel.size(); ++i) out.push_back({sel[i].get<int64_t>(), txt[i].get<std::string>()});
  } else {
    throw std::runtime_error("'passages' is neither a list nor an object of lists");
  }
  return out;
}

std::vector<std::string> strings_of(const json& j, const char* key) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return out;
  if (it->is_string()) {
    out.push_back(it->get<std::string>());
    return out;
  }
  for (const auto& e : *it) out.push_back(e.get<std::string>());
  return out;
}

}  // namespace

std::vector<Sample> load_samples(const DatasetSpec& spec, uint64_t seed, DatasetReport* report) {
  DatasetReport local;
  DatasetReport& rep = report ? *report : local;
  rep = {};
  const int64_t want = spec.num_samples * spec.candidate_factor;
  std::vector<Sample> candidates;
  LineReader reader(spec.path);
  std::string line;
  while (static_cast<int64_t>(candidates.size()) < want && reader.next(line)) {
    ++rep.lines;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    Sample s;
    s.source_line = rep.lines;
    std::vector<Passage> passages;
    std::vector<std::string> well_formed, answers;
    try {
      const auto j = json::parse(line);
      s.query = j.at("query").get<std::string>();
      if (j.contains("query_id")) s.query_id = j.at("query_id").dump();
      passages = passages_of(j);
      well_formed = strings_of(j, "wellFormedAnswers");
      answers = strings_of(j, "answers");
    } catch (const std::exception& e) {
      ++rep.malformed;
      if (rep.malformed_examples.size() < 5)
        rep.malformed_examples.push_back(spec.path + ":" + std::to_string(rep.lines) + ": " + e.what());
      continue;
    }
    if (!well_formed.empty() && well_formed[0] != "[]") s.answer = well_formed[0];
    else if (!answers.empty() && answers[0] != "No Answer Present.") s.answer = answers[0];
    if (s.answer.empty()) {
      ++rep.no_answer;
      continue;
    }
    for (const auto& p : passages) {
      const auto words = word_count(p.text);
      if (p.is_selected == 1 && words >= spec.min_passage_words && words <= spec.max_passage_words) {
        s.passage = p.text;
        break;
      }
    }
    if (s.passage.empty()) {
      ++rep.no_passage;
      continue;
    }
    candidates.push_back(std::move(s));
  }
  rep.candidates = static_cast<int64_t>(candidates.size());
  if (candidates.empty())
    throw InputError(spec.path + ": no usable sample in " + std::to_string(rep.lines) + " lines (" +
                     std::to_string(rep.malformed) + " malformed, " + std::to_string(rep.no_answer) +
                     " without an answer, " + std::to_string(rep.no_passage) +
                     " without a selected passage of " + std::to_string(spec.min_passage_words) +
                     "-" + std::to_string(spec.max_passage_words) + " words)");
  auto rng = Rng::keyed({seed, 0x64617461 /* "data" */});
  for (size_t i = candidates.size(); i > 1; --i) std::swap(candidates[i - 1], candidates[rng.below(i)]);
  if (static_cast<int64_t>(candidates.size()) > spec.num_samples) candidates.resize(spec.num_samples);
  for (size_t i = 0; i < candidates.size(); ++i) candidates[i].index = static_cast<int64_t>(i);
  return candidates;
}

}  // namespace dkv::experiment
