// Small helpers for reading untrusted JSON files with errors that name the file and key.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace dkv::json_util {

// Parses a whole file strictly (no comments, no trailing data, duplicate keys rejected).
// Throws IoError if it cannot be read, InputError with the byte offset if it is malformed.
nlohmann::json read_file(const std::string& path);
// Parses text strictly; `where` names the source in errors.
nlohmann::json parse(const std::string& text, const std::string& where);

// Typed access: InputError "<where>: key '<key>': expected <type>, got <json>" on mismatch.
const nlohmann::json& require(const nlohmann::json& obj, const std::string& key,
                              const std::string& where);
int64_t get_int(const nlohmann::json& obj, const std::string& key, const std::string& where);
double get_number(const nlohmann::json& obj, const std::string& key, const std::string& where);
bool get_bool(const nlohmann::json& obj, const std::string& key, const std::string& where);
std::string get_string(const nlohmann::json& obj, const std::string& key,
                       const std::string& where);
// Optional keys: absent or null -> fallback (only for documented optional keys).
int64_t get_int_or(const nlohmann::json& obj, const std::string& key, int64_t fallback,
                   const std::string& where);
double get_number_or(const nlohmann::json& obj, const std::string& key, double fallback,
                     const std::string& where);
bool get_bool_or(const nlohmann::json& obj, const std::string& key, bool fallback,
                 const std::string& where);
std::string get_string_or(const nlohmann::json& obj, const std::string& key,
                          const std::string& fallback, const std::string& where);

}  // namespace dkv::json_util
