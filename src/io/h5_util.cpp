// HDF5 helpers.
#include "io/h5_util.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>

#include "dkv/core/error.h"
#include "dkv/core/fingerprint.h"

namespace dkv::io::h5 {

Handle& Handle::operator=(Handle&& o) noexcept {
  if (this != &o) {
    if (id_ >= 0 && close_) close_(id_);
    id_ = o.id_;
    close_ = o.close_;
    o.id_ = -1;
  }
  return *this;
}

Handle::~Handle() {
  if (id_ >= 0 && close_) close_(id_);
}

hid_t check(hid_t id, const std::string& what) {
  if (id < 0) throw IoError(what + " failed");
  return id;
}

void check_status(herr_t status, const std::string& what) {
  if (status < 0) throw IoError(what + " failed");
}

std::string attrs_checksum(const std::vector<std::pair<std::string, std::string>>& attrs) {
  std::string all;
  for (const auto& [k, v] : attrs) all += std::to_string(k.size()) + ":" + k + std::to_string(v.size()) + ":" + v;
  return fingerprint_bytes(all);
}

namespace {
Handle core_fapl() {
  Handle fapl(check(H5Pcreate(H5P_FILE_ACCESS), "H5Pcreate(file access)"), H5Pclose);
  check_status(H5Pset_fapl_core(fapl, 1 << 20, 0), "H5Pset_fapl_core");
  // Closing the file closes whatever HDF5 still holds open in it (an object left open inside
  // HDF5 by a failed read would otherwise keep the file, and its image, alive).
  check_status(H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG), "H5Pset_fclose_degree");
  // Default (earliest) file format: HDF5 1.10.8's H5Fget_file_image returns an image that does
  // not reopen when the 1.8+ formats (checksummed superblock v2) are asked for. The data are
  // checksummed by dkv itself (see write_strings / write_array).
  return fapl;
}
}  // namespace

Handle create_in_memory(const std::string& base) {
  auto fapl = core_fapl();
  static std::atomic<uint64_t> serial{0};
  const auto name = base + " #" + std::to_string(++serial);  // unique, as open_image's
  return Handle(check(H5Fcreate(name.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl), "H5Fcreate(" + name + ", in memory)"),
                H5Fclose);
}

std::string file_image(const Handle& file) {
  check_status(H5Fflush(file, H5F_SCOPE_GLOBAL), "H5Fflush(in memory)");
  const ssize_t n = H5Fget_file_image(file, nullptr, 0);
  if (n < 0) throw IoError("H5Fget_file_image failed");
  std::string bytes(static_cast<size_t>(n), '\0');
  if (H5Fget_file_image(file, bytes.data(), bytes.size()) != n) throw IoError("H5Fget_file_image failed");
  return bytes;
}

Handle open_image(const std::string& bytes) {
  auto fapl = core_fapl();
  // HDF5 copies the buffer; the const_cast is for its C signature only.
  check_status(H5Pset_file_image(fapl, const_cast<char*>(bytes.data()), bytes.size()), "H5Pset_file_image");
  // A name of its own per open: the core driver identifies files by name, so a second open
  // under a name still open would share the first file's (possibly freed) image (found by
  // tests/fuzz/fuzz_results_file.cpp as a heap-use-after-free).
  static std::atomic<uint64_t> serial{0};
  const auto name = "results.h5 (image " + std::to_string(++serial) + ")";
  return Handle(H5Fopen(name.c_str(), H5F_ACC_RDONLY, fapl), H5Fclose);
}

QuietErrors::QuietErrors() {
  H5Eget_auto2(H5E_DEFAULT, &func_, &data_);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

QuietErrors::~QuietErrors() { H5Eset_auto2(H5E_DEFAULT, func_, data_); }

namespace {
Handle vlen_string_type() {
  Handle t(check(H5Tcopy(H5T_C_S1), "H5Tcopy"), H5Tclose);
  check_status(H5Tset_size(t, H5T_VARIABLE), "H5Tset_size");
  check_status(H5Tset_cset(t, H5T_CSET_UTF8), "H5Tset_cset");
  return t;
}

template <typename T>
hid_t native_type();
template <> hid_t native_type<double>() { return H5T_NATIVE_DOUBLE; }
template <> hid_t native_type<int32_t>() { return H5T_NATIVE_INT32; }
template <> hid_t native_type<uint32_t>() { return H5T_NATIVE_UINT32; }
template <> hid_t native_type<int64_t>() { return H5T_NATIVE_INT64; }
template <> hid_t native_type<uint8_t>() { return H5T_NATIVE_UINT8; }

constexpr const char* kChecksumAttr = "fnv1a";

std::string strings_checksum(const std::vector<std::string>& v) {
  std::string all;
  for (const auto& s : v) all += std::to_string(s.size()) + ":" + s;
  return fingerprint_bytes(all);
}

[[noreturn]] void corrupted(const Where& where, const std::string& name) {
  throw InputError(where.path + ": dataset '" + name +
                   "' fails its checksum (or HDF5 cannot read it): the file is corrupted; dkv will not use or "
                   "modify it (rerun with --fresh to set it aside and start over)");
}
}  // namespace

void write_attr(hid_t obj, const std::string& name, const std::string& value) {
  auto type = vlen_string_type();
  Handle space(check(H5Screate(H5S_SCALAR), "H5Screate"), H5Sclose);
  Handle attr(check(H5Acreate2(obj, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT),
                    "H5Acreate2(" + name + ")"),
              H5Aclose);
  const char* p = value.c_str();
  check_status(H5Awrite(attr, type, &p), "H5Awrite(" + name + ")");
}

bool has_attr(hid_t obj, const std::string& name) { return H5Aexists(obj, name.c_str()) > 0; }

std::string read_attr(hid_t obj, const std::string& name, const std::string& where) {
  if (!has_attr(obj, name)) throw InputError(where + ": missing attribute '" + name + "'");
  Handle attr(check(H5Aopen(obj, name.c_str(), H5P_DEFAULT), "H5Aopen(" + name + ")"), H5Aclose);
  Handle ftype(check(H5Aget_type(attr), "H5Aget_type"), H5Tclose);
  if (H5Tget_class(ftype) != H5T_STRING || H5Tis_variable_str(ftype) <= 0)
    throw InputError(where + ": attribute '" + name + "' is not a variable-length string");
  auto type = vlen_string_type();
  char* p = nullptr;
  check_status(H5Aread(attr, type, &p), "H5Aread(" + name + ")");
  std::string out = p ? p : "";
  H5free_memory(p);
  return out;
}

void write_strings(hid_t loc, const std::string& name, const std::vector<std::string>& v) {
  auto type = vlen_string_type();
  hsize_t n = v.size();
  Handle space(check(H5Screate_simple(1, &n, nullptr), "H5Screate_simple"), H5Sclose);
  Handle ds(check(H5Dcreate2(loc, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                  "H5Dcreate2(" + name + ")"),
            H5Dclose);
  // HDF5 stores C strings: a NUL byte (a generated surrogate can hold one) would cut the rest
  // of the string silently, so it is stored as U+FFFD, visibly, and the checksum covers what is
  // stored.
  std::vector<std::string> stored(v);
  for (auto& s : stored)
    for (size_t at; (at = s.find('\0')) != std::string::npos;) s.replace(at, 1, "\xEF\xBF\xBD");
  std::vector<const char*> ptrs;
  for (const auto& s : stored) ptrs.push_back(s.c_str());
  if (n) check_status(H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()), "H5Dwrite(" + name + ")");
  write_attr(ds, kChecksumAttr, strings_checksum(stored));
}

namespace {
Handle open_dataset(hid_t loc, const std::string& name, const std::string& where,
                    std::vector<hsize_t>& dims) {
  if (H5Lexists(loc, name.c_str(), H5P_DEFAULT) <= 0)
    throw InputError(where + ": missing dataset '" + name + "'");
  Handle ds(check(H5Dopen2(loc, name.c_str(), H5P_DEFAULT), "H5Dopen2(" + name + ")"), H5Dclose);
  Handle space(check(H5Dget_space(ds), "H5Dget_space"), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space);
  if (rank < 0 || rank > 2) throw InputError(where + ": dataset '" + name + "' has an unexpected rank");
  dims.resize(rank);
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  return ds;
}
std::string dims_text(const std::vector<hsize_t>& d) {
  std::string s = "[";
  for (size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
  return s + "]";
}
}  // namespace

std::vector<std::string> read_strings(hid_t loc, const std::string& name, const Where& where_) {
  const std::string& where = where_.path;
  std::vector<hsize_t> dims;
  auto ds = open_dataset(loc, name, where, dims);
  if (dims.size() != 1) throw InputError(where + ": dataset '" + name + "' must be 1-D");
  Handle ftype(check(H5Dget_type(ds), "H5Dget_type"), H5Tclose);
  if (H5Tget_class(ftype) != H5T_STRING || H5Tis_variable_str(ftype) <= 0)
    throw InputError(where + ": dataset '" + name + "' is not variable-length strings");
  auto type = vlen_string_type();
  std::vector<char*> ptrs(dims[0], nullptr);
  if (dims[0] && H5Dread(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()) < 0) corrupted(where_, name);
  std::vector<std::string> out;
  for (char* p : ptrs) {
    out.emplace_back(p ? p : "");
    H5free_memory(p);
  }
  if (where_.checksums) {
    if (!has_attr(ds, kChecksumAttr) || read_attr(ds, kChecksumAttr, where) != strings_checksum(out))
      corrupted(where_, name);
  }
  return out;
}

template <typename T>
void write_array(hid_t loc, const std::string& name, const std::vector<hsize_t>& dims,
                 const std::vector<T>& data) {
  Handle space(check(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), "H5Screate_simple"),
               H5Sclose);
  Handle dcpl(check(H5Pcreate(H5P_DATASET_CREATE), "H5Pcreate(dataset create)"), H5Pclose);
  const bool empty = std::find(dims.begin(), dims.end(), hsize_t(0)) != dims.end();
  if (!empty) {  // HDF5 filters need chunks, and chunks cannot be empty
    std::vector<hsize_t> chunk = dims;
    chunk[0] = std::min<hsize_t>(dims[0], 4096);  // rows; 4096 x C doubles is a few hundred KiB
    check_status(H5Pset_chunk(dcpl, static_cast<int>(chunk.size()), chunk.data()), "H5Pset_chunk(" + name + ")");
    check_status(H5Pset_fletcher32(dcpl), "H5Pset_fletcher32(" + name + ")");
  }
  Handle ds(check(H5Dcreate2(loc, name.c_str(), native_type<T>(), space, H5P_DEFAULT, dcpl, H5P_DEFAULT),
                  "H5Dcreate2(" + name + ")"),
            H5Dclose);
  if (!data.empty())
    check_status(H5Dwrite(ds, native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()),
                 "H5Dwrite(" + name + ")");
}

template <typename T>
std::vector<T> read_array(hid_t loc, const std::string& name, const std::vector<hsize_t>& dims,
                          const Where& where_) {
  const std::string& where = where_.path;
  std::vector<hsize_t> got;
  auto ds = open_dataset(loc, name, where, got);
  if (got != dims)
    throw InputError(where + ": dataset '" + name + "' has shape " + dims_text(got) + ", expected " +
                     dims_text(dims));
  Handle ftype(check(H5Dget_type(ds), "H5Dget_type"), H5Tclose);
  if (H5Tget_class(ftype) != H5Tget_class(native_type<T>()))
    throw InputError(where + ": dataset '" + name + "' has the wrong element type");
  size_t n = 1;
  for (auto d : dims) n *= d;
  std::vector<T> out(n);
  if (n && H5Dread(ds, native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0) corrupted(where_, name);
  if (where_.checksums && n) {
    Handle dcpl(check(H5Dget_create_plist(ds), "H5Dget_create_plist(" + name + ")"), H5Pclose);
    unsigned flags = 0;
    size_t nelmts = 0;
    if (H5Pget_filter_by_id2(dcpl, H5Z_FILTER_FLETCHER32, &flags, &nelmts, nullptr, 0, nullptr, nullptr) < 0)
      corrupted(where_, name);  // dkv writes every numeric dataset with Fletcher-32
  }
  return out;
}

#define DKV_H5_INSTANTIATE(T)                                                                   \
  template void write_array<T>(hid_t, const std::string&, const std::vector<hsize_t>&,         \
                               const std::vector<T>&);                                          \
  template std::vector<T> read_array<T>(hid_t, const std::string&, const std::vector<hsize_t>&, \
                                        const Where&);
DKV_H5_INSTANTIATE(double)
DKV_H5_INSTANTIATE(int32_t)
DKV_H5_INSTANTIATE(uint32_t)
DKV_H5_INSTANTIATE(int64_t)
DKV_H5_INSTANTIATE(uint8_t)
#undef DKV_H5_INSTANTIATE

}  // namespace dkv::io::h5
