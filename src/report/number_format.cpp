// printf formatting with NaN/inf spelled as pandas prints them.
#include "report/number_format.h"

#include <cmath>
#include <cstdio>

namespace dkv::report {

std::string fmt(double v, const char* spec) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, spec, v);
  return buf;
}

}  // namespace dkv::report
