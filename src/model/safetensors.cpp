// Safetensors reader (mmap, strict validation) and writer.
#include "dkv/model/safetensors.h"

#include <ATen/ATen.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "dkv/core/error.h"
#include "dkv/core/json_util.h"

namespace dkv::model {

using nlohmann::json;

namespace {

// Header limit of the reference implementation (safetensors' MAX_HEADER_SIZE).
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

struct DtypeInfo {
  const char* name;
  size_t size;
  at::ScalarType scalar;
};
const DtypeInfo kDtypes[] = {
    {"F64", 8, at::kDouble}, {"F32", 4, at::kFloat},   {"F16", 2, at::kHalf},
    {"BF16", 2, at::kBFloat16}, {"I64", 8, at::kLong}, {"I32", 4, at::kInt},
    {"I16", 2, at::kShort}, {"I8", 1, at::kChar},      {"U8", 1, at::kByte},
    {"BOOL", 1, at::kBool},
    // Known to the format; dkv cannot load them as tensors.
    {"U16", 2, at::ScalarType::Undefined}, {"U32", 4, at::ScalarType::Undefined},
    {"U64", 8, at::ScalarType::Undefined}, {"F8_E4M3", 1, at::ScalarType::Undefined},
    {"F8_E5M2", 1, at::ScalarType::Undefined},
};

const DtypeInfo* find_dtype(const std::string& name) {
  for (const auto& d : kDtypes)
    if (name == d.name) return &d;
  return nullptr;
}

const char* safetensors_name(at::ScalarType t) {
  for (const auto& d : kDtypes)
    if (d.scalar == t) return d.name;
  throw InputError(std::string("safetensors: cannot store dtype ") + c10::toString(t));
}

std::string errno_text() { return std::strerror(errno); }

TensorEntry parse_entry(const std::string& name, const json& j, uint64_t data_size,
                        const std::string& path) {
  const std::string where = path + ": tensor '" + name + "'";
  if (!j.is_object()) throw InputError(where + ": header entry is not an object");
  for (auto it = j.begin(); it != j.end(); ++it)
    if (it.key() != "dtype" && it.key() != "shape" && it.key() != "data_offsets")
      throw InputError(where + ": unexpected header key '" + it.key() + "'");
  TensorEntry e;
  e.dtype = json_util::get_string(j, "dtype", where);
  const auto* info = find_dtype(e.dtype);
  if (!info) throw InputError(where + ": unknown dtype '" + e.dtype + "'");
  const auto& shape = json_util::require(j, "shape", where);
  if (!shape.is_array()) throw InputError(where + ": 'shape' is not a list");
  uint64_t numel = 1;
  for (const auto& d : shape) {
    if (!d.is_number_unsigned()) throw InputError(where + ": 'shape' has a non-integer or negative entry");
    const auto dim = d.get<uint64_t>();
    if (dim != 0 && numel > (uint64_t{1} << 62) / dim) throw InputError(where + ": shape overflows");
    numel *= dim;
    e.shape.push_back(static_cast<int64_t>(dim));
  }
  const auto& offsets = json_util::require(j, "data_offsets", where);
  if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
      !offsets[1].is_number_unsigned())
    throw InputError(where + ": 'data_offsets' must be two non-negative integers");
  e.begin = offsets[0].get<uint64_t>();
  e.end = offsets[1].get<uint64_t>();
  if (e.end < e.begin) throw InputError(where + ": data_offsets end < begin");
  if (e.end > data_size)
    throw InputError(where + ": data_offsets [" + std::to_string(e.begin) + ", " +
                     std::to_string(e.end) + ") lie past the data section (" +
                     std::to_string(data_size) + " bytes); the file may be truncated");
  const uint64_t expected = numel * info->size;
  if (e.end - e.begin != expected)
    throw InputError(where + ": " + e.dtype + " shape needs " + std::to_string(expected) +
                     " bytes, data_offsets span " + std::to_string(e.end - e.begin));
  return e;
}

}  // namespace

size_t safetensors_dtype_size(const std::string& dtype) {
  const auto* d = find_dtype(dtype);
  return d ? d->size : 0;
}

struct SafetensorsFile::Mapping {
  void* addr = MAP_FAILED;
  size_t size = 0;
  ~Mapping() {
    if (addr != MAP_FAILED) munmap(addr, size);
  }
};

SafetensorsFile SafetensorsFile::open(const std::string& path) {
  SafetensorsFile f;
  f.path_ = path;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw IoError("open(" + path + "): " + errno_text());
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    ::close(fd);
    throw IoError("fstat(" + path + "): " + errno_text());
  }
  const auto file_size = static_cast<uint64_t>(st.st_size);
  if (file_size < 8) {
    ::close(fd);
    throw InputError(path + ": " + std::to_string(file_size) +
                     " bytes is too short for a safetensors file (8-byte header length missing)");
  }
  f.mapping_ = std::make_shared<Mapping>();
  // Private, writable mapping: tensors viewing it may be modified in place without ever
  // touching the checkpoint on disk.
  f.mapping_->addr = mmap(nullptr, file_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (f.mapping_->addr == MAP_FAILED) throw IoError("mmap(" + path + "): " + errno_text());
  f.mapping_->size = file_size;
  const auto* bytes = static_cast<const uint8_t*>(f.mapping_->addr);

  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | bytes[i];  // little-endian
  if (header_len > kMaxHeaderBytes)
    throw InputError(path + ": header length " + std::to_string(header_len) +
                     " exceeds the format's limit of " + std::to_string(kMaxHeaderBytes));
  if (header_len > file_size - 8)
    throw InputError(path + ": header length " + std::to_string(header_len) +
                     " runs past the end of the file (" + std::to_string(file_size) +
                     " bytes); the file is truncated or not safetensors");
  const std::string header(reinterpret_cast<const char*>(bytes + 8), header_len);
  const json j = json_util::parse(header, path + " (safetensors header)");
  if (!j.is_object()) throw InputError(path + ": safetensors header is not a JSON object");
  const uint64_t data_size = file_size - 8 - header_len;
  f.data_ = bytes + 8 + header_len;

  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it->is_object()) throw InputError(path + ": __metadata__ is not an object");
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (!m->is_string()) throw InputError(path + ": __metadata__." + m.key() + " is not a string");
        f.metadata_[m.key()] = m->get<std::string>();
      }
      continue;
    }
    f.entries_[it.key()] = parse_entry(it.key(), *it, data_size, path);
  }
  std::vector<std::pair<const std::string*, const TensorEntry*>> by_offset;
  for (const auto& [name, e] : f.entries_) by_offset.emplace_back(&name, &e);
  std::sort(by_offset.begin(), by_offset.end(),
            [](auto& a, auto& b) { return a.second->begin < b.second->begin; });
  for (size_t i = 1; i < by_offset.size(); ++i)
    if (by_offset[i].second->begin < by_offset[i - 1].second->end)
      throw InputError(path + ": tensors '" + *by_offset[i - 1].first + "' and '" +
                       *by_offset[i].first + "' have overlapping byte ranges");
  return f;
}

const TensorEntry& SafetensorsFile::entry(const std::string& name) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) throw InputError(path_ + ": no tensor named '" + name + "'");
  return it->second;
}

std::vector<std::string> SafetensorsFile::names() const {
  std::vector<std::string> out;
  for (const auto& kv : entries_) out.push_back(kv.first);
  return out;
}

at::Tensor SafetensorsFile::load(const std::string& name) const {
  const auto& e = entry(name);
  const auto* info = find_dtype(e.dtype);
  if (info->scalar == at::ScalarType::Undefined)
    throw InputError(path_ + ": tensor '" + name + "': dtype " + e.dtype + " cannot be loaded");
  const uint8_t* ptr = data_ + e.begin;
  auto opts = at::TensorOptions().dtype(info->scalar);
  if (reinterpret_cast<uintptr_t>(ptr) % info->size != 0) {
    // Unaligned data (legal in the format): copy out into an aligned tensor.
    auto out = at::empty(e.shape, opts);
    std::memcpy(out.data_ptr(), ptr, e.end - e.begin);
    return out;
  }
  auto keep_alive = mapping_;
  return at::from_blob(const_cast<uint8_t*>(ptr), e.shape, [keep_alive](void*) {}, opts);
}

at::Tensor SafetensorsFile::load(const std::string& name, at::ScalarType dtype) const {
  auto t = load(name);
  if (t.scalar_type() == dtype) return t;
  if (!at::isFloatingType(t.scalar_type()) || !at::isFloatingType(dtype))
    throw InputError(path_ + ": tensor '" + name + "': stored as " + entry(name).dtype +
                     ", cannot convert to " + c10::toString(dtype));
  return t.to(dtype);
}

void write_safetensors(const std::string& path,
                       const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::map<std::string, at::Tensor> sorted;
  for (const auto& [name, t] : tensors) {
    DKV_CHECK(!sorted.count(name), "duplicate tensor name ", name);
    sorted[name] = t.contiguous().cpu();
  }
  uint64_t offset = 0;
  for (const auto& [name, t] : sorted) {
    const uint64_t bytes = t.numel() * t.element_size();
    header[name] = {{"dtype", safetensors_name(t.scalar_type())},
                    {"shape", t.sizes().vec()},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw IoError("cannot open " + tmp + " for writing");
    uint8_t len[8];
    uint64_t n = text.size();
    for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(n >> (8 * i));
    out.write(reinterpret_cast<const char*>(len), 8);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    for (const auto& [name, t] : sorted)
      out.write(static_cast<const char*>(t.data_ptr()),
                static_cast<std::streamsize>(t.numel() * t.element_size()));
    if (!out) throw IoError("write failed: " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    throw IoError("rename(" + tmp + ", " + path + "): " + errno_text());
}

}  // namespace dkv::model
