// GGUF files (llama.cpp's checkpoint format, versions 2 and 3): a memory-mapped reader that
// treats the file as untrusted. Every count, string length, tensor shape, offset and size is
// checked against the file before it is used. Needs no LibTorch: the tokenizer reads the
// metadata too; dequantization lives in gguf_quants.h.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dkv/model/gguf_quants.h"

namespace dkv::model {

// GGUF metadata value types (gguf.md: GGUF_TYPE_*).
enum class GgufValueType : uint32_t {
  u8 = 0, i8 = 1, u16 = 2, i16 = 3, u32 = 4, i32 = 5, f32 = 6, boolean = 7, string = 8,
  array = 9, u64 = 10, i64 = 11, f64 = 12,
};

struct GgufTensorInfo {
  std::string name;
  std::vector<int64_t> ne;   // ggml order: ne[0] is the contiguous (fastest) dimension
  GgmlType type = GgmlType::f32;
  uint64_t offset = 0;       // from the start of the data section
  uint64_t size_bytes = 0;
  const uint8_t* data = nullptr;  // into the mapping
  int64_t numel() const;
  // The shape as PyTorch/HF write it: ne reversed ([rows, cols] for a weight matrix).
  std::vector<int64_t> torch_shape() const;
};

class GgufFile {
 public:
  // Maps and validates `path`. Throws InputError naming the file and the key or tensor on a
  // bad magic or version, a count or string length larger than the rest of the file, an
  // unknown value or tensor type, a duplicate key or tensor name, an offset that is not
  // aligned, or a tensor whose bytes are not inside the data section.
  static GgufFile open(const std::string& path);

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }

  // Metadata as JSON (integers as integers, f32 widened exactly to double, arrays as arrays).
  const nlohmann::json& metadata() const { return metadata_; }
  bool has_key(const std::string& key) const { return metadata_.contains(key); }
  GgufValueType key_type(const std::string& key) const;  // key must exist
  // Typed lookups; InputError "<file>: metadata key '<key>': ..." when missing or mistyped.
  std::string get_string(const std::string& key) const;
  int64_t get_int(const std::string& key) const;
  double get_float(const std::string& key) const;  // f32 or f64 keys (integers accepted)
  bool get_bool(const std::string& key) const;
  const nlohmann::json& get_array(const std::string& key) const;

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* find_tensor(const std::string& name) const;  // nullptr when absent

 private:
  struct Mapping;
  std::string path_;
  std::shared_ptr<Mapping> mapping_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  nlohmann::json metadata_ = nlohmann::json::object();
  std::map<std::string, GgufValueType> key_types_;
  std::vector<GgufTensorInfo> tensors_;
  std::map<std::string, size_t> by_name_;
};

// True when `path` names a regular file ending in ".gguf": the one test dkv uses to decide that
// a model path is a GGUF checkpoint rather than an HF directory.
bool is_gguf_path(const std::string& path);

}  // namespace dkv::model
