//===- halide_check.cpp - The Halide backend against the LLVM backend -----===//
//
//   halide_check MODEL [BATCH]             predictions of both, compared
//                                           (MODEL: .lcm, .keras or .onnx)
//   halide_check MODEL.lcm BATCH --time N [--schedule=S]
//                                           also the median ms per call of
//                                           each, over N calls; S: layerc
//                                           (default), mullapudi2016,
//                                           adams2019, li2018
//
// Loads a saved model, lowers its predict function (weights as constants,
// after the layer stage) to a Halide pipeline, and runs it on random inputs
// against Model::predict (the LLVM path). Exits 1 when they differ by more
// than 1e-4 relative to the outputs' scale.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"
#include "codegen/Pipeline.h"
#include "codegen/halide/HalideLowering.h"
#include "frontend/MLIRGen.h"
#include "layerc/layerc.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>

using namespace layerc;

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: halide_check MODEL.lcm [BATCH] [--time N]\n");
    return 2;
  }
  try {
    std::string path = argv[1];
    int64_t batch = argc > 2 ? std::stoll(argv[2]) : 3;
    int timeCalls =
        argc > 4 && std::string(argv[3]) == "--time" ? std::stoi(argv[4]) : 0;
    std::string schedule = "layerc";
    if (argc > 5 && std::string(argv[5]).rfind("--schedule=", 0) == 0)
      schedule = std::string(argv[5]).substr(11);
    bool onnx = path.size() > 5 && path.substr(path.size() - 5) == ".onnx";
    Model model =
        onnx ? Model::fromOnnx(path) : loadModel(path, {}, /*compile=*/false);
    mlir::DialectRegistry registry;
    registerCompilerDialects(registry);
    mlir::MLIRContext context(registry);
    mlir::OwningOpRef<mlir::ModuleOp> module =
        emitModel(model, &context, /*embedWeights=*/true);
    PipelineOptions options;
    PassManagerSettings settings;
    if (mlir::failed(runPipeline(*module, options, Stage::Layer, Stage::Layer,
                                 settings)))
      throw Error("the layer stage failed");
    auto predict = module->lookupSymbol<mlir::func::FuncOp>("predict");
    if (!predict)
      throw Error(path + ": no predict function");
    auto lowered = halide::HalideFunction::lower(predict, schedule, batch);
    if (mlir::failed(lowered))
      return 1;

    std::vector<Tensor> xs;
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
    for (const SymbolicTensor &in : model.inputs()) {
      std::vector<int64_t> shape = in.shape();
      shape[0] = batch;
      Tensor x(shape);
      for (int64_t i = 0; i < x.numel(); ++i)
        x.data<float>()[i] = uniform(rng);
      xs.push_back(x);
    }
    std::vector<Tensor> want = model.predict(xs);
    std::vector<Tensor> got = (*lowered)->run(xs);
    bool ok = got.size() == want.size();
    for (size_t i = 0; ok && i < got.size(); ++i) {
      double largest = 0, worst = 0;
      for (int64_t e = 0; e < want[i].numel(); ++e)
        largest = std::max(largest, (double)std::abs(want[i].data<float>()[e]));
      double scale = std::max(largest, 1.0);
      for (int64_t e = 0; e < want[i].numel(); ++e)
        worst = std::max(worst, (double)std::abs(got[i].data<float>()[e] -
                                                 want[i].data<float>()[e]));
      ok = ok && got[i].shape() == want[i].shape() && worst <= 1e-4 * scale;
      std::printf("%s: output %zu %s, max |halide - llvm| = %.3g (%s 1e-4 "
                  "of the largest output %.3g)\n",
                  model.name().c_str(), i, got[i].shapeString().c_str(), worst,
                  worst <= 1e-4 * scale ? "within" : "NOT within", largest);
      if (largest == 0) {
        std::printf("every output is 0: nothing compared\n");
        ok = false;
      }
    }
    if (timeCalls > 0) {
      double llvm = halide::medianCallMs([&] { model.predict(xs); }, timeCalls);
      double hal =
          halide::medianCallMs([&] { (*lowered)->run(xs); }, timeCalls);
      std::printf("%s batch %lld: llvm %.3f ms, halide %.3f ms (halide / "
                  "llvm %.2f) schedule %s\n",
                  model.name().c_str(), (long long)batch, llvm, hal, hal / llvm,
                  schedule.c_str());
    }
    return ok ? 0 : 1;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "halide_check: %s\n", e.what());
    return 1;
  }
}
