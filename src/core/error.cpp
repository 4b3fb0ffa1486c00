// Formatting of internal check failures.
#include "dkv/core/error.h"

namespace dkv::detail {

void throw_check_failure(const char* file, int line, const char* cond,
                         const std::string& message) {
  throw InternalError(concat("internal check failed at ", file, ":", line, ": ", cond,
                             message.empty() ? "" : " (", message, message.empty() ? "" : ")",
                             "; this is a bug in dkv"));
}

}  // namespace dkv::detail
