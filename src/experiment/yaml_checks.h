// Checks on a parsed YAML tree that yaml-cpp does not make itself (private to experiment/).
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

namespace dkv::experiment {

// Throws ConfigError "FILE:LINE:COL: KEY.PATH: duplicate key (first at line L)" for the first
// mapping, at any depth, that holds one key twice: yaml-cpp keeps both and a lookup silently
// takes one of them, so `num_samples` written twice would run with either value.
void reject_duplicate_keys(const YAML::Node& root, const std::string& file);

}  // namespace dkv::experiment
