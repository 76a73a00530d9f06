//===- OptionTypes.h - Pass option types that print exactly -----*- C++ -*-===//
//
// MLIR prints a `double` pass option with six significant digits, so a
// pipeline printed by a driver (--print-pipeline) would not parse back to
// the pipeline it ran: a learning rate of 0.0123456789 would come back as
// 0.0123457. `Real` is a double that prints with the fewest significant
// digits (at most 17) that parse back to the same value.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_PASSES_OPTIONTYPES_H
#define LAYERC_PASSES_OPTIONTYPES_H

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/raw_ostream.h"

namespace layerc {

/// A real number as a pass option (`Option<..., "::layerc::Real", ...>`).
/// An option object is a Real (llvm::cl stores class-typed values as a
/// base), so a pass reads it as `learningRate.value`.
struct Real {
  Real(double value = 0.0) : value(value) {}
  double value;
};

/// Prints `r` so that parsing the text gives back the same double.
llvm::raw_ostream &operator<<(llvm::raw_ostream &os, const Real &r);

} // namespace layerc

namespace llvm::cl {

/// Parses a Real from the command line or a textual pass pipeline.
template <> class parser<layerc::Real> : public basic_parser<layerc::Real> {
public:
  parser(Option &o) : basic_parser(o) {}
  /// Returns true on error, as every llvm::cl parser does.
  bool parse(Option &o, StringRef argName, StringRef arg, layerc::Real &value);
  StringRef getValueName() const override { return "number"; }
  void printOptionDiff(const Option &o, const layerc::Real &value,
                       const OptVal &defaultValue, size_t globalWidth) const;
};

} // namespace llvm::cl

#endif // LAYERC_PASSES_OPTIONTYPES_H
