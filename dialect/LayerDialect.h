//===- LayerDialect.h - The layer dialect -----------------------*- C++ -*-===//
//
// Declares the `layer` dialect class generated from LayerDialect.td.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_DIALECT_LAYERDIALECT_H
#define LAYERC_DIALECT_LAYERDIALECT_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/Dialect.h"

#include "dialect/LayerOpsDialect.h.inc"

#include "dialect/LayerEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialect/LayerAttrs.h.inc"

#endif // LAYERC_DIALECT_LAYERDIALECT_H
