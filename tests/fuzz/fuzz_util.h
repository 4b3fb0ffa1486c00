// Shared helpers of the libFuzzer targets: the file-based readers get the input through one
// file per process in a RAM-backed folder.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

namespace dkv::fuzz {

// Writes the input to a per-process file (under $TMPDIR, default /tmp) and returns its path.
inline std::string input_file(const uint8_t* data, size_t size, const char* name) {
  const char* tmp = std::getenv("TMPDIR");
  const std::string dir = std::string(tmp && *tmp ? tmp : "/tmp") + "/dkv-fuzz-" + std::to_string(getpid());
  static bool made = false;
  if (!made) {
    std::system(("mkdir -p '" + dir + "'").c_str());
    made = true;
  }
  const std::string path = dir + "/" + name;
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();  // the harness itself is broken: say so loudly
  if (size) std::fwrite(data, 1, size, f);
  std::fclose(f);
  return path;
}

}  // namespace dkv::fuzz
