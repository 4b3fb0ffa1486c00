// report.{primary, strata, routing, gating, pmi, bootstrap, exclusions} <-> stats::AnalysesSpec.
#include "experiment/report_analyses_yaml.h"

namespace dkv::experiment {

void parse_report_analyses(MapReader&, const YAML::Node&, const std::string&, const std::set<std::string>&,
                           stats::AnalysesSpec&) {}

void emit_report_analyses(YAML::Emitter&, const stats::AnalysesSpec&) {}

}  // namespace dkv::experiment
