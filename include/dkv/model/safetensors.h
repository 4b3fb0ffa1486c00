// Safetensors files: a memory-mapped, fully validated reader (the header is untrusted input)
// and a writer for the checkpoints dkv generates.
#pragma once

#include <ATen/core/Tensor.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace dkv::model {

struct TensorEntry {
  std::string dtype;            // safetensors name: F32, F16, BF16, I64, U8, ...
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;  // byte range within the data section
};

class SafetensorsFile {
 public:
  // Maps `path` and validates its header: length within the file, strict JSON (no duplicate
  // keys), known dtype names, shape x dtype size == byte range, ranges inside the data section
  // and non-overlapping. Throws InputError naming the file (and tensor) on any violation.
  static SafetensorsFile open(const std::string& path);

  const std::string& path() const { return path_; }
  bool contains(const std::string& name) const { return entries_.count(name) != 0; }
  const TensorEntry& entry(const std::string& name) const;
  std::vector<std::string> names() const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  // The tensor as `dtype` on CPU. Floating sources (F32/F16/BF16/F64) convert to any floating
  // dtype; integer sources load only as themselves. When no conversion is needed and the bytes
  // are aligned the result is a view of the copy-on-write mapping (writes never reach the file).
  at::Tensor load(const std::string& name, at::ScalarType dtype) const;
  // The tensor in its stored dtype.
  at::Tensor load(const std::string& name) const;

 private:
  struct Mapping;
  std::string path_;
  std::shared_ptr<Mapping> mapping_;
  const uint8_t* data_ = nullptr;  // start of the data section
  std::map<std::string, TensorEntry> entries_;
  std::map<std::string, std::string> metadata_;
};

// Element size in bytes of a safetensors dtype name; 0 for an unknown name.
size_t safetensors_dtype_size(const std::string& dtype);

// Writes tensors (CPU, any layout) in safetensors format, names sorted, header padded to a
// multiple of 8 bytes as the reference implementation does. Writes to `path`.tmp, then renames.
void write_safetensors(const std::string& path,
                       const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace dkv::model
