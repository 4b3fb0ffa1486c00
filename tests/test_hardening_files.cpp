// Faults on the files dkv writes and reads: full disks and read-only folders report the OS
// reason and keep what was written; set-aside names never overwrite; corrupted results are
// refused naming the dataset; the run lock refuses a second holder and recovers from a dead
// one; dataset line accounting is exact for any bytes; duplicate YAML keys are errors.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "dkv/core/error.h"
#include "dkv/experiment/dataset.h"
#include "dkv/experiment/spec.h"
#include "dkv/io/results_file.h"
#include "dkv/io/run_lock.h"
#include "dkv/report/report_run.h"
#include "support.h"

namespace dkv {
namespace {

namespace fs = std::filesystem;

std::string slurp(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A real small filesystem (tmpfs) mounted for one test: needs root, as CI has. `options` adds
// mount options (ro). Tests using it skip visibly where mount is not permitted.
class Tmpfs {
 public:
  Tmpfs(const std::string& dir, const std::string& options) : dir_(dir) {
    fs::create_directories(dir);
    ok_ = std::system(("mount -t tmpfs -o " + options + " tmpfs '" + dir + "' 2>/dev/null").c_str()) == 0;
  }
  ~Tmpfs() {
    if (ok_) std::system(("umount '" + dir_ + "'").c_str());
  }
  bool ok() const { return ok_; }
  // Fills the remaining space with a file, so the next write meets ENOSPC.
  void fill() const { std::system(("dd if=/dev/zero of='" + dir_ + "/filler' bs=4k 2>/dev/null").c_str()); }

 private:
  std::string dir_;
  bool ok_ = false;
};

io::ResultsTable small_table() {
  io::RunIdentity id{"0.1.0", "name: t\n", "abc", "m", "t", "e", "d", 4, 1};
  auto t = io::new_table(id, {"A1", "C2"}, {"baseline", "trunc"}, 3);
  t.rows[1].done = true;
  t.rows[1].passage = "a passage that is easy to find in the file";
  t.rows[1].nll = {1.25, 0.5};
  return t;
}

template <typename E, typename Fn>
std::string error_of(Fn fn) {
  try {
    fn();
  } catch (const E& e) {
    return e.what();
  }
  return "(no error of the expected type)";
}

TEST(ResultsFileFaults, DiskFullReportsOsReasonKeepsFileAndLeavesNoTmp) {
  const auto dir = test::scratch_dir("full-disk");
  Tmpfs mnt(dir, "size=256k");
  if (!mnt.ok()) GTEST_SKIP() << "needs root and mount -t tmpfs for a real full disk";
  const auto path = dir + "/results.h5";
  auto t = small_table();
  io::write_results(path, t);
  const auto before = slurp(path);
  mnt.fill();
  t.rows[2].done = true;
  const auto msg = error_of<IoError>([&] { io::write_results(path, t); });
  EXPECT_NE(msg.find("No space left on device"), std::string::npos) << msg;
  EXPECT_NE(msg.find("results.h5.tmp"), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  EXPECT_EQ(slurp(path), before);
  EXPECT_EQ(io::read_results(path).num_done(), 1);
}

TEST(ResultsFileFaults, ReadOnlyFolderReportsOsReason) {
  const auto dir = test::scratch_dir("read-only");
  Tmpfs mnt(dir, "ro,size=64k");
  if (!mnt.ok()) GTEST_SKIP() << "needs root and mount -t tmpfs for a read-only folder (root ignores chmod)";
  auto t = small_table();
  const auto msg = error_of<IoError>([&] { io::write_results(dir + "/results.h5", t); });
  EXPECT_NE(msg.find("Read-only file system"), std::string::npos) << msg;
}

TEST(ResultsFileFaults, FullDiskDuringReportKeepsEveryPreviousFile) {
  const auto dir = test::scratch_dir("report-full");
  const auto results = dir + "/results.h5";
  auto t = small_table();
  t.identity.config_yaml = "name: t\nmodel: {path: m}\nembedding: {path: e}\ndataset: {path: d}\n";
  io::write_results(results, t);
  const auto out = dir + "/report";
  Tmpfs mnt(out, "size=2m");
  if (!mnt.ok()) GTEST_SKIP() << "needs root and mount -t tmpfs for a real full disk";
  const auto files = report::report_results(results, out);
  std::vector<std::pair<std::string, std::string>> before;
  for (const auto& f : {files.summary_csv, files.report_json, files.report_md, files.figure_png, files.figure_svg})
    before.emplace_back(f, slurp(f));
  mnt.fill();
  const auto msg = error_of<IoError>([&] { report::report_results(results, out); });
  EXPECT_NE(msg.find("No space left on device"), std::string::npos) << msg;
  for (const auto& [f, bytes] : before) {
    EXPECT_EQ(slurp(f), bytes) << f << " was changed by the failed report";
    EXPECT_FALSE(fs::exists(f + ".tmp")) << f;
  }
}

TEST(ResultsFileFaults, SetAsideNamesNeverCollideOrOverwrite) {
  const auto dir = test::scratch_dir("set-aside");
  const auto path = dir + "/results.h5";
  std::vector<std::string> names;
  for (const char* content : {"first", "second", "third"}) {
    std::ofstream(path) << content;
    names.push_back(io::set_aside(path, "2026-01-01T00:00:00Z"));  // the same second each time
    EXPECT_FALSE(fs::exists(path));
  }
  EXPECT_EQ(names[0], path + ".2026-01-01T00:00:00Z.old");
  EXPECT_EQ(names[1], path + ".2026-01-01T00:00:00Z.2.old");
  EXPECT_EQ(slurp(names[0]), "first");
  EXPECT_EQ(slurp(names[1]), "second");
  EXPECT_EQ(slurp(names[2]), "third");
}

// Flips one byte of `needle` inside the file and expects read_results to name `dataset`.
void expect_corruption_named(const std::string& dir, const std::string& needle, const std::string& dataset) {
  const auto path = dir + "/results.h5";
  auto t = small_table();
  io::write_results(path, t);
  auto bytes = slurp(path);
  const auto at = bytes.find(needle);
  ASSERT_NE(at, std::string::npos) << needle;
  bytes[at + needle.size() / 2] ^= 0x20;
  const auto bad = dir + "/corrupt-" + std::to_string(std::hash<std::string>{}(dataset)) + ".h5";
  std::ofstream(bad, std::ios::binary) << bytes;
  const auto msg = error_of<InputError>([&] { io::read_results(bad); });
  EXPECT_NE(msg.find("'" + dataset + "'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("checksum"), std::string::npos) << msg;
  EXPECT_EQ(slurp(bad), bytes) << "the reader modified the file";
}

TEST(ResultsFileFaults, CorruptedDataIsRefusedNamingTheDataset) {
  const auto dir = test::scratch_dir("corrupt");
  const double v = 1.25;  // rows[1].nll[0]: its 8 bytes as stored (little-endian doubles)
  expect_corruption_named(dir, std::string(reinterpret_cast<const char*>(&v), sizeof v), "nll");
  expect_corruption_named(dir, "a passage that is easy to find", "samples/passage");
}

// Found by the checksums: a generated surrogate holding a NUL byte was cut at it by HDF5.
TEST(ResultsFileFaults, NulByteInAStringIsKeptVisiblyNotCut) {
  const auto path = test::scratch_dir("nul-string") + "/results.h5";
  auto t = small_table();
  t.rows[1].surrogate = std::string("before\0after", 12);
  io::write_results(path, t);
  EXPECT_EQ(io::read_results(path).rows[1].surrogate, "before\xEF\xBF\xBD" "after");
}

// Inputs the fuzzers found (tests/fuzz/regressions/results_file/): each must be refused with
// InputError, never another exception or a crash.
TEST(ResultsFileFaults, FuzzerFindingsAreInputErrors) {
  setenv("DKV_HDF5_PROBE_SECONDS", "2", 1);  // two of them make HDF5 loop: refused after 2 s
  int n = 0;
  for (const auto& e : fs::directory_iterator(test::source_path("tests/fuzz/regressions/results_file"))) {
    ++n;
    // Twice each: one finding needed a failed open followed by another open.
    for (int k = 0; k < 2; ++k) EXPECT_THROW(io::read_results(e.path().string()), InputError) << e.path();
  }
  EXPECT_GE(n, 1);
}

TEST(ExperimentSpecFaults, FuzzerFindingsAreConfigErrors) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(test::source_path("tests/fuzz/regressions/yaml_config"))) {
    ++n;
    EXPECT_THROW(experiment::parse_spec(slurp(e.path().string()), e.path().string()), ConfigError) << e.path();
  }
  EXPECT_GE(n, 1);
}

TEST(RunLock, SecondHolderIsRefusedNamingTheFirst) {
  const auto dir = test::scratch_dir("lock");
  io::RunLock first(dir);
  const auto msg = error_of<ConfigError>([&] { io::RunLock second(dir); });
  EXPECT_NE(msg.find("in use by another dkv run"), std::string::npos) << msg;
  EXPECT_NE(msg.find("pid " + std::to_string(getpid())), std::string::npos) << msg;
}

TEST(RunLock, LockOfAKilledProcessIsTakenOver) {
  const auto dir = test::scratch_dir("lock-stale");
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    io::RunLock held(dir);
    raise(SIGKILL);  // dies holding it, as kill -9 or a node crash would
  }
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_TRUE(fs::exists(dir + "/.dkv-run.lock"));  // the file stays behind ...
  EXPECT_NO_THROW(io::RunLock again(dir));           // ... and blocks no one
}

TEST(DatasetFaults, NulByteKeepsEveryLineAndItsNumber) {
  const auto path = test::scratch_dir("nul") + "/data.jsonl";
  auto line = [](const std::string& q) {
    return "{\"query\": \"" + q + "\", \"answers\": [\"yes\"], \"passages\": [{\"is_selected\": 1, "
           "\"passage_text\": \"one two three\"}]}\n";
  };
  std::string nul_line = line("has a raw NUL");
  nul_line[nul_line.find("raw") + 3] = '\0';
  std::ofstream(path, std::ios::binary) << line("first") << nul_line << line("third") << line("fourth");
  experiment::DatasetSpec spec;
  spec.path = path;
  spec.num_samples = 10;
  spec.candidate_factor = 1;
  spec.min_passage_words = 1;
  experiment::DatasetReport report;
  const auto samples = experiment::load_samples(spec, 1, &report);
  EXPECT_EQ(report.lines, 4);
  EXPECT_EQ(report.malformed, 1);  // the NUL line: not valid JSON, counted, not merged
  std::map<int64_t, std::string> by_line;
  for (const auto& s : samples) by_line[s.source_line] = s.query;
  EXPECT_EQ(by_line, (std::map<int64_t, std::string>{{1, "first"}, {3, "third"}, {4, "fourth"}}));
}

TEST(ExperimentSpecFaults, DuplicateKeyNamesFileLineAndKey) {
  const std::string yaml =
      "name: dup\nmodel: {path: m}\nembedding: {path: e}\n"
      "dataset:\n  path: d.jsonl\n  num_samples: 10\n  num_samples: 20\n";
  try {
    experiment::parse_spec(yaml, "dup.yaml");
    FAIL() << "a duplicate key was accepted";
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("dup.yaml:7:"), std::string::npos) << msg;
    EXPECT_NE(msg.find("dataset.num_samples"), std::string::npos) << msg;
    EXPECT_NE(msg.find("duplicate key (first at line 6)"), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace dkv
