// The weight quantization schemes dkv runs, spelled as in the YAML key model.quantization.
#pragma once

#include <string>

namespace dkv::model {

enum class Quantization { none, nf4, int8 };

// "none", "nf4" or "int8"; anything else is an InputError listing the choices.
Quantization parse_quantization(const std::string& name);
std::string quantization_name(Quantization q);

}  // namespace dkv::model
