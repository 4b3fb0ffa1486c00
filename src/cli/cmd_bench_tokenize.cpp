// `dkv bench tokenize`: dkv's encode rate next to HF `tokenizers`' encode_batch on the same
// ~10 MB of text, measured in the same run (tools/bench_tokenize_hf.py runs the HF side), with
// a checksum of all ids so that the two are known to produce the same tokens.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "cli/bench_env.h"
#include "cli/commands.h"
#include "dkv/core/error.h"
#include "dkv/core/json_util.h"
#include "dkv/tokenizer/tokenizer.h"

namespace dkv::cli {

namespace {

namespace fs = std::filesystem;

struct TokenizeBenchArgs {
  std::string tokenizer, text, python, tools;
  double mb = 10;
  int threads = 1, repeats = 3;
};

// tools/ of the source tree: --tools, else the first ancestor of the dkv binary that has it.
std::string find_tools(const std::string& given) {
  if (!given.empty()) return given;
  std::error_code ec;
  for (fs::path p = fs::read_symlink("/proc/self/exe", ec).parent_path(); !p.empty();
       p = p.parent_path()) {
    if (fs::exists(p / "tools" / "bench_tokenize_hf.py")) return (p / "tools").string();
    if (p == p.parent_path()) break;
  }
  throw ConfigError("bench tokenize: cannot find tools/bench_tokenize_hf.py above the dkv "
                    "binary; pass --tools <source>/tools");
}

std::string find_python(const std::string& given, const std::string& tools) {
  if (!given.empty()) return given;
  if (const char* p = std::getenv("DKV_PYTHON")) return p;
  fs::path venv = fs::path(tools).parent_path() / ".venv" / "bin" / "python";
  return fs::exists(venv) ? venv.string() : "python3";
}

std::string run(const std::string& cmd) {
  FILE* f = popen(cmd.c_str(), "r");
  if (!f) throw IoError("popen failed: " + cmd);
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, f)) out.append(buf, n);
  if (pclose(f) != 0) throw IoError("command failed: " + cmd);
  return out;
}

std::vector<std::string> read_docs(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw IoError("open failed: " + path);
  std::vector<std::string> docs;
  std::string line;
  for (size_t n = 1; std::getline(in, line); ++n)
    if (!line.empty())
      docs.push_back(json_util::get_string(json_util::parse(line, path + ":" + std::to_string(n)),
                                           "text", path + ":" + std::to_string(n)));
  return docs;
}

void bench_tokenize(const TokenizeBenchArgs& a) {
  const std::string tools = find_tools(a.tools);
  const std::string py = find_python(a.python, tools);
  std::string text = a.text;
  if (text.empty()) {
    text = (fs::temp_directory_path() / "dkv_bench_tokenize.jsonl").string();
    run(py + " " + tools + "/bench_tokenize_hf.py write-text " + text + " --mb " +
        std::to_string(a.mb));
  }
  auto tok = tokenizer::Tokenizer::load(a.tokenizer);
  const auto docs = read_docs(text);
  size_t bytes = 0;
  for (const auto& d : docs) bytes += d.size();

  // Documents are dealt round-robin to the threads; each encodes with special tokens.
  std::vector<std::vector<int64_t>> ids(docs.size());
  auto encode_all = [&] {
    std::vector<std::thread> pool;
    for (int t = 0; t < a.threads; ++t)
      pool.emplace_back([&, t] {
        for (size_t i = t; i < docs.size(); i += a.threads) ids[i] = tok.encode(docs[i], true);
      });
    for (auto& th : pool) th.join();
  };
  const double s = interleaved_median_seconds(a.repeats, {encode_all})[0];
  uint64_t tokens = 0, checksum = 0;
  for (const auto& v : ids) {
    tokens += v.size();
    for (size_t i = 0; i < v.size(); ++i) checksum += static_cast<uint64_t>(v[i]) * (i + 1);
  }

  const std::string threads = std::to_string(a.threads);
  auto hf = nlohmann::json::parse(run(
      "RAYON_NUM_THREADS=" + threads + " RAYON_RS_NUM_CPUS=" + threads + " " + py + " " + tools +
      "/bench_tokenize_hf.py measure --tokenizer " + a.tokenizer + " --text " + text +
      " --threads " + threads + " --repeats " + std::to_string(a.repeats)));
  const double hf_s = hf["seconds"].get<double>();
  const bool same = hf["tokens"].get<uint64_t>() == tokens && hf["checksum"].get<uint64_t>() == checksum;

  std::printf("text: %zu documents, %.1f MB (%s); tokenizer %s (%s); %d thread(s), median of %d\n",
              docs.size(), bytes / 1e6, text.c_str(), a.tokenizer.c_str(),
              tok.model_type().c_str(), a.threads, a.repeats);
  std::printf("dkv:        %llu tokens in %.3f s -> %.0f tokens/s\n", (unsigned long long)tokens, s,
              tokens / s);
  std::printf("hf tokenizers encode_batch: %llu tokens in %.3f s -> %.0f tokens/s\n",
              (unsigned long long)hf["tokens"].get<uint64_t>(), hf_s,
              hf["tokens"].get<uint64_t>() / hf_s);
  std::printf("ratio: dkv / hf = %.2f; ids identical: %s\n", hf_s / s, same ? "yes" : "NO");
  if (!same) throw InternalError("bench tokenize: dkv and HF ids differ on " + text);
}

}  // namespace

void add_bench_tokenize(CLI::App& app) {
  CLI::App* bench = app.get_subcommand("bench");  // registered by add_bench (cmd_bench.cpp)
  auto a = std::make_shared<TokenizeBenchArgs>();
  auto* cmd = bench->add_subcommand("tokenize", "encode tokens/s next to HF tokenizers'");
  cmd->add_option("--tokenizer", a->tokenizer, "HF tokenizer directory")->required();
  cmd->add_option("--text", a->text, "JSONL {\"text\": ...} (default: generate --mb of text)");
  cmd->add_option("--mb", a->mb, "megabytes of generated text");
  cmd->add_option("--threads", a->threads, "encode threads, for dkv and HF alike");
  cmd->add_option("--repeats", a->repeats, "timed repeats after one warm-up (median)");
  cmd->add_option("--python", a->python, "python with `tokenizers` (default $DKV_PYTHON, .venv)");
  cmd->add_option("--tools", a->tools, "the source tree's tools/ directory");
  cmd->callback([a] { bench_tokenize(*a); });
}

}  // namespace dkv::cli
