// bitsandbytes' serialized 4-bit format (QuantState.as_dict(packed=True) under HF's
// Linear4bit._save_to_state_dict): reading it with every piece checked, and writing it.
#include "dkv/model/bnb_checkpoint.h"

#include <ATen/ATen.h>

#include <filesystem>
#include <fstream>

#include "dkv/core/error.h"
#include "dkv/core/json_util.h"
#include "dkv/model/checkpoint.h"
#include "dkv/model/decoder_weights.h"
#include "dkv/model/model_config.h"
#include "dkv/model/safetensors.h"
#include "dkv/ops/dequantize.h"

namespace dkv::model {

namespace fs = std::filesystem;
namespace ju = json_util;

namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Loads `name` after checking its stored dtype and element count.
at::Tensor expect_tensor(const Checkpoint& ckpt, const std::string& name, const std::string& dtype,
                         int64_t numel) {
  if (!ckpt.has(name))
    throw InputError(ckpt.dir() + ": missing tensor '" + name + "' of a bitsandbytes 4-bit weight");
  const auto& e = ckpt.entry(name);
  int64_t n = 1;
  for (auto s : e.shape) n *= s;
  if (e.dtype != dtype || n != numel)
    throw InputError(ckpt.file_of(name) + ": " + name + ": expected " + dtype + " with " +
                     std::to_string(numel) + " elements, got " + e.dtype + " " + dims(e.shape));
  return ckpt.load(name).reshape({numel});
}

std::string dtype_name_of(const std::string& safetensors_dtype) {
  if (safetensors_dtype == "F16") return "float16";
  if (safetensors_dtype == "BF16") return "bfloat16";
  return "float32";
}

}  // namespace

std::string bnb_nf4_state_key(const std::string& weight_name) {
  return weight_name + ".quant_state.bitsandbytes__nf4";
}

Nf4Weight read_bnb_nf4(const Checkpoint& ckpt, const std::string& name,
                       const std::vector<int64_t>& expected_shape) {
  const auto state_key = bnb_nf4_state_key(name);
  if (!ckpt.has(state_key)) {
    const bool fp4 = ckpt.has(name + ".quant_state.bitsandbytes__fp4");
    throw InputError(ckpt.file_of(name) + ": " + name + ": " +
                     (fp4 ? "saved as bitsandbytes FP4, which dkv does not load (only NF4)"
                          : "no '" + state_key + "' tensor, but config.json declares NF4 weights"));
  }
  const auto where = ckpt.file_of(state_key) + ": " + state_key;
  const auto& state_entry = ckpt.entry(state_key);
  if (state_entry.dtype != "U8" || state_entry.shape.size() != 1)
    throw InputError(where + ": expected a 1-D U8 tensor holding JSON");
  const auto bytes = ckpt.load(state_key).contiguous();
  const auto state = ju::parse(std::string(reinterpret_cast<const char*>(bytes.data_ptr<uint8_t>()),
                                           static_cast<size_t>(bytes.numel())), where);
  if (ju::get_string(state, "quant_type", where) != "nf4")
    throw InputError(where + ": quant_type '" + ju::get_string(state, "quant_type", where) + "': expected nf4");
  const auto& shape_json = ju::require(state, "shape", where);
  std::vector<int64_t> shape;
  for (const auto& d : shape_json) {
    if (!d.is_number_integer()) throw InputError(where + ": key 'shape': expected integers");
    shape.push_back(d.get<int64_t>());
  }
  if (shape != expected_shape)
    throw InputError(where + ": key 'shape': " + dims(shape) + ", but config.json implies " + dims(expected_shape));

  Nf4Weight w;
  w.shape = shape;
  w.blocksize = ju::get_int(state, "blocksize", where);
  if (w.blocksize <= 0 || w.blocksize % 2 != 0)
    throw InputError(where + ": key 'blocksize': " + std::to_string(w.blocksize) + " (expected even, > 0)");
  const int64_t n = w.numel(), blocks = w.blocks();
  w.packed = expect_tensor(ckpt, name, "U8", ceil_div(n, 2));
  const auto code = expect_tensor(ckpt, name + ".quant_map", "F32", 16);
  const auto& nf4 = ops::nf4_code();
  if (!at::equal(code, at::tensor(at::ArrayRef<float>(nf4.data(), nf4.size()), at::kFloat)))
    throw InputError(ckpt.file_of(name + ".quant_map") + ": " + name +
                     ".quant_map differs from bitsandbytes' NF4 code (custom 4-bit maps are not supported)");
  if (state.contains("nested_offset")) {
    w.nested_blocksize = ju::get_int(state, "nested_blocksize", where);
    if (w.nested_blocksize <= 0)
      throw InputError(where + ": key 'nested_blocksize': expected > 0");
    w.offset = static_cast<float>(ju::get_number(state, "nested_offset", where));
    w.absmax_q = expect_tensor(ckpt, name + ".absmax", "U8", blocks);
    w.nested_absmax = expect_tensor(ckpt, name + ".nested_absmax", "F32", ceil_div(blocks, w.nested_blocksize));
    w.nested_code = expect_tensor(ckpt, name + ".nested_quant_map", "F32", 256);
  } else {
    w.absmax = expect_tensor(ckpt, name + ".absmax", "F32", blocks);
  }
  return w;
}

std::vector<std::pair<std::string, at::Tensor>> bnb_nf4_tensors(const std::string& name, const Nf4Weight& w,
                                                                 const std::string& dtype_name) {
  const auto& nf4 = ops::nf4_code();
  // The state as bitsandbytes' pack_dict_to_tensor writes it: json.dumps' key order and
  // separators (", " and ": ").
  std::string shape;
  for (size_t i = 0; i < w.shape.size(); ++i) shape += (i ? ", " : "") + std::to_string(w.shape[i]);
  std::string text = "{\"quant_type\": \"nf4\", \"blocksize\": " + std::to_string(w.blocksize) +
                     ", \"dtype\": \"" + dtype_name + "\", \"shape\": [" + shape + "]";
  std::vector<std::pair<std::string, at::Tensor>> out;
  out.emplace_back(name, w.packed.cpu().view({-1, 1}));
  out.emplace_back(name + ".quant_map", at::tensor(at::ArrayRef<float>(nf4.data(), nf4.size()), at::kFloat));
  if (w.double_quantized()) {
    text += ", \"nested_blocksize\": " + std::to_string(w.nested_blocksize) +
            ", \"nested_dtype\": \"float32\", \"nested_offset\": " +
            nlohmann::json(static_cast<double>(w.offset)).dump();
    out.emplace_back(name + ".absmax", w.absmax_q.cpu());
    out.emplace_back(name + ".nested_absmax", w.nested_absmax.cpu());
    out.emplace_back(name + ".nested_quant_map", w.nested_code.cpu());
  } else {
    out.emplace_back(name + ".absmax", w.absmax.cpu());
  }
  text += "}";
  out.emplace_back(bnb_nf4_state_key(name),
                   at::tensor(at::ArrayRef<uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()),
                              at::kByte));
  return out;
}

void save_bnb_nf4_checkpoint(const std::string& src_dir, const std::string& dst_dir) {
  const auto config_path = src_dir + "/config.json";
  auto config_json = ju::read_file(config_path);
  const auto config = parse_model_config(config_json, config_path);
  if (config.saved_quantization != Quantization::none)
    throw InputError(config_path + ": the checkpoint is already quantized");
  const auto ckpt = Checkpoint::open(src_dir);
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const auto& slot : decoder_weight_table(config)) {
    if (!ckpt.has(slot.name))
      throw InputError(src_dir + ": missing tensor '" + slot.name + "' required by " + config.architecture_name);
    if (slot.kind != WeightKind::linear) {
      tensors.emplace_back(slot.name, ckpt.load(slot.name));
      continue;
    }
    const auto& e = ckpt.entry(slot.name);
    const auto w = quantize_nf4(ckpt.load(slot.name, at::kFloat).view(slot.shape));
    for (auto& t : bnb_nf4_tensors(slot.name, w, dtype_name_of(e.dtype))) tensors.push_back(std::move(t));
  }
  fs::create_directories(dst_dir);
  for (const auto& entry : fs::directory_iterator(src_dir)) {
    const auto file = entry.path().filename().string();
    if (!entry.is_regular_file() || file == "config.json" || file == "model.safetensors.index.json" ||
        entry.path().extension() == ".safetensors")
      continue;
    fs::copy_file(entry.path(), fs::path(dst_dir) / file, fs::copy_options::overwrite_existing);
  }
  write_safetensors(dst_dir + "/model.safetensors", tensors, {{"format", "pt"}});
  auto quantized = config;
  quantized.saved_quantization = Quantization::nf4;
  config_json["quantization_config"] = to_hf_json(quantized)["quantization_config"];
  std::ofstream out(dst_dir + "/config.json");
  out << config_json.dump(2) << "\n";
  if (!out) throw IoError("write failed: " + dst_dir + "/config.json");
}

}  // namespace dkv::model
