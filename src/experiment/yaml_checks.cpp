// Duplicate-key detection over a yaml-cpp tree.
#include "experiment/yaml_checks.h"

#include <map>

#include "dkv/core/error.h"

namespace dkv::experiment {

namespace {

void check(const YAML::Node& node, const std::string& path, const std::string& file, int depth) {
  if (depth > 256) return;  // yaml-cpp's own parser limits nesting well before this
  if (node.IsMap()) {
    std::map<std::string, int> seen;  // key -> line (1-based)
    for (const auto& kv : node) {
      const auto& key = kv.first;
      const std::string name = key.IsScalar() ? key.Scalar() : YAML::Dump(key);
      const std::string full = path.empty() ? name : path + "." + name;
      const auto m = key.Mark();
      const auto [it, fresh] = seen.emplace(name, m.line + 1);
      if (!fresh)
        throw ConfigError(file + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1) + ": " +
                          full + ": duplicate key (first at line " + std::to_string(it->second) +
                          "); keep one of them");
      check(kv.second, full, file, depth + 1);
    }
  } else if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i)
      check(node[i], path + "[" + std::to_string(i) + "]", file, depth + 1);
  }
}

}  // namespace

void reject_duplicate_keys(const YAML::Node& root, const std::string& file) { check(root, "", file, 0); }

}  // namespace dkv::experiment
