// The run loop: validate everything, resume from results.h5, process chunks, flush, summarize.
#include "dkv/experiment/runner.h"

#include <ATen/ATen.h>
#ifdef DKV_HAS_CUDA
#include <c10/cuda/CUDAFunctions.h>
#endif
#include <ATen/Parallel.h>
#include <ATen/Context.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <atomic>
#include <iostream>
#include <mutex>
#include <thread>
#include <memory>

#include "dkv/core/error.h"
#include "dkv/core/fingerprint.h"
#include "dkv/experiment/chunk.h"
#include "dkv/experiment/token_dump.h"
#include "dkv/io/results_file.h"
#include "dkv/io/run_lock.h"
#include "dkv/dist/row_codec.h"
#include "dkv/dist/stop_signal.h"
#include "dkv/dist/world.h"
#include "dkv/model/decoder.h"
#include "dkv/model/sentence_embedder.h"

namespace dkv::experiment {

namespace fs = std::filesystem;

namespace {

at::ScalarType dtype_of(const std::string& name) {
  if (name == "fp16") return at::kHalf;
  if (name == "bf16") return at::kBFloat16;
  return at::kFloat;
}

io::RunIdentity identity_of(const ExperimentSpec& spec, const TextSide& text, int64_t chunk_size, int threads) {
  io::RunIdentity id;
  id.dkv_version = DKV_VERSION;
  auto resolved = spec;
  resolved.output.dir.clear();  // where results go does not change them
  // Nor, beyond the last bits (README: Distributed runs), does the thread count: stored apart
  // and warned about on resume, not part of the hash that refuses a resume.
  resolved.runtime.threads = 0;
  id.chunk_size = chunk_size;
  id.blas_threads = threads;
  id.config_yaml = resolved_yaml(resolved);
  id.model_fingerprint = fingerprint_dir(spec.model.path);
  id.tokenizer_fingerprint = text.tokenizer_fingerprint;
  id.embedding_fingerprint = fingerprint_dir(spec.embedding.path);
  id.dataset_fingerprint = fingerprint_file(spec.dataset.path);
  id.config_hash = fingerprint_bytes(id.config_yaml + id.model_fingerprint + id.tokenizer_fingerprint +
                                     id.embedding_fingerprint + id.dataset_fingerprint);
  return id;
}

std::string describe_mismatch(const io::RunIdentity& a, const io::RunIdentity& b) {
  std::string out;
  auto cmp = [&](const char* what, const std::string& x, const std::string& y) {
    if (x != y) out += std::string(out.empty() ? "" : ", ") + what;
  };
  cmp("config", a.config_yaml, b.config_yaml);
  cmp("model", a.model_fingerprint, b.model_fingerprint);
  cmp("tokenizer", a.tokenizer_fingerprint, b.tokenizer_fingerprint);
  cmp("embedding model", a.embedding_fingerprint, b.embedding_fingerprint);
  cmp("dataset", a.dataset_fingerprint, b.dataset_fingerprint);
  return out.empty() ? "dkv version" : out;
}

// model.device: cuda (or auto when LibTorch sees GPUs and dkv has its kernels) -> GPU
// (node-local rank modulo the visible GPUs), so each rank on a node drives its own device and
// makes it current (no stray context on GPU 0); otherwise the CPU.
at::Device run_device(const std::string& device, int local_rank) {
#ifdef DKV_HAS_CUDA
  const bool kernels = true;
#else
  const bool kernels = false;  // re-positioning and quantized layers would fail on a GPU
#endif
  const bool gpus = at::hasCUDA() && at::getNumGPUs() > 0;
  if (device == "cuda" && !(gpus && kernels))
    throw ConfigError(!gpus ? "model.device: cuda was asked for, but this dkv's LibTorch sees no CUDA device "
                              "(set model.device: cpu, or build against a LibTorch with CUDA)"
                            : "model.device: cuda was asked for, but this dkv was built without its CUDA "
                              "kernels (reconfigure with -DDKV_WITH_CUDA=ON where nvcc exists)");
  if (device == "cpu" || !gpus || !kernels) return at::kCPU;
  const auto index = static_cast<c10::DeviceIndex>(local_rank % static_cast<int>(at::getNumGPUs()));
#ifdef DKV_HAS_CUDA
  c10::cuda::set_device(index);
#endif
  return at::Device(at::kCUDA, index);
}

void progress(int64_t done, int64_t total, int64_t done_now, double secs, bool final) {
  const double rate = secs > 0 ? done_now / secs : 0;
  const double eta = rate > 0 ? (total - done) / rate : 0;
  std::fprintf(stderr, "%s%lld/%lld samples, %.2f samples/s, ETA %.0f s%s", final ? "" : "\r",
               (long long)done, (long long)total, rate, eta, final ? "\n" : "");
  std::fflush(stderr);
}

// Rank 0: the results table to continue (resume), or a new one. Refuses a file from another
// run unless `fresh`, which renames it aside; foreign or damaged files are errors, untouched.
io::ResultsTable open_table(const ExperimentSpec& spec, const io::RunIdentity& identity,
                            const std::vector<Sample>& samples, const std::string& path, bool fresh,
                            bool quiet) {
  auto set_aside = [&] {
    const auto aside = io::set_aside(path, io::utc_now());
    std::fprintf(stderr, "kept the previous results as %s\n", aside.c_str());
  };
  std::vector<std::string> ids, names;
  for (const auto& c : spec.conditions) {
    ids.push_back(c.id);
    names.push_back(c.name);
  }
  io::ResultsTable table;
  if (fs::exists(path)) {
    auto existing = io::read_results(path);  // InputError for foreign/corrupt files, untouched
    if (existing.identity.config_hash != identity.config_hash ||
        existing.rows.size() != samples.size() || existing.condition_ids != ids) {
      if (!fresh)
        throw ConfigError(path + " was written by a different run (" +
                          describe_mismatch(existing.identity, identity) +
                          " differ); use another --out folder, or --fresh to set it aside and start over");
      set_aside();
      table = io::new_table(identity, ids, names, static_cast<int64_t>(samples.size()));
    } else if (fresh) {
      set_aside();
      table = io::new_table(identity, ids, names, static_cast<int64_t>(samples.size()));
    } else if (existing.identity.chunk_size != identity.chunk_size) {
      throw ConfigError(path + " was computed with --chunk " + std::to_string(existing.identity.chunk_size) +
                        ", this run asks for --chunk " + std::to_string(identity.chunk_size) +
                        ": batching is per work unit, so the rows would mix two batchings; resume with --chunk " +
                        std::to_string(existing.identity.chunk_size) + ", or use --fresh to set it aside");
    } else {
      if (existing.identity.blas_threads != identity.blas_threads)
        std::fprintf(stderr,
                     "warning: %s was started with %lld BLAS thread(s) per rank, this run uses %d: rows computed "
                     "now may differ from the earlier ones in the last bits (README: Distributed runs)\n",
                     path.c_str(), (long long)existing.identity.blas_threads, (int)identity.blas_threads);
      table = std::move(existing);
      if (!quiet)
        std::fprintf(stderr, "resuming: %lld of %zu samples already done\n", (long long)table.num_done(),
                     samples.size());
    }
  } else {
    table = io::new_table(identity, ids, names, static_cast<int64_t>(samples.size()));
  }
  if (table.surrogate_names.empty())
    for (const auto& src : spec.surrogates) table.surrogate_names.push_back(src.name);
  return table;
}

}  // namespace

namespace {

// Rank 0's copy of the results: rows from every rank land here; flushes are atomic file
// replacements (io/results_file.h), at least every checkpoint_every samples.
class SharedTable {
 public:
  SharedTable(io::ResultsTable table, std::string path, int64_t checkpoint_every, int64_t first_unit, bool quiet)
      : table_(std::move(table)), path_(std::move(path)), every_(checkpoint_every), first_unit_(first_unit),
        quiet_(quiet), start_(std::chrono::steady_clock::now()) {}

  void insert(std::vector<std::pair<int64_t, io::SampleRow>> rows) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [i, r] : rows) {
      if (r.error.empty()) {
        ++computed_;
        for (double v : r.nll) finite_ += std::isfinite(v);
      }
      table_.rows.at(i) = std::move(r);
      ++since_flush_;
      ++done_now_;
    }
    if (since_flush_ >= every_) flush_locked();
    if (!quiet_) progress(table_.num_done(), table_.rows.size(), done_now_, elapsed(), false);
  }
  // Non-empty once the first work units came back computed but without one finite NLL: NaN or
  // overflowing weights, which no later sample will fix. The rows stay saved (flagged).
  std::string all_non_finite() const {
    std::lock_guard<std::mutex> lock(mutex_);
    if (finite_ > 0 || computed_ == 0 || done_now_ < first_unit_) return "";
    return "every NLL of the " + std::to_string(computed_) +
           " samples computed so far is NaN or infinite (flagged non-finite in " + path_ +
           "): the model's weights hold NaN/inf or overflow in model.dtype; check the checkpoint";
  }
  void flush() {
    std::lock_guard<std::mutex> lock(mutex_);
    flush_locked();
  }
  // Flushes and ends the process with `code` while holding the table, so that no other thread
  // writes after it (used when work in flight is abandoned).
  [[noreturn]] void flush_and_end(const dist::World& world, int code) {
    std::lock_guard<std::mutex> lock(mutex_);
    flush_locked();
    std::fflush(stderr);
    world.abort(code);
  }
  const io::ResultsTable& table() const { return table_; }
  std::string done_text() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return std::to_string(table_.num_done()) + "/" + std::to_string(table_.rows.size());
  }
  int64_t done_now() const { return done_now_; }
  double elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  void flush_locked() {
    if (since_flush_ == 0 && flushed_once_) return;
    io::write_results(path_, table_);
    since_flush_ = 0;
    flushed_once_ = true;
  }
  mutable std::mutex mutex_;
  io::ResultsTable table_;
  std::string path_;
  int64_t every_, first_unit_, since_flush_ = 0, done_now_ = 0, computed_ = 0, finite_ = 0;
  bool flushed_once_ = false;
  bool quiet_;
  std::chrono::steady_clock::time_point start_;
};

// Work units not yet done, handed out in index order until a stop is requested.
class ChunkQueue {
 public:
  explicit ChunkQueue(std::vector<std::vector<int64_t>> chunks) : chunks_(std::move(chunks)) {}
  std::vector<int64_t> pop() {
    if (dist::stop_requested() || closed_) return {};
    const size_t i = next_.fetch_add(1);
    return i < chunks_.size() ? chunks_[i] : std::vector<int64_t>{};
  }
  void close() { closed_ = true; }

 private:
  std::vector<std::vector<int64_t>> chunks_;
  std::atomic<size_t> next_{0};
  std::atomic<bool> closed_{false};
};

// Non-finite NLLs of rows computed without error get kNonFinite, so the report counts them
// apart from failed samples.
void flag_non_finite(io::SampleRow& row) {
  if (!row.error.empty()) return;
  for (size_t c = 0; c < row.nll.size(); ++c)
    if (!std::isfinite(row.nll[c])) row.flags[c] |= kNonFinite;
}

std::vector<std::pair<int64_t, io::SampleRow>> compute(const RunContext& ctx, const std::vector<int64_t>& chunk,
                                                      TokenDump* dump) {
  std::vector<PlannedSample> plans;
  auto rows = process_chunk(ctx, chunk, dump ? &plans : nullptr);
  if (dump) dump->write(ctx.spec, plans);
  std::vector<std::pair<int64_t, io::SampleRow>> out;
  for (size_t k = 0; k < chunk.size(); ++k) {
    flag_non_finite(rows[k]);
    out.emplace_back(chunk[k], std::move(rows[k]));
  }
  return out;
}

// An error in one of rank 0's helper threads: nothing can be handed back to the main thread
// while it computes, so report it and end the run (every rank; rows flushed before stay).
[[noreturn]] void fail_from_thread(const dist::World& world, const char* what) {
  std::fprintf(stderr, "dkv: rank %d: error: %s\n", world.rank(), what);
  std::fflush(stderr);
  world.abort(1);
}

// Rank 0's service thread: each message from a worker carries its finished rows and asks for
// the next chunk; the reply is that chunk, or an empty one meaning stop. A kTagStop message
// relays a signal that reached a worker: the whole run stops.
void serve_workers(const dist::World& world, SharedTable& table, ChunkQueue& queue) {
  try {
    int active = world.size() - 1;
    while (active > 0) {
      int from = 0, tag = 0;
      const auto bytes = world.recv(-1, -1, &from, &tag);
      if (tag == dist::World::kTagStop) {
        dist::request_stop();
        continue;
      }
      if (tag != dist::World::kTagRows) continue;
      auto rows = dist::decode_rows(bytes);
      if (!rows.empty()) table.insert(std::move(rows));
      if (!table.all_non_finite().empty()) queue.close();
      const auto next = queue.pop();
      world.send(from, dist::World::kTagWork, dist::encode_indices(next));
      if (next.empty()) --active;
    }
  } catch (const std::exception& e) {
    fail_from_thread(world, e.what());
  }
}

// Rank 0's stop watcher: when a stop arrives (here or relayed), flush every finished row at
// once (mpirun and SLURM may kill the ranks a few seconds later), then give the work in flight
// `grace_s` to come back; past it, flush again and end the run with kExitResubmit.
class StopWatcher {
 public:
  StopWatcher(const dist::World& world, SharedTable& table, double grace_s, bool quiet)
      : thread_([this, &world, &table, grace_s, quiet] { watch(world, table, grace_s, quiet); }) {}
  ~StopWatcher() {
    done_ = true;
    thread_.join();
  }

 private:
  void watch(const dist::World& world, SharedTable& table, double grace_s, bool quiet) {
    try {
      while (!done_ && !dist::stop_requested()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (done_) return;
      const auto t0 = std::chrono::steady_clock::now();
      table.flush();
      if (!quiet)
        std::fprintf(stderr, "\nstop requested: finished samples saved (%s); waiting up to %.0f s for the work in "
                     "flight\n", table.done_text().c_str(), grace_s);
      while (!done_) {
        const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (waited >= grace_s) {
          std::fprintf(stderr, "stop: work in flight abandoned after %.0f s (its samples rerun on resume)\n", waited);
          table.flush_and_end(world, dist::kExitResubmit);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    } catch (const std::exception& e) {
      fail_from_thread(world, e.what());
    }
  }
  std::atomic<bool> done_{false};
  std::thread thread_;
};

// A worker's stop relay: tells rank 0 as soon as this rank sees a stop signal, so the run
// stops without waiting for this rank's chunk in flight.
class StopRelay {
 public:
  explicit StopRelay(const dist::World& world)
      : thread_([this, &world] {
          try {
            while (!done_ && !dist::stop_requested()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
            if (!done_) world.send(0, dist::World::kTagStop, "");
          } catch (const std::exception&) {
            // The run is ending anyway; the rows message after this chunk still reaches rank 0.
          }
        }) {}
  ~StopRelay() {
    done_ = true;
    thread_.join();
  }

 private:
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace

RunResult run_experiment(const ExperimentSpec& spec, const RunOptions& options, const dist::World& world) {
  if (options.chunk_size <= 0)
    throw ConfigError("--chunk: must be a positive number of samples per work unit, got " +
                      std::to_string(options.chunk_size));
  if (!(options.stop_grace_s >= 0))
    throw ConfigError("--stop-grace: must be >= 0 seconds, got " + std::to_string(options.stop_grace_s));
  const auto out_dir = options.out_dir.empty() ? spec.output.dir : options.out_dir;
  const auto path = out_dir + "/results.h5";
  const bool root = world.rank() == 0;
  const bool quiet = options.quiet || !root;
  const int threads = dist::configure_threads(static_cast<int>(spec.runtime.threads), world.local_size());
  dist::install_stop_handlers();
  // Validate everything before the first forward pass or any write (every rank loads its own
  // model; rank 0 alone owns the results file).
  DatasetReport data_report;
  const auto samples = load_samples(spec.dataset, spec.runtime.seed, &data_report);
  auto decoder = model::Decoder::load(spec.model.path, {dtype_of(spec.model.dtype),
                                                        run_device(spec.model.device, world.local_rank()),
                                                        model::parse_quantization(spec.model.quantization)});
  validate_against_model(spec, decoder.config().num_hidden_layers);
  auto embedder = model::SentenceEmbedder::load(spec.embedding.path);
  const auto text = load_text_side(spec.model.path, spec.model.chat_template, spec.embedding.path,
                                   embedder.modules().max_seq_length);
  const auto N = static_cast<int64_t>(samples.size());

  std::unique_ptr<io::RunLock> lock;
  std::unique_ptr<SharedTable> shared;
  std::vector<std::vector<int64_t>> todo;
  std::exception_ptr root_error;
  if (root) {
    try {
      const auto identity = identity_of(spec, text, options.chunk_size, threads);
      if (!quiet) {
        std::fprintf(stderr, "dkv run %s: %lld samples (%lld lines read, %lld malformed, %lld without answer, "
                     "%lld without a usable passage), %zu conditions, %d rank(s) x %d BLAS thread(s) -> %s\n",
                     spec.name.c_str(), (long long)N, (long long)data_report.lines,
                     (long long)data_report.malformed, (long long)data_report.no_answer,
                     (long long)data_report.no_passage, spec.conditions.size(), world.size(), threads,
                     path.c_str());
        for (const auto& m : data_report.malformed_examples) std::fprintf(stderr, "  skipped %s\n", m.c_str());
      }
      lock = std::make_unique<io::RunLock>(out_dir);  // before the file is read: no one else flushes it
      auto table = open_table(spec, identity, samples, path, options.fresh, quiet);
      io::write_results(path, table);
      for (int64_t first = 0; first < N; first += options.chunk_size) {
        std::vector<int64_t> chunk;
        for (int64_t i = first; i < std::min(N, first + options.chunk_size); ++i)
          if (!table.rows[i].done) chunk.push_back(i);
        if (!chunk.empty()) todo.push_back(chunk);
      }
      int64_t first_unit = 0;  // the all-non-finite check waits for one work unit per rank
      for (size_t k = 0; k < todo.size() && k < static_cast<size_t>(world.size()); ++k)
        first_unit += static_cast<int64_t>(todo[k].size());
      shared = std::make_unique<SharedTable>(std::move(table), path, spec.runtime.checkpoint_every, first_unit, quiet);
    } catch (...) {
      root_error = std::current_exception();
    }
  }
  if (!world.agree(root_error ? 1 : 0)) {
    if (root_error) std::rethrow_exception(root_error);
    throw Error("rank 0 refused the run (see its message)");
  }

  RunContext ctx{spec, decoder, &embedder, text, samples};
  std::unique_ptr<TokenDump> dump;
  if (options.dump_tokens)
    dump = std::make_unique<TokenDump>(
        out_dir + (world.size() == 1 ? "/tokens.jsonl" : "/tokens.rank" + std::to_string(world.rank()) + ".jsonl"));
  if (!root) {
    StopRelay relay(world);
    std::vector<std::pair<int64_t, io::SampleRow>> rows;
    while (true) {
      world.send(0, dist::World::kTagRows, dist::encode_rows(rows));
      const auto chunk = dist::decode_indices(world.recv(0, dist::World::kTagWork, nullptr));
      if (chunk.empty()) break;
      rows = compute(ctx, chunk, dump.get());
    }
    return {path, false, 0, N};
  }
  ChunkQueue queue(std::move(todo));
  std::exception_ptr compute_error;
  {
    StopWatcher watcher(world, *shared, options.stop_grace_s, quiet);
    std::thread service;
    if (world.size() > 1) service = std::thread([&] { serve_workers(world, *shared, queue); });
    try {
      for (auto chunk = queue.pop(); !chunk.empty(); chunk = queue.pop()) {
        shared->insert(compute(ctx, chunk, dump.get()));
        const auto bad = shared->all_non_finite();
        if (!bad.empty()) {
          queue.close();
          throw InputError(spec.model.path + ": " + bad);
        }
      }
    } catch (...) {
      compute_error = std::current_exception();
    }
    if (compute_error) {
      shared->flush();  // keep every row that did finish
      std::rethrow_exception(compute_error);  // the caller aborts the world
    }
    if (service.joinable()) service.join();
    shared->flush();
  }
  if (dist::stop_requested() && !quiet)
    std::fprintf(stderr, "stop: every rank finished its work in flight\n");
  const auto& table = shared->table();
  if (!quiet) {
    progress(table.num_done(), N, shared->done_now(), shared->elapsed(), true);
    std::fprintf(stderr, "mean NLL per condition over %lld samples:\n", (long long)table.num_done());
    for (size_t c = 0; c < table.condition_ids.size(); ++c) {
      double sum = 0;
      int64_t n = 0;
      for (const auto& r : table.rows)
        if (r.done && std::isfinite(r.nll[c])) sum += r.nll[c], ++n;
      std::fprintf(stderr, "  %-4s %-32s %8.4f  (n=%lld)\n", table.condition_ids[c].c_str(),
                   table.condition_names[c].c_str(), n ? sum / n : NAN, (long long)n);
    }
  }
  return {path, table.num_done() == N, table.num_done(), N};
}

}  // namespace dkv::experiment
