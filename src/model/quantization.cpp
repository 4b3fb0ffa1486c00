// Names of the quantization schemes.
#include "dkv/model/quantization.h"

#include "dkv/core/error.h"

namespace dkv::model {

Quantization parse_quantization(const std::string& name) {
  if (name == "none") return Quantization::none;
  if (name == "nf4") return Quantization::nf4;
  if (name == "int8") return Quantization::int8;
  throw InputError("quantization '" + name + "': expected none, nf4 or int8");
}

std::string quantization_name(Quantization q) {
  switch (q) {
    case Quantization::none: return "none";
    case Quantization::nf4: return "nf4";
    case Quantization::int8: return "int8";
  }
  return "?";
}

}  // namespace dkv::model
