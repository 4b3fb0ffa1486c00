// `dkv run` under bad options and faults, end to end on tiny models: each ends in a clear error
// or a clean stop within bounded time, and never loses a results file that was written.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "dkv/experiment/plan.h"
#include "dkv/io/results_file.h"
#include "dkv/io/run_lock.h"
#include "support.h"

namespace dkv {
namespace {

namespace fs = std::filesystem;

struct Outcome {
  int code = -1;       // exit code; 124 = still running at the timeout
  std::string output;  // stdout + stderr
};

// Runs the dkv binary with a wall-clock bound, so that a hang fails the test instead of CI.
Outcome dkv(const std::string& args, int timeout_s = 120) {
  const auto cmd = "timeout -s KILL " + std::to_string(timeout_s) + " " + std::string(DKV_BINARY) + " " + args + " 2>&1";
  Outcome o;
  FILE* p = popen(cmd.c_str(), "r");
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) o.output.append(buf, n);
  const int status = pclose(p);
  o.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return o;
}

std::string slurp(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class HardeningRun : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(test::scratch_dir("hardening-run"));
    const std::string shape = " --arch mistral --seed 3 --hidden 64 --intermediate 128 --layers 1 --heads 4 --kv-heads 2 --tokenizer " +
                              test::source_path("tests/data/tokenizers/mistral_sp");
    ASSERT_EQ(dkv("make-tiny-model " + *dir_ + "/decoder --init-scale 0.1" + shape).code, 0);
    ASSERT_EQ(dkv("make-tiny-model " + *dir_ + "/nan-decoder --init-scale nan" + shape).code, 0);
    ASSERT_EQ(dkv("make-tiny-model " + *dir_ + "/embedding --arch bert --seed 4").code, 0);
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::string config(const std::string& name, const std::string& decoder = "decoder") {
    const auto path = *dir_ + "/" + name + ".yaml";
    std::ofstream(path) << "name: " << name << "\nmodel: {path: " << *dir_ << "/" << decoder
                        << "}\nembedding: {path: " << *dir_ << "/embedding}\ndataset: {path: "
                        << test::source_path("configs/data/demo_msmarco.jsonl")
                        << ", num_samples: 4}\nsurrogate: {max_new_tokens: 3}\nruntime: {threads: 1}\noutput: {dir: "
                        << *dir_ << "/out-" << name << "}\n";
    return path;
  }
  static std::string out(const std::string& name) { return *dir_ + "/out-" + name; }
  static std::string* dir_;
};
std::string* HardeningRun::dir_ = nullptr;

TEST_F(HardeningRun, NonPositiveChunkIsRefusedAtOnce) {
  for (const char* chunk : {"0", "-3", "x"}) {
    const auto o = dkv("run " + config("chunk") + " --quiet --chunk " + chunk, 30);
    EXPECT_NE(o.code, 0) << chunk;
    EXPECT_NE(o.code, 124) << "--chunk " << chunk << " hung";
    EXPECT_NE(o.output.find("--chunk: expected a positive number of samples"), std::string::npos) << o.output;
  }
  EXPECT_FALSE(fs::exists(out("chunk") + "/results.h5"));
}

TEST_F(HardeningRun, ChunkIsStoredAndCheckedThreadCountOnlyWarned) {
  const auto cfg = config("identity");
  ASSERT_EQ(dkv("run " + cfg + " --quiet --chunk 2").code, 0);
  const auto results = out("identity") + "/results.h5";
  const auto before = slurp(results);
  EXPECT_EQ(io::read_results(results).identity.chunk_size, 2);
  const auto other = dkv("run " + cfg + " --quiet --chunk 3");
  EXPECT_EQ(other.code, 1);
  EXPECT_NE(other.output.find("computed with --chunk 2, this run asks for --chunk 3"), std::string::npos) << other.output;
  EXPECT_EQ(slurp(results), before);
  const auto threads = dkv("run " + cfg + " --quiet --chunk 2 --threads 2");
  EXPECT_EQ(threads.code, 0) << threads.output;
  EXPECT_NE(threads.output.find("warning: "), std::string::npos) << threads.output;
  EXPECT_NE(threads.output.find("1 BLAS thread(s) per rank, this run uses 2"), std::string::npos) << threads.output;
}

TEST_F(HardeningRun, NanWeightsStopWithAnErrorAndFlaggedRows) {
  const auto o = dkv("run " + config("nan", "nan-decoder") + " --quiet --chunk 2");
  EXPECT_EQ(o.code, 1);
  EXPECT_NE(o.output.find("is NaN or infinite"), std::string::npos) << o.output;
  const auto t = io::read_results(out("nan") + "/results.h5");
  ASSERT_GT(t.num_done(), 0);
  EXPECT_LT(t.num_done(), 4);  // stopped after the first work unit
  for (const auto& r : t.rows)
    if (r.done)
      for (auto f : r.flags) EXPECT_TRUE(f & experiment::kNonFinite);
}

TEST_F(HardeningRun, SecondRunOnAFolderInUseIsRefused) {
  const auto cfg = config("locked");
  io::RunLock held(out("locked"));  // as a running `dkv run` holds it
  const auto o = dkv("run " + cfg + " --quiet");
  EXPECT_EQ(o.code, 1);
  EXPECT_NE(o.output.find("is in use by another dkv run (pid "), std::string::npos) << o.output;
  EXPECT_FALSE(fs::exists(out("locked") + "/results.h5"));
}

TEST_F(HardeningRun, FreshTwiceKeepsBothEarlierFiles) {
  const auto cfg = config("fresh");
  ASSERT_EQ(dkv("run " + cfg + " --quiet").code, 0);
  const auto first = slurp(out("fresh") + "/results.h5");
  ASSERT_EQ(dkv("run " + cfg + " --quiet --fresh").code, 0);
  const auto second = slurp(out("fresh") + "/results.h5");
  ASSERT_EQ(dkv("run " + cfg + " --quiet --fresh").code, 0);
  int olds = 0;
  bool kept_first = false;
  for (const auto& e : fs::directory_iterator(out("fresh"))) {
    if (e.path().extension() != ".old") continue;
    ++olds;
    kept_first = kept_first || slurp(e.path().string()) == first;
  }
  EXPECT_EQ(olds, 2);
  EXPECT_TRUE(kept_first) << "the first results were overwritten";
}

TEST_F(HardeningRun, DiskFullDuringAFlushExitsCleanlyAndKeepsTheFile) {
  const auto cfg = config("full");
  const auto dir = out("full");
  fs::create_directories(dir);
  if (std::system(("mount -t tmpfs -o size=2m tmpfs '" + dir + "' 2>/dev/null").c_str()) != 0)
    GTEST_SKIP() << "needs root and mount -t tmpfs for a real full disk";
  ASSERT_EQ(dkv("run " + cfg + " --quiet").code, 0);
  const auto results = dir + "/results.h5";
  const auto before = slurp(results);
  std::system(("dd if=/dev/zero of='" + dir + "/filler' bs=4k 2>/dev/null").c_str());
  // The resume rewrites the file first: that flush meets the full disk.
  const auto o = dkv("run " + cfg + " --quiet");
  std::system(("cp '" + results + "' '" + *dir_ + "/full-after.h5'; umount '" + dir + "'").c_str());
  EXPECT_EQ(o.code, 1) << o.output;  // not 139: no crash in HDF5's close-at-exit
  EXPECT_NE(o.output.find("write(" + results + ".tmp): No space left on device"), std::string::npos) << o.output;
  EXPECT_EQ(slurp(*dir_ + "/full-after.h5"), before);
}

}  // namespace
}  // namespace dkv
