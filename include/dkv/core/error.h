// dkv's exception types and DKV_CHECK. Every user-facing failure is one of these, with a
// message that names the file, key or tensor, what was expected and what was found.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace dkv {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// YAML or command-line configuration: file:line:column plus the key path.
class ConfigError : public Error {
 public:
  using Error::Error;
};

// A checkpoint, tokenizer, dataset or foreign results file that is not what dkv expects.
class InputError : public Error {
 public:
  using Error::Error;
};

// A failing system, HDF5, MPI or CUDA call: names the call and the path.
class IoError : public Error {
 public:
  using Error::Error;
};

// A broken internal invariant: always a bug in dkv.
class InternalError : public Error {
 public:
  using Error::Error;
};

namespace detail {
template <typename... Args>
std::string concat(const Args&... args) {
  std::ostringstream out;
  ((out << args), ...);
  return out.str();
}
[[noreturn]] void throw_check_failure(const char* file, int line, const char* cond,
                                      const std::string& message);
}  // namespace detail

}  // namespace dkv

// Always on (not tied to NDEBUG): guards invariants whose failure means a dkv bug.
#define DKV_CHECK(cond, ...)                                                        \
  do {                                                                              \
    if (!(cond))                                                                    \
      ::dkv::detail::throw_check_failure(__FILE__, __LINE__, #cond,                 \
                                         ::dkv::detail::concat(__VA_ARGS__));         \
  } while (0)
