// Strict JSON reading with file/key-named errors.
#include "dkv/core/json_util.h"

#include <fstream>
#include <sstream>
#include <vector>
#include <set>

#include "dkv/core/error.h"

namespace dkv::json_util {

using nlohmann::json;

json parse(const std::string& text, const std::string& where) {
  // Track keys per open object so a duplicate key (which nlohmann would silently overwrite)
  // is an error: a checkpoint header with two entries for one tensor is not trustworthy.
  std::vector<std::set<std::string>> open_objects;
  std::string duplicate;
  auto callback = [&](int /*depth*/, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start: open_objects.emplace_back(); break;
      case json::parse_event_t::object_end:
        if (!open_objects.empty()) open_objects.pop_back();
        break;
      case json::parse_event_t::key:
        if (!open_objects.empty() && !open_objects.back().insert(parsed.get<std::string>()).second &&
            duplicate.empty())
          duplicate = parsed.get<std::string>();
        break;
      default: break;
    }
    return true;
  };
  json out;
  try {
    out = json::parse(text, callback, /*allow_exceptions=*/true, /*ignore_comments=*/false);
  } catch (const json::parse_error& e) {
    throw InputError(where + ": malformed JSON at byte " + std::to_string(e.byte) + ": " +
                     e.what());
  } catch (const json::exception& e) {
    // Also raised while parsing: a number out of range ("1E155511", out_of_range.406; found
    // by tests/fuzz/fuzz_safetensors_header.cpp, it escaped as an uncaught exception).
    throw InputError(where + ": malformed JSON: " + e.what());
  }
  if (!duplicate.empty()) throw InputError(where + ": duplicate JSON key '" + duplicate + "'");
  return out;
}

json read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot open " + path + " for reading");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw IoError("read failed: " + path);
  return parse(text.str(), path);
}

namespace {
std::string describe(const json& value) {
  auto text = value.dump();
  return text.size() > 60 ? text.substr(0, 57) + "..." : text;
}
[[noreturn]] void wrong_type(const std::string& key, const char* expected, const json& got,
                             const std::string& where) {
  throw InputError(where + ": key '" + key + "': expected " + expected + ", got " + describe(got));
}
}  // namespace

const json& require(const json& obj, const std::string& key, const std::string& where) {
  if (!obj.is_object()) throw InputError(where + ": expected a JSON object, got " + describe(obj));
  auto it = obj.find(key);
  if (it == obj.end()) throw InputError(where + ": missing required key '" + key + "'");
  return *it;
}

int64_t get_int(const json& obj, const std::string& key, const std::string& where) {
  const auto& v = require(obj, key, where);
  if (!v.is_number_integer()) wrong_type(key, "an integer", v, where);
  return v.get<int64_t>();
}

double get_number(const json& obj, const std::string& key, const std::string& where) {
  const auto& v = require(obj, key, where);
  if (!v.is_number()) wrong_type(key, "a number", v, where);
  return v.get<double>();
}

bool get_bool(const json& obj, const std::string& key, const std::string& where) {
  const auto& v = require(obj, key, where);
  if (!v.is_boolean()) wrong_type(key, "true or false", v, where);
  return v.get<bool>();
}

std::string get_string(const json& obj, const std::string& key, const std::string& where) {
  const auto& v = require(obj, key, where);
  if (!v.is_string()) wrong_type(key, "a string", v, where);
  return v.get<std::string>();
}

namespace {
bool absent(const json& obj, const std::string& key) {
  auto it = obj.find(key);
  return it == obj.end() || it->is_null();
}
}  // namespace

int64_t get_int_or(const json& obj, const std::string& key, int64_t fallback,
                   const std::string& where) {
  return absent(obj, key) ? fallback : get_int(obj, key, where);
}

double get_number_or(const json& obj, const std::string& key, double fallback,
                     const std::string& where) {
  return absent(obj, key) ? fallback : get_number(obj, key, where);
}

bool get_bool_or(const json& obj, const std::string& key, bool fallback,
                 const std::string& where) {
  return absent(obj, key) ? fallback : get_bool(obj, key, where);
}

std::string get_string_or(const json& obj, const std::string& key, const std::string& fallback,
                          const std::string& where) {
  return absent(obj, key) ? fallback : get_string(obj, key, where);
}

}  // namespace dkv::json_util
