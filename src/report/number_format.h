// Numbers as every report file writes them (private to report/): NaN and infinities spelled
// out, everything else through one printf format.
#pragma once

#include <string>

namespace dkv::report {

std::string fmt(double v, const char* spec = "%.4f");

}  // namespace dkv::report
