//===- Dataset.cpp - Datasets and the prefetch thread ---------------------===//
//
// The Prefetcher runs the loader of one epoch's batches on a std::thread
// that stays at most `depth` batches ahead of the loop through a bounded
// queue. The first exception the loader throws ends production and is
// rethrown to the loop when it asks for that batch; the destructor wakes the
// thread and joins it wherever the loop stopped.
//
//===----------------------------------------------------------------------===//

#include "runtime/Dataset.h"
#include "runtime/Error.h"
#include "runtime/TrainingLoop.h"

using namespace layerc;
using namespace layerc::detail;

data::Dataset::~Dataset() = default;

data::TensorDataset::TensorDataset(Tensor x, Tensor y)
    : TensorDataset(std::vector<Tensor>{std::move(x)},
                    std::vector<Tensor>{std::move(y)}) {}

data::TensorDataset::TensorDataset(std::vector<Tensor> x, std::vector<Tensor> y)
    : x_(std::move(x)), y_(std::move(y)) {
  if (x_.empty())
    throw Error("TensorDataset: no input tensors");
  auto check = [&](const std::vector<Tensor> &ts, const char *name) {
    for (size_t i = 0; i < ts.size(); ++i) {
      std::string what = std::string(name) + "[" + std::to_string(i) + "]";
      if (ts[i].rank() == 0)
        throw Error("TensorDataset: " + what +
                    " is a scalar; it needs a sample axis (axis 0)");
      if (ts[i].dim(0) != x_[0].dim(0))
        throw Error("TensorDataset: " + what + " has " +
                    std::to_string(ts[i].dim(0)) + " samples but x[0] has " +
                    std::to_string(x_[0].dim(0)));
    }
  };
  check(x_, "x");
  check(y_, "y");
  size_ = x_[0].dim(0);
}

data::Batch
data::TensorDataset::get(const std::vector<int64_t> &indices) const {
  for (int64_t i : indices)
    if (i < 0 || i >= size_)
      throw Error("TensorDataset: sample " + std::to_string(i) +
                  " is outside [0, " + std::to_string(size_) + ")");
  return {gather(x_, indices), gather(y_, indices)};
}

BatchLoader layerc::detail::tensorLoader(const std::vector<Tensor> &x,
                                         const std::vector<Tensor> &y) {
  return [&x, &y](const std::vector<int64_t> &idx) {
    return data::Batch{gather(x, idx), gather(y, idx)};
  };
}

//===----------------------------------------------------------------------===//
// Prefetcher
//===----------------------------------------------------------------------===//

Prefetcher::Prefetcher(BatchLoader load, const std::vector<int64_t> &order,
                       int64_t batchSize, int depth)
    : load(std::move(load)), order(order), batchSize(batchSize),
      steps(numBatches(order.size(), batchSize)),
      depth(depth > 0 ? size_t(depth) : 0) {
  if (this->depth > 0 && steps > 0)
    worker = std::thread([this] { produce(); });
}

Prefetcher::~Prefetcher() {
  {
    std::lock_guard<std::mutex> lock(mutex);
    stopping = true;
  }
  changed.notify_all();
  if (worker.joinable())
    worker.join();
}

void Prefetcher::produce() {
  for (int64_t b = 0; b < steps; ++b) {
    {
      std::unique_lock<std::mutex> lock(mutex);
      changed.wait(lock, [&] { return stopping || ready.size() < depth; });
      if (stopping)
        return;
    }
    data::Batch batch;
    try {
      batch = load(batchIndices(order, b, batchSize));
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex);
      error = std::current_exception();
      changed.notify_all();
      return;
    }
    std::lock_guard<std::mutex> lock(mutex);
    ready.push_back(std::move(batch));
    changed.notify_all();
  }
}

data::Batch Prefetcher::next() {
  if (consumed >= steps)
    throw Error("internal error: a batch past the end of the epoch");
  if (depth == 0)
    return load(batchIndices(order, consumed++, batchSize));
  std::unique_lock<std::mutex> lock(mutex);
  changed.wait(lock, [&] { return !ready.empty() || error; });
  // The batches loaded before the failing one are still given first.
  if (ready.empty())
    std::rethrow_exception(error);
  data::Batch batch = std::move(ready.front());
  ready.pop_front();
  ++consumed;
  lock.unlock();
  changed.notify_all();
  return batch;
}
