// report.{primary, strata, routing, gating, pmi, bootstrap, exclusions} <-> stats::AnalysesSpec.
// Every key is optional; what is not set is not emitted, so the resolved text (and config hash)
// of a config without analyses is what it was before these keys existed.
#include "experiment/report_analyses_yaml.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace dkv::experiment {
namespace {

// Shortest decimal that reads back as the same double (YAML has no binary floats).
std::string number_text(double v) {
  if (std::isinf(v)) return v > 0 ? ".inf" : "-.inf";
  char buf[40];
  for (int prec = 15; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

struct Ctx {
  const std::string& file;
  const std::set<std::string>& ids;
  void check_id(const YAML::Node& node, const std::string& id, const std::string& key) const {
    if (!ids.count(id)) throw ConfigError(where(file, node, key) + ": no condition with id '" + id + "'");
  }
  [[noreturn]] void fail(const YAML::Node& node, const std::string& key, const std::string& what) const {
    throw ConfigError(where(file, node, key) + ": " + what);
  }
};

void check_variable(const Ctx& c, const YAML::Node& node, const std::string& v, const std::string& key,
                    bool allow_intent) {
  if (allow_intent && v == "intent") return;
  if (v.rfind("nll.", 0) == 0) return c.check_id(node, v.substr(4), key);
  for (const auto& known : stats::kSampleVariables)
    if (v == known) return;
  std::string list;
  for (const auto& k : stats::kSampleVariables) list += k + ", ";
  c.fail(node, key, "'" + v + "' is not a per-sample variable (expected one of " + list + "nll.<id>" +
                        (allow_intent ? ", intent)" : ")"));
}

void parse_primary(const Ctx& c, const YAML::Node& node, stats::PrimarySpec& p) {
  MapReader r(node, "report.primary", c.file);
  std::vector<std::vector<std::string>> pairs;
  r.require("comparisons", pairs);
  if (pairs.empty()) c.fail(node, r.full("comparisons"), "expected at least one pair of condition ids");
  for (size_t i = 0; i < pairs.size(); ++i) {
    const auto key = r.full("comparisons") + "[" + std::to_string(i) + "]";
    if (pairs[i].size() != 2) c.fail(node, key, "expected a pair of condition ids, e.g. [A1, C2]");
    c.check_id(node, pairs[i][0], key), c.check_id(node, pairs[i][1], key);
    p.comparisons.push_back({pairs[i][0], pairs[i][1]});
  }
  r.get("correction", p.correction);
  check_choice(p.correction, {"bonferroni", "holm"}, where(c.file, node, r.full("correction")));
  r.get("alpha", p.alpha);
  if (!(p.alpha > 0 && p.alpha < 1)) c.fail(node, r.full("alpha"), "expected a level in (0, 1)");
  r.finish();
}

stats::StratumSpec parse_stratum(const Ctx& c, const YAML::Node& node, const std::string& path) {
  MapReader r(node, path, c.file);
  stats::StratumSpec s;
  r.require("name", s.name);
  if (s.name.empty()) c.fail(node, r.full("name"), "expected a non-empty name");
  r.get("variable", s.variable);
  check_variable(c, node, s.variable, r.full("variable"), true);
  const bool q = r.get("quantiles", s.quantiles);
  const bool b = r.get("bins", s.bins);
  r.get("right", s.right);
  r.get("labels", s.labels);
  r.get("other", s.other);
  if (auto rules = r.child("rules")) {
    if (s.variable != "intent") c.fail(node, r.full("rules"), "rules apply to variable: intent");
    if (!rules.IsSequence() || rules.size() == 0) c.fail(rules, r.full("rules"), "expected a non-empty list of {label, contains}");
    for (size_t i = 0; i < rules.size(); ++i) {
      MapReader rr(rules[i], r.full("rules") + "[" + std::to_string(i) + "]", c.file);
      stats::IntentRule rule;
      rr.require("label", rule.label);
      rr.require("contains", rule.contains);
      if (rule.contains.empty()) c.fail(rules[i], rr.full("contains"), "expected at least one substring");
      for (auto& sub : rule.contains)
        for (auto& ch : sub) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      rr.finish();
      s.rules.push_back(rule);
    }
  }
  size_t nbins = 0;
  if (s.variable == "intent") {
    if (q || b) c.fail(node, path, "an intent stratum takes rules, not quantiles or bins");
    nbins = (s.rules.empty() ? stats::default_intent_rules().size() : s.rules.size()) + 1;
  } else if (q == b) {
    c.fail(node, path, "expected exactly one of quantiles: k or bins: [edges]");
  } else if (q) {
    if (s.quantiles < 1) c.fail(node, r.full("quantiles"), "expected k >= 1, got " + std::to_string(s.quantiles));
    nbins = static_cast<size_t>(s.quantiles);
  } else {
    if (s.bins.size() < 2) c.fail(node, r.full("bins"), "expected at least two edges");
    for (size_t i = 0; i < s.bins.size(); ++i)
      if (std::isnan(s.bins[i]) || (i > 0 && !(s.bins[i] > s.bins[i - 1])))
        c.fail(node, r.full("bins"), "expected strictly increasing edges (pandas.cut), got " +
                                         number_text(s.bins[i]) + " at [" + std::to_string(i) + "]");
    nbins = s.bins.size() - 1;
  }
  if (!s.labels.empty() && s.labels.size() != nbins)
    c.fail(node, r.full("labels"), "expected " + std::to_string(nbins) + " labels (one per bin), got " +
                                       std::to_string(s.labels.size()));
  r.finish();
  return s;
}

void parse_routing(const Ctx& c, const YAML::Node& node, const std::vector<stats::StratumSpec>& strata,
                   stats::RoutingSpec& rt) {
  MapReader r(node, "report.routing", c.file);
  rt.enabled = true;
  r.get("max_k", rt.max_k);
  if (rt.max_k < 0) c.fail(node, r.full("max_k"), "expected 0 (every candidate) or a positive K");
  r.get("candidates", rt.candidates);
  for (const auto& id : rt.candidates) c.check_id(node, id, r.full("candidates"));
  if (auto rules = r.child("rules")) {
    if (!rules.IsSequence()) c.fail(rules, r.full("rules"), "expected a list of {name, stratum, choose}");
    for (size_t i = 0; i < rules.size(); ++i) {
      const auto path = r.full("rules") + "[" + std::to_string(i) + "]";
      MapReader rr(rules[i], path, c.file);
      stats::RouteRuleSpec rule;
      rr.require("name", rule.name);
      rr.require("stratum", rule.stratum);
      const stats::StratumSpec* st = nullptr;
      for (const auto& s : strata)
        if (s.name == rule.stratum) st = &s;
      if (!st) c.fail(rules[i], rr.full("stratum"), "no stratum named '" + rule.stratum + "' in report.strata");
      rr.get("fallback", rule.fallback);
      if (!rule.fallback.empty()) c.check_id(rules[i], rule.fallback, rr.full("fallback"));
      auto choose = rr.child("choose");
      if (!choose || !choose.IsMap() || choose.size() == 0)
        c.fail(rules[i], rr.full("choose"), "expected a mapping of stratum label -> condition id");
      for (auto it = choose.begin(); it != choose.end(); ++it) {
        const auto label = it->first.as<std::string>();
        const auto key = rr.full("choose") + "." + label;
        if (!it->second.IsScalar()) c.fail(it->second, key, "expected a condition id");
        const auto id = it->second.as<std::string>();
        c.check_id(it->second, id, key);
        rule.choose.emplace_back(label, id);
      }
      rr.finish();
      rt.rules.push_back(rule);
    }
  }
  r.finish();
}

void parse_gating(const Ctx& c, const YAML::Node& node, stats::GatingSpec& g) {
  MapReader r(node, "report.gating", c.file);
  r.require("conditions", g.conditions);
  if (g.conditions.empty()) c.fail(node, r.full("conditions"), "expected at least one condition id");
  for (const auto& id : g.conditions) c.check_id(node, id, r.full("conditions"));
  r.get("thresholds", g.thresholds);
  r.get("percentiles", g.percentiles);
  if (g.thresholds.empty() && g.percentiles.empty())
    c.fail(node, "report.gating", "expected thresholds: [nats] and/or percentiles: [0..100]");
  for (double t : g.thresholds)
    if (std::isnan(t)) c.fail(node, r.full("thresholds"), "expected numbers, got NaN");
  for (double p : g.percentiles)
    if (!(p >= 0 && p <= 100)) c.fail(node, r.full("percentiles"), "expected percentiles in [0, 100], got " + number_text(p));
  r.finish();
}

}  // namespace

void parse_report_analyses(MapReader& r, const YAML::Node& node, const std::string& file,
                           const std::set<std::string>& ids, stats::AnalysesSpec& out) {
  const Ctx c{file, ids};
  if (auto n = r.child("primary")) parse_primary(c, n, out.primary);
  if (auto n = r.child("strata")) {
    if (!n.IsSequence() || n.size() == 0) c.fail(n, "report.strata", "expected a non-empty list of strata");
    for (size_t i = 0; i < n.size(); ++i) {
      out.strata.push_back(parse_stratum(c, n[i], "report.strata[" + std::to_string(i) + "]"));
      for (size_t j = 0; j < i; ++j)
        if (out.strata[j].name == out.strata[i].name)
          c.fail(n[i], "report.strata[" + std::to_string(i) + "].name", "'" + out.strata[i].name + "' is used twice");
    }
  }
  if (auto n = r.child("routing")) parse_routing(c, n, out.strata, out.routing);
  if (auto n = r.child("gating")) parse_gating(c, n, out.gating);
  if (auto n = r.child("pmi")) {
    MapReader pr(n, "report.pmi", file);
    pr.require("reference", out.pmi_reference);
    c.check_id(n, out.pmi_reference, pr.full("reference"));
    pr.finish();
  }
  if (auto n = r.child("bootstrap")) {
    MapReader br(n, "report.bootstrap", file);
    br.require("resamples", out.bootstrap.resamples);
    if (out.bootstrap.resamples < 1) c.fail(n, br.full("resamples"), "expected at least 1");
    br.require("seed", out.bootstrap.seed);
    br.get("confidence", out.bootstrap.confidence);
    if (!(out.bootstrap.confidence > 0 && out.bootstrap.confidence < 1))
      c.fail(n, br.full("confidence"), "expected a level in (0, 1)");
    br.finish();
  }
  if (auto n = r.child("exclusions")) {
    MapReader er(n, "report.exclusions", file);
    er.get("min_answer_tokens", out.exclusions.min_answer_tokens);
    if (out.exclusions.min_answer_tokens < 0) c.fail(n, er.full("min_answer_tokens"), "expected >= 0");
    er.get("any_condition_nan", out.exclusions.any_condition_nan);
    er.finish();
  }
  (void)node;
}

void emit_report_analyses(YAML::Emitter& out, const stats::AnalysesSpec& s) {
  auto numbers = [&](const std::vector<double>& v) {
    out << YAML::Flow << YAML::BeginSeq;
    for (double x : v) out << number_text(x);
    out << YAML::EndSeq;
  };
  if (!s.primary.comparisons.empty()) {
    out << YAML::Key << "primary" << YAML::Value << YAML::BeginMap << YAML::Key << "comparisons" << YAML::Value
        << YAML::Flow << YAML::BeginSeq;
    for (const auto& p : s.primary.comparisons) out << YAML::Flow << std::vector<std::string>{p.a, p.b};
    out << YAML::EndSeq << YAML::Key << "correction" << YAML::Value << s.primary.correction << YAML::Key
        << "alpha" << YAML::Value << number_text(s.primary.alpha) << YAML::EndMap;
  }
  if (!s.strata.empty()) {
    out << YAML::Key << "strata" << YAML::Value << YAML::BeginSeq;
    for (const auto& st : s.strata) {
      out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << st.name << YAML::Key << "variable"
          << YAML::Value << st.variable;
      if (st.variable == "intent") {
        out << YAML::Key << "rules" << YAML::Value << YAML::BeginSeq;
        for (const auto& rule : st.rules.empty() ? stats::default_intent_rules() : st.rules)
          out << YAML::Flow << YAML::BeginMap << YAML::Key << "label" << YAML::Value << rule.label << YAML::Key
              << "contains" << YAML::Value << YAML::Flow << rule.contains << YAML::EndMap;
        out << YAML::EndSeq << YAML::Key << "other" << YAML::Value << st.other;
      } else if (st.quantiles > 0) {
        out << YAML::Key << "quantiles" << YAML::Value << st.quantiles;
      } else {
        out << YAML::Key << "bins" << YAML::Value;
        numbers(st.bins);
        out << YAML::Key << "right" << YAML::Value << st.right;
      }
      if (!st.labels.empty()) out << YAML::Key << "labels" << YAML::Value << YAML::Flow << st.labels;
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }
  if (s.routing.enabled) {
    out << YAML::Key << "routing" << YAML::Value << YAML::BeginMap << YAML::Key << "max_k" << YAML::Value
        << s.routing.max_k;
    if (!s.routing.candidates.empty())
      out << YAML::Key << "candidates" << YAML::Value << YAML::Flow << s.routing.candidates;
    if (!s.routing.rules.empty()) {
      out << YAML::Key << "rules" << YAML::Value << YAML::BeginSeq;
      for (const auto& rule : s.routing.rules) {
        out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << rule.name << YAML::Key << "stratum"
            << YAML::Value << rule.stratum;
        if (!rule.fallback.empty()) out << YAML::Key << "fallback" << YAML::Value << rule.fallback;
        out << YAML::Key << "choose" << YAML::Value << YAML::Flow << YAML::BeginMap;
        for (const auto& [label, id] : rule.choose) out << YAML::Key << label << YAML::Value << id;
        out << YAML::EndMap << YAML::EndMap;
      }
      out << YAML::EndSeq;
    }
    out << YAML::EndMap;
  }
  if (!s.gating.conditions.empty()) {
    out << YAML::Key << "gating" << YAML::Value << YAML::BeginMap << YAML::Key << "conditions" << YAML::Value
        << YAML::Flow << s.gating.conditions;
    if (!s.gating.thresholds.empty()) {
      out << YAML::Key << "thresholds" << YAML::Value;
      numbers(s.gating.thresholds);
    }
    if (!s.gating.percentiles.empty()) {
      out << YAML::Key << "percentiles" << YAML::Value;
      numbers(s.gating.percentiles);
    }
    out << YAML::EndMap;
  }
  if (!s.pmi_reference.empty())
    out << YAML::Key << "pmi" << YAML::Value << YAML::BeginMap << YAML::Key << "reference" << YAML::Value
        << s.pmi_reference << YAML::EndMap;
  if (s.bootstrap.resamples > 0)
    out << YAML::Key << "bootstrap" << YAML::Value << YAML::BeginMap << YAML::Key << "resamples" << YAML::Value
        << s.bootstrap.resamples << YAML::Key << "seed" << YAML::Value << s.bootstrap.seed << YAML::Key
        << "confidence" << YAML::Value << number_text(s.bootstrap.confidence) << YAML::EndMap;
  if (s.exclusions.min_answer_tokens > 0 || s.exclusions.any_condition_nan)
    out << YAML::Key << "exclusions" << YAML::Value << YAML::BeginMap << YAML::Key << "min_answer_tokens"
        << YAML::Value << s.exclusions.min_answer_tokens << YAML::Key << "any_condition_nan" << YAML::Value
        << s.exclusions.any_condition_nan << YAML::EndMap;
}

}  // namespace dkv::experiment
