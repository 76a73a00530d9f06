//===- distributed_fit.cpp - Step time of data-parallel fit() -------------===//
//
// Trains the guide's MNIST MLP or toy ResNet (RMSprop, global batch 64) on
// random data for a number of steps after a warm-up, in one process or,
// with LAYERC_DISTRIBUTE=mpi under mpirun, data-parallel; rank 0 prints the
// mean step time and the time of one all-reduce of the gradients' size;
// data-parallel, also the time in grad_step and the gradients' all-reduce
// time left after grad_step returned (exposed: the least wait over the
// ranks; LAYERC_MPI_OVERLAP=0 gives the non-overlapped figure).
// bench/distributed.sh runs it with 1 and 2 processes and derives the
// scaling efficiency.
//
//   distributed_fit mlp|resnet [steps]
//   distributed_fit --volumes     the parameters of the guide's models
//
//===----------------------------------------------------------------------===//

#include "guide/GuideModels.h"
#include "layerc/layerc.h"
#include "runtime/GradientReady.h"
#ifdef LAYERC_HAVE_MPI
#include "runtime/mpi/MpiCommunicator.h"
#endif

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

using namespace layerc;

namespace {

double seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since)
      .count();
}

int volumes() {
  std::printf("%-22s %12s %14s\n", "model", "parameters", "float32 bytes");
  auto row = [](const char *name, const Model &m) {
    std::printf("%-22s %12lld %14lld\n", name, (long long)m.countParams(),
                (long long)m.countParams() * 4);
  };
  row("mnist_mlp", guide::mnistMlp());
  row("toy_resnet", guide::toyResNet());
  row("autoencoder (enc+dec)", [] {
    Model encoder = guide::encoderModel(), decoder = guide::decoderModel();
    auto img = Input({28, 28, 1});
    return Model(img, decoder(encoder(img)), "autoencoder");
  }());
  row("ticket (multi-io)", guide::ticketModel());
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  std::string which = argc > 1 ? argv[1] : "mlp";
  if (which == "--volumes")
    return volumes();
  if (which != "mlp" && which != "resnet") {
    std::cerr << "usage: distributed_fit mlp|resnet [steps] | --volumes\n";
    return 2;
  }
  bool resnet = which == "resnet";
  int64_t steps = argc > 2 ? std::atoll(argv[2]) : (resnet ? 20 : 400);
  const int64_t batch = 64;
  try {
    setRandomSeed(7);
    Model model = resnet ? guide::toyResNet() : guide::mnistMlp();
    model.compile({.loss = {resnet ? "categorical_crossentropy"
                                   : "sparse_categorical_crossentropy",
                            /*from_logits=*/true},
                   .optimizer = optimizers::RMSprop(),
                   .metrics = {"accuracy"}});
    int64_t n = steps * batch;
    auto [x, y] = guide::randomClassification(n, resnet);
    FitOptions options{.batch_size = batch, .epochs = 1, .verbose = 0};
    // Warm-up: the first calls allocate buffers and start threads.
    model.fit(x.slice(0, 2 * batch), y.slice(0, 2 * batch), options);
    auto start = std::chrono::steady_clock::now();
    model.fit(x, y, options);
    double step = seconds(start) / double(steps);

    int rank = 0, size = 1;
    double reduce = 0;
#ifdef LAYERC_HAVE_MPI
    const char *mode = std::getenv("LAYERC_DISTRIBUTE");
    if (mode && std::string(mode) == "mpi") {
      std::shared_ptr<Communicator> comm = mpiCommunicator();
      rank = comm->rank();
      size = comm->size();
      std::vector<float> buffer(size_t(model.countParams()), 1.0f);
      comm->barrier();
      const int repeats = 50;
      auto begin = std::chrono::steady_clock::now();
      for (int r = 0; r < repeats; ++r)
        comm->allreduceSum(buffer.data(), buffer.size());
      reduce = seconds(begin) / repeats;
    }
#endif
    // The timed fit()'s split of a step: grad_step (with the copies into
    // buckets when overlapped), and the wait for the gradients' all-reduce
    // after it returned. A rank that finishes grad_step first also waits
    // for the others; the last one waits for the communication alone, so
    // the exposed communication is the least wait over the ranks (and,
    // on a busy machine, the median over the steps of rank 0's wait
    // with LAYERC_MPI_PROFILE=1).
    const detail::DataParallelStats &stats = detail::dataParallelStats();
    double perStep = stats.steps > 0 ? 1e3 / double(stats.steps) : 0.0;
    double exposed = stats.exposedSeconds * perStep, longestWait = exposed;
    std::vector<double> perStepWaits = stats.exposedPerStep;
    double median = 0;
    if (!perStepWaits.empty()) {
      std::nth_element(perStepWaits.begin(),
                       perStepWaits.begin() + perStepWaits.size() / 2,
                       perStepWaits.end());
      median = perStepWaits[perStepWaits.size() / 2] * 1e3;
    }
#ifdef LAYERC_HAVE_MPI
    if (size > 1) {
      std::shared_ptr<Communicator> comm = mpiCommunicator();
      std::vector<double> waits(size_t(size), 0.0);
      waits[size_t(rank)] = exposed;
      comm->allreduceSum(waits.data(), waits.size());
      exposed = *std::min_element(waits.begin(), waits.end());
      longestWait = *std::max_element(waits.begin(), waits.end());
    }
#endif
    const char *threads = std::getenv("LAYERC_NUM_THREADS");
    if (rank == 0)
      std::printf("%s ranks=%d threads=%s step_ms=%.3f allreduce_ms=%.3f "
                  "params=%lld overlap=%d buckets=%lld grad_step_ms=%.3f "
                  "exposed_ms=%.3f longest_wait_ms=%.3f "
                  "exposed_median_ms=%.3f\n",
                  which.c_str(), size, threads ? threads : "default",
                  step * 1e3, reduce * 1e3, (long long)model.countParams(),
                  int(stats.overlapped), (long long)stats.bucketsPerStep,
                  stats.gradStepSeconds * perStep, exposed, longestWait,
                  median);
  } catch (const Error &e) {
    std::cerr << "distributed_fit: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
