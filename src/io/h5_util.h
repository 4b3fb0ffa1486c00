// Checked, RAII wrappers over the few HDF5 C calls dkv uses. Every call's failure names the
// call and the object; no return code goes unread.
#pragma once

#include <hdf5.h>

#include <string>
#include <vector>

namespace dkv::io::h5 {

// Owns an hid_t and closes it with the matching H5?close.
class Handle {
 public:
  Handle() = default;
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = -1; }
  Handle& operator=(Handle&& o) noexcept;
  ~Handle();
  hid_t get() const { return id_; }
  operator hid_t() const { return id_; }

 private:
  hid_t id_ = -1;
  herr_t (*close_)(hid_t) = nullptr;
};

// Throws IoError("<what> failed") for a negative id or status.
hid_t check(hid_t id, const std::string& what);
void check_status(herr_t status, const std::string& what);

// Silences HDF5's own error-stack printing for the lifetime of the guard: dkv reports errors.
class QuietErrors {
 public:
  QuietErrors();
  ~QuietErrors();

 private:
  H5E_auto2_t func_ = nullptr;
  void* data_ = nullptr;
};

void write_attr(hid_t obj, const std::string& name, const std::string& value);
bool has_attr(hid_t obj, const std::string& name);
std::string read_attr(hid_t obj, const std::string& name, const std::string& where);

void write_strings(hid_t loc, const std::string& name, const std::vector<std::string>& v);
std::vector<std::string> read_strings(hid_t loc, const std::string& name, const std::string& where);

// Numeric datasets of shape `dims` (1-D or 2-D), row-major data.
template <typename T>
void write_array(hid_t loc, const std::string& name, const std::vector<hsize_t>& dims,
                 const std::vector<T>& data);
// Reads a dataset whose shape must equal `dims`; throws InputError naming it otherwise.
template <typename T>
std::vector<T> read_array(hid_t loc, const std::string& name, const std::vector<hsize_t>& dims,
                          const std::string& where);

}  // namespace dkv::io::h5
