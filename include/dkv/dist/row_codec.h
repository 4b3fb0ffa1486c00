// Byte encoding of result rows for MPI messages (exact: doubles travel bit for bit, NaN included).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "dkv/io/results_file.h"

namespace dkv::dist {

std::string encode_rows(const std::vector<std::pair<int64_t, io::SampleRow>>& rows);
// Throws InternalError on a malformed message.
std::vector<std::pair<int64_t, io::SampleRow>> decode_rows(const std::string& bytes);

std::string encode_indices(const std::vector<int64_t>& v);
std::vector<int64_t> decode_indices(const std::string& bytes);

}  // namespace dkv::dist
