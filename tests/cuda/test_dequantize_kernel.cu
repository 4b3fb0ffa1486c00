// Standalone parity test of the NF4 and int8 dequantization kernels (raw CUDA, no LibTorch):
// fresh random codes (never all zero), random code tables and scales (plain and double-
// quantized), odd sizes, every output dtype and both the 4-byte and the 1-byte NF4 paths,
// against a host loop. The expected value
// is the same single fp32 product rounded once to the output dtype, so results must be
// bit-identical. Exit 0 = pass, 1 = fail, 77 = no device.
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "cuda/dequantize_kernel.h"
#include "kernel_test_util.h"

using dkv::cuda::FloatDtype;
using namespace dkv::cuda::test;

namespace {

// Host value rounded to the output dtype exactly as the kernel does (round to nearest even).
float rounded(float v, FloatDtype t) {
  std::vector<unsigned char> tmp(4);
  store(tmp.data(), 0, t, v);
  return load(tmp.data(), 0, t);
}

bool same_bits(const std::vector<unsigned char>& out, const std::vector<float>& expected, FloatDtype t,
               const char* what) {
  size_t bad = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    const float got = load(out.data(), i, t), want = rounded(expected[i], t);
    if (std::memcmp(&got, &want, sizeof(float)) != 0 && bad++ < 3)
      std::printf("  %s[%zu]: got %.9g, want %.9g\n", what, i, got, want);
  }
  return bad == 0;
}

bool nf4_case(int64_t numel, int64_t blocksize, int byte_shift, bool double_quant, FloatDtype t,
              std::mt19937& gen) {
  const int64_t nbytes = (numel + 1) / 2, blocks = (numel + blocksize - 1) / blocksize;
  std::uniform_int_distribution<int> byte(1, 255);
  std::uniform_real_distribution<float> sym(-1.0f, 1.0f);
  std::vector<uint8_t> packed(nbytes + byte_shift);
  for (auto& b : packed) b = static_cast<uint8_t>(byte(gen));
  const RandomScales scales(blocks, double_quant, gen);
  const auto& absmax = scales.absmax;
  dkv::cuda::DequantizeNf4Params p{};
  for (float& c : p.code) c = sym(gen);  // any table: the kernel must only index it

  DeviceBuffer<uint8_t> dp(packed);
  DeviceBuffer<unsigned char> dout(std::vector<unsigned char>(numel * elem_size(t)));
  p.packed = dp.ptr + byte_shift;
  p.scales = scales.source;
  p.out = dout.ptr;
  p.numel = numel;
  p.blocksize = blocksize;
  p.dtype = t;
  CHECK_CUDA(static_cast<cudaError_t>(dkv::cuda::launch_dequantize_nf4(p, nullptr)));
  CHECK_CUDA(cudaDeviceSynchronize());

  std::vector<float> expected(numel);
  for (int64_t i = 0; i < numel; ++i) {
    const uint8_t b = packed[byte_shift + i / 2];
    expected[i] = p.code[i % 2 == 0 ? b >> 4 : b & 15] * absmax[i / blocksize];
  }
  const bool ok = same_bits(dout.to_host(), expected, t, "nf4");
  std::printf("%s nf4 numel=%lld blocksize=%lld %s path, %s absmax, %s\n", ok ? "ok  " : "FAIL",
              (long long)numel, (long long)blocksize, byte_shift ? "1-byte" : "4-byte",
              double_quant ? "double-quantized" : "plain", dtype_name(t));
  return ok;
}

bool int8_case(int64_t rows, int64_t cols, FloatDtype t, std::mt19937& gen) {
  std::uniform_int_distribution<int> code(-127, 127);
  std::uniform_real_distribution<float> unit(1e-4f, 0.05f);
  std::vector<int8_t> q(rows * cols);
  for (auto& v : q) v = static_cast<int8_t>(code(gen));
  std::vector<float> scale(rows);
  for (auto& s : scale) s = unit(gen);
  DeviceBuffer<int8_t> dq(q);
  DeviceBuffer<float> ds(scale);
  DeviceBuffer<unsigned char> dout(std::vector<unsigned char>(rows * cols * elem_size(t)));
  dkv::cuda::DequantizeInt8Params p{dq.ptr, ds.ptr, dout.ptr, rows, cols, t};
  CHECK_CUDA(static_cast<cudaError_t>(dkv::cuda::launch_dequantize_int8_rows(p, nullptr)));
  CHECK_CUDA(cudaDeviceSynchronize());
  std::vector<float> expected(rows * cols);
  for (int64_t i = 0; i < rows * cols; ++i) expected[i] = static_cast<float>(q[i]) * scale[i / cols];
  const bool ok = same_bits(dout.to_host(), expected, t, "int8");
  std::printf("%s int8 %lldx%lld %s\n", ok ? "ok  " : "FAIL", (long long)rows, (long long)cols, dtype_name(t));
  return ok;
}

}  // namespace

int main() {
  require_device();
  std::mt19937 gen(4321);
  bool ok = true;
  for (auto t : {FloatDtype::f32, FloatDtype::f16, FloatDtype::bf16}) {
    for (int64_t numel : {1, 2, 7, 64, 127, 4096 * 3 + 5, 1 << 20})
      for (int shift : {0, 1})
        for (bool dq : {false, true}) ok &= nf4_case(numel, 64, shift, dq, t, gen);
    ok &= nf4_case(1000, 128, 0, true, t, gen);
    for (auto rc : {std::pair<int64_t, int64_t>{1, 1}, {3, 7}, {129, 257}, {1024, 4096}})
      ok &= int8_case(rc.first, rc.second, t, gen);
  }
  std::printf(ok ? "all kernel cases passed\n" : "kernel cases FAILED\n");
  return ok ? 0 : 1;
}
