// GGUF reader. The layout (gguf.md): magic "GGUF", u32 version, u64 tensor count, u64 key count,
// the key/value pairs, the tensor infos, padding to general.alignment, the data section. Every
// length read from the file is checked against the bytes that remain before it is trusted.
#include "dkv/model/gguf_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "dkv/core/error.h"

namespace dkv::model {

using nlohmann::json;

struct GgufFile::Mapping {
  const uint8_t* base = nullptr;
  size_t size = 0;
  ~Mapping() {
    if (base && size) munmap(const_cast<uint8_t*>(base), size);
  }
};

namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as little-endian u32
constexpr uint32_t kMaxDims = 4;         // GGML_MAX_DIMS
constexpr uint32_t kMaxArrayDepth = 8;   // nested arrays: none in practice; bounds recursion

class Cursor {
 public:
  Cursor(const uint8_t* p, size_t n, std::string path) : p_(p), n_(n), path_(std::move(path)) {}
  size_t pos() const { return pos_; }
  size_t left() const { return n_ - pos_; }
  [[noreturn]] void fail(const std::string& what) const {
    throw InputError(detail::concat(path_, ": ", what, " (at byte ", pos_, " of ", n_, ")"));
  }
  const uint8_t* take(size_t bytes, const std::string& what) {
    if (bytes > left()) fail(detail::concat(what, ": needs ", bytes, " bytes, the file has ", left(), " left"));
    const uint8_t* q = p_ + pos_;
    pos_ += bytes;
    return q;
  }
  template <typename T>
  T read(const std::string& what) {
    T v;
    std::memcpy(&v, take(sizeof(T), what), sizeof(T));
    return v;
  }
  std::string string(const std::string& what) {
    const auto len = read<uint64_t>(what + " length");
    if (len > left()) fail(detail::concat(what, ": string length ", len, " is past the end of the file"));
    const auto* q = take(static_cast<size_t>(len), what);
    return std::string(reinterpret_cast<const char*>(q), static_cast<size_t>(len));
  }

 private:
  const uint8_t* p_;
  size_t n_, pos_ = 0;
  std::string path_;
};

// Smallest encoding of one value of `t`, so that a count can be checked before a loop.
size_t min_value_bytes(GgufValueType t) {
  switch (t) {
    case GgufValueType::u8: case GgufValueType::i8: case GgufValueType::boolean: return 1;
    case GgufValueType::u16: case GgufValueType::i16: return 2;
    case GgufValueType::u32: case GgufValueType::i32: case GgufValueType::f32: return 4;
    case GgufValueType::u64: case GgufValueType::i64: case GgufValueType::f64:
    case GgufValueType::string: return 8;
    case GgufValueType::array: return 12;
  }
  return 0;
}

bool known_value_type(uint32_t t) { return t <= 12; }

json read_value(Cursor& c, GgufValueType t, const std::string& what, uint32_t depth) {
  switch (t) {
    case GgufValueType::u8: return c.read<uint8_t>(what);
    case GgufValueType::i8: return c.read<int8_t>(what);
    case GgufValueType::u16: return c.read<uint16_t>(what);
    case GgufValueType::i16: return c.read<int16_t>(what);
    case GgufValueType::u32: return c.read<uint32_t>(what);
    case GgufValueType::i32: return c.read<int32_t>(what);
    case GgufValueType::u64: return c.read<uint64_t>(what);
    case GgufValueType::i64: return c.read<int64_t>(what);
    case GgufValueType::f32: return static_cast<double>(c.read<float>(what));
    case GgufValueType::f64: return c.read<double>(what);
    case GgufValueType::boolean: {
      const auto b = c.read<uint8_t>(what);
      if (b > 1) c.fail(detail::concat(what, ": bool value ", int{b}, " is neither 0 nor 1"));
      return b == 1;
    }
    case GgufValueType::string: return c.string(what);
    case GgufValueType::array: {
      if (depth >= kMaxArrayDepth) c.fail(what + ": arrays nested too deeply");
      const auto et = c.read<uint32_t>(what + " element type");
      if (!known_value_type(et)) c.fail(detail::concat(what, ": unknown array element type ", et));
      const auto count = c.read<uint64_t>(what + " count");
      const auto elem = static_cast<GgufValueType>(et);
      if (count > c.left() / min_value_bytes(elem))
        c.fail(detail::concat(what, ": array of ", count, " elements cannot fit in the rest of the file"));
      json arr = json::array();
      for (uint64_t i = 0; i < count; ++i) arr.push_back(read_value(c, elem, what, depth + 1));
      return arr;
    }
  }
  c.fail(detail::concat(what, ": unknown value type ", static_cast<uint32_t>(t)));
}

}  // namespace

int64_t GgufTensorInfo::numel() const {
  int64_t n = 1;
  for (auto d : ne) n *= d;
  return n;
}

std::vector<int64_t> GgufTensorInfo::torch_shape() const { return {ne.rbegin(), ne.rend()}; }

bool is_gguf_path(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  return path.size() > 5 && path.compare(path.size() - 5, 5, ".gguf") == 0 &&
         fs::is_regular_file(path, ec);
}

GgufFile GgufFile::open(const std::string& path) {
  GgufFile g;
  g.path_ = path;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw IoError("open(" + path + ") failed: " + std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    throw IoError("fstat(" + path + ") failed: " + std::strerror(e));
  }
  auto mapping = std::make_shared<Mapping>();
  mapping->size = static_cast<size_t>(st.st_size);
  if (mapping->size > 0) {
    void* p = mmap(nullptr, mapping->size, PROT_READ, MAP_PRIVATE, fd, 0);
    const int e = errno;
    ::close(fd);
    if (p == MAP_FAILED) throw IoError("mmap(" + path + ") failed: " + std::strerror(e));
    mapping->base = static_cast<const uint8_t*>(p);
  } else {
    ::close(fd);
  }
  g.mapping_ = mapping;
  Cursor c(mapping->base, mapping->size, path);

  if (c.read<uint32_t>("magic") != kMagic) c.fail("not a GGUF file (the first 4 bytes are not \"GGUF\")");
  g.version_ = c.read<uint32_t>("version");
  if (g.version_ != 2 && g.version_ != 3)
    c.fail(detail::concat("GGUF version ", g.version_, " is not supported (dkv reads versions 2 and 3)"));
  const auto n_tensors = c.read<uint64_t>("tensor count");
  const auto n_keys = c.read<uint64_t>("metadata key count");
  // Each key needs at least a length, a type and one byte; each tensor info 8 + 4 + 8 + 4 + 8.
  if (n_keys > c.left() / 13) c.fail(detail::concat("metadata key count ", n_keys, " cannot fit in the file"));
  if (n_tensors > c.left() / 32) c.fail(detail::concat("tensor count ", n_tensors, " cannot fit in the file"));

  for (uint64_t i = 0; i < n_keys; ++i) {
    const auto key = c.string(detail::concat("metadata key #", i));
    const std::string what = "metadata key '" + key + "'";
    if (g.key_types_.count(key)) c.fail(what + " appears twice");
    const auto t = c.read<uint32_t>(what + " type");
    if (!known_value_type(t)) c.fail(detail::concat(what, ": unknown value type ", t));
    g.metadata_[key] = read_value(c, static_cast<GgufValueType>(t), what, 0);
    g.key_types_[key] = static_cast<GgufValueType>(t);
  }
  if (g.has_key("general.alignment")) {
    if (g.key_type("general.alignment") != GgufValueType::u32)
      c.fail("metadata key 'general.alignment' must be a u32");
    g.alignment_ = g.metadata_["general.alignment"].get<uint64_t>();
    if (g.alignment_ == 0 || (g.alignment_ & (g.alignment_ - 1)) != 0)
      c.fail(detail::concat("general.alignment = ", g.alignment_, " is not a power of two"));
  }

  for (uint64_t i = 0; i < n_tensors; ++i) {
    GgufTensorInfo t;
    t.name = c.string(detail::concat("tensor #", i, " name"));
    const std::string what = "tensor '" + t.name + "'";
    if (g.by_name_.count(t.name)) c.fail(what + " appears twice");
    const auto n_dims = c.read<uint32_t>(what + " dimension count");
    if (n_dims == 0 || n_dims > kMaxDims)
      c.fail(detail::concat(what, ": ", n_dims, " dimensions (expected 1 to ", kMaxDims, ")"));
    uint64_t numel = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      const auto dim = c.read<uint64_t>(what + " dimension");
      if (dim == 0 || dim > (uint64_t{1} << 40) || numel > (uint64_t{1} << 40) / dim)
        c.fail(detail::concat(what, ": dimension ", dim, " makes the element count overflow or zero"));
      numel *= dim;
      t.ne.push_back(static_cast<int64_t>(dim));
    }
    const auto type = c.read<uint32_t>(what + " type");
    const auto* info = ggml_type_info(type);
    if (!info)
      c.fail(what + ": ggml type " + ggml_type_name(type) +
             " is not supported (dkv reads F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K..Q6_K)");
    t.type = static_cast<GgmlType>(type);
    if (t.ne[0] % info->block_elements != 0)
      c.fail(detail::concat(what, ": row length ", t.ne[0], " is not a multiple of ", info->name,
                            "'s block of ", info->block_elements));
    t.size_bytes = numel / static_cast<uint64_t>(info->block_elements) * info->block_bytes;
    t.offset = c.read<uint64_t>(what + " offset");
    if (t.offset % g.alignment_ != 0)
      c.fail(detail::concat(what, ": offset ", t.offset, " is not a multiple of the alignment ", g.alignment_));
    g.by_name_[t.name] = g.tensors_.size();
    g.tensors_.push_back(std::move(t));
  }

  const uint64_t data_start = (c.pos() + g.alignment_ - 1) / g.alignment_ * g.alignment_;
  const uint64_t data_size = mapping->size > data_start ? mapping->size - data_start : 0;
  std::vector<const GgufTensorInfo*> by_offset;
  for (auto& t : g.tensors_) {
    if (t.offset > data_size || t.size_bytes > data_size - t.offset)
      throw InputError(detail::concat(path, ": tensor '", t.name, "': bytes [", t.offset, ", ",
                                      t.offset + t.size_bytes, ") of the data section are past its end (",
                                      data_size, " bytes; truncated file?)"));
    t.data = mapping->base + data_start + t.offset;
    by_offset.push_back(&t);
  }
  std::sort(by_offset.begin(), by_offset.end(),
            [](const auto* a, const auto* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < by_offset.size(); ++i)
    if (by_offset[i - 1]->offset + by_offset[i - 1]->size_bytes > by_offset[i]->offset)
      throw InputError(path + ": tensors '" + by_offset[i - 1]->name + "' and '" + by_offset[i]->name +
                       "' overlap in the data section");
  return g;
}

GgufValueType GgufFile::key_type(const std::string& key) const {
  auto it = key_types_.find(key);
  DKV_CHECK(it != key_types_.end(), "GgufFile::key_type: no key ", key);
  return it->second;
}

namespace {
[[noreturn]] void bad_key(const std::string& path, const std::string& key, const std::string& what) {
  throw InputError(path + ": metadata key '" + key + "': " + what);
}
}  // namespace

std::string GgufFile::get_string(const std::string& key) const {
  if (!has_key(key)) bad_key(path_, key, "missing (expected a string)");
  if (!metadata_[key].is_string()) bad_key(path_, key, "expected a string, got " + metadata_[key].dump());
  return metadata_[key].get<std::string>();
}

int64_t GgufFile::get_int(const std::string& key) const {
  if (!has_key(key)) bad_key(path_, key, "missing (expected an integer)");
  const json& v = metadata_[key];
  if (v.is_number_unsigned() && v.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX)) return v.get<int64_t>();
  if (v.is_number_integer() && !v.is_number_unsigned()) return v.get<int64_t>();
  bad_key(path_, key, "expected an integer, got " + v.dump());
}

double GgufFile::get_float(const std::string& key) const {
  if (!has_key(key)) bad_key(path_, key, "missing (expected a number)");
  const json& v = metadata_[key];
  if (!v.is_number()) bad_key(path_, key, "expected a number, got " + v.dump());
  return v.get<double>();
}

bool GgufFile::get_bool(const std::string& key) const {
  if (!has_key(key)) bad_key(path_, key, "missing (expected a bool)");
  if (!metadata_[key].is_boolean()) bad_key(path_, key, "expected a bool, got " + metadata_[key].dump());
  return metadata_[key].get<bool>();
}

const json& GgufFile::get_array(const std::string& key) const {
  if (!has_key(key)) bad_key(path_, key, "missing (expected an array)");
  if (!metadata_[key].is_array()) bad_key(path_, key, "expected an array");
  return metadata_[key];
}

const GgufTensorInfo* GgufFile::find_tensor(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &tensors_[it->second];
}

}  // namespace dkv::model
