// Content fingerprints that tie a results file to the exact config, model, tokenizer and data.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dkv {

// 64-bit FNV-1a of bytes, as 16 hex digits. Not cryptographic: it detects changes, not attacks.
std::string fingerprint_bytes(const std::string& bytes);
// Of a whole file's content plus its size. Throws IoError if unreadable.
std::string fingerprint_file(const std::string& path);
// Of a model directory: every file's name, size and (for files up to `full_bytes`) content;
// larger files (weights) contribute their first and last MiB, which holds the safetensors header.
// Of a single-file checkpoint (a GGUF file path): its name, size and first `full_bytes`.
std::string fingerprint_dir(const std::string& dir, uint64_t full_bytes = 16u << 20);

}  // namespace dkv
