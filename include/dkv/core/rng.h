// A small portable PRNG (xoshiro256**, seeded through SplitMix64; Blackman & Vigna 2018).
// Its outputs are fixed by this code alone, unlike std:: distributions or LibTorch generators,
// so every draw dkv makes (sampling, random prefixes, dataset shuffles, tiny weights) is the
// same on every machine, compiler and device.
#pragma once

#include <cstdint>
#include <initializer_list>

namespace dkv {

class Rng {
 public:
  explicit Rng(uint64_t seed);
  // A stream keyed by several integers (e.g. {seed, sample index, purpose}): distinct keys
  // give independent-looking streams, so draws never depend on processing order.
  static Rng keyed(std::initializer_list<uint64_t> key);

  uint64_t next_u64();
  double uniform();                   // [0, 1) with 53 random bits
  uint64_t below(uint64_t bound);     // uniform in [0, bound), unbiased (rejection)
  double normal();                    // standard normal (Box-Muller, one value per call)

 private:
  uint64_t s_[4];
};

}  // namespace dkv
