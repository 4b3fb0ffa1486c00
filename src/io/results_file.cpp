// results.h5: schema, atomic whole-file writes, validated reads.
#include "dkv/io/results_file.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <stdio.h>  // renameat2, RENAME_NOREPLACE (glibc >= 2.28)
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <limits>

#include "dkv/core/error.h"
#include "dkv/core/file_io.h"
#include "dkv/core/fingerprint.h"
#include "io/h5_util.h"

namespace dkv::io {

namespace {
// Ends every file dkv writes: this tag and the FNV-1a (core/fingerprint.h) of all bytes before.
constexpr const char* kTrailerTag = "\ndkv-results-fnv1a64:";
}  // namespace

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

std::string results_image(ResultsTable& t) {
  h5::QuietErrors quiet;
  t.updated_utc = utc_now();
  const hsize_t N = t.rows.size(), C = t.condition_ids.size();
  // The file is built in memory (HDF5's core driver, no backing store) and written by
  // write_file_atomic: HDF5 never writes to disk itself, so a full disk or a read-only folder is
  // one checked write(2) with its strerror, and no HDF5 file is left open for HDF5's
  // close-at-exit to flush again (which crashed on ENOSPC).
  auto file = h5::create_in_memory("results.h5 (in memory)");
  const auto& id = t.identity;
  std::vector<std::pair<std::string, std::string>> attrs{
      {"dkv_schema", kSchema}, {"dkv_version", id.dkv_version}, {"config_yaml", id.config_yaml},
      {"config_hash", id.config_hash}, {"model_fingerprint", id.model_fingerprint},
      {"tokenizer_fingerprint", id.tokenizer_fingerprint},
      {"embedding_fingerprint", id.embedding_fingerprint},
      {"dataset_fingerprint", id.dataset_fingerprint}, {"chunk_size", std::to_string(id.chunk_size)},
      {"blas_threads", std::to_string(id.blas_threads)}, {"created_utc", t.created_utc},
      {"updated_utc", t.updated_utc}};
  for (const auto& [k, v] : attrs) h5::write_attr(file, k, v);
  h5::write_attr(file, h5::kAttrsChecksum, h5::attrs_checksum(attrs));
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
  h5::write_strings(samples, "exclusion", column<std::string>(t, [](auto& r) { return r.exclusion; }));
  if (!t.surrogate_names.empty()) {
    h5::Handle named(h5::check(H5Gcreate2(file, "surrogates", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                               "H5Gcreate2(surrogates)"),
                     H5Gclose);
    h5::write_strings(named, "names", t.surrogate_names);
    for (size_t k = 0; k < t.surrogate_names.size(); ++k)
      h5::write_strings(named, "text_" + t.surrogate_names[k], column<std::string>(t, [k](auto& r) {
                          return k < r.named_surrogates.size() ? r.named_surrogates[k] : std::string();
                        }));
  }
  h5::write_array<int64_t>(samples, "source_line", {N}, column<int64_t>(t, [](auto& r) { return r.source_line; }));
  h5::write_array<double>(samples, "similarity", {N}, column<double>(t, [](auto& r) { return r.similarity; }));
  h5::write_array<double>(samples, "seconds", {N}, column<double>(t, [](auto& r) { return r.seconds; }));
  h5::write_array<double>(file, "nll", {N, C}, matrix<double>(t, [](auto& r) -> auto& { return r.nll; }));
  h5::write_array<double>(file, "first_token_nll", {N, C},
                          matrix<double>(t, [](auto& r) -> auto& { return r.first_token_nll; }));
  h5::write_array<int32_t>(file, "answer_tokens", {N, C},
                           matrix<int32_t>(t, [](auto& r) -> auto& { return r.answer_tokens; }));
  h5::write_array<uint32_t>(file, "flags", {N, C}, matrix<uint32_t>(t, [](auto& r) -> auto& { return r.flags; }));
  samples = {};
  conds = {};
  auto bytes = h5::file_image(file);
  // HDF5 ignores bytes past its end of file: the trailer is dkv's whole-file checksum.
  return bytes + kTrailerTag + fingerprint_bytes(bytes);
}

void write_results(const std::string& path, ResultsTable& t) { write_file_atomic(path, results_image(t)); }

namespace {
ResultsTable read_image_checked(const std::string& image, const std::string& path);
}  // namespace

ResultsTable read_results(const std::string& path) {
  return read_results_image(read_file_bytes(path), path);
}

namespace {

// 0: the trailer verifies (bytes cut to the HDF5 image); 1: there is none; 2: it does not match.
int check_trailer(const std::string& image, std::string& hdf5) {
  const size_t tag = std::strlen(kTrailerTag), n = tag + 16;
  if (image.size() < n || image.compare(image.size() - n, tag, kTrailerTag) != 0) return 1;
  hdf5 = image.substr(0, image.size() - n);
  return fingerprint_bytes(hdf5) == image.substr(image.size() - 16) ? 0 : 2;
}

ResultsTable read_image_named(const std::string& image, const std::string& path) {
  // Any HDF5 call failing on a file dkv wrote means the file is damaged: an input problem,
  // named as such (found by tests/fuzz/fuzz_results_file.cpp: H5Dopen2 failing on a corrupted
  // object header came out as a bare "H5Dopen2(samples/similarity) failed").
  try {
    return read_image_checked(image, path);
  } catch (const IoError& e) {
    throw InputError(path + ": HDF5 cannot read it (" + e.what() +
                     "): the file is corrupted; dkv will not use or modify it");
  }
}

// Parses bytes that no checksum vouches for in a child process with a time limit: HDF5 1.10
// can loop forever or crash on a damaged file (found by tests/fuzz/fuzz_results_file.cpp: an
// endless loop in the global heap). Returns "" when the child read the file, else the message.
std::string probe_in_child(const std::string& image, const std::string& path) {
  int fds[2];
  if (::pipe(fds) != 0) throw IoError(os_error("pipe", path, errno));
  std::fflush(nullptr);
  const pid_t child = ::fork();
  if (child < 0) throw IoError(os_error("fork", path, errno));
  if (child == 0) {
    ::close(fds[0]);
    std::string verdict = "OK";
    try {
      read_image_named(image, path);
    } catch (const std::exception& e) {
      verdict = std::string("E") + e.what();
    }
    for (size_t done = 0; done < verdict.size();) {
      const ssize_t w = ::write(fds[1], verdict.data() + done, verdict.size() - done);
      if (w <= 0) break;
      done += static_cast<size_t>(w);
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string verdict;
  // DKV_HDF5_PROBE_SECONDS shortens it for the fuzzer (tools/fuzz.sh), whose own hang limit is 10 s.
  const char* env = std::getenv("DKV_HDF5_PROBE_SECONDS");
  const int limit_s = env && std::atoi(env) > 0 ? std::atoi(env) : 10;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(limit_s);
  bool timed_out = false;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd pfd{fds[0], POLLIN, 0};
    const int r = ::poll(&pfd, 1, static_cast<int>(left));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    char buf[4096];
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    verdict.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  if (timed_out) ::kill(child, SIGKILL);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out)
    return path + ": HDF5 did not finish reading it within " + std::to_string(limit_s) +
           " s (a damaged file can make HDF5 loop); dkv will not use or modify it";
  if (verdict == "OK") return "";
  if (!verdict.empty() && verdict[0] == 'E') return verdict.substr(1);
  return path + ": HDF5 crashed reading it (" +
         (WIFSIGNALED(status) ? "signal " + std::to_string(WTERMSIG(status)) : std::string("no verdict")) +
         "): the file is damaged; dkv will not use or modify it";
}

}  // namespace

ResultsTable read_results_image(const std::string& image, const std::string& path) {
  std::string hdf5;
  const int trailer = check_trailer(image, hdf5);
  if (trailer == 0) return read_image_named(hdf5, path);  // the bytes dkv wrote: parse in-process
  const auto problem = probe_in_child(trailer == 2 ? hdf5 : image, path);
  if (trailer == 2)
    throw InputError(path + ": the file fails its whole-file checksum (changed after dkv wrote it)" +
                     (problem.empty() ? std::string(": HDF5 reads it, but its bytes differ; dkv will not use or modify it")
                                      : "; " + problem.substr(problem.find(": ") == std::string::npos ? 0 : problem.find(": ") + 2)));
  if (!problem.empty()) throw InputError(problem);
  // No trailer: a foreign HDF5 file or one from before dkv-results/2, read safely once above.
  return read_image_named(image, path);
}

namespace {
ResultsTable read_image_checked(const std::string& image, const std::string& path) {
  h5::QuietErrors quiet;
  // The signature at offset 0 (dkv writes no user block): anything else is not ours to parse.
  static const char kSignature[] = "\x89HDF\r\n\x1a\n";
  if (image.size() < 8 || image.compare(0, 8, kSignature, 8) != 0)
    throw InputError(path + ": not an HDF5 file (or corrupted); dkv will not modify it");
  auto file = h5::open_image(image);
  if (file.get() < 0) throw InputError(path + ": HDF5 could not open it (corrupted?); dkv will not modify it");
  if (!h5::has_attr(file, "dkv_schema"))
    throw InputError(path + ": not a dkv results file (no dkv_schema attribute)");
  const auto schema = h5::read_attr(file, "dkv_schema", path);
  // dkv-results/1 files (before checksums) stay readable; from /2 on every dataset and the
  // attributes carry checksums, and a file whose checksums are missing or wrong is refused.
  const bool checked = schema == kSchema;
  if (!checked && schema != kSchemaUnchecked)
    throw InputError(path + ": results schema '" + schema + "' is not the supported '" + kSchema + "'");
  const h5::Where where{path, checked};
  ResultsTable t;
  auto& id = t.identity;
  auto attr = [&](const char* name) { return h5::read_attr(file, name, path); };
  id.dkv_version = attr("dkv_version");
  id.config_yaml = attr("config_yaml");
  id.config_hash = attr("config_hash");
  id.model_fingerprint = attr("model_fingerprint");
  id.tokenizer_fingerprint = attr("tokenizer_fingerprint");
  id.embedding_fingerprint = attr("embedding_fingerprint");
  id.dataset_fingerprint = attr("dataset_fingerprint");
  t.created_utc = attr("created_utc");
  t.updated_utc = attr("updated_utc");
  if (checked) {
    const auto chunk = attr("chunk_size"), threads = attr("blas_threads");
    const std::vector<std::pair<std::string, std::string>> attrs{
        {"dkv_schema", schema}, {"dkv_version", id.dkv_version}, {"config_yaml", id.config_yaml},
        {"config_hash", id.config_hash}, {"model_fingerprint", id.model_fingerprint},
        {"tokenizer_fingerprint", id.tokenizer_fingerprint},
        {"embedding_fingerprint", id.embedding_fingerprint},
        {"dataset_fingerprint", id.dataset_fingerprint}, {"chunk_size", chunk},
        {"blas_threads", threads}, {"created_utc", t.created_utc}, {"updated_utc", t.updated_utc}};
    if (attr(h5::kAttrsChecksum) != h5::attrs_checksum(attrs))
      throw InputError(path + ": the file's attributes (config, fingerprints) fail their checksum: the file is "
                       "corrupted; dkv will not use or modify it");
    try {
      id.chunk_size = std::stoll(chunk);
      id.blas_threads = std::stoll(threads);
    } catch (const std::exception&) {
      throw InputError(path + ": attributes chunk_size/blas_threads are not integers");
    }
  }
  t.condition_ids = h5::read_strings(file, "conditions/id", where);
  t.condition_names = h5::read_strings(file, "conditions/name", where);
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
    return h5::read_array<uint8_t>(file, "samples/done", {n}, where);
  }();
  const hsize_t N = done.size(), C = t.condition_ids.size();
  auto strings = [&](const char* name) {
    auto v = h5::read_strings(file, std::string("samples/") + name, where);
    if (v.size() != N) throw InputError(path + ": samples/" + name + " has " + std::to_string(v.size()) +
                                        " rows, samples/done has " + std::to_string(N));
    return v;
  };
  const auto query_id = strings("query_id"), query = strings("query"), passage = strings("passage"),
             answer = strings("answer"), surrogate = strings("surrogate"),
             random_prefix = strings("random_prefix"), error = strings("error");
  // Added with the surrogates block: files written before lack them (no exclusions, no sources).
  const auto exclusion = H5Lexists(file, "samples/exclusion", H5P_DEFAULT) > 0 ? strings("exclusion")
                                                                               : std::vector<std::string>(N);
  std::vector<std::vector<std::string>> named;
  if (H5Lexists(file, "surrogates", H5P_DEFAULT) > 0) {
    t.surrogate_names = h5::read_strings(file, "surrogates/names", where);
    for (const auto& name : t.surrogate_names) {
      auto v = h5::read_strings(file, "surrogates/text_" + name, where);
      if (v.size() != N)
        throw InputError(path + ": surrogates/text_" + name + " has " + std::to_string(v.size()) +
                         " rows, samples/done has " + std::to_string(N));
      named.push_back(std::move(v));
    }
  }
  const auto source_line = h5::read_array<int64_t>(file, "samples/source_line", {N}, where);
  const auto similarity = h5::read_array<double>(file, "samples/similarity", {N}, where);
  const auto seconds = h5::read_array<double>(file, "samples/seconds", {N}, where);
  const auto nll = h5::read_array<double>(file, "nll", {N, C}, where);
  const auto first = h5::read_array<double>(file, "first_token_nll", {N, C}, where);
  const auto tokens = h5::read_array<int32_t>(file, "answer_tokens", {N, C}, where);
  const auto flags = h5::read_array<uint32_t>(file, "flags", {N, C}, where);
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
    r.exclusion = exclusion[i];
    for (const auto& column : named) r.named_surrogates.push_back(column[i]);
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

}  // namespace

namespace {
// 0 when renamed, else the errno: EEXIST when `to` exists (never replaced).
int rename_no_replace(const std::string& from, const std::string& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS) return errno;
  // Filesystems without RENAME_NOREPLACE: link(2) fails with EEXIST rather than replace.
  if (::link(from.c_str(), to.c_str()) != 0) return errno;
  if (::unlink(from.c_str()) != 0) return errno;
  return 0;
}
}  // namespace

std::string set_aside(const std::string& path, const std::string& stamp) {
  for (int k = 1; k < 10000; ++k) {
    const auto aside = path + "." + stamp + (k == 1 ? "" : "." + std::to_string(k)) + ".old";
    const int err = rename_no_replace(path, aside);
    if (err == 0) return aside;
    if (err != EEXIST) throw IoError("rename(" + path + ", " + aside + "): " + std::strerror(err));
  }
  throw IoError(path + ": 10000 set-aside names for " + stamp + " are all taken; remove some of them");
}

}  // namespace dkv::io
