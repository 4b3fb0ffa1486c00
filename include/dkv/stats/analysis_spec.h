// The declared analyses of the YAML `report:` block beyond the study's exp 01 comparisons
// (primary comparisons, strata, routing, gating, PMI, bootstrap, exclusions). Empty = none:
// the report is exactly exp 01's.
#pragma once

namespace dkv::stats {

struct AnalysesSpec {};

}  // namespace dkv::stats
