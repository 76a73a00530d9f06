//===- layerc-opt.cpp - The layerc optimizer driver
//------------------------===//
//
// mlir-opt with the layer dialect, every upstream dialect of the pipeline
// and every layerc pass registered: `layerc-opt --help` lists the layer-*
// passes and the `layer-to-llvm` pipeline, so any stage of the compiler can
// be run, inspected and tested on its own.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  layerc::registerLayercPasses();
  mlir::DialectRegistry registry;
  layerc::registerCompilerDialects(registry);
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "layerc optimizer driver: runs layer-dialect passes\n",
      registry));
}
