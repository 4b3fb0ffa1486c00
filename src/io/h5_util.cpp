// HDF5 helpers.
#include "io/h5_util.h"

#include <cstdint>

#include "dkv/core/error.h"

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
  std::vector<const char*> ptrs;
  for (const auto& s : v) ptrs.push_back(s.c_str());
  if (n) check_status(H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()), "H5Dwrite(" + name + ")");
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

std::vector<std::string> read_strings(hid_t loc, const std::string& name, const std::string& where) {
  std::vector<hsize_t> dims;
  auto ds = open_dataset(loc, name, where, dims);
  if (dims.size() != 1) throw InputError(where + ": dataset '" + name + "' must be 1-D");
  Handle ftype(check(H5Dget_type(ds), "H5Dget_type"), H5Tclose);
  if (H5Tget_class(ftype) != H5T_STRING || H5Tis_variable_str(ftype) <= 0)
    throw InputError(where + ": dataset '" + name + "' is not variable-length strings");
  auto type = vlen_string_type();
  std::vector<char*> ptrs(dims[0], nullptr);
  if (dims[0]) check_status(H5Dread(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()), "H5Dread(" + name + ")");
  std::vector<std::string> out;
  for (char* p : ptrs) {
    out.emplace_back(p ? p : "");
    H5free_memory(p);
  }
  return out;
}

template <typename T>
void write_array(hid_t loc, const std::string& name, const std::vector<hsize_t>& dims,
                 const std::vector<T>& data) {
  Handle space(check(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), "H5Screate_simple"),
               H5Sclose);
  Handle ds(check(H5Dcreate2(loc, name.c_str(), native_type<T>(), space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                  "H5Dcreate2(" + name + ")"),
            H5Dclose);
  if (!data.empty())
    check_status(H5Dwrite(ds, native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()),
                 "H5Dwrite(" + name + ")");
}

template <typename T>
std::vector<T> read_array(hid_t loc, const std::string& name, const std::vector<hsize_t>& dims,
                          const std::string& where) {
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
  if (n) check_status(H5Dread(ds, native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()), "H5Dread(" + name + ")");
  return out;
}

#define DKV_H5_INSTANTIATE(T)                                                                   \
  template void write_array<T>(hid_t, const std::string&, const std::vector<hsize_t>&,         \
                               const std::vector<T>&);                                          \
  template std::vector<T> read_array<T>(hid_t, const std::string&, const std::vector<hsize_t>&, \
                                        const std::string&);
DKV_H5_INSTANTIATE(double)
DKV_H5_INSTANTIATE(int32_t)
DKV_H5_INSTANTIATE(uint32_t)
DKV_H5_INSTANTIATE(int64_t)
DKV_H5_INSTANTIATE(uint8_t)
#undef DKV_H5_INSTANTIATE

}  // namespace dkv::io::h5
