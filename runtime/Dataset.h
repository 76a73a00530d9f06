//===- Dataset.h - Datasets that fit() pulls batches from -------*- C++ -*-===//
//
// A Dataset gives samples by index; fit(), evaluate() and predict() on one
// batch them (FitOptions::batch_size), shuffle them each epoch from
// FitOptions::seed as fit() on tensors does, and load the next batches on a
// background thread (FitOptions::prefetch) while the current one trains:
//
//   class Images : public data::Dataset {
//     int64_t size() const override { return int64_t(files.size()); }
//     data::Batch get(const std::vector<int64_t> &indices) const override;
//   };
//   model.fit(images, {.batch_size = 64, .epochs = 10});
//
// Like everything in runtime/, this depends on nothing of LLVM or MLIR.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_RUNTIME_DATASET_H
#define LAYERC_RUNTIME_DATASET_H

#include "runtime/Tensor.h"
#include "runtime/Training.h"

#include <cstdint>
#include <vector>

namespace layerc {
namespace data {

/// Some samples: one tensor per input and one per target (none for
/// predict()), each with the samples along axis 0.
struct Batch {
  std::vector<Tensor> x{}, y{};
};

/// Samples by index (a map-style dataset, PyTorch's and Keras's PyDataset's
/// idea): fit() decides the order and the batches.
class Dataset {
public:
  virtual ~Dataset();
  /// The number of samples.
  virtual int64_t size() const = 0;
  /// The samples `indices` (each in [0, size())), in that order, stacked
  /// along axis 0. fit() calls it from its prefetch thread, one call at a
  /// time; an exception thrown here ends fit() with that exception.
  virtual Batch get(const std::vector<int64_t> &indices) const = 0;
};

/// The samples of tensors held in memory: row i of every x and y.
class TensorDataset final : public Dataset {
public:
  TensorDataset(Tensor x, Tensor y);
  /// Several inputs and targets; `y` may be empty (for predict()). Throws
  /// layerc::Error when the tensors do not have the same number of samples.
  explicit TensorDataset(std::vector<Tensor> x, std::vector<Tensor> y = {});
  int64_t size() const override { return size_; }
  Batch get(const std::vector<int64_t> &indices) const override;

private:
  std::vector<Tensor> x_, y_;
  int64_t size_ = 0;
};

} // namespace data

/// fit() on a dataset: as fit() on tensors (the same batches, shuffling and
/// results bit for bit), with the batches loaded options.prefetch ahead on
/// a background thread. validation_split is refused (give
/// validation_data); data-parallel programs are not supported yet.
History fit(const TrainingProgram &program, TrainingState &state,
            const data::Dataset &dataset, const FitOptions &options);

/// evaluate() on a dataset, its samples in order.
std::vector<double> evaluate(const TrainingProgram &program,
                             const TrainingState &state,
                             const data::Dataset &dataset,
                             const EvaluateOptions &options);

/// predict() on a dataset's inputs (its targets are not used).
std::vector<Tensor> predict(const TrainingProgram &program,
                            const TrainingState &state,
                            const data::Dataset &dataset,
                            const PredictOptions &options);

} // namespace layerc

#endif // LAYERC_RUNTIME_DATASET_H
