//===- OptimizerParityTest.cpp - fit() and evaluate() against Keras 3 -----===//
//
// Each case of test/reference/keras_optimizers.safetensors (written by
// test/reference/generate_keras_optimizers.py with Keras 3 itself) trains
// Input(4) -> Dense(3, tanh) -> Dense(5) with a sparse categorical
// cross-entropy on logits, batch_size 4, 2 epochs, shuffle off, with one
// Keras optimizer: its options, gradient clipping, weight decay, a
// learning-rate schedule, or callbacks that change the rate
// (LearningRateScheduler, ReduceLROnPlateau), or regularizers and
// constraints on the Dense layers, or fit()'s sample_weight or
// class_weight. The same fit() in layerc,
// from the same weights, must end with Keras's weights and learning rate
// and report Keras's loss per epoch.
// The optimizer is built from the case's Keras class and arguments through
// the public optimizers:: API, so a wrong default or a field that compile()
// drops fails here too. MetricParityTest compares evaluate()'s loss and
// metrics with Keras's (keras_metrics.safetensors, same generator), some
// with evaluate()'s sample_weight.
//
//===----------------------------------------------------------------------===//

#include "ErrorTestUtil.h"
#include "layerc/layerc.h"
#include "runtime/SafeTensors.h"

#include "gtest/gtest.h"

#include <cctype>
#include <cmath>

using namespace layerc;
using layerc::test::errorOf;

namespace {

struct Case {
  std::string name, cls;
  Json config;
  /// fit()'s epochs and callbacks, when not the default.
  Json fit;
};

void PrintTo(const Case &c, std::ostream *os) { *os << c.name; }

const SafeTensorsFile &referenceFile() {
  static const SafeTensorsFile file =
      loadSafeTensors(LAYERC_OPTIMIZER_REFERENCE);
  return file;
}

std::vector<Case> loadCases() {
  std::vector<Case> cases;
  Json list = Json::parse(referenceFile().metadata.at("cases"), "cases", 64);
  for (const Json &c : list.items())
    cases.push_back({c.get("name")->asString(), c.get("class")->asString(),
                     *c.get("config"),
                     c.get("fit") ? *c.get("fit") : Json::object()});
  return cases;
}

const Tensor &tensor(const std::string &name) {
  const Tensor *t = referenceFile().find(name);
  if (!t)
    throw Error("reference file has no tensor " + name);
  return *t;
}

std::vector<Tensor> numbered(const std::string &prefix) {
  std::vector<Tensor> out;
  while (const Tensor *t =
             referenceFile().find(prefix + "." + std::to_string(out.size())))
    out.push_back(*t);
  return out;
}

/// The layerc optimizer for Keras's `cls(**config)`: Keras's defaults for
/// the class (through the by-name constructor), then each argument.
Optimizer optimizerFor(const std::string &cls, const Json &config) {
  std::string name;
  for (char ch : cls)
    name += char(std::tolower(static_cast<unsigned char>(ch)));
  Optimizer opt(name.c_str());
  for (const auto &[key, value] : config.members()) {
    if (key == "learning_rate") {
      opt.learning_rate = LearningRate::fromConfig(value, "learning_rate");
      continue;
    }
    std::map<std::string, double *> numbers = {
        {"momentum", &opt.momentum},
        {"rho", &opt.rho},
        {"beta_1", &opt.beta_1},
        {"beta_2", &opt.beta_2},
        {"epsilon", &opt.epsilon},
        {"weight_decay", &opt.weight_decay},
        {"initial_accumulator_value", &opt.initial_accumulator_value},
        {"clipnorm", &opt.clipnorm},
        {"clipvalue", &opt.clipvalue},
        {"global_clipnorm", &opt.global_clipnorm}};
    std::map<std::string, bool *> flags = {{"nesterov", &opt.nesterov},
                                           {"centered", &opt.centered},
                                           {"amsgrad", &opt.amsgrad}};
    if (numbers.count(key))
      *numbers[key] = value.asDouble();
    else if (flags.count(key))
      *flags[key] = value.asBool();
    else
      ADD_FAILURE() << "no layerc field for Keras argument " << key;
  }
  return opt;
}

/// The Keras callback `spec` ({"class_name", "config"}) describes.
std::shared_ptr<Callback> callbackFor(const Json &spec) {
  const std::string cls = spec.get("class_name")->asString();
  const Json &c = *spec.get("config");
  if (cls == "LearningRateScheduler") {
    // The functions of generate_keras_optimizers.py's SCHEDULER_FUNCTIONS.
    EXPECT_EQ(c.get("schedule")->asString(), "halve_after_0");
    return std::make_shared<callbacks::LearningRateScheduler>(
        [](int epoch, double lr) { return epoch > 0 ? lr * 0.5 : lr; });
  }
  EXPECT_EQ(cls, "ReduceLROnPlateau");
  return std::make_shared<callbacks::ReduceLROnPlateau>(
      callbacks::ReduceLROnPlateauOptions{
          .monitor = c.get("monitor")->asString(),
          .factor = c.get("factor")->asDouble(),
          .patience = int(c.get("patience")->asDouble()),
          .mode = c.get("mode")->asString(),
          .cooldown = int(c.get("cooldown")->asDouble()),
          .min_lr = c.get("min_lr")->asDouble()});
}

void expectClose(const Tensor &got, const Tensor &want, double tol,
                 const std::string &what) {
  ASSERT_EQ(got.shape(), want.shape()) << what;
  int reported = 0;
  for (int64_t i = 0; i < got.numel(); ++i) {
    double g = got.data<float>()[i], w = want.data<float>()[i];
    if (!(std::fabs(g - w) <= tol * (1 + std::fabs(w))) && reported++ < 5)
      ADD_FAILURE() << what << ": element " << i << " is " << g
                    << ", Keras gives " << w;
  }
}

class OptimizerParityTest : public ::testing::TestWithParam<Case> {};

TEST_P(OptimizerParityTest, FitMatchesKeras) {
  const Case &c = GetParam();
  // Each Dense's regularizers and constraints (Keras's serialized forms).
  DenseOptions dense[2] = {{.activation = "tanh"}, {}};
  if (const Json *specs = c.fit.get("layers"))
    for (size_t i = 0; i < 2; ++i) {
      const Json &spec = specs->items().at(i);
      dense[i].kernel_regularizer =
          regularizerIn(spec, "Dense", "kernel_regularizer");
      dense[i].bias_regularizer =
          regularizerIn(spec, "Dense", "bias_regularizer");
      dense[i].activity_regularizer =
          regularizerIn(spec, "Dense", "activity_regularizer");
      dense[i].kernel_constraint =
          constraintIn(spec, "Dense", "kernel_constraint");
      dense[i].bias_constraint = constraintIn(spec, "Dense", "bias_constraint");
    }
  auto x = Input({4});
  auto h = layers::Dense(3, dense[0])(x);
  Model model(x, layers::Dense(5, dense[1])(h), c.name);
  model.setWeights(numbered(c.name + "/initial"));
  model.compile(
      {.loss = losses::SparseCategoricalCrossentropy({.from_logits = true}),
       .optimizer = optimizerFor(c.cls, c.config)});
  FitOptions fit{.batch_size = 4, .epochs = 2, .verbose = 0, .shuffle = false};
  if (const Json *epochs = c.fit.get("epochs"))
    fit.epochs = int(epochs->asDouble());
  if (const Json *list = c.fit.get("callbacks"))
    for (const Json &spec : list->items())
      fit.callbacks.push_back(callbackFor(spec));
  // Keras's sample_weight (a list) and class_weight ({"class": weight}).
  if (const Json *weights = c.fit.get("sample_weight")) {
    std::vector<float> w;
    for (const Json &v : weights->items())
      w.push_back(float(v.asDouble()));
    fit.sample_weight = Tensor::fromFloats(w, {int64_t(w.size())});
  }
  if (const Json *classes = c.fit.get("class_weight"))
    for (const auto &[cls, weight] : classes->members())
      fit.class_weight[std::stoll(cls)] = weight.asDouble();
  History history =
      model.fit(tensor(c.name + "/x"), tensor(c.name + "/y"), fit);

  std::vector<Tensor> want = numbered(c.name + "/final");
  std::vector<Tensor> got = model.getWeights();
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    expectClose(got[i], want[i], 1e-5, c.name + " weight " + std::to_string(i));
  const Tensor &losses = tensor(c.name + "/loss");
  const std::vector<double> &reported = history.history.at("loss");
  ASSERT_EQ(int64_t(reported.size()), losses.numel());
  for (size_t e = 0; e < reported.size(); ++e)
    EXPECT_NEAR(reported[e], losses.data<float>()[e],
                1e-5 * (1 + std::fabs(losses.data<float>()[e])))
        << c.name << " epoch " << e;
  double rate = tensor(c.name + "/learning_rate").data<float>()[0];
  EXPECT_NEAR(model.learningRate(), rate, 1e-6 * rate)
      << c.name << ": the learning rate after fit()";
}

/// compile() refuses what Keras's constructors refuse, naming the
/// optimizer and the value.
TEST(OptimizerOptionsTest, KerasRangesAndOneClipping) {
  auto compileWith = [](const Optimizer &opt) {
    auto x = Input({4});
    Model model(x, layers::Dense(2)(x));
    model.compile({.loss = "mse", .optimizer = opt});
  };
  std::string msg = errorOf([&] {
    compileWith(optimizers::Adam({.clipnorm = 1.0, .clipvalue = 0.5}));
  });
  EXPECT_NE(msg.find("only one of clipnorm, clipvalue and global_clipnorm"),
            std::string::npos)
      << msg;
  msg = errorOf([&] { compileWith(optimizers::Lion({.beta_1 = 0.0})); });
  EXPECT_NE(msg.find("lion: beta_1 must be in (0, 1]"), std::string::npos)
      << msg;
  msg = errorOf([&] { compileWith(optimizers::Nadam({.beta_2 = 1.0})); });
  EXPECT_NE(msg.find("nadam: beta_2 must be in [0, 1)"), std::string::npos)
      << msg;
  msg = errorOf([&] { compileWith(optimizers::Adadelta({.rho = -0.1})); });
  EXPECT_NE(msg.find("adadelta: rho must be in [0, 1)"), std::string::npos)
      << msg;
  msg = errorOf([&] {
    compileWith(optimizers::Adagrad({.initial_accumulator_value = -1}));
  });
  EXPECT_NE(msg.find("initial_accumulator_value must be finite and >= 0"),
            std::string::npos)
      << msg;
  msg = errorOf([&] { compileWith(optimizers::SGD({.global_clipnorm = -1})); });
  EXPECT_NE(msg.find("must be finite and >= 0"), std::string::npos) << msg;
  msg = errorOf([] { Optimizer opt("adafactor"); });
  EXPECT_NE(msg.find("unknown optimizer 'adafactor' (expected one of sgd, "
                     "rmsprop, adam, adamw, adagrad, adadelta, adamax, "
                     "nadam, lion)"),
            std::string::npos)
      << msg;
}

/// An optimizer's options survive save() and loadModel(): the reloaded
/// model trains on exactly as the original.
TEST(OptimizerOptionsTest, SavedWithTheModel) {
  auto x = Input({4});
  Model model(x, layers::Dense(3)(x), "saved_optimizer");
  model.compile(
      {.loss = "mse",
       .optimizer = optimizers::Adagrad({.learning_rate = 0.05,
                                         .initial_accumulator_value = 0.3,
                                         .global_clipnorm = 0.2})});
  std::string path = ::testing::TempDir() + "saved_optimizer.lcm";
  model.save(path);
  Model loaded = loadModel(path);
  Tensor xs = Tensor::fromFloats({0.5, -1, 2, 0.25, 1, 1, -2, 0}, {2, 4});
  Tensor ys = Tensor::fromFloats({3, -2, 1, 0, 4, -1}, {2, 3});
  FitOptions fit{.batch_size = 2, .epochs = 3, .verbose = 0};
  model.fit(xs, ys, fit);
  loaded.fit(xs, ys, fit);
  std::vector<Tensor> a = model.getWeights(), b = loaded.getWeights();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i)
    expectClose(b[i], a[i], 0.0, "reloaded weight " + std::to_string(i));
  // Without the clipping the same fit() ends elsewhere: the test above
  // sees the field.
  Model unclipped = loadModel(path);
  unclipped.compile(
      {.loss = "mse",
       .optimizer = optimizers::Adagrad(
           {.learning_rate = 0.05, .initial_accumulator_value = 0.3})});
  unclipped.fit(xs, ys, fit);
  EXPECT_GT(std::fabs(unclipped.getWeights()[0].data<float>()[0] -
                      a[0].data<float>()[0]),
            1e-4);
}

//===----------------------------------------------------------------------===//
// Metrics: evaluate() against Keras's (keras_metrics.safetensors)
//===----------------------------------------------------------------------===//

const SafeTensorsFile &metricFile() {
  static const SafeTensorsFile file = loadSafeTensors(LAYERC_METRIC_REFERENCE);
  return file;
}

std::vector<Case> loadMetricCases() {
  std::vector<Case> cases;
  Json list = Json::parse(metricFile().metadata.at("cases"), "cases", 64);
  for (const Json &c : list.items())
    cases.push_back({c.get("name")->asString(), c.get("class")->asString(),
                     *c.get("config"), Json::object()});
  return cases;
}

const Tensor &metricTensor(const std::string &name) {
  const Tensor *t = metricFile().find(name);
  if (!t)
    throw Error("keras_metrics.safetensors has no tensor " + name);
  return *t;
}

/// A small classifier and its data for the sample-weight tests: 6
/// samples, 3 classes, fixed weights.
struct Weighted {
  Model model;
  Tensor x, y;
  explicit Weighted(const std::string &name)
      : model(makeModel(name)),
        x(Tensor::fromFloats({0.5f, -1.0f, 1.5f, 0.25f, -0.5f, 2.0f, 1.0f,
                              -1.5f, 0.0f, 0.75f, -2.0f, 1.25f},
                             {6, 2})),
        y(Tensor::fromInts({0, 2, 1, 2, 0, 1}, {6})) {
    model.compile(
        {.loss = losses::SparseCategoricalCrossentropy({.from_logits = true}),
         .optimizer = optimizers::SGD({.learning_rate = 0.1})});
  }
  static Model makeModel(const std::string &name) {
    auto in = Input({2});
    Model m(in, layers::Dense(3, {.name = name + "_scores"})(in), name);
    std::vector<Tensor> w = m.getWeights();
    for (Tensor &t : w)
      for (int64_t i = 0; i < t.numel(); ++i)
        t.data<float>()[i] = 0.1f * float(i % 5) - 0.2f;
    m.setWeights(w);
    return m;
  }
};

/// Keras's arithmetic: sum(w * loss) / batch size, so weights of 2 double
/// the loss and ones change nothing; validation sample weights weigh
/// val_loss; an unweighted fit() after a weighted one is unchanged.
TEST(SampleWeightTest, WeighTheLossAsKeras) {
  Weighted a("weighted_a");
  std::vector<double> plain = a.model.evaluate(a.x, a.y, {.verbose = 0});
  Tensor twos = Tensor::fromFloats(std::vector<float>(6, 2.0f), {6});
  Tensor ones = Tensor::fromFloats(std::vector<float>(6, 1.0f), {6});
  EXPECT_NEAR(
      a.model.evaluate(a.x, a.y, {.verbose = 0, .sample_weight = twos})[0],
      2 * plain[0], 1e-6);
  EXPECT_EQ(
      a.model.evaluate(a.x, a.y, {.verbose = 0, .sample_weight = ones})[0],
      plain[0]);
  // class_weight {c: 2} for every class is sample_weight 2 everywhere.
  Weighted b("weighted_b"), c("weighted_c");
  FitOptions fit{.batch_size = 4, .epochs = 2, .verbose = 0, .shuffle = false};
  FitOptions bySample = fit, byClass = fit;
  bySample.sample_weight = twos;
  byClass.class_weight = {{0, 2.0}, {1, 2.0}, {2, 2.0}};
  History hb = b.model.fit(b.x, b.y, bySample);
  History hc = c.model.fit(c.x, c.y, byClass);
  EXPECT_EQ(hb.history.at("loss"), hc.history.at("loss"));
  std::vector<Tensor> wb = b.model.getWeights(), wc = c.model.getWeights();
  for (size_t i = 0; i < wb.size(); ++i)
    expectClose(wb[i], wc[i], 0, "weight " + std::to_string(i));
  // Validation sample weights weigh val_loss only.
  FitOptions validated = fit;
  validated.epochs = 1;
  validated.validation_data = ValidationData{{a.x}, {a.y}, {}, twos};
  History hv = a.model.fit(a.x, a.y, validated);
  double weighted = a.model.evaluate(a.x, a.y, {.verbose = 0})[0];
  EXPECT_NEAR(hv.history.at("val_loss")[0], 2 * weighted, 1e-6);
  // The plain program is still the one an unweighted fit() runs.
  History again = a.model.fit(a.x, a.y, fit);
  EXPECT_EQ(again.history.at("loss").size(), 2u);
}

TEST(SampleWeightTest, ErrorsNameTheArgument) {
  Weighted m("weighted_errors");
  FitOptions fit{.verbose = 0};
  fit.sample_weight = Tensor::fromFloats({1, 2, 3}, {3});
  EXPECT_EQ(errorOf([&] { m.model.fit(m.x, m.y, fit); }),
            "fit: sample_weight has shape (3,), but it needs one weight per "
            "sample: shape (6,) for the 6 samples of x");
  fit.sample_weight = Tensor::fromFloats(std::vector<float>(12, 1), {6, 2});
  EXPECT_EQ(errorOf([&] { m.model.fit(m.x, m.y, fit); }),
            "fit: sample_weight has shape (6, 2), but it needs one weight per "
            "sample: shape (6,) for the 6 samples of x");
  fit.sample_weight = Tensor::fromFloats(std::vector<float>(6, 1), {6});
  fit.class_weight = {{0, 2.0}};
  EXPECT_EQ(errorOf([&] { m.model.fit(m.x, m.y, fit); }),
            "fit: you cannot give class_weight and sample_weight at the same "
            "time");
  fit.sample_weight.reset();
  fit.class_weight = {{3, 2.0}};
  EXPECT_EQ(errorOf([&] { m.model.fit(m.x, m.y, fit); }),
            "fit: class_weight has class 3, outside [0, 3) for the 3 classes "
            "of output 'weighted_errors_scores'");
  EvaluateOptions eval{.verbose = 0};
  eval.sample_weight = Tensor::fromFloats({1, 2}, {2});
  EXPECT_EQ(errorOf([&] { m.model.evaluate(m.x, m.y, eval); }),
            "evaluate: sample_weight has shape (2,), but it needs one weight "
            "per sample: shape (6,) for the 6 samples of x");
  FitOptions val{.verbose = 0};
  val.validation_data =
      ValidationData{{m.x}, {m.y}, {}, Tensor::fromFloats({1}, {1})};
  EXPECT_EQ(errorOf([&] { m.model.fit(m.x, m.y, val); }),
            "fit (validation_data): validation_data's sample_weight has shape "
            "(1,), but it needs one weight per sample: shape (6,) for the 6 "
            "samples of x");
}

class MetricParityTest : public ::testing::TestWithParam<Case> {};

/// evaluate() in batches of 5 over 16 samples: Keras's loss (each loss,
/// with and without from_logits), then each metric.
TEST_P(MetricParityTest, EvaluateMatchesKeras) {
  const Case &c = GetParam();
  auto x = Input({6});
  auto y =
      layers::Dense(int(c.config.get("units")->asDouble()),
                    {.activation = c.config.get("activation")->asString()})(x);
  Model model(x, y, c.name);
  model.setWeights(
      {metricTensor(c.name + "/weight.0"), metricTensor(c.name + "/weight.1")});
  // A metric is a name, or Keras's {"class_name": "MeanIoU", "config"}.
  std::vector<MetricSpec> metrics;
  for (const Json &m : c.config.get("metrics")->items()) {
    if (m.isString()) {
      metrics.push_back(m.asString());
      continue;
    }
    const Json &mc = *m.get("config");
    metrics.push_back(
        metrics::MeanIoU({.num_classes = mc.get("num_classes")->asInt(),
                          .name = mc.get("name")->asString(),
                          .sparse_y_true = mc.get("sparse_y_true")->asBool(),
                          .sparse_y_pred = mc.get("sparse_y_pred")->asBool()}));
  }
  // "<loss>:logits": the loss with from_logits.
  std::string loss = c.config.get("loss")->asString();
  size_t colon = loss.find(':');
  model.compile(
      {.loss = Loss(loss.substr(0, colon), colon != std::string::npos),
       .metrics = metrics});
  EvaluateOptions options{.batch_size = 5, .verbose = 0};
  if (c.config.get("sample_weight"))
    options.sample_weight = metricTensor(c.name + "/sample_weight");
  std::vector<double> got = model.evaluate(
      metricTensor(c.name + "/x"), metricTensor(c.name + "/y"), options);
  const Tensor &want = metricTensor(c.name + "/values");
  ASSERT_EQ(int64_t(got.size()), want.numel());
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], want.data<float>()[i],
                1e-5 * (1 + std::fabs(want.data<float>()[i])))
        << c.name << ": " << (i == 0 ? "loss" : metrics[i - 1].name);
}

INSTANTIATE_TEST_SUITE_P(Metrics, MetricParityTest,
                         ::testing::ValuesIn(loadMetricCases()),
                         [](const ::testing::TestParamInfo<Case> &info) {
                           return info.param.name;
                         });

INSTANTIATE_TEST_SUITE_P(Optimizers, OptimizerParityTest,
                         ::testing::ValuesIn(loadCases()),
                         [](const ::testing::TestParamInfo<Case> &info) {
                           return info.param.name;
                         });

} // namespace
