//===- OptionTypes.cpp - Pass option types that print exactly ------------===//

#include "passes/OptionTypes.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

#include <cstdlib>
#include <string>

using namespace llvm;

raw_ostream &layerc::operator<<(raw_ostream &os, const Real &r) {
  // The fewest digits that parse back to the same double: 0.1, not
  // 0.10000000000000001 (17 digits always do).
  for (int digits = 15; digits < 17; ++digits) {
    std::string text = formatv("{0}", format("%.*g", digits, r.value)).str();
    if (std::strtod(text.c_str(), nullptr) == r.value)
      return os << text;
  }
  return os << format("%.17g", r.value);
}

bool cl::parser<layerc::Real>::parse(Option &o, StringRef, StringRef arg,
                                     layerc::Real &value) {
  if (arg.trim().getAsDouble(value.value))
    return o.error("'" + arg + "' is not a number");
  return false;
}

void cl::parser<layerc::Real>::printOptionDiff(const Option &o,
                                               const layerc::Real &value,
                                               const OptVal &,
                                               size_t globalWidth) const {
  printOptionName(o, globalWidth);
  outs() << "= " << value << "\n";
}
