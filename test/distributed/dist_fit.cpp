//===- dist_fit.cpp - Driver of the data-parallel training tests ----------===//
//
// Trains the guide's MNIST MLP or toy ResNet on seeded random data and
// writes the weights, so that a test can compare a run under
// `mpirun -np N` (LAYERC_DISTRIBUTE=mpi) with one process:
//
//   dist_fit --model=mlp --out=w{rank}.safetensors     ({rank}: the MPI rank)
//   dist_fit --compare=A,B [--rtol=1e-5] [--whole-model]
//
// --model=mlp-bn puts BatchNormalization after the first Dense;
// --save-init=F and --save-data=F write the initial weights and x (.npy);
// --no-shuffle keeps the samples in order; --perturb moves every initial
// weight by one unit in the last place.
// --die-after=S makes rank --die-rank (1) kill (or, with --die-signal=stop,
// freeze) itself S seconds after training starts, for the tests of a rank
// that fails mid-run. --checkpoint=PATH saves weights and optimizer state
// after every epoch (on rank 0); --resume=PATH starts from such a file.
//
//===----------------------------------------------------------------------===//

#include "guide/GuideModels.h"
#include "layerc/layerc.h"
#include "runtime/GradientReady.h"
#include "runtime/SafeTensors.h"

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <thread>

using namespace layerc;

namespace {

struct Args {
  std::string model = "mlp", optimizer = "rmsprop", out, saveInit, saveData,
              checkpoint, resume, compare;
  int64_t samples = 1280, batch = 64;
  int epochs = 1;
  double rtol = 1e-5, dieAfter = -1, dropout = 0.5;
  int dieRank = 1;
  bool wholeModel = false, perturb = false, shuffle = true;
  std::string dieSignal = "kill";
};

Args parse(int argc, char **argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const char *flag) -> const char * {
      size_t n = std::strlen(flag);
      return arg.compare(0, n, flag) == 0 ? arg.c_str() + n : nullptr;
    };
    if (const char *v = value("--model="))
      a.model = v;
    else if (const char *v = value("--optimizer="))
      a.optimizer = v;
    else if (const char *v = value("--save-init="))
      a.saveInit = v;
    else if (const char *v = value("--save-data="))
      a.saveData = v;
    else if (const char *v = value("--out="))
      a.out = v;
    else if (const char *v = value("--checkpoint="))
      a.checkpoint = v;
    else if (const char *v = value("--resume="))
      a.resume = v;
    else if (const char *v = value("--compare="))
      a.compare = v;
    else if (const char *v = value("--samples="))
      a.samples = std::atoll(v);
    else if (const char *v = value("--batch="))
      a.batch = std::atoll(v);
    else if (const char *v = value("--epochs="))
      a.epochs = std::atoi(v);
    else if (arg == "--no-shuffle")
      a.shuffle = false;
    else if (arg == "--perturb")
      a.perturb = true;
    else if (arg == "--whole-model")
      a.wholeModel = true;
    else if (const char *v = value("--dropout="))
      a.dropout = std::atof(v);
    else if (const char *v = value("--rtol="))
      a.rtol = std::atof(v);
    else if (const char *v = value("--die-after="))
      a.dieAfter = std::atof(v);
    else if (const char *v = value("--die-rank="))
      a.dieRank = std::atoi(v);
    else if (const char *v = value("--die-signal="))
      a.dieSignal = v;
    else {
      std::cerr << "dist_fit: unknown argument '" << arg
                << "' (see the comment at the top of dist_fit.cpp)\n";
      std::exit(2);
    }
  }
  return a;
}

/// Open MPI's rank of this process; 0 outside mpirun.
int mpiRank() {
  const char *rank = std::getenv("OMPI_COMM_WORLD_RANK");
  return rank ? std::atoi(rank) : 0;
}

/// The weights of A against B's: each tensor's largest difference
/// relative to its largest value must be within `rtol`, or, with
/// `wholeModel`, the L2 norm of all the weights' differences relative to the
/// norm of all of B's weights. Optimizer slots are reported, not checked.
int compare(const std::string &files, double rtol, bool wholeModel) {
  size_t comma = files.find(',');
  SafeTensorsFile a = loadSafeTensors(files.substr(0, comma));
  SafeTensorsFile b = loadSafeTensors(files.substr(comma + 1));
  if (a.tensors.size() != b.tensors.size()) {
    std::cerr << "different tensor counts\n";
    return 1;
  }
  double worst = 0, diffSquares = 0, squares = 0;
  std::string worstName;
  size_t weights = 0;
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    const Tensor &x = a.tensors[i].second, &y = b.tensors[i].second;
    const std::string &name = a.tensors[i].first;
    if (x.shape() != y.shape() || x.dtype() != DType::Float32) {
      std::cerr << name << ": shapes differ\n";
      return 1;
    }
    if (name.rfind("optimizer/", 0) == 0)
      continue;
    ++weights;
    double scale = 0, diff = 0;
    for (int64_t k = 0; k < x.numel(); ++k) {
      double u = x.data<float>()[k], v = y.data<float>()[k];
      scale = std::max(scale, std::fabs(v));
      diff = std::max(diff, std::fabs(u - v));
      diffSquares += (u - v) * (u - v);
      squares += v * v;
    }
    double rel = scale > 0 ? diff / scale : diff;
    if (rel > worst || worstName.empty()) {
      worst = rel;
      worstName = name;
    }
  }
  double whole = squares > 0 ? std::sqrt(diffSquares / squares) : 0;
  std::printf("%zu weight tensors: worst tensor %s differs by %.3g of its "
              "largest value; all weights together by %.3g (L2)\n",
              weights, worstName.c_str(), worst, whole);
  double checked = wholeModel ? whole : worst;
  if (!(checked <= rtol)) {
    std::printf("FAIL: %.3g exceeds %.3g\n", checked, rtol);
    return 1;
  }
  return 0;
}

/// The guide's MLP or toy ResNet, or one of two MLP variants: with a
/// Dropout before its last layer, or Dense-BatchNormalization-relu-Dense.
Model buildModel(const Args &args) {
  if (args.model == "resnet")
    return guide::toyResNet(args.dropout);
  if (args.model != "mlp-bn" && args.model != "mlp-dropout")
    return guide::mnistMlp();
  auto in = Input({784}, {.name = "digits"});
  if (args.model == "mlp-bn") {
    auto h = layers::BatchNormalization()(layers::Dense(64)(in));
    h = layers::Activation("relu")(h);
    return Model(in, layers::Dense(10)(h), "mnist_bn");
  }
  auto x = layers::Dense(64, {.activation = "relu"})(in);
  x = layers::Dense(64, {.activation = "relu"})(x);
  x = layers::Dropout(args.dropout)(x);
  return Model(in, layers::Dense(10)(x), "mnist_model");
}

} // namespace

int main(int argc, char **argv) {
  Args args = parse(argc, argv);
  try {
    if (!args.compare.empty())
      return compare(args.compare, args.rtol, args.wholeModel);
    setRandomSeed(7);
    Model model = buildModel(args);
    bool resnet = args.model == "resnet";
    model.compile({.loss = {resnet ? "categorical_crossentropy"
                                   : "sparse_categorical_crossentropy",
                            /*from_logits=*/true},
                   .optimizer = Optimizer(args.optimizer.c_str()),
                   .metrics = {"accuracy"}});
    if (!args.resume.empty())
      model.loadWeights(args.resume);
    // One unit in the last place on every weight: how far float32 rounding
    // alone carries this training (docs/Distributed.md).
    if (args.perturb) {
      std::vector<Tensor> weights = model.getWeights();
      for (Tensor &w : weights)
        for (int64_t k = 0; k < w.numel(); ++k)
          w.data<float>()[k] = std::nextafter(w.data<float>()[k], 1.0f);
      model.setWeights(weights);
    }
    auto [x, y] = guide::randomClassification(args.samples, resnet);
    if (!args.saveData.empty() && mpiRank() == 0)
      x.saveNpy(args.saveData);
    if (!args.saveInit.empty() && mpiRank() == 0)
      model.saveWeights(args.saveInit);

    if (args.dieAfter >= 0 && mpiRank() == args.dieRank)
      std::thread([&] {
        std::this_thread::sleep_for(
            std::chrono::duration<double>(args.dieAfter));
        std::fprintf(stderr, "dist_fit: rank %d %s itself\n", args.dieRank,
                     args.dieSignal == "stop" ? "freezes" : "kills");
        std::raise(args.dieSignal == "stop" ? SIGSTOP : SIGKILL);
      }).detach();

    FitOptions fit{
        .batch_size = args.batch, .epochs = args.epochs, .verbose = 2};
    fit.shuffle = args.shuffle;
    if (!args.checkpoint.empty())
      fit.callbacks.push_back(std::make_shared<callbacks::ModelCheckpoint>(
          args.checkpoint, callbacks::ModelCheckpointOptions{
                               .monitor = "loss", .save_weights_only = true}));
    History h = model.fit(x, y, fit);
    std::printf("rank %d: loss %.6f accuracy %.4f\n", mpiRank(),
                h.history["loss"].back(), h.history["accuracy"].back());
    // Whether the gradients' all-reduce overlapped the backward pass (the
    // last fit() on several ranks).
    const detail::DataParallelStats &stats = detail::dataParallelStats();
    if (stats.steps > 0)
      std::printf("rank %d: %s all-reduce, %lld buckets per step, %lld "
                  "started during grad_step\n",
                  mpiRank(), stats.overlapped ? "overlapped" : "one",
                  (long long)stats.bucketsPerStep,
                  (long long)stats.bucketsStartedEarly);
    if (!args.out.empty()) {
      std::string path = args.out;
      if (size_t at = path.find("{rank}"); at != std::string::npos)
        path.replace(at, 6, std::to_string(mpiRank()));
      model.saveWeights(path);
    }
  } catch (const Error &e) {
    std::cerr << "dist_fit: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
