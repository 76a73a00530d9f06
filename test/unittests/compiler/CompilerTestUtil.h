//===- CompilerTestUtil.h - Fixture of the compiler tests -------*- C++ -*-===//
//
// The fixture owns an MLIRContext with every compiler dialect; tests parse
// layer-dialect IR from raw strings, run textual pass lists (shape inference,
// autodiff) and JIT-compile the module, then call the functions through the
// runtime's CompiledFunction. Helpers build random float64 tensors from a
// seeded generator, fill `${NAME}` placeholders of IR templates, and compare
// results with references written in the tests.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_TEST_UNITTESTS_COMPILER_COMPILERTESTUTIL_H
#define LAYERC_TEST_UNITTESTS_COMPILER_COMPILERTESTUTIL_H

#include "ErrorTestUtil.h"
#include "codegen/Jit.h"
#include "codegen/Passes.h"
#include "runtime/Error.h"
#include "runtime/Tensor.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace layerc::test {

/// Replaces every `${KEY}` in `text` by its value.
inline std::string fill(std::string text,
                        const std::map<std::string, std::string> &values) {
  for (const auto &[key, value] : values) {
    std::string pattern = "${" + key + "}";
    for (size_t pos = text.find(pattern); pos != std::string::npos;
         pos = text.find(pattern, pos + value.size()))
      text.replace(pos, pattern.size(), value);
  }
  EXPECT_EQ(text.find("${"), std::string::npos) << "unfilled placeholder in:\n"
                                                << text;
  return text;
}

/// `n` values drawn uniformly from [lo, hi).
inline std::vector<double> uniform(std::mt19937 &rng, size_t n, double lo,
                                   double hi) {
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<double> v(n);
  for (double &x : v)
    x = dist(rng);
  return v;
}

inline int64_t numelOf(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

/// A float64 tensor of `shape` with values uniform in [lo, hi).
inline Tensor randomTensor(std::mt19937 &rng, std::vector<int64_t> shape,
                           double lo = -1.0, double hi = 1.0) {
  return Tensor::fromDoubles(uniform(rng, numelOf(shape), lo, hi), shape);
}

/// The values of a float64 tensor.
inline std::vector<double> values(const Tensor &t) {
  const double *p = t.data<double>();
  return std::vector<double>(p, p + t.numel());
}

/// Expects `actual` to have `shape` and every value within
/// `atol + rtol * |expected|` of `expected`.
inline void expectClose(const Tensor &actual,
                        const std::vector<double> &expected,
                        const std::vector<int64_t> &shape, double rtol,
                        double atol, const std::string &what) {
  ASSERT_EQ(actual.shape(), shape) << what;
  ASSERT_EQ(actual.dtype(), DType::Float64) << what;
  ASSERT_EQ(static_cast<size_t>(actual.numel()), expected.size()) << what;
  const double *a = actual.data<double>();
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_NEAR(a[i], expected[i], atol + rtol * std::fabs(expected[i]))
        << what << " at flat index " << i;
}

/// Owns the context; parses, transforms and JIT-compiles layer IR.
class CompilerTest : public ::testing::Test {
protected:
  CompilerTest() : context(makeRegistry()) {
    registerLayercPasses();
    context.loadAllAvailableDialects();
  }

  static mlir::DialectRegistry makeRegistry() {
    mlir::DialectRegistry registry;
    registerCompilerDialects(registry);
    return registry;
  }

  /// Parses `ir`; null (and a test failure) on a syntax error.
  mlir::OwningOpRef<mlir::ModuleOp> parse(const std::string &ir) {
    std::string diags;
    llvm::raw_string_ostream os(diags);
    mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
      os << d << "\n";
      return mlir::success();
    });
    auto module = mlir::parseSourceString<mlir::ModuleOp>(ir, &context);
    if (!module)
      ADD_FAILURE() << "cannot parse:\n" << ir << "\n" << diags;
    return module;
  }

  /// Runs the pass list `pipeline` (nested in a module pass manager) on
  /// `module`; returns the diagnostics, or sets `ok` to false on failure.
  std::string runPasses(mlir::ModuleOp module, const std::string &pipeline,
                        bool &ok) {
    std::string diags;
    llvm::raw_string_ostream os(diags);
    mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
      os << d << "\n";
      return mlir::success();
    });
    mlir::PassManager pm(&context);
    ok = mlir::succeeded(mlir::parsePassPipeline(pipeline, pm, os)) &&
         mlir::succeeded(pm.run(module));
    return diags;
  }

  /// Parses `ir`, runs `pipeline` (if any) and JIT-compiles the result
  /// with `options`; null after recording a failure when any step fails.
  std::shared_ptr<JitModule> build(const std::string &ir,
                                   const std::string &pipeline = "",
                                   const JitOptions &options = {}) {
    mlir::OwningOpRef<mlir::ModuleOp> module = parse(ir);
    if (!module)
      return nullptr;
    if (!pipeline.empty()) {
      bool ok = false;
      std::string diags = runPasses(*module, pipeline, ok);
      if (!ok) {
        ADD_FAILURE() << "pipeline '" << pipeline << "' failed:\n"
                      << diags << "on:\n"
                      << ir;
        return nullptr;
      }
    }
    auto jit = JitModule::compile(*module, options);
    if (!jit) {
      ADD_FAILURE() << "JIT compilation failed:\n"
                    << llvm::toString(jit.takeError()) << "\non:\n"
                    << ir;
      return nullptr;
    }
    return *jit;
  }

  /// Looks up `name`; throws (failing the test) when it is missing.
  static CompiledFunction lookup(const JitModule &jit,
                                 const std::string &name) {
    std::optional<CompiledFunction> fn = jit.lookup(name);
    if (!fn)
      throw std::runtime_error("no compiled function '" + name + "'");
    return *fn;
  }

  /// Calls `fn` on `args`.
  static std::vector<Tensor> call(const CompiledFunction &fn,
                                  const std::vector<Tensor> &args) {
    std::vector<const Tensor *> ptrs;
    for (const Tensor &t : args)
      ptrs.push_back(&t);
    return fn(ptrs);
  }

  mlir::MLIRContext context;
};

} // namespace layerc::test

#endif // LAYERC_TEST_UNITTESTS_COMPILER_COMPILERTESTUTIL_H
