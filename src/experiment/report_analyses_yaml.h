// The analyses keys of the `report:` block, read from and written to YAML (private to
// experiment/, next to spec.cpp which calls them).
#pragma once

#include <yaml-cpp/yaml.h>

#include <set>
#include <string>

#include "dkv/stats/analysis_spec.h"
#include "experiment/yaml_reader.h"

namespace dkv::experiment {

// Reads the analyses keys of the report block `r` (marking them seen); `ids` are the run's
// condition ids. Throws ConfigError naming report.<key> on bad values.
void parse_report_analyses(MapReader& r, const YAML::Node& node, const std::string& file,
                           const std::set<std::string>& ids, stats::AnalysesSpec& out);

// Emits the keys parse_report_analyses read, inside the open report map; nothing when none
// was set (so configs without analyses keep their resolved text and config hash).
void emit_report_analyses(YAML::Emitter& out, const stats::AnalysesSpec& spec);

}  // namespace dkv::experiment
