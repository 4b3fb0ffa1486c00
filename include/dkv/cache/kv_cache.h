// KvCache: per-layer keys and values plus the RoPE position of every entry. Knows nothing of
// layers' weights; the decoder extends it, experiments cut, clone, batch and re-position it.
#pragma once

#include <ATen/core/Tensor.h>

#include <vector>

#include "dkv/cache/rope.h"

namespace dkv::cache {

// Entries are stored right-padded: sequence b's entries are the indices t with valid[b, t];
// padded slots (from batching sequences of different lengths) are never attended to.
// A sequence's *length* is its number of valid entries. Keys are stored already rotated at
// their position, as HF caches them.
class KvCache {
 public:
  KvCache(int64_t num_layers, RopeSpec rope);  // every layer rotates with `rope`
  // One spec per layer (Gemma 3: sliding layers with the local theta, full ones with the global).
  explicit KvCache(std::vector<RopeSpec> layer_ropes);
  // Copies would share tensors that reposition() rotates in place: use clone().
  KvCache(const KvCache&) = delete;
  KvCache& operator=(const KvCache&) = delete;
  KvCache(KvCache&&) = default;
  KvCache& operator=(KvCache&&) = default;

  int64_t num_layers() const { return static_cast<int64_t>(keys_.size()); }
  bool empty() const { return !positions_.defined(); }
  int64_t batch() const;     // B (0 when empty)
  int64_t capacity() const;  // T: entries per sequence including padding (0 when empty)
  const RopeSpec& rope() const { return ropes_.at(0); }  // layer 0's; see rope(layer)
  const RopeSpec& rope(int64_t layer) const { return ropes_.at(layer); }

  const at::Tensor& keys(int64_t layer) const { return keys_.at(layer); }      // [B, Hkv, T, D]
  const at::Tensor& values(int64_t layer) const { return values_.at(layer); }  // [B, Hkv, T, D]
  const at::Tensor& positions() const { return positions_; }  // [B, T] int64
  const at::Tensor& valid() const { return valid_; }          // [B, T] bool

  at::Tensor lengths() const;   // [B] int64: valid entries per sequence
  at::Tensor ordinals() const;  // [B, T] int64: rank of each entry among its sequence's valid ones
  // Positions HF gives n appended tokens by default: length + 0 .. n-1 (the number of entries,
  // not the last position + 1: this is what leaves an uncorrected cut cache "broken").
  at::Tensor next_positions(int64_t n) const;  // [B, n] int64

  // Decoder interface. Returns cat(cached, new) along T for one layer; stores it if `store`.
  // k, v: [B, Hkv, n, D]. After all layers, `commit_entries` records the new entries' positions
  // and validity (only when storing).
  std::pair<at::Tensor, at::Tensor> extend_layer(int64_t layer, const at::Tensor& k,
                                                 const at::Tensor& v, bool store);
  void commit_entries(const at::Tensor& positions, const at::Tensor& valid);

  // Keeps entries `indices` (increasing, in [0, T)) of every sequence, in order.
  void keep(const std::vector<int64_t>& indices);
  // A new cache holding entries `indices` of this one (same checks as keep); this is untouched.
  KvCache gather(const std::vector<int64_t>& indices) const;
  // Single-sequence caches only: drops padding entries, so entry indices count real tokens.
  void compact();
  // Re-rotates the keys of valid entries with index >= first_entry by delta[b] (each layer with
  // its own RoPE spec) and moves their positions by the same amount. Throws Error for RoPE variants where a delta rotation is not
  // exact (dynamic NTK, YaRN, LongRoPE).
  void reposition(const std::vector<int64_t>& delta, int64_t first_entry = 0);
  // General form: delta [B, T] int64 per entry (padding entries must be 0).
  void reposition_entries(const at::Tensor& delta);

  KvCache clone() const;
  // Replaces one layer's keys or values with a tensor of the same shape, dtype and device
  // (cache operations that mix caches: keys from one, values from another). The tensor is
  // held, not copied: pass a fresh one.
  void replace_keys(int64_t layer, at::Tensor keys);
  void replace_values(int64_t layer, at::Tensor values);
  // Stacks caches along the batch, right-padding to the longest.
  static KvCache concat_batch(const std::vector<const KvCache*>& parts);
  // Sequences `rows` of this cache, in that order.
  KvCache select_batch(const std::vector<int64_t>& rows) const;

 private:
  std::vector<RopeSpec> ropes_;  // per layer
  std::vector<at::Tensor> keys_, values_;
  at::Tensor positions_, valid_;
};

}  // namespace dkv::cache
