// FNV-1a fingerprints of files and directories.
#include "dkv/core/fingerprint.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "dkv/core/error.h"

namespace dkv {

namespace {
struct Fnv {
  uint64_t h = 0xcbf29ce484222325ULL;
  void add(const char* p, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      h ^= static_cast<unsigned char>(p[i]);
      h *= 0x100000001b3ULL;
    }
  }
  void add(const std::string& s) { add(s.data(), s.size()); }
  std::string hex() const {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return buf;
  }
};

void add_file(Fnv& f, const std::string& path, uint64_t full_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot read " + path + " to fingerprint it");
  const auto size = std::filesystem::file_size(path);
  f.add(std::to_string(size));
  std::vector<char> buf(1 << 20);
  auto read_range = [&](uint64_t from, uint64_t n) {
    in.seekg(static_cast<std::streamoff>(from));
    while (n > 0) {
      const auto chunk = std::min<uint64_t>(n, buf.size());
      in.read(buf.data(), static_cast<std::streamsize>(chunk));
      if (in.gcount() <= 0) break;
      f.add(buf.data(), static_cast<size_t>(in.gcount()));
      n -= static_cast<uint64_t>(in.gcount());
    }
  };
  if (size <= full_bytes) {
    read_range(0, size);
  } else {
    read_range(0, 1u << 20);
    read_range(size - (1u << 20), 1u << 20);
  }
}
}  // namespace

std::string fingerprint_bytes(const std::string& bytes) {
  Fnv f;
  f.add(bytes);
  return f.hex();
}

std::string fingerprint_file(const std::string& path) {
  Fnv f;
  add_file(f, path, UINT64_MAX);
  return f.hex();
}

std::string fingerprint_dir(const std::string& dir, uint64_t full_bytes) {
  namespace fs = std::filesystem;
  if (fs::is_regular_file(dir)) {
    // A single-file checkpoint (GGUF): its metadata (tokenizer, hyper-parameters) and tensor
    // table lead the file, so the first 16 MiB are hashed whole.
    Fnv f;
    f.add(fs::path(dir).filename().string());
    const auto size = fs::file_size(dir);
    f.add(std::to_string(size));
    std::ifstream in(dir, std::ios::binary);
    if (!in) throw IoError("cannot read " + dir + " to fingerprint it");
    std::vector<char> buf(static_cast<size_t>(std::min<uint64_t>(size, full_bytes)));
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    f.add(buf.data(), static_cast<size_t>(in.gcount()));
    if (size > full_bytes) add_file(f, dir, 0);  // size, first and last MiB
    return f.hex();
  }
  if (!fs::is_directory(dir)) throw IoError(dir + ": not a directory");
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  Fnv f;
  for (const auto& p : files) {
    f.add(fs::relative(p, dir).string());
    add_file(f, p.string(), full_bytes);
  }
  return f.hex();
}

}  // namespace dkv
