// YAML -> ExperimentSpec. No YAML::Node escapes this file.
#include "dkv/experiment/spec.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "dkv/core/error.h"
#include "experiment/report_analyses_yaml.h"
#include "experiment/yaml_checks.h"
#include "experiment/yaml_reader.h"

namespace dkv::experiment {

namespace {

SurrogateKind parse_kind(const std::string& s, const std::string& what) {
  for (auto k : {SurrogateKind::none, SurrogateKind::generated, SurrogateKind::perfect,
                 SurrogateKind::static_query, SurrogateKind::random, SurrogateKind::irrelevant,
                 SurrogateKind::shuffled})
    if (to_string(k) == s) return k;
  throw ConfigError(what + ": unknown surrogate '" + s +
                    "' (none, generated, perfect, static, random, irrelevant, shuffled, or a name "
                    "from the surrogates block)");
}

// Bounds that keep a config from asking for absurd work before the model is known (the model's
// own layer count is checked at run start, validate_against_model).
constexpr int64_t kMaxLayerIndex = 4096, kMaxRepeat = 10000, kMaxPadTokens = int64_t{1} << 22;

// "3", 3 or "0-15" items -> sorted distinct layer indices.
std::vector<int64_t> parse_layers(const YAML::Node& node, const std::string& what) {
  if (!node.IsSequence() || node.size() == 0)
    throw ConfigError(what + ": expected a non-empty list of layers, e.g. [0, 3, \"8-15\"]");
  std::set<int64_t> out;
  for (const auto& item : node) {
    const auto text = item.as<std::string>();
    const auto dash = text.find('-', 1);
    try {
      size_t used = 0;
      const int64_t lo = std::stoll(text.substr(0, dash), &used);
      if (used != text.substr(0, dash).size()) throw std::invalid_argument(text);
      int64_t hi = lo;
      if (dash != std::string::npos) {
        hi = std::stoll(text.substr(dash + 1), &used);
        if (used != text.substr(dash + 1).size()) throw std::invalid_argument(text);
      }
      if (lo < 0 || hi < lo) throw std::invalid_argument(text);
      if (hi > kMaxLayerIndex)
        throw ConfigError(what + ": layer " + std::to_string(hi) + " is beyond any model (at most " +
                          std::to_string(kMaxLayerIndex) + ")");
      for (int64_t l = lo; l <= hi; ++l) out.insert(l);
    } catch (const std::logic_error&) {
      throw ConfigError(what + ": '" + text + "' is not a layer index or a range like 0-15");
    }
  }
  return {out.begin(), out.end()};
}

CacheMixSpec parse_mix(const YAML::Node& node, const std::string& path, const std::string& file) {
  MapReader r(node, path, file);
  CacheMixSpec m;
  r.require("keys", m.keys);
  r.require("values", m.values);
  if (auto layers = r.child("layers")) m.layers = parse_layers(layers, where(file, layers, r.full("layers")));
  std::vector<double> range;
  if (r.get("document_range", range)) {
    if (range.size() != 2 || !(range[0] >= 0 && range[0] < range[1] && range[1] <= 1))
      throw ConfigError(where(file, node, r.full("document_range")) +
                        ": expected [from, to] with 0 <= from < to <= 1 (fractions of the document's entries)");
    m.range_from = range[0];
    m.range_to = range[1];
  }
  r.get("alpha", m.alpha);
  if (!std::isfinite(m.alpha)) throw ConfigError(where(file, node, r.full("alpha")) + ": must be finite");
  std::string sample = "same";
  r.get("values_sample", sample);
  check_choice(sample, {"same", "other"}, where(file, node, r.full("values_sample")));
  m.other_sample = sample == "other";
  r.finish();
  return m;
}

ConditionSpec parse_condition(const YAML::Node& node, const std::string& path, const std::string& file,
                              const TextsSpec& texts, const std::set<std::string>& sources) {
  MapReader r(node, path, file);
  ConditionSpec c;
  r.require("id", c.id);
  r.require("name", c.name);
  r.get("reposition", c.reposition);
  r.get("keep_bos", c.keep_bos);
  r.get("position_offset", c.position_offset);
  r.get("bos_only", c.bos_only);
  r.get("pad_to_tokens", c.pad_to_tokens);
  r.get("prefix_bias", c.prefix_bias);
  if (c.pad_to_tokens < 0 || c.pad_to_tokens > kMaxPadTokens)
    throw ConfigError(where(file, node, r.full("pad_to_tokens")) + ": must lie in [0, " + std::to_string(kMaxPadTokens) +
                      "], got " + std::to_string(c.pad_to_tokens));
  if (!std::isfinite(c.prefix_bias)) throw ConfigError(where(file, node, r.full("prefix_bias")) + ": must be finite");
  std::string qp = "cache_length";
  r.get("query_positions", qp);
  check_choice(qp, {"cache_length", "after_last"}, where(file, node, r.full("query_positions")));
  c.query_positions = qp == "after_last" ? QueryPositions::after_last : QueryPositions::cache_length;
  if (auto m = r.child("mix")) c.mix = parse_mix(m, r.full("mix"), file);
  auto segs = r.child("segments");
  const bool needs_segments = !c.mix && !c.bos_only;
  if (needs_segments && (!segs || !segs.IsSequence() || segs.size() == 0))
    throw ConfigError(where(file, node, r.full("segments")) + ": expected a non-empty list");
  if (!needs_segments && segs)
    throw ConfigError(where(file, node, r.full("segments")) + ": a " + (c.mix ? "mix" : "bos_only") +
                      " condition builds no cache of its own: drop segments");
  if (c.mix && c.bos_only) throw ConfigError(where(file, node, path) + ": mix and bos_only exclude each other");
  if (!needs_segments && (c.pad_to_tokens > 0 || c.prefix_bias != 0 || c.reposition))
    throw ConfigError(where(file, node, path) + ": pad_to_tokens, prefix_bias and reposition apply to conditions "
                      "with segments");
  for (size_t i = 0; segs && i < segs.size(); ++i) {
    const auto spath = r.full("segments") + "[" + std::to_string(i) + "]";
    MapReader sr(segs[i], spath, file);
    SegmentSpec s;
    sr.require("template", s.template_name);
    if (!texts.templates.count(s.template_name))
      throw ConfigError(where(file, segs[i], spath + ".template") + ": no text template named '" +
                        s.template_name + "' under texts");
    std::string kind = "none";
    sr.get("surrogate", kind);
    if (sources.count(kind)) {
      s.surrogate = SurrogateKind::named;
      s.source = kind;
    } else {
      s.surrogate = parse_kind(kind, where(file, segs[i], spath + ".surrogate"));
    }
    const bool needs = texts.templates.at(s.template_name).find("{surrogate}") != std::string::npos;
    if (needs != (s.surrogate != SurrogateKind::none))
      throw ConfigError(where(file, segs[i], spath) + ": template '" + s.template_name + "' " +
                        (needs ? "uses {surrogate}: set surrogate" : "has no {surrogate}: drop surrogate"));
    sr.get("keep", s.keep);
    sr.get("repeat", s.repeat);
    check_positive(s.repeat, where(file, segs[i], spath + ".repeat"));
    if (s.repeat > kMaxRepeat)
      throw ConfigError(where(file, segs[i], spath + ".repeat") + ": at most " + std::to_string(kMaxRepeat) + ", got " +
                        std::to_string(s.repeat));
    sr.finish();
    c.segments.push_back(s);
  }
  if (c.prefix_bias != 0 &&
      std::none_of(c.segments.begin(), c.segments.end(), [](const SegmentSpec& s) { return !s.keep; }))
    throw ConfigError(where(file, node, r.full("prefix_bias")) + ": needs a cut segment (keep: false) to bias");
  r.finish();
  return c;
}

// The kept part of a cache, for checking that a mix's two caches hold the same entries.
std::string kept_layout(const ConditionSpec& c) {
  if (c.bos_only) return "bos";
  std::string out = c.keep_bos ? "B" : "-";
  for (const auto& s : c.segments)
    if (s.keep) out += "|" + s.template_name + ":" + surrogate_name(s) + "x" + std::to_string(s.repeat);
  return out + "|pad" + std::to_string(c.pad_to_tokens);
}

void check_mixes(const std::vector<ConditionSpec>& conditions, const std::string& file) {
  std::map<std::string, const ConditionSpec*> by_id;
  for (const auto& c : conditions) by_id[c.id] = &c;
  for (const auto& c : conditions) {
    if (!c.mix) continue;
    const auto what = file + ": condition " + c.id + ": mix.";
    const ConditionSpec* sides[2] = {nullptr, nullptr};
    const char* keys[2] = {"keys", "values"};
    const std::string* ids[2] = {&c.mix->keys, &c.mix->values};
    for (int k = 0; k < 2; ++k) {
      auto it = by_id.find(*ids[k]);
      if (it == by_id.end()) throw ConfigError(what + keys[k] + ": no condition with id '" + *ids[k] + "'");
      if (it->second->mix)
        throw ConfigError(what + keys[k] + ": '" + *ids[k] + "' is itself a mix; name conditions that build caches");
      sides[k] = it->second;
    }
    if (c.mix->other_sample)
      for (const auto& seg : sides[1]->segments)
        if (seg.surrogate == SurrogateKind::irrelevant)
          throw ConfigError(what + "values: '" + c.mix->values + "' uses the irrelevant surrogate, which another "
                            "sample's cache cannot have; values_sample: other needs its own surrogates");
    if (!c.mix->other_sample && kept_layout(*sides[0]) != kept_layout(*sides[1]))
      throw ConfigError(what + "values: '" + c.mix->values + "' keeps other entries than '" + c.mix->keys +
                        "' (kept segments " + kept_layout(*sides[1]) + " vs " + kept_layout(*sides[0]) +
                        "): keys and values must come from caches of the same entries");
  }
}

SurrogateSource parse_source(const std::string& name, const YAML::Node& node, const std::string& file,
                             const SurrogateSpec& defaults) {
  const auto path = "surrogates." + name;
  MapReader r(node, path, file);
  SurrogateSource s;
  s.name = name;
  s.temperature = defaults.temperature;
  s.max_new_tokens = defaults.max_new_tokens;
  s.system_prompt = defaults.system_prompt;
  r.require("kind", s.kind);
  check_choice(s.kind, {"llm", "static", "query", "keywords", "keywords_of_other", "echo", "shuffled", "random_tokens"},
               where(file, node, path + ".kind"));
  const auto& k = s.kind;
  if (k == "llm") {
    r.require("instruction", s.instruction);
    r.get("document_block", s.document_block);
    r.get("system_prompt", s.system_prompt);
    r.get("temperature", s.temperature);
    r.get("max_new_tokens", s.max_new_tokens);
    r.get("first_line", s.first_line);
    r.get("strip_quotes", s.strip_quotes);
    r.get("passage_word_cap", s.passage_word_cap);
    if (s.temperature < 0) throw ConfigError(where(file, node, path + ".temperature") + ": must be >= 0");
    check_positive(s.max_new_tokens, where(file, node, path + ".max_new_tokens"));
    if (s.passage_word_cap < 0) throw ConfigError(where(file, node, path + ".passage_word_cap") + ": must be >= 0");
  } else if (k == "static") {
    r.require("text", s.text);
  } else if (k == "keywords" || k == "keywords_of_other") {
    r.get("count", s.count);
    r.get("min_chars", s.min_chars);
    check_positive(s.count, where(file, node, path + ".count"));
    if (k == "keywords") {
      r.get("from", s.from);
      check_choice(s.from, {"passage", "query"}, where(file, node, path + ".from"));
    }
  } else if (k == "echo") {
    r.get("word_cap", s.word_cap);
    check_positive(s.word_cap, where(file, node, path + ".word_cap"));
  } else if (k == "shuffled") {
    r.require("of", s.of);
    r.get("unit", s.unit);
    check_choice(s.unit, {"words", "tokens"}, where(file, node, path + ".unit"));
  } else if (k == "random_tokens") {
    const bool has_length = r.get("length", s.length);
    r.get("match_tokens", s.match_tokens);
    r.get("margin", s.margin);
    if (has_length && !s.match_tokens.empty())
      throw ConfigError(where(file, node, path) + ": give length or match_tokens, not both");
    check_positive(s.length, where(file, node, path + ".length"));
    if (s.margin < 0) throw ConfigError(where(file, node, path + ".margin") + ": must be >= 0");
  }
  r.finish();
  return s;
}

// Sources may name other sources (shuffled.of, random_tokens.match_tokens): those must exist
// and come earlier in the block, so a source is computed after what it uses and cycles are impossible.
void check_source_references(const std::vector<SurrogateSource>& sources, const std::string& file) {
  std::set<std::string> earlier = {"generated", "perfect", "static"};
  for (const auto& s : sources) {
    for (const auto* ref : {&s.of, &s.match_tokens}) {
      if (ref->empty()) continue;
      if (!earlier.count(*ref))
        throw ConfigError(file + ": surrogates." + s.name + ": '" + *ref +
                          "' is not a source defined above it (nor generated, perfect, static)");
    }
    earlier.insert(s.name);
  }
}

// The `report:` block; every condition id it names must be one of the run's conditions.
void parse_report(const YAML::Node& node, const std::string& file, ExperimentSpec& s) {
  MapReader r(node, "report", file);
  std::set<std::string> ids;
  for (const auto& c : s.conditions) ids.insert(c.id);
  auto check_id = [&](const std::string& id, const std::string& key) {
    if (!ids.count(id))
      throw ConfigError(where(file, node, "report." + key) + ": no condition with id '" + id + "'");
  };
  auto& o = s.report;
  auto id = [&](const char* key, std::optional<std::string>& out) {
    std::string v;
    if (r.get(key, v)) {
      check_id(v, key);
      out = v;
    }
  };
  auto ids_list = [&](const char* key, std::optional<std::vector<std::string>>& out) {
    std::vector<std::string> v;
    if (r.get(key, v)) {
      for (const auto& x : v) check_id(x, key);
      out = v;
    }
  };
  auto pairs = [&](const char* key, std::optional<std::vector<IdPair>>& out) {
    std::vector<std::vector<std::string>> v;
    if (!r.get(key, v)) return;
    out.emplace();
    for (const auto& p : v) {
      if (p.size() != 2)
        throw ConfigError(where(file, node, std::string("report.") + key) +
                          ": expected pairs of condition ids, e.g. [[C1, C2]]");
      check_id(p[0], key);
      check_id(p[1], key);
      out->emplace_back(p[0], p[1]);
    }
  };
  id("baseline", o.baseline);
  pairs("critical", o.critical);
  ids_list("surrogate_quality", o.surrogate_quality);
  pairs("full_vs_truncated", o.full_vs_truncated);
  pairs("ordering", o.ordering);
  ids_list("similarity_correlation", o.similarity_correlation);
  id("quartile_condition", o.quartile_condition);
  ids_list("figure_critical", o.figure_critical);
  id("figure_condition", o.figure_condition);
  parse_report_analyses(r, node, file, ids, o.analyses);
  r.finish();
}

}  // namespace

std::string to_string(SurrogateKind kind) {
  switch (kind) {
    case SurrogateKind::none: return "none";
    case SurrogateKind::generated: return "generated";
    case SurrogateKind::perfect: return "perfect";
    case SurrogateKind::static_query: return "static";
    case SurrogateKind::random: return "random";
    case SurrogateKind::irrelevant: return "irrelevant";
    case SurrogateKind::shuffled: return "shuffled";
    case SurrogateKind::named: return "named";
  }
  return "?";
}

std::string surrogate_name(const SegmentSpec& segment) {
  return segment.surrogate == SurrogateKind::named ? segment.source : to_string(segment.surrogate);
}

void validate_against_model(const ExperimentSpec& spec, int64_t num_layers) {
  for (const auto& c : spec.conditions)
    if (c.mix)
      for (auto l : c.mix->layers)
        if (l >= num_layers)
          throw ConfigError(spec.source_path + ": condition " + c.id + ": mix.layers: layer " + std::to_string(l) +
                            " does not exist (the model has " + std::to_string(num_layers) + " layers, 0-" +
                            std::to_string(num_layers - 1) + ")");
}

std::vector<ConditionSpec> study_conditions() {
  using K = SurrogateKind;
  auto seg = [](const char* t, K k = K::none, bool keep = true) { return SegmentSpec{t, k, keep}; };
  auto cond = [](const char* id, const char* name, std::vector<SegmentSpec> s, bool repo = false,
                 int64_t offset = 0) {
    ConditionSpec c;
    c.id = id;
    c.name = name;
    c.segments = std::move(s);
    c.reposition = repo;
    c.position_offset = offset;
    return c;
  };
  return {
      cond("A1", "baseline", {seg("document")}),
      cond("A2", "bare_doc", {seg("bare_document")}),
      cond("A3", "baseline_offset", {seg("document")}, false, 20),
      cond("B1", "full_generated", {seg("prefix", K::generated), seg("document")}),
      cond("B2", "full_perfect", {seg("prefix", K::perfect), seg("document")}),
      cond("B3", "full_static", {seg("prefix", K::static_query), seg("document")}),
      cond("B4", "full_suffix", {seg("document"), seg("suffix", K::generated)}),
      cond("C1", "trunc_generated_broken", {seg("prefix", K::generated, false), seg("document")}),
      cond("C2", "trunc_generated_corrected", {seg("prefix", K::generated, false), seg("document")}, true),
      cond("C3", "trunc_perfect_broken", {seg("prefix", K::perfect, false), seg("document")}),
      cond("C4", "trunc_perfect_corrected", {seg("prefix", K::perfect, false), seg("document")}, true),
      cond("C5", "trunc_static_corrected", {seg("prefix", K::static_query, false), seg("document")}, true),
      cond("D1", "trunc_suffix_corrected", {seg("document"), seg("suffix", K::generated, false)}, true),
      cond("E1", "random_prefix_trunc_corrected", {seg("random_prefix", K::random, false), seg("document")}, true),
      cond("E2", "full_random_prefix", {seg("random_prefix", K::random), seg("document")}),
  };
}

namespace {
ExperimentSpec parse_spec_unguarded(const std::string& text, const std::string& file);
}  // namespace

// yaml-cpp throws from conversions dkv does not wrap one by one (found by
// tests/fuzz/fuzz_yaml_config.cpp: "bad conversion" escaped uncaught): any YAML::Exception
// is a ConfigError at its mark.
ExperimentSpec parse_spec(const std::string& text, const std::string& file) {
  try {
    return parse_spec_unguarded(text, file);
  } catch (const YAML::Exception& e) {
    throw ConfigError(file + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                      ": " + e.msg);
  }
}

namespace {
ExperimentSpec parse_spec_unguarded(const std::string& text, const std::string& file) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw ConfigError(file + ":" + std::to_string(e.mark.line + 1) + ":" +
                      std::to_string(e.mark.column + 1) + ": malformed YAML: " + e.msg);
  }
  reject_duplicate_keys(root, file);
  ExperimentSpec s;
  s.source_path = file;
  s.source_text = text;
  MapReader top(root, "", file);
  top.require("name", s.name);
  auto section = [&](const char* key) -> std::optional<MapReader> {
    auto n = top.child(key);
    if (!n) return std::nullopt;
    return MapReader(n, key, file);
  };
  if (auto r = section("model")) {
    r->require("path", s.model.path);
    r->get("chat_template", s.model.chat_template);
    r->get("dtype", s.model.dtype);
    r->get("device", s.model.device);
    r->get("quantization", s.model.quantization);
    check_choice(s.model.chat_template, {"auto", "mistral", "llama2", "llama3", "chatml"},
                 file + ": model.chat_template");
    check_choice(s.model.dtype, {"fp32", "fp16", "bf16"}, file + ": model.dtype");
    check_choice(s.model.device, {"auto", "cpu", "cuda"}, file + ": model.device");
    check_choice(s.model.quantization, {"none", "nf4", "int8"}, file + ": model.quantization");
    r->finish();
  } else {
    throw ConfigError(file + ": model: required section is missing (model.path)");
  }
  if (auto r = section("embedding")) {
    r->require("path", s.embedding.path);
    r->finish();
  } else {
    throw ConfigError(file + ": embedding: required section is missing (embedding.path)");
  }
  if (auto r = section("dataset")) {
    r->require("path", s.dataset.path);
    r->get("num_samples", s.dataset.num_samples);
    r->get("min_passage_words", s.dataset.min_passage_words);
    r->get("max_passage_words", s.dataset.max_passage_words);
    r->get("candidate_factor", s.dataset.candidate_factor);
    check_positive(s.dataset.num_samples, file + ": dataset.num_samples");
    check_positive(s.dataset.candidate_factor, file + ": dataset.candidate_factor");
    if (s.dataset.min_passage_words > s.dataset.max_passage_words)
      throw ConfigError(file + ": dataset.min_passage_words exceeds dataset.max_passage_words");
    r->finish();
  } else {
    throw ConfigError(file + ": dataset: required section is missing (dataset.path)");
  }
  if (auto r = section("surrogate")) {
    auto& g = s.surrogate;
    r->get("instruction", g.instruction);
    r->get("document_block", g.document_block);
    r->get("system_prompt", g.system_prompt);
    r->get("temperature", g.temperature);
    r->get("top_k", g.top_k);
    r->get("top_p", g.top_p);
    r->get("max_new_tokens", g.max_new_tokens);
    r->get("static_query", g.static_query);
    r->get("random_prefix_tokens", g.random_prefix_tokens);
    r->get("random_token_margin", g.random_token_margin);
    if (g.temperature < 0) throw ConfigError(file + ": surrogate.temperature must be >= 0");
    if (!(g.top_p > 0 && g.top_p <= 1)) throw ConfigError(file + ": surrogate.top_p must lie in (0, 1]");
    check_positive(g.max_new_tokens, file + ": surrogate.max_new_tokens");
    r->finish();
  }
  if (auto r = section("texts")) {
    r->get("query_prompt", s.texts.query_prompt);
    r->get("tokenization", s.texts.tokenization);
    check_choice(s.texts.tokenization, {"joint", "matched"}, file + ": texts.tokenization");
    auto t = r->child("templates");
    if (t) {
      MapReader tr(t, "texts.templates", file);
      for (auto it = t.begin(); it != t.end(); ++it) {
        const auto key = it->first.as<std::string>();
        tr.get(key, s.texts.templates[key]);
      }
      tr.finish();
    }
    r->finish();
  }
  std::set<std::string> source_names;
  if (auto n = top.child("surrogates")) {
    if (!n.IsMap() || n.size() == 0)
      throw ConfigError(where(file, n, "surrogates") + ": expected a mapping of source names to sources");
    for (auto it = n.begin(); it != n.end(); ++it) {
      const auto name = it->first.as<std::string>();
      if (name.empty() || name == "none" || name.find_first_of(" \t\n{}/.") != std::string::npos)
        throw ConfigError(where(file, it->first, "surrogates." + name) + ": not a usable source name");
      for (auto k : {SurrogateKind::generated, SurrogateKind::perfect, SurrogateKind::static_query,
                     SurrogateKind::random, SurrogateKind::irrelevant, SurrogateKind::shuffled, SurrogateKind::named})
        if (to_string(k) == name)
          throw ConfigError(where(file, it->first, "surrogates." + name) + ": '" + name +
                            "' is a built-in surrogate; choose another name");
      s.surrogates.push_back(parse_source(name, it->second, file, s.surrogate));
      source_names.insert(name);
    }
    check_source_references(s.surrogates, file);
  }
  auto read_conditions = [&](const char* key, const YAML::Node& list) {
    if (!list.IsSequence() || list.size() == 0)
      throw ConfigError(where(file, list, key) + ": expected a non-empty list");
    for (size_t i = 0; i < list.size(); ++i) {
      const auto p = std::string(key) + "[" + std::to_string(i) + "]";
      s.conditions.push_back(parse_condition(list[i], p, file, s.texts, source_names));
    }
  };
  if (auto c = top.child("conditions")) read_conditions("conditions", c);
  else s.conditions = study_conditions();
  // extra_conditions: appended to the list above (the study's by default), so a config can add
  // conditions without restating the fifteen.
  if (auto c = top.child("extra_conditions")) read_conditions("extra_conditions", c);
  {
    std::set<std::string> seen;
    for (const auto& c : s.conditions)
      if (!seen.insert(c.id).second)
        throw ConfigError(file + ": duplicate condition id '" + c.id + "'");
    check_mixes(s.conditions, file);
  }
  if (auto r = section("scoring")) {
    r->get("skip_first_answer_token", s.scoring.skip_first_answer_token);
    r->get("answer_template", s.scoring.answer_template);
    r->get("min_answer_tokens", s.scoring.min_answer_tokens);
    if (s.scoring.answer_template.find("{answer}") == std::string::npos)
      throw ConfigError(file + ": scoring.answer_template: must contain {answer}");
    if (s.scoring.min_answer_tokens < 0) throw ConfigError(file + ": scoring.min_answer_tokens: must be >= 0");
    r->finish();
  }
  if (auto r = section("runtime")) {
    r->get("seed", s.runtime.seed);
    r->get("token_budget", s.runtime.token_budget);
    r->get("threads", s.runtime.threads);
    r->get("checkpoint_every", s.runtime.checkpoint_every);
    check_positive(s.runtime.token_budget, file + ": runtime.token_budget");
    check_positive(s.runtime.checkpoint_every, file + ": runtime.checkpoint_every");
    r->finish();
  }
  if (auto r = section("output")) {
    r->get("dir", s.output.dir);
    r->finish();
  }
  if (auto n = top.child("report")) parse_report(n, file, s);
  top.finish();
  if (s.output.dir.empty()) s.output.dir = "results/" + s.name;
  return s;
}

}  // namespace

ExperimentSpec load_spec(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(path + ": cannot open the experiment file");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_spec(text.str(), path);
}

std::string resolved_yaml(const ExperimentSpec& s) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << s.name;
  out << YAML::Key << "model" << YAML::Value << YAML::BeginMap
      << YAML::Key << "path" << YAML::Value << s.model.path
      << YAML::Key << "chat_template" << YAML::Value << s.model.chat_template
      << YAML::Key << "dtype" << YAML::Value << s.model.dtype
      << YAML::Key << "device" << YAML::Value << s.model.device
      << YAML::Key << "quantization" << YAML::Value << s.model.quantization << YAML::EndMap;
  out << YAML::Key << "embedding" << YAML::Value << YAML::BeginMap
      << YAML::Key << "path" << YAML::Value << s.embedding.path << YAML::EndMap;
  const auto& d = s.dataset;
  out << YAML::Key << "dataset" << YAML::Value << YAML::BeginMap
      << YAML::Key << "path" << YAML::Value << d.path
      << YAML::Key << "num_samples" << YAML::Value << d.num_samples
      << YAML::Key << "min_passage_words" << YAML::Value << d.min_passage_words
      << YAML::Key << "max_passage_words" << YAML::Value << d.max_passage_words
      << YAML::Key << "candidate_factor" << YAML::Value << d.candidate_factor << YAML::EndMap;
  const auto& g = s.surrogate;
  out << YAML::Key << "surrogate" << YAML::Value << YAML::BeginMap
      << YAML::Key << "instruction" << YAML::Value << g.instruction
      << YAML::Key << "document_block" << YAML::Value << YAML::DoubleQuoted << g.document_block;
  // Written only when set, so configs without it keep their resolved text and config hash
  // (results files made before the key existed still resume).
  if (!g.system_prompt.empty())
    out << YAML::Key << "system_prompt" << YAML::Value << YAML::DoubleQuoted << g.system_prompt;
  out
      << YAML::Key << "temperature" << YAML::Value << g.temperature
      << YAML::Key << "top_k" << YAML::Value << g.top_k
      << YAML::Key << "top_p" << YAML::Value << g.top_p
      << YAML::Key << "max_new_tokens" << YAML::Value << g.max_new_tokens
      << YAML::Key << "static_query" << YAML::Value << g.static_query
      << YAML::Key << "random_prefix_tokens" << YAML::Value << g.random_prefix_tokens
      << YAML::Key << "random_token_margin" << YAML::Value << g.random_token_margin << YAML::EndMap;
  out << YAML::Key << "texts" << YAML::Value << YAML::BeginMap
      << YAML::Key << "query_prompt" << YAML::Value << YAML::DoubleQuoted << s.texts.query_prompt
      << YAML::Key << "templates" << YAML::Value << YAML::BeginMap;
  for (const auto& [k, v] : s.texts.templates)
    out << YAML::Key << k << YAML::Value << YAML::DoubleQuoted << v;
  out << YAML::EndMap;
  if (s.texts.tokenization != "joint") out << YAML::Key << "tokenization" << YAML::Value << s.texts.tokenization;
  out << YAML::EndMap;
  if (!s.surrogates.empty()) {
    out << YAML::Key << "surrogates" << YAML::Value << YAML::BeginMap;
    for (const auto& src : s.surrogates) {
      out << YAML::Key << src.name << YAML::Value << YAML::BeginMap << YAML::Key << "kind" << YAML::Value << src.kind;
      const auto& k = src.kind;
      auto q = [&](const char* key, const std::string& v) {
        out << YAML::Key << key << YAML::Value << YAML::DoubleQuoted << v;
      };
      if (k == "llm") {
        q("instruction", src.instruction);
        q("document_block", src.document_block);
        if (!src.system_prompt.empty()) q("system_prompt", src.system_prompt);
        out << YAML::Key << "temperature" << YAML::Value << src.temperature
            << YAML::Key << "max_new_tokens" << YAML::Value << src.max_new_tokens
            << YAML::Key << "first_line" << YAML::Value << src.first_line
            << YAML::Key << "strip_quotes" << YAML::Value << src.strip_quotes
            << YAML::Key << "passage_word_cap" << YAML::Value << src.passage_word_cap;
      } else if (k == "static") {
        q("text", src.text);
      } else if (k == "keywords" || k == "keywords_of_other") {
        out << YAML::Key << "count" << YAML::Value << src.count << YAML::Key << "min_chars" << YAML::Value
            << src.min_chars;
        if (k == "keywords") out << YAML::Key << "from" << YAML::Value << src.from;
      } else if (k == "echo") {
        out << YAML::Key << "word_cap" << YAML::Value << src.word_cap;
      } else if (k == "shuffled") {
        out << YAML::Key << "of" << YAML::Value << src.of << YAML::Key << "unit" << YAML::Value << src.unit;
      } else if (k == "random_tokens") {
        if (src.match_tokens.empty()) out << YAML::Key << "length" << YAML::Value << src.length;
        else out << YAML::Key << "match_tokens" << YAML::Value << src.match_tokens;
        out << YAML::Key << "margin" << YAML::Value << src.margin;
      }
      out << YAML::EndMap;
    }
    out << YAML::EndMap;
  }
  out << YAML::Key << "conditions" << YAML::Value << YAML::BeginSeq;
  for (const auto& c : s.conditions) {
    out << YAML::BeginMap << YAML::Key << "id" << YAML::Value << c.id
        << YAML::Key << "name" << YAML::Value << c.name;
    // Keys added after exp 01 are written only when set, so older configs keep their hash.
    if (!c.segments.empty()) {
      out << YAML::Key << "segments" << YAML::Value << YAML::Flow << YAML::BeginSeq;
      for (const auto& seg : c.segments) {
        out << YAML::BeginMap << YAML::Key << "template" << YAML::Value << seg.template_name;
        if (seg.surrogate != SurrogateKind::none)
          out << YAML::Key << "surrogate" << YAML::Value << surrogate_name(seg);
        if (!seg.keep) out << YAML::Key << "keep" << YAML::Value << false;
        if (seg.repeat != 1) out << YAML::Key << "repeat" << YAML::Value << seg.repeat;
        out << YAML::EndMap;
      }
      out << YAML::EndSeq;
    }
    if (c.mix) {
      const auto& m = *c.mix;
      out << YAML::Key << "mix" << YAML::Value << YAML::Flow << YAML::BeginMap
          << YAML::Key << "keys" << YAML::Value << m.keys << YAML::Key << "values" << YAML::Value << m.values;
      if (!m.layers.empty()) out << YAML::Key << "layers" << YAML::Value << YAML::Flow << m.layers;
      if (m.range_from != 0 || m.range_to != 1)
        out << YAML::Key << "document_range" << YAML::Value << YAML::Flow
            << std::vector<double>{m.range_from, m.range_to};
      if (m.alpha != 1) out << YAML::Key << "alpha" << YAML::Value << m.alpha;
      if (m.other_sample) out << YAML::Key << "values_sample" << YAML::Value << "other";
      out << YAML::EndMap;
    }
    if (c.bos_only) out << YAML::Key << "bos_only" << YAML::Value << true;
    if (c.pad_to_tokens > 0) out << YAML::Key << "pad_to_tokens" << YAML::Value << c.pad_to_tokens;
    if (c.prefix_bias != 0) out << YAML::Key << "prefix_bias" << YAML::Value << c.prefix_bias;
    out << YAML::Key << "reposition" << YAML::Value << c.reposition
        << YAML::Key << "keep_bos" << YAML::Value << c.keep_bos
        << YAML::Key << "position_offset" << YAML::Value << c.position_offset
        << YAML::Key << "query_positions" << YAML::Value
        << (c.query_positions == QueryPositions::after_last ? "after_last" : "cache_length")
        << YAML::EndMap;
  }
  out << YAML::EndSeq;
  out << YAML::Key << "scoring" << YAML::Value << YAML::BeginMap
      << YAML::Key << "skip_first_answer_token" << YAML::Value << s.scoring.skip_first_answer_token;
  if (s.scoring.answer_template != "{answer}")
    out << YAML::Key << "answer_template" << YAML::Value << YAML::DoubleQuoted << s.scoring.answer_template;
  if (s.scoring.min_answer_tokens != 0)
    out << YAML::Key << "min_answer_tokens" << YAML::Value << s.scoring.min_answer_tokens;
  out << YAML::EndMap;
  out << YAML::Key << "runtime" << YAML::Value << YAML::BeginMap
      << YAML::Key << "seed" << YAML::Value << s.runtime.seed
      << YAML::Key << "token_budget" << YAML::Value << s.runtime.token_budget
      << YAML::Key << "threads" << YAML::Value << s.runtime.threads
      << YAML::Key << "checkpoint_every" << YAML::Value << s.runtime.checkpoint_every << YAML::EndMap;
  out << YAML::Key << "output" << YAML::Value << YAML::BeginMap
      << YAML::Key << "dir" << YAML::Value << s.output.dir << YAML::EndMap;
  const auto& o = s.report;
  out << YAML::Key << "report" << YAML::Value << YAML::BeginMap;
  auto emit_id = [&](const char* k, const std::optional<std::string>& v) {
    if (v) out << YAML::Key << k << YAML::Value << *v;
  };
  auto emit_ids = [&](const char* k, const std::optional<std::vector<std::string>>& v) {
    if (v) out << YAML::Key << k << YAML::Value << YAML::Flow << *v;
  };
  auto emit_pairs = [&](const char* k, const std::optional<std::vector<IdPair>>& v) {
    if (!v) return;
    out << YAML::Key << k << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const auto& [a, b] : *v) out << YAML::Flow << std::vector<std::string>{a, b};
    out << YAML::EndSeq;
  };
  emit_id("baseline", o.baseline);
  emit_pairs("critical", o.critical);
  emit_ids("surrogate_quality", o.surrogate_quality);
  emit_pairs("full_vs_truncated", o.full_vs_truncated);
  emit_pairs("ordering", o.ordering);
  emit_ids("similarity_correlation", o.similarity_correlation);
  emit_id("quartile_condition", o.quartile_condition);
  emit_ids("figure_critical", o.figure_critical);
  emit_id("figure_condition", o.figure_condition);
  emit_report_analyses(out, o.analyses);
  out << YAML::EndMap;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace dkv::experiment
