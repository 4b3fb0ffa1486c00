// An HF checkpoint directory's weight files (model.safetensors, or shards listed in
// model.safetensors.index.json), or a GGUF file seen through HF names (gguf_checkpoint.h).
// Tensors are looked up by HF name across shards.
#pragma once

#include <ATen/core/Tensor.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dkv/model/gguf_checkpoint.h"
#include "dkv/model/safetensors.h"

namespace dkv::model {

class Checkpoint {
 public:
  // Opens and validates every weight file of `dir`, or the GGUF file `dir` names. Throws
  // InputError when no weights are found (naming what was looked for), when the index is
  // malformed or names a missing shard or tensor.
  static Checkpoint open(const std::string& dir);
  bool is_gguf() const { return gguf_ != nullptr; }
  const GgufFile* gguf() const { return gguf_.get(); }

  const std::string& dir() const { return dir_; }
  bool has(const std::string& name) const;
  const TensorEntry& entry(const std::string& name) const;
  const std::string& file_of(const std::string& name) const;  // path of the shard holding it
  at::Tensor load(const std::string& name, at::ScalarType dtype) const;
  at::Tensor load(const std::string& name) const;  // in its stored dtype
  // InputError naming the file unless `name` is an F32/F16/BF16 tensor of `shape`; `hint`
  // names the config.json keys that set the shape. `name` must exist (check has() first).
  void expect_weight(const std::string& name, const std::vector<int64_t>& shape,
                     const std::string& hint) const;
  std::vector<std::string> files() const;  // weight files, in index order

 private:
  const SafetensorsFile& file(const std::string& name) const;
  std::string dir_;
  std::vector<SafetensorsFile> files_;
  std::map<std::string, size_t> where_;  // tensor name -> index into files_
  std::shared_ptr<const GgufFile> gguf_;
  std::map<std::string, GgufTensorRef> gguf_refs_;  // HF name -> GGUF tensor
  std::map<std::string, TensorEntry> gguf_entries_;  // dtype = ggml type name, HF shape
};

// "[4096, 1024]": a shape as error messages print it.
std::string dims(const std::vector<int64_t>& shape);

}  // namespace dkv::model
