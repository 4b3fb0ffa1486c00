// Whole-file reads and atomic replacement, with OS-reason errors.
#include "dkv/core/file_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "dkv/core/error.h"

namespace dkv {

std::string os_error(const std::string& call, const std::string& path, int err) {
  return call + "(" + path + "): " + std::strerror(err);
}

namespace {

// Closes the descriptor and removes the temporary unless released: every failure path after
// the open leaves no stray .tmp behind.
class TempFile {
 public:
  TempFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!released_) ::unlink(path_.c_str());
  }
  int fd() const { return fd_; }
  void close_checked() {
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) throw IoError(os_error("close", path_, errno));
  }
  void release() { released_ = true; }

 private:
  std::string path_;
  int fd_;
  bool released_ = false;
};

void fsync_dir(const std::string& file_path) {
  auto dir = std::filesystem::path(file_path).parent_path().string();
  if (dir.empty()) dir = ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw IoError(os_error("open", dir, errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  // Some filesystems cannot fsync a directory (EINVAL); the rename itself has happened.
  if (rc != 0 && err != EINVAL) throw IoError(os_error("fsync", dir, err));
}

}  // namespace

std::string read_file_bytes(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) throw InputError(path + ": no such file");
  if (fd < 0) throw IoError(os_error("open", path, errno));
  std::string out;
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      throw IoError(os_error("read", path, err));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

void write_file_atomic(const std::string& path, const std::string& bytes) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw IoError(os_error("open", tmp, errno));
  TempFile file(tmp, fd);
  for (size_t done = 0; done < bytes.size();) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;  // a stop signal arrived: finish the write anyway
    if (n < 0) throw IoError(os_error("write", tmp, errno));
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) throw IoError(os_error("fsync", tmp, errno));
  file.close_checked();
  if (std::rename(tmp.c_str(), path.c_str()) != 0) throw IoError("rename(" + tmp + ", " + path + "): " + std::strerror(errno));
  file.release();
  fsync_dir(path);
}

}  // namespace dkv
