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

// Where a read happens, for messages, and whether the file's checksums must be present (files
// from before checksums carry none).
struct Where {
  std::string path;
  bool checksums = true;
};

// The root attribute holding attrs_checksum() of the identity attributes.
inline constexpr const char* kAttrsChecksum = "attributes_fnv1a";
// FNV-1a over (name, value) pairs, length-prefixed so that no two lists collide by concatenation.
std::string attrs_checksum(const std::vector<std::pair<std::string, std::string>>& attrs);

// A new HDF5 file held in memory (core driver, no backing store); file_image() returns its
// bytes for a checked write of our own. open_image() opens such bytes read-only; its id is
// negative when HDF5 cannot parse them.
Handle create_in_memory(const std::string& name);
std::string file_image(const Handle& file);
Handle open_image(const std::string& bytes);

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

// String datasets carry an FNV-1a checksum of their content as an attribute: HDF5's checksum
// filter covers a variable-length dataset's heap references only, not the strings' bytes.
void write_strings(hid_t loc, const std::string& name, const std::vector<std::string>& v);
std::vector<std::string> read_strings(hid_t loc, const std::string& name, const Where& where);

// Numeric datasets of shape `dims` (1-D or 2-D), row-major data, chunked with HDF5's
// Fletcher-32 filter so that a flipped byte makes the read fail (reported as InputError naming
// the dataset) instead of flowing into the report.
template <typename T>
void write_array(hid_t loc, const std::string& name, const std::vector<hsize_t>& dims,
                 const std::vector<T>& data);
// Reads a dataset whose shape must equal `dims`; throws InputError naming it otherwise.
template <typename T>
std::vector<T> read_array(hid_t loc, const std::string& name, const std::vector<hsize_t>& dims,
                          const Where& where);

}  // namespace dkv::io::h5
