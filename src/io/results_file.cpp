// results.h5: schema, atomic whole-file writes, validated reads.
#include "dkv/io/results_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <limits>

#include "dkv/core/error.h"
#include "io/h5_util.h"

namespace dkv::io {

int64_t ResultsTable::num_done() const {
  int64_t n = 0;
  for (const auto& r : rows) n += r.done;
  return n;
}

std::string utc_now() {
  char buf[32];
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

ResultsTable new_table(RunIdentity identity, std::vector<std::string> ids,
                       std::vector<std::string> names, int64_t n) {
  ResultsTable t;
  t.identity = std::move(identity);
  t.condition_ids = std::move(ids);
  t.condition_names = std::move(names);
  const auto C = t.condition_ids.size();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  t.rows.resize(n);
  for (auto& r : t.rows) {
    r.nll.assign(C, nan);
    r.first_token_nll.assign(C, nan);
    r.answer_tokens.assign(C, 0);
    r.flags.assign(C, 0);
    r.similarity = nan;
  }
  t.created_utc = t.updated_utc = utc_now();
  return t;
}

namespace {

void fsync_path(const std::string& path, bool directory) {
  int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) throw IoError("open(" + path + ") for fsync: " + std::strerror(errno));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) throw IoError("fsync(" + path + "): " + std::strerror(errno));
}

template <typename T, typename Get>
std::vector<T> column(const ResultsTable& t, Get get) {
  std::vector<T> out;
  for (const auto& r : t.rows) out.push_back(get(r));
  return out;
}

template <typename T, typename Get>
std::vector<T> matrix(const ResultsTable& t, Get get) {
  std::vector<T> out;
  for (const auto& r : t.rows) {
    const auto& v = get(r);
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

}  // namespace

void write_results(const std::string& path, ResultsTable& t) {
  h5::QuietErrors quiet;
  t.updated_utc = utc_now();
  const std::string tmp = path + ".tmp";
  const hsize_t N = t.rows.size(), C = t.condition_ids.size();
  {
    h5::Handle file(h5::check(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT),
                              "H5Fcreate(" + tmp + ")"),
                    H5Fclose);
    const auto& id = t.identity;
    for (const auto& [k, v] : std::initializer_list<std::pair<const char*, std::string>>{
             {"dkv_schema", kSchema}, {"dkv_version", id.dkv_version}, {"config_yaml", id.config_yaml},
             {"config_hash", id.config_hash}, {"model_fingerprint", id.model_fingerprint},
             {"tokenizer_fingerprint", id.tokenizer_fingerprint},
             {"embedding_fingerprint", id.embedding_fingerprint},
             {"dataset_fingerprint", id.dataset_fingerprint}, {"created_utc", t.created_utc},
             {"updated_utc", t.updated_utc}})
      h5::write_attr(file, k, v);
    h5::Handle conds(h5::check(H5Gcreate2(file, "conditions", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                               "H5Gcreate2(conditions)"),
                     H5Gclose);
    h5::write_strings(conds, "id", t.condition_ids);
    h5::write_strings(conds, "name", t.condition_names);
    h5::Handle samples(h5::check(H5Gcreate2(file, "samples", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                                 "H5Gcreate2(samples)"),
                       H5Gclose);
    h5::write_array<uint8_t>(samples, "done", {N}, column<uint8_t>(t, [](auto& r) { return uint8_t(r.done); }));
    h5::write_strings(samples, "query_id", column<std::string>(t, [](auto& r) { return r.query_id; }));
    h5::write_strings(samples, "query", column<std::string>(t, [](auto& r) { return r.query; }));
    h5::write_strings(samples, "passage", column<std::string>(t, [](auto& r) { return r.passage; }));
    h5::write_strings(samples, "answer", column<std::string>(t, [](auto& r) { return r.answer; }));
    h5::write_strings(samples, "surrogate", column<std::string>(t, [](auto& r) { return r.surrogate; }));
    h5::write_strings(samples, "random_prefix", column<std::string>(t, [](auto& r) { return r.random_prefix; }));
    h5::write_strings(samples, "error", column<std::string>(t, [](auto& r) { return r.error; }));
    h5::write_array<int64_t>(samples, "source_line", {N}, column<int64_t>(t, [](auto& r) { return r.source_line; }));
    h5::write_array<double>(samples, "similarity", {N}, column<double>(t, [](auto& r) { return r.similarity; }));
    h5::write_array<double>(samples, "seconds", {N}, column<double>(t, [](auto& r) { return r.seconds; }));
    h5::write_array<double>(file, "nll", {N, C}, matrix<double>(t, [](auto& r) -> auto& { return r.nll; }));
    h5::write_array<double>(file, "first_token_nll", {N, C},
                            matrix<double>(t, [](auto& r) -> auto& { return r.first_token_nll; }));
    h5::write_array<int32_t>(file, "answer_tokens", {N, C},
                             matrix<int32_t>(t, [](auto& r) -> auto& { return r.answer_tokens; }));
    h5::write_array<uint32_t>(file, "flags", {N, C}, matrix<uint32_t>(t, [](auto& r) -> auto& { return r.flags; }));
    h5::check_status(H5Fflush(file, H5F_SCOPE_GLOBAL), "H5Fflush(" + tmp + ")");
  }
  fsync_path(tmp, false);
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    throw IoError("rename(" + tmp + ", " + path + "): " + std::strerror(errno));
  auto dir = std::filesystem::path(path).parent_path().string();
  fsync_path(dir.empty() ? "." : dir, true);
}

ResultsTable read_results(const std::string& path) {
  h5::QuietErrors quiet;
  if (!std::filesystem::exists(path)) throw InputError(path + ": no such results file");
  if (H5Fis_hdf5(path.c_str()) <= 0)
    throw InputError(path + ": not an HDF5 file (or corrupted); dkv will not modify it");
  h5::Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (file.get() < 0) throw InputError(path + ": HDF5 could not open it (corrupted?)");
  if (!h5::has_attr(file, "dkv_schema"))
    throw InputError(path + ": not a dkv results file (no dkv_schema attribute)");
  const auto schema = h5::read_attr(file, "dkv_schema", path);
  if (schema != kSchema)
    throw InputError(path + ": results schema '" + schema + "' is not the supported '" + kSchema + "'");
  ResultsTable t;
  auto& id = t.identity;
  id.dkv_version = h5::read_attr(file, "dkv_version", path);
  id.config_yaml = h5::read_attr(file, "config_yaml", path);
  id.config_hash = h5::read_attr(file, "config_hash", path);
  id.model_fingerprint = h5::read_attr(file, "model_fingerprint", path);
  id.tokenizer_fingerprint = h5::read_attr(file, "tokenizer_fingerprint", path);
  id.embedding_fingerprint = h5::read_attr(file, "embedding_fingerprint", path);
  id.dataset_fingerprint = h5::read_attr(file, "dataset_fingerprint", path);
  t.created_utc = h5::read_attr(file, "created_utc", path);
  t.updated_utc = h5::read_attr(file, "updated_utc", path);
  t.condition_ids = h5::read_strings(file, "conditions/id", path);
  t.condition_names = h5::read_strings(file, "conditions/name", path);
  if (t.condition_names.size() != t.condition_ids.size())
    throw InputError(path + ": conditions/id and conditions/name differ in length");
  const auto done = [&] {
    std::vector<hsize_t> dims;
    if (H5Lexists(file, "samples", H5P_DEFAULT) <= 0 || H5Lexists(file, "samples/done", H5P_DEFAULT) <= 0)
      throw InputError(path + ": missing dataset 'samples/done'");
    h5::Handle ds(h5::check(H5Dopen2(file, "samples/done", H5P_DEFAULT), "H5Dopen2(samples/done)"), H5Dclose);
    h5::Handle sp(h5::check(H5Dget_space(ds), "H5Dget_space"), H5Sclose);
    hsize_t n = 0;
    if (H5Sget_simple_extent_ndims(sp) != 1) throw InputError(path + ": samples/done must be 1-D");
    H5Sget_simple_extent_dims(sp, &n, nullptr);
    return h5::read_array<uint8_t>(file, "samples/done", {n}, path);
  }();
  const hsize_t N = done.size(), C = t.condition_ids.size();
  auto strings = [&](const char* name) {
    auto v = h5::read_strings(file, std::string("samples/") + name, path);
    if (v.size() != N) throw InputError(path + ": samples/" + name + " has " + std::to_string(v.size()) +
                                        " rows, samples/done has " + std::to_string(N));
    return v;
  };
  const auto query_id = strings("query_id"), query = strings("query"), passage = strings("passage"),
             answer = strings("answer"), surrogate = strings("surrogate"),
             random_prefix = strings("random_prefix"), error = strings("error");
  const auto source_line = h5::read_array<int64_t>(file, "samples/source_line", {N}, path);
  const auto similarity = h5::read_array<double>(file, "samples/similarity", {N}, path);
  const auto seconds = h5::read_array<double>(file, "samples/seconds", {N}, path);
  const auto nll = h5::read_array<double>(file, "nll", {N, C}, path);
  const auto first = h5::read_array<double>(file, "first_token_nll", {N, C}, path);
  const auto tokens = h5::read_array<int32_t>(file, "answer_tokens", {N, C}, path);
  const auto flags = h5::read_array<uint32_t>(file, "flags", {N, C}, path);
  t.rows.resize(N);
  for (hsize_t i = 0; i < N; ++i) {
    auto& r = t.rows[i];
    r.done = done[i] != 0;
    r.query_id = query_id[i];
    r.query = query[i];
    r.passage = passage[i];
    r.answer = answer[i];
    r.surrogate = surrogate[i];
    r.random_prefix = random_prefix[i];
    r.error = error[i];
    r.source_line = source_line[i];
    r.similarity = similarity[i];
    r.seconds = seconds[i];
    r.nll.assign(nll.begin() + i * C, nll.begin() + (i + 1) * C);
    r.first_token_nll.assign(first.begin() + i * C, first.begin() + (i + 1) * C);
    r.answer_tokens.assign(tokens.begin() + i * C, tokens.begin() + (i + 1) * C);
    r.flags.assign(flags.begin() + i * C, flags.begin() + (i + 1) * C);
  }
  return t;
}

}  // namespace dkv::io
