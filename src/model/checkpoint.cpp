// Locating and opening an HF checkpoint's safetensors files.
#include "dkv/model/checkpoint.h"

#include <filesystem>

#include "dkv/core/error.h"
#include "dkv/core/json_util.h"

namespace dkv::model {

namespace fs = std::filesystem;

Checkpoint Checkpoint::open(const std::string& dir) {
  Checkpoint c;
  c.dir_ = dir;
  if (is_gguf_path(dir)) {
    c.gguf_ = std::make_shared<const GgufFile>(GgufFile::open(dir));
    c.gguf_refs_ = hf_tensor_names(*c.gguf_, hf_config_from_gguf(*c.gguf_));
    for (const auto& [name, ref] : c.gguf_refs_)
      c.gguf_entries_[name] = {ggml_type_name(static_cast<uint32_t>(ref.info->type)),
                               ref.info->torch_shape(), ref.info->offset, ref.info->offset + ref.info->size_bytes};
    return c;
  }
  if (!fs::is_directory(dir)) throw InputError(dir + ": model directory does not exist");
  const auto single = fs::path(dir) / "model.safetensors";
  const auto index = fs::path(dir) / "model.safetensors.index.json";
  if (fs::exists(single)) {
    c.files_.push_back(SafetensorsFile::open(single.string()));
    for (const auto& name : c.files_[0].names()) c.where_[name] = 0;
    return c;
  }
  if (!fs::exists(index))
    throw InputError(dir + ": no model.safetensors or model.safetensors.index.json "
                     "(PyTorch .bin checkpoints are not supported; convert them to safetensors)");
  const auto where = index.string();
  const auto j = json_util::read_file(where);
  const auto& map = json_util::require(j, "weight_map", where);
  if (!map.is_object()) throw InputError(where + ": 'weight_map' is not an object");
  std::map<std::string, size_t> shard_index;
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (!it->is_string())
      throw InputError(where + ": weight_map['" + it.key() + "'] is not a file name");
    const auto shard = it->get<std::string>();
    if (shard.find('/') != std::string::npos)
      throw InputError(where + ": weight_map['" + it.key() + "'] = '" + shard +
                       "' must be a file name inside the checkpoint directory");
    auto [pos, inserted] = shard_index.emplace(shard, c.files_.size());
    if (inserted) {
      const auto path = (fs::path(dir) / shard).string();
      if (!fs::exists(path))
        throw InputError(where + ": shard '" + shard + "' (for tensor '" + it.key() +
                         "') does not exist");
      c.files_.push_back(SafetensorsFile::open(path));
    }
    if (!c.files_[pos->second].contains(it.key()))
      throw InputError(where + ": tensor '" + it.key() + "' is mapped to '" + shard +
                       "', which does not contain it");
    c.where_[it.key()] = pos->second;
  }
  return c;
}

bool Checkpoint::has(const std::string& name) const {
  return gguf_ ? gguf_refs_.count(name) != 0 : where_.count(name) != 0;
}

const SafetensorsFile& Checkpoint::file(const std::string& name) const {
  auto it = where_.find(name);
  if (it == where_.end()) throw InputError(dir_ + ": checkpoint has no tensor '" + name + "'");
  return files_[it->second];
}

const TensorEntry& Checkpoint::entry(const std::string& name) const {
  if (!gguf_) return file(name).entry(name);
  auto it = gguf_entries_.find(name);
  if (it == gguf_entries_.end()) throw InputError(dir_ + ": GGUF file has no tensor for '" + name + "'");
  return it->second;
}

const std::string& Checkpoint::file_of(const std::string& name) const {
  return gguf_ ? gguf_->path() : file(name).path();
}

at::Tensor Checkpoint::load(const std::string& name, at::ScalarType dtype) const {
  if (!gguf_) return file(name).load(name, dtype);
  entry(name);  // names the tensor when absent
  return load_gguf_tensor(gguf_refs_.at(name), dtype);
}

at::Tensor Checkpoint::load(const std::string& name) const {
  // GGUF tensors have no torch dtype of their own: they dequantize to fp32.
  return gguf_ ? load(name, at::kFloat) : file(name).load(name);
}

void Checkpoint::expect_weight(const std::string& name, const std::vector<int64_t>& shape,
                               const std::string& hint) const {
  const auto& e = entry(name);
  if (e.shape != shape)
    throw InputError(file_of(name) + ": " + name + ": expected " + dims(shape) + ", got " + dims(e.shape) + hint);
  // Every ggml type GgufFile accepts dequantizes to a float weight.
  if (!gguf_ && e.dtype != "F32" && e.dtype != "F16" && e.dtype != "BF16")
    throw InputError(file_of(name) + ": " + name + ": dtype " + e.dtype +
                     " is not a supported weight dtype (F32, F16, BF16)");
}

std::string dims(const std::vector<int64_t>& shape) { return c10::str(at::IntArrayRef(shape)); }

std::vector<std::string> Checkpoint::files() const {
  if (gguf_) return {gguf_->path()};
  std::vector<std::string> out;
  for (const auto& f : files_) out.push_back(f.path());
  return out;
}

}  // namespace dkv::model
