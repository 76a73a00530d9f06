//===- ModelDataset.cpp - fit / evaluate / predict on a data::Dataset -----===//
//
// A Model's dataset goes to the runtime wrapped, so that each batch's inputs
// are checked and converted as Model::fit converts tensors, on the prefetch
// thread that loads it. Also what every fit() prepares in its options.
//
//===----------------------------------------------------------------------===//

#include "frontend/Callbacks.h"
#include "frontend/CompiledModel.h"
#include "frontend/Model.h"

#include <functional>

using namespace layerc;

namespace {

/// A dataset whose batches' inputs go through `prepare`.
class PreparedDataset final : public data::Dataset {
public:
  using Prepare =
      std::function<std::vector<Tensor>(const std::vector<Tensor> &)>;
  PreparedDataset(const data::Dataset &inner, Prepare prepare,
                  std::shared_ptr<const data::Dataset> owner = nullptr)
      : inner(inner), prepare(std::move(prepare)), owner(std::move(owner)) {}
  int64_t size() const override { return inner.size(); }
  data::Batch get(const std::vector<int64_t> &indices) const override {
    data::Batch batch = inner.get(indices);
    batch.x = prepare(batch.x);
    return batch;
  }

private:
  const data::Dataset &inner;
  Prepare prepare;
  std::shared_ptr<const data::Dataset> owner;
};

} // namespace

FitOptions Model::prepareFit(const FitOptions &options) {
  for (const auto &callback : options.callbacks)
    if (auto *aware = dynamic_cast<ModelCallback *>(callback.get()))
      aware->model = this;
  FitOptions prepared = options;
  if (!prepared.validation_data)
    return prepared;
  ValidationData &v = *prepared.validation_data;
  if (!v.dataset) {
    v.x = prepareInputs(v.x, "fit (validation_data)");
    return prepared;
  }
  v.dataset = std::make_shared<PreparedDataset>(
      *v.dataset,
      [this](const std::vector<Tensor> &xs) {
        return prepareInputs(xs, "fit (validation_data)");
      },
      v.dataset);
  return prepared;
}

std::vector<Tensor> Model::probeInputs(const data::Dataset &dataset,
                                       const char *what) const {
  if (!hasUnknownSampleSizes() || dataset.size() <= 0)
    return {};
  return prepareInputs(dataset.get({0}).x, what);
}

History Model::fit(const data::Dataset &dataset, const FitOptions &options) {
  requireCompiled("fit");
  CompiledModel &program = trainingProgram(probeInputs(dataset, "fit"));
  PreparedDataset prepared(dataset, [this](const std::vector<Tensor> &xs) {
    return prepareInputs(xs, "fit");
  });
  return layerc::fit(program.program, program.state, prepared,
                     prepareFit(options));
}

std::vector<double> Model::evaluate(const data::Dataset &dataset,
                                    const EvaluateOptions &options) {
  requireCompiled("evaluate");
  CompiledModel &program = trainingProgram(probeInputs(dataset, "evaluate"));
  PreparedDataset prepared(dataset, [this](const std::vector<Tensor> &xs) {
    return prepareInputs(xs, "evaluate");
  });
  return layerc::evaluate(program.program, program.state, prepared, options);
}

std::vector<Tensor> Model::predict(const data::Dataset &dataset,
                                   const PredictOptions &options) {
  CompiledModel &program = inferenceProgram(probeInputs(dataset, "predict"));
  PreparedDataset prepared(dataset, [this](const std::vector<Tensor> &xs) {
    return prepareInputs(xs, "predict");
  });
  return layerc::predict(program.program, program.state, prepared, options);
}
