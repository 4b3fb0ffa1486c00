// ExperimentSpec: one YAML experiment file read into plain structs. Every field's default is
// the original study's value and lives only in these initializers; configs/README.md lists them.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <string>
#include <vector>

#include "dkv/stats/analysis_spec.h"

namespace dkv::experiment {

struct ModelSpec {
  std::string path;                    // HF checkpoint directory (required)
  std::string chat_template = "auto";  // auto (the tokenizer's Jinja template), mistral, llama2, llama3, chatml
  std::string dtype = "fp32";          // fp32, fp16, bf16
  std::string device = "auto";         // auto (GPU when built with CUDA and one is visible), cpu, cuda
  std::string quantization = "none";   // none, nf4, int8
};

struct EmbeddingSpec {
  std::string path;  // sentence-transformers directory (required)
};

struct DatasetSpec {
  std::string path;              // MS MARCO v1.1 JSONL (Microsoft's or the HF export), .gz or plain
  int64_t num_samples = 200;
  int64_t min_passage_words = 50;   // whitespace words, inclusive
  int64_t max_passage_words = 300;
  int64_t candidate_factor = 2;     // collect up to factor x num_samples candidates, shuffle, keep N
};

struct SurrogateSpec {
  std::string instruction =
      "Read the following text and write ONE short search query (3-8 words) that someone would "
      "type into Google to find this text. Output only the query with no quotes, alternatives, "
      "or explanation.";
  std::string document_block = "\n\nText:\n{document}";  // appended to the instruction
  // Empty: the prompt has no system message, so the chat template's own default applies
  // (SmolLM2's and Qwen's insert theirs); otherwise a {"role": "system"} message goes first.
  std::string system_prompt;
  double temperature = 0.3;
  int64_t top_k = 50;   // HF generate()'s default when sampling
  double top_p = 1.0;
  int64_t max_new_tokens = 45;
  std::string static_query = "What is this and what does it mean?";
  int64_t random_prefix_tokens = 20;
  int64_t random_token_margin = 100;  // ids drawn uniformly from [margin, vocab - margin)
};

// Named text templates conditions refer to. {document} = the passage, {surrogate} = the
// segment's surrogate text, {query} = the real query.
struct TextsSpec {
  std::map<std::string, std::string> templates = {
      {"document", "Document:\n{document}"},
      {"bare_document", "{document}"},
      {"prefix", "This document may be relevant to queries like: {surrogate}\n\n"},
      {"suffix", "\n\nThis document may be relevant to queries like: {surrogate}"},
      {"random_prefix", "{surrogate}\n\n"},
  };
  std::string query_prompt = "\n\nQuery: {query}\n\nAnswer:";
  // joint: each condition's segments are joined as text and tokenized together (the study's
  // exp 01); a cut follows the prefix tokenized alone. matched: every segment is tokenized
  // alone without special tokens and the ids are joined after the tokenizer's leading special
  // tokens (BOS), so all conditions of a sample hold identical document ids and every cut is
  // exact (study v2, which matched prefixes only; dkv matches suffixes too).
  std::string tokenization = "joint";
};

// One named surrogate source of the `surrogates:` block (segments use it by name).
struct SurrogateSource {
  std::string name;
  // llm, static, query, keywords, keywords_of_other, echo, shuffled, random_tokens
  std::string kind;
  // llm: one generated text per sample (the surrogate block's generation settings otherwise).
  std::string instruction, document_block = "\n\nText:\n{document}", system_prompt;
  double temperature = 0.3;
  int64_t max_new_tokens = 45;
  bool first_line = true;     // keep the first non-empty line only
  bool strip_quotes = true;   // strip surrounding quotes and whitespace
  int64_t passage_word_cap = 0;  // > 0: the passage is cut to this many words for generation
  // static
  std::string text;
  // keywords / keywords_of_other: the `count` most frequent non-stop-words longer than
  // `min_chars` characters of `from` (passage or query), ties in first-occurrence order.
  int64_t count = 8, min_chars = 2;
  std::string from = "passage";
  // echo: the passage's first sentence, at most `word_cap` words.
  int64_t word_cap = 30;
  // shuffled: `of` (another source, or a built-in kind) shuffled by `unit` (words, tokens).
  std::string of, unit = "words";
  // random_tokens: `length` ids, or as many as `match_tokens` (a source) has; ids uniform in
  // [margin, vocab - margin); decoded and re-encoded, redrawn until the length holds.
  int64_t length = 20, margin = 100;
  std::string match_tokens;
};

// The built-in surrogates (the study's exp 01), and `named`: a source of the `surrogates:` block.
enum class SurrogateKind { none, generated, perfect, static_query, random, irrelevant, shuffled, named };

struct SegmentSpec {
  std::string template_name;  // key of TextsSpec::templates
  SurrogateKind surrogate = SurrogateKind::none;
  bool keep = true;  // false: the segment's entries are cut from the cache after the prefill
  std::string source;  // SurrogateKind::named: the source's name
  int64_t repeat = 1;  // the segment's text (matched: its ids) this many times
};

// Where the scored tokens go: HF's default puts them at the cache's length (its number of
// entries); after_last puts them right after the last kept entry's position.
enum class QueryPositions { cache_length, after_last };

// A condition scored on a mix of caches other conditions of the same sample built: the cache
// of `keys`, whose values are replaced by those of `values` on `layers` x the document range,
// interpolated: v = v_keys + alpha (v_values - v_keys) (alpha 1 = replaced, > 1 extrapolates).
// Both must hold the same entries (the same kept segments); `values_sample: other` takes the
// values from another sample (chosen deterministically) on the overlapping document entries.
struct CacheMixSpec {
  std::string keys, values;          // condition ids
  std::vector<int64_t> layers;       // empty = every layer
  double range_from = 0, range_to = 1;  // fractions of the document's entries
  double alpha = 1;
  bool other_sample = false;
};

struct ConditionSpec {
  std::string id, name;
  std::vector<SegmentSpec> segments;  // empty for mixes and BOS-only caches
  std::optional<CacheMixSpec> mix;
  bool bos_only = false;       // the cache is the BOS entry alone (the PMI reference)
  int64_t pad_to_tokens = 0;   // > 0: other samples' passages appended (kept) up to this many entries
  double prefix_bias = 0;      // added to the attention scores of document rows on cut-segment columns during the build
  bool reposition = false;     // re-rotate kept keys to close the gaps left by cut segments
  bool keep_bos = true;        // cut caches keep the BOS entry at its position
  int64_t position_offset = 0; // prefill positions start here
  QueryPositions query_positions = QueryPositions::cache_length;
};

struct ScoringSpec {
  bool skip_first_answer_token = false;  // the study's variant: mean over answer tokens 2..
  std::string answer_template = "{answer}";  // study v2: " {answer}"
  // Samples whose answer has fewer tokens are excluded (reason stored, NLLs NaN); 0 = none.
  int64_t min_answer_tokens = 0;
};

struct RuntimeSpec {
  uint64_t seed = 42;
  int64_t token_budget = 16384;  // max padded tokens x batch rows per scoring batch
  int64_t threads = 0;           // intra-op threads per rank (0 = cores / ranks on the node)
  int64_t checkpoint_every = 10; // samples between results-file flushes
};

struct OutputSpec {
  std::string dir;  // default results/<name>
};

// The YAML `report:` block. Only keys the file sets are filled; the defaults (the study's
// comparisons) live in stats::ReportSpec, which report::apply_overrides starts from.
using IdPair = std::pair<std::string, std::string>;
struct ReportOverrides {
  std::optional<std::string> baseline;
  std::optional<std::vector<IdPair>> critical, full_vs_truncated, ordering;
  std::optional<std::vector<std::string>> surrogate_quality, similarity_correlation, figure_critical;
  std::optional<std::string> quartile_condition, figure_condition;
  stats::AnalysesSpec analyses;  // report.primary, strata, routing, gating, pmi, ... (stats/analysis_spec.h)
};

struct ExperimentSpec {
  std::string name;  // required
  ModelSpec model;
  EmbeddingSpec embedding;
  DatasetSpec dataset;
  SurrogateSpec surrogate;
  std::vector<SurrogateSource> surrogates;  // the `surrogates:` block, in file order
  TextsSpec texts;
  std::vector<ConditionSpec> conditions;  // default: the study's 15
  ScoringSpec scoring;
  RuntimeSpec runtime;
  OutputSpec output;
  ReportOverrides report;
  std::string source_path;  // the YAML file
  std::string source_text;  // its text, stored with the results
};

std::string to_string(SurrogateKind kind);

// The segment's surrogate name: a built-in kind's name or the named source's.
std::string surrogate_name(const SegmentSpec& segment);

// Checks what needs the model: every mix layer below `num_layers`. ConfigError naming the
// condition otherwise.
void validate_against_model(const ExperimentSpec& spec, int64_t num_layers);

// The study's 15 conditions (A1..E2) over the default texts.
std::vector<ConditionSpec> study_conditions();

// Reads and validates a YAML experiment file. Unknown keys, wrong types and bad values are
// ConfigErrors naming the file, line, column and key path. Relative paths in the file are
// taken relative to the current directory (as users type them on the command line).
ExperimentSpec load_spec(const std::string& path);
ExperimentSpec parse_spec(const std::string& yaml_text, const std::string& source_path);

// The resolved spec (defaults filled in) as YAML: logged at start and stored with results.
std::string resolved_yaml(const ExperimentSpec& spec);

}  // namespace dkv::experiment
