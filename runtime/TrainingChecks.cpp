//===- TrainingChecks.cpp - Argument checks of fit / evaluate / predict ---===//
//
// Argument and sample counts, label dtypes and label ranges, validated
// before the first step so that a user error surfaces as a message naming
// x[i] / y[i]; an out-of-range label would otherwise index past a buffer in
// generated code. See TrainingLoop.h.
//
//===----------------------------------------------------------------------===//

#include "runtime/Error.h"
#include "runtime/TrainingLoop.h"

#include <cmath>

using namespace layerc;
using namespace layerc::detail;

namespace {

/// True when `target` holds class indices for `output`: one index per row,
/// i.e. the output's shape without its class axis (or with it set to 1).
bool isSparseTarget(const Tensor &target, const std::vector<int64_t> &output) {
  int64_t outRank = static_cast<int64_t>(output.size());
  if (outRank == 0)
    return false;
  if (target.rank() == outRank - 1)
    return true;
  return target.rank() == outRank && target.shape().back() == 1 &&
         output.back() != 1;
}

} // namespace

namespace layerc::detail {

void checkArity(const char *fn, const char *what, size_t expected,
                size_t actual) {
  if (expected != actual)
    throw Error(std::string(fn) + ": expected " + std::to_string(expected) +
                " " + what + " but got " + std::to_string(actual));
}

/// The program's functions must agree with its declared layout; the loops
/// index their arguments by that layout. A forward-only program (predict
/// alone) is checked for predict() only.
void checkProgram(const char *fn, const TrainingProgram &p) {
  bool forwardOnly = std::string(fn) == "predict";
  if (p.numInputs < 1 || (p.numTargets < 1 && !forwardOnly) ||
      p.numOutputs < 1 || p.numParams < 0 || p.numStates < 0)
    throw Error(std::string(fn) +
                ": the program needs at least one input, target and output");
  size_t io = p.numInputs + p.numTargets, ps = p.numParams + p.numStates;
  auto check = [&](const CompiledFunction &f, size_t ins, size_t outs) {
    if (f.inputs.size() != ins || f.outputs.size() != outs)
      throw Error(std::string(fn) + ": compiled function '" + f.name +
                  "' has " + std::to_string(f.inputs.size()) + " inputs and " +
                  std::to_string(f.outputs.size()) +
                  " outputs, but the program layout needs " +
                  std::to_string(ins) + " and " + std::to_string(outs));
  };
  if (!forwardOnly) {
    size_t nl = p.outputLossNames.size();
    check(p.trainStep, io + ps + StepScalars::count(p.trainStep),
          1 + p.numOutputs + ps + nl);
    check(p.evaluate, io + p.numParams, 1 + p.numOutputs + nl);
  }
  check(p.predict, p.numInputs + p.numParams, p.numOutputs);
}

/// Checks that every x[i] and y[t] has the same number of samples along
/// axis 0 and returns that number.
int64_t checkSamples(const char *fn, const TrainingProgram &p,
                     const std::vector<Tensor> &x,
                     const std::vector<Tensor> *y) {
  checkArity(fn, "input tensors (x)", p.numInputs, x.size());
  if (y)
    checkArity(fn, "target tensors (y)", p.numTargets, y->size());
  std::vector<std::pair<std::string, const Tensor *>> all;
  for (size_t i = 0; i < x.size(); ++i)
    all.push_back({"x[" + std::to_string(i) + "]", &x[i]});
  for (size_t i = 0; y && i < y->size(); ++i)
    all.push_back({"y[" + std::to_string(i) + "]", &(*y)[i]});
  for (auto &[name, t] : all)
    if (t->rank() == 0)
      throw Error(std::string(fn) + ": " + name +
                  " is a scalar; it needs a sample axis (axis 0)");
  int64_t n = x.empty() ? 0 : x[0].dim(0);
  for (auto &[name, t] : all)
    if (t->dim(0) != n)
      throw Error(std::string(fn) + ": " + name + " has " +
                  std::to_string(t->dim(0)) + " samples but x[0] has " +
                  std::to_string(n));
  return n;
}

void checkNotEmpty(const char *fn, int64_t samples) {
  if (samples == 0)
    throw Error(std::string(fn) + ": x[0] has no samples");
}

void checkBatchSize(const char *fn, int64_t batchSize) {
  if (batchSize <= 0)
    throw Error(std::string(fn) + ": batch_size must be positive (got " +
                std::to_string(batchSize) + ")");
}

void checkParams(const char *fn, const TrainingProgram &p,
                 const TrainingState &state) {
  checkArity(fn, "parameter tensors", p.numParams, state.params.size());
}

/// Converts the targets to the dtypes `f` expects. Integer labels of any
/// width convert freely; float targets for integer labels are refused since
/// truncating them would hide a mistake.
std::vector<Tensor> convertTargets(const char *fn, const TrainingProgram &p,
                                   const CompiledFunction &f,
                                   const std::vector<Tensor> &y) {
  std::vector<Tensor> out;
  for (size_t t = 0; t < y.size(); ++t) {
    DType want = f.inputs[p.numInputs + t].dtype, have = y[t].dtype();
    if (want != have && isFloat(have) && !isFloat(want))
      throw Error(std::string(fn) + ": y[" + std::to_string(t) + "] is " +
                  dtypeName(have) + " but the model expects " +
                  dtypeName(want) + " labels; convert them with astype");
    out.push_back(want == have ? y[t] : y[t].astype(want));
  }
  return out;
}

/// Class indices outside [0, C) would make the compiled loss read past its
/// logits, so they are rejected here with the first bad one named.
void checkLabels(const char *fn, const TrainingProgram &p, const Tensor &y0) {
  if (p.predict.outputs.empty())
    return;
  const BufferSpec &out = p.predict.outputs[0];
  bool sparseMetric = false;
  for (const Metric &m : p.metrics)
    sparseMetric |= m.kind == MetricKind::SparseCategoricalAccuracy;
  if ((!sparseMetric && isFloat(y0.dtype())) || !isSparseTarget(y0, out.shape))
    return;
  int64_t classes = out.shape.back();
  if (classes <= 0)
    return;
  for (int64_t i = 0, n = y0.numel(); i < n; ++i) {
    double v = elementAt(y0, i);
    if (v >= 0 && v < double(classes) && v == std::floor(v))
      continue;
    throw Error(std::string(fn) + ": y[0] holds label " +
                std::to_string(static_cast<long long>(v)) + " at index " +
                std::to_string(i) + ", outside [0, " + std::to_string(classes) +
                ") for the " + std::to_string(classes) +
                " classes of output '" + out.name + "'");
  }
}

/// The samples of a dataset, checked and with their targets converted to
/// what `f` takes (none for predict) on the thread that loads them.
BatchLoader datasetLoader(const char *fn, const TrainingProgram &p,
                          const CompiledFunction &f, const data::Dataset &ds,
                          bool targets) {
  return [fn, &p, &f, &ds, targets](const std::vector<int64_t> &idx) {
    data::Batch b = ds.get(idx);
    int64_t n = checkSamples(fn, p, b.x, targets ? &b.y : nullptr);
    if (n != int64_t(idx.size()))
      throw Error(std::string(fn) + ": the dataset gave " + std::to_string(n) +
                  " samples for a batch of " + std::to_string(idx.size()));
    if (targets) {
      b.y = convertTargets(fn, p, f, b.y);
      checkLabels(fn, p, b.y[0]);
    }
    return b;
  };
}

/// The size of a dataset, which must hold samples.
int64_t datasetSize(const char *fn, const data::Dataset &ds) {
  int64_t n = ds.size();
  if (n <= 0)
    throw Error(std::string(fn) + ": the dataset has no samples");
  return n;
}

void checkPrefetch(const char *fn, int prefetch) {
  if (prefetch < 0)
    throw Error(std::string(fn) + ": prefetch must be >= 0 (got " +
                std::to_string(prefetch) + ")");
}

} // namespace layerc::detail
