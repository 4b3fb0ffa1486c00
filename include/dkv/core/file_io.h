// Whole-file reads and writes whose errors carry the OS reason (strerror), so that a full disk
// or a read-only folder says so; writes never leave a partial file under the final name.
#pragma once

#include <string>

namespace dkv {

// Writes `bytes` to `path` atomically: a temporary next to it (`path` + ".tmp"), write(2) in a
// loop, fsync, rename(2) over `path`, fsync of the folder. On any failure the temporary is
// removed, `path` is left as it was, and IoError names the call, the path and strerror(errno)
// (e.g. "write(out/results.h5.tmp): No space left on device").
void write_file_atomic(const std::string& path, const std::string& bytes);

// The whole content of `path`. Throws InputError when it does not exist, IoError (with strerror)
// when it cannot be read.
std::string read_file_bytes(const std::string& path);

// "CALL(PATH): strerror(errno)", for IoError messages of failed system calls.
std::string os_error(const std::string& call, const std::string& path, int err);

}  // namespace dkv
