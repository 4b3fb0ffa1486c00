// The output folder's run lock.
#include "dkv/io/run_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "dkv/core/error.h"
#include "dkv/core/file_io.h"
#include "dkv/io/results_file.h"

namespace dkv::io {

RunLock::RunLock(const std::string& dir) : path_(dir + "/.dkv-run.lock") {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw IoError("mkdir(" + dir + "): " + ec.message());
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw IoError(os_error("open", path_, errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    std::string holder;
    char buf[512];
    const ssize_t n = ::pread(fd_, buf, sizeof buf - 1, 0);
    if (n > 0) holder.assign(buf, static_cast<size_t>(n));
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    ::close(fd_);
    fd_ = -1;
    if (err == EWOULDBLOCK)
      throw ConfigError(dir + " is in use by another dkv run (" + (holder.empty() ? "holder unknown" : holder) +
                        "; lock " + path_ + "): wait for it to end or stop it, or use another --out folder");
    throw IoError(os_error("flock", path_, err));
  }
  char host[256] = "?";
  gethostname(host, sizeof host - 1);
  const std::string text = "pid " + std::to_string(::getpid()) + " on " + host + " since " + utc_now() + "\n";
  // Informational only (the flock is the lock): a failure to record it is not an error.
  if (::ftruncate(fd_, 0) == 0 && ::pwrite(fd_, text.data(), text.size(), 0) < 0) {
  }
}

RunLock::~RunLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the flock; the file stays, harmless (see the header)
}

}  // namespace dkv::io
