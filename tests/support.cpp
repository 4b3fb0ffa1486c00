// Test helpers.
#include "support.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>

namespace dkv::test {

namespace fs = std::filesystem;

namespace {
struct ScratchRoot {
  fs::path path;
  ScratchRoot() {
    char tmpl[] = "/tmp/dkv-test-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~ScratchRoot() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};
ScratchRoot& root() {
  static ScratchRoot r;
  return r;
}
}  // namespace

std::string scratch_dir(const std::string& name) {
  auto p = root().path / name;
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

std::string tiny_model_dir(const model::TinyModelOptions& options, const std::string& name) {
  static std::map<std::string, std::string> made;
  auto it = made.find(name);
  if (it != made.end()) return it->second;
  auto dir = scratch_dir("model-" + name);
  model::write_tiny_model(dir, options);
  return made[name] = dir;
}

model::TinyModelOptions tiny_options(model::Architecture arch, uint64_t seed) {
  model::TinyModelOptions o;
  o.architecture = arch;
  o.seed = seed;
  o.vocab_size = 96;
  o.hidden_size = 64;
  o.intermediate_size = 112;
  o.num_hidden_layers = 2;
  o.num_attention_heads = 4;
  o.num_key_value_heads = 2;
  o.init_scale = 0.1;
  return o;
}

double max_abs_diff(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

std::string source_path(const std::string& relative) {
  return std::string(DKV_SOURCE_DIR) + "/" + relative;
}

}  // namespace dkv::test
