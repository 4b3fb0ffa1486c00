// Reading YAML mappings with errors that name the file, line, column and key path (private
// to experiment/: no YAML::Node escapes the experiment module).
#pragma once

#include <yaml-cpp/yaml.h>

#include <initializer_list>
#include <set>
#include <sstream>
#include <string>
#include <type_traits>

#include "dkv/core/error.h"

namespace dkv::experiment {

inline std::string where(const std::string& file, const YAML::Node& node, const std::string& key) {
  const auto m = node.Mark();
  std::ostringstream out;
  out << file;
  if (m.line >= 0) out << ":" << m.line + 1 << ":" << m.column + 1;
  out << ": " << key;
  return out.str();
}

// Reads one YAML mapping; keys not read by the time finish() runs are errors.
class MapReader {
 public:
  MapReader(const YAML::Node& node, std::string path, const std::string& file)
      : node_(node), path_(std::move(path)), file_(file) {
    if (!node.IsMap())
      throw ConfigError(where(file, node, path_.empty() ? "(top level)" : path_) +
                        ": expected a mapping of keys");
  }

  template <typename T>
  bool get(const std::string& key, T& out) {
    seen_.insert(key);
    auto child = node_[key];
    if (!child) return false;
    try {
      out = child.template as<T>();
    } catch (const YAML::Exception&) {
      throw ConfigError(where(file_, child, full(key)) + ": expected " + type_name<T>() +
                        ", got '" + YAML::Dump(child) + "'");
    }
    return true;
  }

  template <typename T>
  void require(const std::string& key, T& out) {
    if (!get(key, out))
      throw ConfigError(where(file_, node_, full(key)) + ": required key is missing");
  }

  YAML::Node child(const std::string& key) {
    seen_.insert(key);
    return node_[key];
  }

  std::string full(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  const std::string& file() const { return file_; }

  void finish() const {
    for (auto it = node_.begin(); it != node_.end(); ++it) {
      const auto key = it->first.as<std::string>();
      if (!seen_.count(key)) {
        std::string known;
        for (const auto& k : seen_) known += (known.empty() ? "" : ", ") + k;
        throw ConfigError(where(file_, it->first, full(key)) + ": unknown key (known here: " +
                          known + ")");
      }
    }
  }

 private:
  template <typename T>
  static const char* type_name() {
    if constexpr (std::is_same_v<T, bool>) return "true or false";
    else if constexpr (std::is_integral_v<T>) return "an integer";
    else if constexpr (std::is_floating_point_v<T>) return "a number";
    else if constexpr (std::is_same_v<T, std::string>) return "a string";
    else return "a list";
  }
  YAML::Node node_;
  std::string path_;
  const std::string& file_;
  std::set<std::string> seen_;
};

inline void check_choice(const std::string& value, std::initializer_list<const char*> choices,
                  const std::string& what) {
  std::string list;
  for (const char* c : choices) {
    if (value == c) return;
    list += (list.empty() ? "" : ", ") + std::string(c);
  }
  throw ConfigError(what + ": '" + value + "' is not one of " + list);
}

inline void check_positive(int64_t v, const std::string& what) {
  if (v <= 0) throw ConfigError(what + ": must be positive, got " + std::to_string(v));
}

}  // namespace dkv::experiment
