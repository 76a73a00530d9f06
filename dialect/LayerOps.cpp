//===- LayerOps.cpp - The layer dialect and its vocabulary ----------------===//
//
// Registers the dialect's ops, defines the generated op classes, and
// implements the vocabulary of LayerOps.h (activation and loss names, shape
// printing). The ops' verifiers and shape rules are in the *ShapeRules.cpp
// files, one per op family (see ShapeRules.h).
//
//===----------------------------------------------------------------------===//

#include "dialect/LayerOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace layerc::layer;

#include "dialect/LayerInterfaces.cpp.inc"
#include "dialect/LayerOpsDialect.cpp.inc"

#include "dialect/LayerEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialect/LayerAttrs.cpp.inc"

void LayerDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialect/LayerOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialect/LayerAttrs.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// Vocabulary
//===----------------------------------------------------------------------===//

std::optional<Activation> layerc::layer::parseActivation(StringRef name) {
  // Keras's alias; every other name is the enum's own spelling.
  if (name == "silu")
    return Activation::Swish;
  return symbolizeActivation(name);
}

const char *layerc::layer::knownActivations() {
  return "linear, relu, sigmoid, tanh, softmax, gelu, elu, selu, swish, "
         "hard_sigmoid";
}

std::optional<Loss> layerc::layer::parseLoss(StringRef name) {
  return symbolizeLoss(name);
}

const char *layerc::layer::knownLosses() {
  return "sparse_categorical_crossentropy, categorical_crossentropy, "
         "binary_crossentropy, mean_squared_error, mean_absolute_error";
}

std::string layerc::layer::formatShape(Type type) {
  auto ranked = dyn_cast<RankedTensorType>(type);
  if (!ranked)
    return "<unranked>";
  std::string text = "(";
  llvm::raw_string_ostream os(text);
  llvm::interleaveComma(ranked.getShape(), os, [&](int64_t d) {
    if (ShapedType::isDynamic(d))
      os << "None";
    else
      os << d;
  });
  if (ranked.getRank() == 1)
    os << ",";
  os << ")";
  return text;
}

#define GET_OP_CLASSES
#include "dialect/LayerOps.cpp.inc"
