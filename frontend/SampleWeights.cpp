//===- SampleWeights.cpp - Keras's sample_weight and class_weight ---------===//
//
// fit() and evaluate() with per-sample weights. The weighted program is
// the model's training program built with layer-autodiff's sample-weights
// (one rank-1 argument per output after the targets), compiled on first
// use and kept with the program it weights, so an unweighted fit() runs
// what it always ran. It shares that program's TrainingState (weights,
// optimizer state, step), and its sample weights travel through the
// runtime's loops as extra targets (TrainingProgram::numTargets counts
// them), so batching, shuffling and validation_split take them along.
//
// As Keras: each sample's loss times its weight, summed and divided by the
// batch size; class_weight maps each sample's class (sparse label, or the
// argmax of a one-hot target) to its weight, 1 for a class it leaves out;
// negative weights are accepted (Keras does not check them either); the
// metrics stay unweighted (Keras's compile(metrics=...)).
//
//===----------------------------------------------------------------------===//

#include "frontend/Compile.h"
#include "frontend/CompiledModel.h"
#include "frontend/Model.h"
#include "runtime/Error.h"

#include <cmath>

using namespace layerc;

namespace {

std::string shapeOf(const Tensor &t) { return t.shapeString(); }

/// `w` as one float32 weight per sample, checked against `samples`.
Tensor checkedWeights(const std::string &what, const Tensor &w,
                      int64_t samples) {
  bool perSample = w.rank() == 1 || (w.rank() == 2 && w.dim(1) == 1);
  if (!perSample || w.dim(0) != samples)
    throw Error(what + " has shape " + shapeOf(w) +
                ", but it needs one weight per sample: shape (" +
                std::to_string(samples) + ",) for the " +
                std::to_string(samples) + " samples of x");
  Tensor out = w.astype(DType::Float32).reshape({samples});
  const float *v = out.data<float>();
  for (int64_t i = 0; i < samples; ++i)
    if (!std::isfinite(v[i]))
      throw Error(what + " holds a non-finite weight (" + std::to_string(v[i]) +
                  ") at index " + std::to_string(i));
  return out;
}

/// Element `i` of `t` as a double (any dtype).
double valueAt(const Tensor &t, int64_t i) {
  return t.astype(DType::Float64).data<double>()[i];
}

/// Keras's class_weight_to_sample_weights: each sample's class is its
/// label (rounded), the argmax of its one-hot row, or its one column.
Tensor classWeights(const std::string &fn, const Tensor &y,
                    const std::map<int64_t, double> &classWeight,
                    int64_t classes, const std::string &output) {
  for (const auto &[c, w] : classWeight) {
    if (c < 0 || c >= classes)
      throw Error(fn + ": class_weight has class " + std::to_string(c) +
                  ", outside [0, " + std::to_string(classes) + ") for the " +
                  std::to_string(classes) + " classes of output '" + output +
                  "'");
    if (!std::isfinite(w))
      throw Error(fn + ": class_weight of class " + std::to_string(c) +
                  " is not finite");
  }
  if (y.rank() < 1 || y.rank() > 2)
    throw Error(fn +
                ": class_weight needs one class per sample: targets of "
                "rank 1 (labels) or 2 (one-hot rows, or one column), "
                "got y of shape " +
                shapeOf(y));
  int64_t n = y.dim(0), width = y.rank() == 2 ? y.dim(1) : 1;
  Tensor yd = y.astype(DType::Float64);
  const double *v = yd.data<double>();
  std::vector<float> weights(n);
  for (int64_t i = 0; i < n; ++i) {
    const double *row = v + i * width;
    int64_t c = 0;
    if (width == 1) {
      c = static_cast<int64_t>(std::nearbyint(row[0]));
    } else {
      for (int64_t j = 1; j < width; ++j)
        if (row[j] > row[c])
          c = j;
    }
    auto it = classWeight.find(c);
    weights[i] = it == classWeight.end() ? 1.0f : float(it->second);
  }
  return Tensor::fromFloats(weights, {n});
}

int64_t samplesOf(const std::vector<Tensor> &xs) {
  return xs.empty() || xs[0].rank() == 0 ? 0 : xs[0].dim(0);
}

} // namespace

bool Model::usesSampleWeights(const FitOptions &options) {
  return options.sample_weight || !options.class_weight.empty() ||
         (options.validation_data && options.validation_data->sample_weight);
}

std::vector<Tensor>
Model::withSampleWeights(const char *fn, const std::vector<Tensor> &ys,
                         int64_t samples,
                         const std::optional<Tensor> &sampleWeight,
                         const std::map<int64_t, double> &classWeight,
                         const std::string &argument) const {
  std::string f = fn;
  if (sampleWeight && !classWeight.empty())
    throw Error(f + ": you cannot give class_weight and sample_weight at the "
                    "same time");
  if (ys.size() != outputs_.size())
    throw Error(f + ": model " + name_ + " expects " +
                std::to_string(outputs_.size()) + " target tensors, but got " +
                std::to_string(ys.size()));
  Tensor weights;
  if (sampleWeight) {
    weights = checkedWeights(f + ": " + argument, *sampleWeight, samples);
  } else if (!classWeight.empty()) {
    if (outputs_.size() != 1)
      throw Error(f +
                  ": class_weight is only supported for models with a "
                  "single output; model " +
                  name_ + " has " + std::to_string(outputs_.size()));
    const std::vector<int64_t> &shape = outputs_[0].shape();
    int64_t last = shape.empty() ? 1 : shape.back();
    weights = classWeights(f, ys[0], classWeight, last == 1 ? 2 : last,
                           outputNames()[0]);
    if (weights.dim(0) != samples)
      throw Error(f + ": y has " + std::to_string(weights.dim(0)) +
                  " samples but x has " + std::to_string(samples));
  } else {
    weights = Tensor::fromFloats(std::vector<float>(samples, 1.0f), {samples});
  }
  // One array weighs every output, as Keras replicates it.
  std::vector<Tensor> out = ys;
  out.insert(out.end(), ys.size(), weights);
  return out;
}

const TrainingProgram &Model::weightedProgram(CompiledModel &base) {
  if (!base.weighted)
    base.weighted = std::make_shared<TrainingProgram>(
        buildTraining(base.options, resolveLosses(base.options, outputNames()),
                      base.samples, /*sampleWeights=*/true)
            ->program);
  return *base.weighted;
}

History Model::fitWeighted(CompiledModel &program,
                           const std::vector<Tensor> &inputs,
                           const std::vector<Tensor> &ys, FitOptions options) {
  std::vector<Tensor> targets =
      withSampleWeights("fit", ys, samplesOf(inputs), options.sample_weight,
                        options.class_weight, "sample_weight");
  if (options.validation_data) {
    ValidationData &v = *options.validation_data;
    if (v.dataset)
      throw Error("fit: validation_data from a dataset cannot be combined "
                  "with sample_weight, class_weight or validation sample "
                  "weights; give it as tensors");
    v.y = withSampleWeights("fit (validation_data)", v.y, samplesOf(v.x),
                            v.sample_weight, {},
                            "validation_data's sample_weight");
    v.sample_weight.reset();
  }
  options.sample_weight.reset();
  options.class_weight.clear();
  return layerc::fit(weightedProgram(program), program.state, inputs, targets,
                     options);
}

std::vector<double> Model::evaluateWeighted(CompiledModel &program,
                                            const std::vector<Tensor> &inputs,
                                            const std::vector<Tensor> &ys,
                                            EvaluateOptions options) {
  std::vector<Tensor> targets =
      withSampleWeights("evaluate", ys, samplesOf(inputs),
                        options.sample_weight, {}, "sample_weight");
  options.sample_weight.reset();
  return layerc::evaluate(weightedProgram(program), program.state, inputs,
                          targets, options);
}
