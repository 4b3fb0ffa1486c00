// One writer per output folder: `dkv run` holds an flock(2) on DIR/.dkv-run.lock for its whole
// run, so a second run into the same folder is refused instead of interleaving flushes or
// setting aside the other run's file.
#pragma once

#include <string>

namespace dkv::io {

// Stale locks recover by themselves: the kernel releases an flock when its process dies
// (kill -9, node reboot), so the lock file that stays behind blocks no one; its text (pid,
// host, start time) only names the holder in the refusal. flock works across processes of one
// host and on NFSv4 / Lustre with flock support; on other shared filesystems it may be local.
class RunLock {
 public:
  // Takes the lock, creating `dir` and the lock file if needed. Throws ConfigError naming the
  // holder when another process holds it; IoError with the OS reason when it cannot be made.
  explicit RunLock(const std::string& dir);
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace dkv::io
