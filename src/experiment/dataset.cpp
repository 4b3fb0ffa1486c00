// MS MARCO reading and the study's sample selection.
#include "dkv/experiment/dataset.h"

#include <nlohmann/json.hpp>
#include <zlib.h>

#include <cctype>
#include <cstring>

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

// Line reader over gzip or plain files (zlib reads uncompressed files transparently). Lines
// are split on '\n' only, whatever the bytes in between: a NUL or invalid UTF-8 stays inside
// its line (which then fails to parse and is counted malformed) and never shifts the count.
// (gzgets, like fgets, cannot say how many bytes it read past a NUL.)
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
    for (;;) {
      if (pos_ == end_ && !fill()) return !line.empty();
      const char* start = buf_ + pos_;
      const void* nl = std::memchr(start, '\n', end_ - pos_);
      if (nl) {
        const size_t n = static_cast<const char*>(nl) - start;
        line.append(start, n);
        pos_ += n + 1;
        return true;
      }
      line.append(start, end_ - pos_);
      pos_ = end_;
    }
  }

 private:
  bool fill() {
    const int n = gzread(file_, buf_, sizeof buf_);
    if (n < 0) {
      int err = 0;
      const char* msg = gzerror(file_, &err);
      throw InputError(path_ + ": read error (" + (msg ? msg : "?") + "; corrupt gzip stream?)");
    }
    pos_ = 0;
    end_ = static_cast<size_t>(n);
    return n > 0;
  }
  std::string path_;
  gzFile file_;
  char buf_[1 << 16];
  size_t pos_ = 0, end_ = 0;
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

LineVerdict parse_sample_line(const std::string& line, const DatasetSpec& spec, Sample& s, std::string* why) {
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
    if (why) *why = e.what();
    return LineVerdict::malformed;
  }
  if (!well_formed.empty() && well_formed[0] != "[]") s.answer = well_formed[0];
  else if (!answers.empty() && answers[0] != "No Answer Present.") s.answer = answers[0];
  if (s.answer.empty()) return LineVerdict::no_answer;
  for (const auto& p : passages) {
    const auto words = word_count(p.text);
    if (p.is_selected == 1 && words >= spec.min_passage_words && words <= spec.max_passage_words) {
      s.passage = p.text;
      break;
    }
  }
  if (s.passage.empty()) return LineVerdict::no_passage;
  return LineVerdict::sample;
}

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
    std::string why;
    const auto verdict = parse_sample_line(line, spec, s, &why);
    if (verdict == LineVerdict::malformed) {
      ++rep.malformed;
      if (rep.malformed_examples.size() < 5)
        rep.malformed_examples.push_back(spec.path + ":" + std::to_string(rep.lines) + ": " + why);
      continue;
    }
    if (verdict == LineVerdict::no_answer) {
      ++rep.no_answer;
      continue;
    }
    if (verdict == LineVerdict::no_passage) {
      ++rep.no_passage;
      continue;
    }
    s.source_line = rep.lines;
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
