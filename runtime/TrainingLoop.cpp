//===- TrainingLoop.cpp - Metrics and batching of the fit() loops ---------===//
//
// See TrainingLoop.h.
//
//===----------------------------------------------------------------------===//

#include "runtime/TrainingLoop.h"
#include "runtime/Error.h"

#include <algorithm>
#include <cmath>

using namespace layerc;
using namespace layerc::detail;

namespace {

int64_t argmaxRow(const Tensor &t, int64_t row, int64_t width) {
  int64_t best = 0;
  double bestValue = elementAt(t, row * width);
  for (int64_t c = 1; c < width; ++c) {
    double v = elementAt(t, row * width + c);
    if (v > bestValue) {
      best = c;
      bestValue = v;
    }
  }
  return best;
}

} // namespace

double layerc::detail::elementAt(const Tensor &t, int64_t i) {
  switch (t.dtype()) {
  case DType::Float32:
    return t.data<float>()[i];
  case DType::Float64:
    return t.data<double>()[i];
  case DType::Int32:
    return t.data<int32_t>()[i];
  case DType::Int64:
    return static_cast<double>(t.data<int64_t>()[i]);
  case DType::UInt8:
    return t.data<uint8_t>()[i];
  }
  return 0;
}

namespace {
/// Keras's AUC thresholds: 0 - eps, i / (n - 1) for 0 < i < n - 1, 1 + eps.
constexpr int64_t kAucThresholds = 200;
} // namespace

MetricState::MetricState(const Metric &m)
    : counts(m.kind == MetricKind::AUC       ? 2 * kAucThresholds
             : m.kind == MetricKind::MeanIoU ? m.numClasses * m.numClasses
                                             : 2,
             0.0) {}

double MetricState::value(const Metric &m) const {
  if (m.kind == MetricKind::MeanIoU) {
    // Row t, column p of the confusion matrix: targets t predicted p.
    const int64_t n = m.numClasses;
    double sum = 0, valid = 0;
    for (int64_t c = 0; c < n; ++c) {
      double tp = counts[c * n + c], row = 0, col = 0;
      for (int64_t k = 0; k < n; ++k) {
        row += counts[c * n + k];
        col += counts[k * n + c];
      }
      double denominator = row + col - tp;
      if (denominator > 1e-9) {
        valid += 1;
        sum += tp / (denominator + 1e-7);
      }
    }
    return sum / (valid + 1e-7);
  }
  if (m.kind != MetricKind::AUC)
    return counts[1] > 0 ? counts[0] / counts[1] : 0.0;
  // Bucket b holds the predictions above threshold b but not above b + 1;
  // the counts above threshold i are the buckets from i on.
  const int64_t n = kAucThresholds;
  std::vector<double> tp(n), fp(n);
  double pos = 0, neg = 0;
  for (int64_t i = n - 1; i >= 0; --i) {
    pos += counts[i];
    neg += counts[n + i];
    tp[i] = pos;
    fp[i] = neg;
  }
  auto ratio = [](double a, double b) { return b != 0 ? a / b : 0.0; };
  // Trapezoids between consecutive (false positive rate, recall) points;
  // tp + fn is every positive, fp + tn every negative.
  double auc = 0;
  for (int64_t i = 0; i + 1 < n; ++i) {
    double height = (ratio(tp[i], pos) + ratio(tp[i + 1], pos)) / 2;
    auc += (ratio(fp[i], neg) - ratio(fp[i + 1], neg)) * height;
  }
  return auc;
}

namespace {
/// The class ids a MeanIoU compares: every element (sparse), or the argmax
/// of each row over the last axis.
std::vector<double> classIds(const Tensor &t, bool sparse) {
  std::vector<double> ids;
  if (sparse) {
    for (int64_t i = 0; i < t.numel(); ++i)
      ids.push_back(elementAt(t, i));
    return ids;
  }
  int64_t width = t.rank() ? t.shape().back() : 1;
  for (int64_t r = 0; width && r < t.numel() / width; ++r)
    ids.push_back(double(argmaxRow(t, r, width)));
  return ids;
}
} // namespace

void layerc::detail::accumulateMetric(const char *fn, const Metric &m,
                                      const Tensor &out, const Tensor &target,
                                      MetricState &mean) {
  if (m.kind == MetricKind::MeanIoU) {
    std::vector<double> truth = classIds(target, m.sparseTrue);
    std::vector<double> pred = classIds(out, m.sparsePred);
    if (truth.size() != pred.size())
      throw Error(std::string(fn) + ": metric '" + m.name + "' compares " +
                  std::to_string(pred.size()) + " predicted class ids (from " +
                  out.shapeString() + ") with " + std::to_string(truth.size()) +
                  " true ones (from " + target.shapeString() + ")");
    const double n = double(m.numClasses);
    for (size_t i = 0; i < truth.size(); ++i) {
      double t = truth[i], p = pred[i];
      if (!(t >= 0 && t < n && p >= 0 && p < n) ||
          (m.ignoreClass && int64_t(t) == *m.ignoreClass))
        continue;
      mean.counts[int64_t(t) * m.numClasses + int64_t(p)] += 1.0;
    }
    return;
  }
  int64_t width = out.rank() ? out.shape().back() : 1;
  int64_t rows = width ? out.numel() / width : 0;
  bool sparse = m.kind == MetricKind::SparseCategoricalAccuracy ||
                m.kind == MetricKind::SparseTopKCategoricalAccuracy;
  if (target.numel() != (sparse ? rows : out.numel()))
    throw Error(std::string(fn) + ": metric '" + m.name +
                "' cannot compare outputs " + out.shapeString() +
                " with targets " + target.shapeString());
  if (m.kind == MetricKind::MeanSquaredError ||
      m.kind == MetricKind::MeanAbsoluteError) {
    for (int64_t i = 0; i < out.numel(); ++i) {
      double d = elementAt(out, i) - elementAt(target, i);
      mean.add(m.kind == MetricKind::MeanSquaredError ? d * d : std::fabs(d),
               1.0);
    }
    return;
  }
  if (m.kind == MetricKind::AUC) {
    // Keras's bucket of a prediction clipped to [0, 1]:
    // max(ceil(p (n - 1)) - 1, 0); positives first, then negatives.
    for (int64_t i = 0; i < out.numel(); ++i) {
      double p = std::clamp(elementAt(out, i), 0.0, 1.0);
      int64_t bucket = std::max<int64_t>(
          int64_t(std::ceil(p * double(kAucThresholds - 1))) - 1, 0);
      bool positive = elementAt(target, i) != 0.0;
      mean.counts[(positive ? 0 : kAucThresholds) + bucket] += 1.0;
    }
    return;
  }
  if (m.kind == MetricKind::Precision || m.kind == MetricKind::Recall) {
    // A ratio of counts: the mean, over the elements predicted positive
    // (precision) or actually positive (recall), of the other being so.
    bool precision = m.kind == MetricKind::Precision;
    for (int64_t i = 0; i < out.numel(); ++i) {
      bool predicted = elementAt(out, i) > 0.5;
      bool actual = elementAt(target, i) != 0.0;
      if (precision ? predicted : actual)
        mean.add(precision ? actual : predicted, 1.0);
    }
    return;
  }
  if (m.kind == MetricKind::TopKCategoricalAccuracy ||
      m.kind == MetricKind::SparseTopKCategoricalAccuracy) {
    constexpr int64_t k = 5;
    for (int64_t r = 0; r < rows; ++r) {
      double raw =
          sparse ? elementAt(target, r) : double(argmaxRow(target, r, width));
      if (!(raw >= 0 && raw < double(width) && raw == std::floor(raw)))
        throw Error(std::string(fn) + ": metric '" + m.name + "': label " +
                    std::to_string(raw) + " is not one of " +
                    std::to_string(width) + " classes");
      int64_t label = int64_t(raw);
      double value = elementAt(out, r * width + label);
      int64_t above = 0;
      for (int64_t c = 0; c < width; ++c)
        above += elementAt(out, r * width + c) > value;
      mean.add(above < k ? 1.0 : 0.0, 1.0);
    }
    return;
  }
  for (int64_t r = 0; r < rows; ++r) {
    double hit = 0;
    if (sparse)
      hit = argmaxRow(out, r, width) == elementAt(target, r);
    else if (m.kind == MetricKind::CategoricalAccuracy)
      hit = argmaxRow(out, r, width) == argmaxRow(target, r, width);
    else
      for (int64_t c = 0; c < width; ++c)
        hit += (elementAt(out, r * width + c) > 0.5) ==
               (elementAt(target, r * width + c) > 0.5);
    mean.add(sparse || m.kind == MetricKind::CategoricalAccuracy
                 ? hit
                 : hit / double(width),
             1.0);
  }
}

double layerc::detail::scalarValue(const Tensor &t) {
  if (t.numel() != 1)
    throw Error("expected a scalar loss but got shape " + t.shapeString());
  return elementAt(t, 0);
}

/// The scalars of tensors [first, first + count).
std::vector<double> layerc::detail::scalarValues(const std::vector<Tensor> &ts,
                                                 size_t first, size_t count) {
  std::vector<double> out;
  for (size_t i = 0; i < count; ++i)
    out.push_back(scalarValue(ts.at(first + i)));
  return out;
}

size_t layerc::detail::StepScalars::count(const CompiledFunction &f) {
  return !f.inputs.empty() && f.inputs.back().role == Role::LearningRate ? 2
                                                                         : 1;
}

layerc::detail::StepScalars::StepScalars(const CompiledFunction &f,
                                         const TrainingState &state)
    : state(state), hasLearningRate(count(f) == 2) {
  const BufferSpec &stepSpec = f.inputs[f.inputs.size() - count(f)];
  step = Tensor(stepSpec.resolve(1), stepSpec.dtype);
  if (hasLearningRate)
    learningRate = Tensor(f.inputs.back().resolve(1), f.inputs.back().dtype);
}

void layerc::detail::StepScalars::append(std::vector<const Tensor *> &in) {
  setScalar(step, double(state.iterations + 1));
  in.push_back(&step);
  if (hasLearningRate) {
    setScalar(learningRate, state.learning_rate.at(state.iterations));
    in.push_back(&learningRate);
  }
}

void layerc::detail::setScalar(Tensor &t, double value) {
  switch (t.dtype()) {
  case DType::Float32:
    *t.data<float>() = static_cast<float>(value);
    return;
  case DType::Float64:
    *t.data<double>() = value;
    return;
  case DType::Int32:
    *t.data<int32_t>() = static_cast<int32_t>(value);
    return;
  case DType::Int64:
    *t.data<int64_t>() = static_cast<int64_t>(value);
    return;
  case DType::UInt8:
    *t.data<uint8_t>() = static_cast<uint8_t>(value);
    return;
  }
}

//===----------------------------------------------------------------------===//
// Batching
//===----------------------------------------------------------------------===//

int64_t layerc::detail::numBatches(size_t samples, int64_t batchSize) {
  return (static_cast<int64_t>(samples) + batchSize - 1) / batchSize;
}

/// The indices of batch `b`.
std::vector<int64_t>
layerc::detail::batchIndices(const std::vector<int64_t> &order, int64_t b,
                             int64_t batchSize) {
  size_t begin = b * batchSize;
  size_t end = std::min(order.size(), begin + batchSize);
  return {order.begin() + begin, order.begin() + end};
}

std::vector<Tensor> layerc::detail::gather(const std::vector<Tensor> &ts,
                                           const std::vector<int64_t> &idx) {
  std::vector<Tensor> out;
  for (const Tensor &t : ts)
    out.push_back(t.take(idx));
  return out;
}

std::vector<Tensor> &BatchResults::get(const CompiledFunction &f,
                                       int numOutputs, int64_t size) {
  if (size == batch)
    return tensors;
  tensors.clear();
  for (int i = 0; i <= numOutputs; ++i)
    tensors.emplace_back(f.outputs[i].resolve(size), f.outputs[i].dtype);
  batch = size;
  return tensors;
}

EpochTrainer::~EpochTrainer() = default;
