// Test helpers: scratch directories, tiny models, tensor comparison.
#pragma once

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <string>

#include "dkv/core/error.h"
#include "dkv/model/tiny_model.h"

namespace dkv::test {

// A fresh directory under the build's temp area, removed at process exit.
std::string scratch_dir(const std::string& name);

// Writes (once per process and options) a tiny checkpoint and returns its directory.
std::string tiny_model_dir(const model::TinyModelOptions& options, const std::string& name);

// Options of the standard test models: init_scale 0.1 so that position errors show in logits.
model::TinyModelOptions tiny_options(model::Architecture arch, uint64_t seed = 7);

double max_abs_diff(const at::Tensor& a, const at::Tensor& b);

std::string source_path(const std::string& relative);  // path inside the source tree

// Expects `fn` to throw InputError whose message contains every fragment.
template <typename Fn>
void expect_input_error(Fn fn, std::initializer_list<std::string> fragments) {
  try {
    fn();
    ADD_FAILURE() << "no error thrown";
  } catch (const InputError& e) {
    for (const auto& f : fragments)
      EXPECT_NE(std::string(e.what()).find(f), std::string::npos) << e.what() << " lacks " << f;
  }
}

}  // namespace dkv::test
