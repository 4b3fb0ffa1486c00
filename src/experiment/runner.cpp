// The run loop: validate everything, resume from results.h5, process chunks, flush, summarize.
#include "dkv/experiment/runner.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>

#include "dkv/core/error.h"
#include "dkv/core/fingerprint.h"
#include "dkv/experiment/chunk.h"
#include "dkv/io/results_file.h"
#include "dkv/io/token_dump.h"
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

io::RunIdentity identity_of(const ExperimentSpec& spec, const TextSide& text) {
  io::RunIdentity id;
  id.dkv_version = DKV_VERSION;
  auto resolved = spec;
  resolved.output.dir.clear();  // where results go does not change them
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

void progress(int64_t done, int64_t total, int64_t done_now, double secs, bool final) {
  const double rate = secs > 0 ? done_now / secs : 0;
  const double eta = rate > 0 ? (total - done) / rate : 0;
  std::fprintf(stderr, "%s%lld/%lld samples, %.2f samples/s, ETA %.0f s%s", final ? "" : "\r",
               (long long)done, (long long)total, rate, eta, final ? "\n" : "");
  std::fflush(stderr);
}

}  // namespace

std::string run_experiment(const ExperimentSpec& spec, const RunOptions& options) {
  const auto out_dir = options.out_dir.empty() ? spec.output.dir : options.out_dir;
  const auto path = out_dir + "/results.h5";
  if (spec.runtime.threads > 0) at::set_num_threads(static_cast<int>(spec.runtime.threads));
  // Validate everything before the first forward pass or any write.
  DatasetReport data_report;
  const auto samples = load_samples(spec.dataset, spec.runtime.seed, &data_report);
  auto decoder = model::Decoder::load(spec.model.path, {dtype_of(spec.model.dtype), at::kCPU});
  auto embedder = model::SentenceEmbedder::load(spec.embedding.path);
  const auto text = load_text_side(spec.model.path, spec.model.chat_template, spec.embedding.path,
                                   embedder.modules().max_seq_length);
  const auto identity = identity_of(spec, text);
  if (!options.quiet) {
    std::fprintf(stderr, "dkv run %s: %lld samples (%lld lines read, %lld malformed, %lld without answer, "
                 "%lld without a usable passage), %zu conditions -> %s\n",
                 spec.name.c_str(), (long long)samples.size(), (long long)data_report.lines,
                 (long long)data_report.malformed, (long long)data_report.no_answer,
                 (long long)data_report.no_passage, spec.conditions.size(), path.c_str());
    for (const auto& m : data_report.malformed_examples) std::fprintf(stderr, "  skipped %s\n", m.c_str());
  }

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
      if (!options.fresh)
        throw ConfigError(path + " was written by a different run (" +
                          describe_mismatch(existing.identity, identity) +
                          " differ); use another --out folder, or --fresh to set it aside and start over");
      const auto aside = path + "." + io::utc_now() + ".old";
      fs::rename(path, aside);
      std::fprintf(stderr, "kept the previous results as %s\n", aside.c_str());
      table = io::new_table(identity, ids, names, static_cast<int64_t>(samples.size()));
    } else if (options.fresh) {
      const auto aside = path + "." + io::utc_now() + ".old";
      fs::rename(path, aside);
      std::fprintf(stderr, "kept the previous results as %s\n", aside.c_str());
      table = io::new_table(identity, ids, names, static_cast<int64_t>(samples.size()));
    } else {
      table = std::move(existing);
      if (!options.quiet)
        std::fprintf(stderr, "resuming: %lld of %zu samples already done\n", (long long)table.num_done(),
                     samples.size());
    }
  } else {
    fs::create_directories(out_dir);
    table = io::new_table(identity, ids, names, static_cast<int64_t>(samples.size()));
  }
  io::write_results(path, table);

  RunContext ctx{spec, decoder, embedder, text, samples};
  std::unique_ptr<io::TokenDump> dump;
  if (options.dump_tokens) dump = std::make_unique<io::TokenDump>(out_dir + "/tokens.jsonl");
  const auto N = static_cast<int64_t>(samples.size());
  const auto start = std::chrono::steady_clock::now();
  int64_t since_flush = 0, done_now = 0;
  for (int64_t first = 0; first < N; first += options.chunk_size) {
    std::vector<int64_t> todo;
    for (int64_t i = first; i < std::min(N, first + options.chunk_size); ++i)
      if (!table.rows[i].done) todo.push_back(i);
    if (todo.empty()) continue;
    std::vector<PlannedSample> plans;
    auto rows = process_chunk(ctx, todo, dump ? &plans : nullptr);
    if (dump) dump->write(spec, plans);
    for (size_t k = 0; k < todo.size(); ++k) table.rows[todo[k]] = std::move(rows[k]);
    since_flush += static_cast<int64_t>(todo.size());
    done_now += static_cast<int64_t>(todo.size());
    if (since_flush >= spec.runtime.checkpoint_every) {
      io::write_results(path, table);
      since_flush = 0;
    }
    if (!options.quiet)
      progress(table.num_done(), N,  done_now,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), false);
  }
  io::write_results(path, table);
  if (!options.quiet) {
    progress(table.num_done(), N, done_now,
             std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), true);
    std::fprintf(stderr, "mean NLL per condition over %lld samples:\n", (long long)table.num_done());
    for (size_t c = 0; c < ids.size(); ++c) {
      double sum = 0;
      int64_t n = 0;
      for (const auto& r : table.rows)
        if (r.done && std::isfinite(r.nll[c])) sum += r.nll[c], ++n;
      std::fprintf(stderr, "  %-4s %-32s %8.4f  (n=%lld)\n", ids[c].c_str(), names[c].c_str(),
                   n ? sum / n : NAN, (long long)n);
    }
  }
  return path;
}

}  // namespace dkv::experiment
