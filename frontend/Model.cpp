//===- Model.cpp - Functional models: compile, fit -----------------------===//
//
// The graph walk (a depth-first post-order from the outputs, so every node
// follows its inputs) and compile(): MLIRGen, then layer-autodiff configured
// from the loss and optimizer, then the JIT (Summary.cpp prints the
// summary). The compiled functions share the layers' weight storage, so
// fit() updates the weights that getWeights() and the layers see.
//
//===----------------------------------------------------------------------===//

#include "frontend/Model.h"
#include "frontend/Compile.h"
#include "frontend/CompiledModel.h"
#include "frontend/MLIRGen.h"

#include "codegen/Jit.h"
#include "codegen/Passes.h"
#include "dialect/LayerOps.h"
#include "runtime/GradientReady.h"
#include "runtime/SafeTensors.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iostream>
#include <set>
#include <sstream>

using namespace layerc;

/// Compiles the model in `module` through the pipeline with `pipeline`'s
/// options; errors name the model.
static std::shared_ptr<JitModule> compileModel(mlir::ModuleOp module,
                                               const PipelineOptions &pipeline,
                                               const std::string &modelName) {
  JitOptions options;
  options.pipeline = pipeline;
  auto jit = JitModule::compile(module, options);
  if (!jit)
    throw Error("Model " + modelName +
                ": compilation failed: " + llvm::toString(jit.takeError()));
  return *jit;
}

//===----------------------------------------------------------------------===//
// Graph
//===----------------------------------------------------------------------===//

Model::Model(SymbolicTensor input, SymbolicTensor output, std::string name)
    : Model(std::vector<SymbolicTensor>{input},
            std::vector<SymbolicTensor>{output}, std::move(name)) {}

// A model without a name is named as Keras 3 names one: after its class,
// Functional, like a layer (functional, functional_1, ...; one counter
// with any layer whose class snake-cases to "functional").
Model::Model(std::vector<SymbolicTensor> inputs,
             std::vector<SymbolicTensor> outputs, std::string name)
    : name_(name.empty() ? uniqueLayerName("functional") : std::move(name)) {
  if (!isValidUtf8(name_))
    throw Error("Model: the name is not valid UTF-8");
  if (hasControlCharacter(name_))
    throw Error("Model: the name contains a control character");
  if (inputs.empty() || outputs.empty())
    throw Error("Model " + name_ + ": needs at least one input and output");
  std::shared_ptr<Graph> graph =
      Graph::build(std::move(inputs), std::move(outputs), "Model " + name_);
  inputs_ = graph->inputs;
  outputs_ = graph->outputs;
  layers_ = graph->layers;
  nodes_ = graph->nodes;
  layer_ = std::make_shared<FunctionalLayer>(graph, name_);
  weightLayers_ = layer_->weightLayers();
  // Parameters are named "<layer>/<weight>": leaves of nested models must
  // not collide either.
  std::map<std::string, const Layer *> owners;
  for (const auto &layer : weightLayers_) {
    auto [it, fresh] = owners.emplace(layer->name(), layer.get());
    if (!fresh)
      throw Error("Model " + name_ + ": two different layers named \"" +
                  layer->name() +
                  "\" own weights (one inside a nested model or custom "
                  "layer); names must be unique");
  }
}

Model::Model(Model &&) noexcept = default;
Model &Model::operator=(Model &&) noexcept = default;
Model::~Model() = default;

std::shared_ptr<Layer> Model::getLayer(const std::string &name) const {
  for (const auto &layer : layers_)
    if (layer->name() == name)
      return layer;
  throw Error("Model " + name_ + " has no layer named '" + name + "'");
}

int64_t Model::countParams() const { return layer_->countParams(); }

const SymbolicTensor &Model::input() const {
  if (inputs_.size() != 1)
    throw Error("Model " + name_ + " has " + std::to_string(inputs_.size()) +
                " inputs; use inputs()");
  return inputs_.front();
}

const SymbolicTensor &Model::output() const {
  if (outputs_.size() != 1)
    throw Error("Model " + name_ + " has " + std::to_string(outputs_.size()) +
                " outputs; use outputs()");
  return outputs_.front();
}

std::vector<std::string> Model::inputNames() const {
  std::vector<std::string> names;
  for (const SymbolicTensor &t : inputs_)
    names.push_back(t.node()->layer->name());
  return names;
}

std::vector<std::string> Model::outputNames() const {
  std::vector<std::string> names;
  for (const SymbolicTensor &t : outputs_)
    names.push_back(t.node()->layer->name());
  return names;
}

SymbolicTensor Model::operator()(const SymbolicTensor &input) const {
  return (*layer_)(input);
}

std::vector<SymbolicTensor>
Model::operator()(const std::vector<SymbolicTensor> &inputs) const {
  return layer_->apply(inputs);
}

FunctionalLayer::FunctionalLayer(std::shared_ptr<const Graph> graph,
                                 const std::string &name)
    : Layer("Functional", name), graph_(std::move(graph)) {
  adoptBody(graph_);
}

std::shared_ptr<const Graph>
FunctionalLayer::trace(const std::vector<SymbolicTensor> &inputs) {
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::vector<int64_t> &want = graph_->inputs[i].shape();
    const std::vector<int64_t> &have = inputs[i].shape();
    bool ok = want.size() == have.size();
    for (size_t d = 0; ok && d < want.size(); ++d)
      ok = want[d] < 0 || have[d] < 0 || want[d] == have[d];
    if (!ok)
      throw Error("Input " + std::to_string(i) + " of model \"" + name() +
                  "\" is incompatible with the model: expected shape " +
                  formatShape(want) + ", found shape " + formatShape(have));
    if (inputs[i].dtype() != graph_->inputs[i].dtype())
      throw Error("Input " + std::to_string(i) + " of model \"" + name() +
                  "\" has dtype " + dtypeName(inputs[i].dtype()) +
                  "; the model expects " +
                  dtypeName(graph_->inputs[i].dtype()));
  }
  return graph_;
}

//===----------------------------------------------------------------------===//
// Compile
//===----------------------------------------------------------------------===//

std::string Model::toMLIR() const {
  mlir::MLIRContext ctx(compilerRegistry());
  auto module = emitModel(*this, &ctx);
  std::string text;
  llvm::raw_string_ostream os(text);
  module->print(os);
  return text;
}

void Model::compile(const CompileOptions &options) {
  OutputLosses resolved;
  try {
    resolved = resolveLosses(options, outputNames());
  } catch (const Error &e) {
    throw Error("Model " + name_ + ": " + e.what());
  }
  // Inputs with unknown sizes besides the batch (sequences of any length)
  // train through one program per sample shape, sharing the weights and the
  // optimizer state; the first is compiled now (every unknown size 1), so
  // the state exists, saves and loads as for any model.
  std::optional<std::vector<std::vector<int64_t>>> samples;
  if (hasUnknownSampleSizes()) {
    samples.emplace();
    for (const SymbolicTensor &in : inputs_) {
      std::vector<int64_t> sample(in.shape().begin() + 1, in.shape().end());
      for (int64_t &d : sample)
        d = d < 0 ? 1 : d;
      samples->push_back(sample);
    }
  }
  trainSpecialized_.clear();
  std::unique_ptr<CompiledModel> compiled =
      buildTraining(options, resolved, samples);
  selectPredictBackend(*this, *compiled);
  compiled_ = std::move(compiled);
}

std::string Model::predictBackend() const {
  return compiled_ ? compiled_->backend : "llvm";
}

std::string Model::predictBackendReason() const {
  return compiled_ ? compiled_->backendReason : "";
}

std::unique_ptr<CompiledModel> Model::buildTraining(
    const CompileOptions &options, const OutputLosses &resolved,
    const std::optional<std::vector<std::vector<int64_t>>> &samples,
    bool sampleWeights) {
  PipelineOptions pipeline;
  if (samples)
    pipeline.inputShapes = shapeOptions(*samples);
  try {
    pipeline.training =
        autodiffOptions(options, outputNames(), outputs_.size() > 1,
                        /*learningRateInput=*/true);
  } catch (const Error &e) {
    throw Error("Model " + name_ + ": " + e.what());
  }
  auto compiled = std::make_unique<CompiledModel>();
  TrainingProgram &program = compiled->program;
  try {
    program.communicator = communicatorFor(options);
  } catch (const Error &e) {
    throw Error("Model " + name_ + ": " + e.what());
  }
  pipeline.training->splitStep = program.communicator != nullptr;
  // grad_step announces its gradients to the runtime, which starts their
  // all-reduce during the backward pass (LAYERC_MPI_OVERLAP=0: after it).
  try {
    pipeline.training->gradientReady =
        program.communicator && program.communicator->size() > 1 &&
        layerc::detail::overlapAllreduceEnabled();
  } catch (const Error &e) {
    throw Error("Model " + name_ + ": " + e.what());
  }
  pipeline.training->sampleWeights = sampleWeights;
  // Keras's metric names; with several outputs each output gets each
  // metric, logged as "<output>_<metric>".
  std::vector<std::string> names = outputNames();
  for (size_t o = 0; o < outputs_.size(); ++o)
    for (const MetricSpec &spec : options.metrics) {
      const std::string &metric = spec.name;
      std::string logged =
          outputs_.size() > 1 ? names[o] + "_" + metric : metric;
      if (spec.class_name == "MeanIoU") {
        Metric m{logged, MetricKind::MeanIoU, static_cast<int>(o)};
        m.numClasses = spec.num_classes;
        m.ignoreClass = spec.ignore_class;
        m.sparseTrue = spec.sparse_y_true;
        m.sparsePred = spec.sparse_y_pred;
        program.metrics.push_back(m);
        continue;
      }
      static const std::map<std::string, MetricKind> byName = {
          {"sparse_categorical_accuracy",
           MetricKind::SparseCategoricalAccuracy},
          {"categorical_accuracy", MetricKind::CategoricalAccuracy},
          {"binary_accuracy", MetricKind::BinaryAccuracy},
          {"mse", MetricKind::MeanSquaredError},
          {"mean_squared_error", MetricKind::MeanSquaredError},
          {"mae", MetricKind::MeanAbsoluteError},
          {"mean_absolute_error", MetricKind::MeanAbsoluteError},
          {"precision", MetricKind::Precision},
          {"recall", MetricKind::Recall},
          {"auc", MetricKind::AUC},
          {"top_k_categorical_accuracy", MetricKind::TopKCategoricalAccuracy},
          {"sparse_top_k_categorical_accuracy",
           MetricKind::SparseTopKCategoricalAccuracy}};
      MetricKind kind;
      if (metric == "accuracy" || metric == "acc") {
        kind = accuracyFor(resolved.losses[o], outputs_[o].shape());
      } else if (auto it = byName.find(metric); it != byName.end()) {
        kind = it->second;
      } else {
        std::string known = "accuracy, acc";
        for (const auto &entry : byName)
          known += ", " + entry.first;
        throw Error("Model " + name_ + ": unknown metric '" + metric +
                    "' (supported: " + known + ")");
      }
      program.metrics.push_back({logged, kind, static_cast<int>(o)});
    }

  mlir::MLIRContext ctx(compilerRegistry());
  mlir::OwningOpRef<mlir::ModuleOp> module = emitModel(*this, &ctx);
  std::shared_ptr<JitModule> jit = compileModel(*module, pipeline, name_);
  auto lookup = [&](const char *fn) {
    std::optional<CompiledFunction> f = jit->lookup(fn);
    if (!f)
      throw Error(std::string("internal error: no compiled '") + fn + "'");
    return *f;
  };
  program.trainStep = lookup("train_step");
  program.evaluate = lookup("evaluate");
  program.predict = lookup("predict");
  if (program.communicator) {
    program.gradStep = lookup("grad_step");
    program.applyStep = lookup("apply_step");
  }
  // The layout comes from the roles the IR gives every argument.
  const std::vector<BufferSpec> &args = program.trainStep.inputs;
  program.numInputs = countRole(args, Role::Input);
  // The sample weights ride with the targets through the runtime's loops.
  program.numTargets =
      countRole(args, Role::Target) + countRole(args, Role::SampleWeight);
  program.numOutputs = static_cast<int>(program.predict.outputs.size());
  program.numParams =
      countRole(args, Role::Param) + countRole(args, Role::Buffer);
  program.numStates = countRole(args, Role::State);
  if (outputs_.size() > 1)
    for (const std::string &name : outputNames())
      program.outputLossNames.push_back(name + "_loss");
  // Every weight, trainable or not, in the functions' order; the
  // non-trainable ones have no optimizer state.
  for (const auto &layer : weightLayers_)
    for (Weight &w : layer->weights())
      compiled->state.params.push_back(w.value);
  if (program.numInputs != static_cast<int>(inputs_.size()) ||
      program.numOutputs != static_cast<int>(outputs_.size()) ||
      program.numParams != static_cast<int>(compiled->state.params.size()))
    throw Error("Model " + name_ +
                ": internal error: the compiled train_step does not take the "
                "model's inputs and weights");
  compiled->options = options;
  compiled->state.learning_rate = options.optimizer.learning_rate;
  compiled->samples = samples;
  return compiled;
}

double Model::learningRate() const {
  requireCompiled("learningRate");
  return compiled_->state.learning_rate.at(compiled_->state.iterations);
}

void Model::setLearningRate(double value) {
  requireCompiled("setLearningRate");
  if (!compiled_->state.learning_rate.isConstant())
    throw Error("Model " + name_ + ": the learning rate is a " +
                compiled_->state.learning_rate.kind() +
                " schedule, which cannot be set");
  LearningRate rate(value);
  rate.check();
  compiled_->state.learning_rate = rate;
}

CompiledModel &Model::trainingProgram(const std::vector<Tensor> &xs) {
  requireCompiled("fit");
  if (!compiled_->samples)
    return *compiled_;
  std::vector<std::vector<int64_t>> samples;
  for (const Tensor &x : xs)
    samples.emplace_back(x.shape().begin() + 1, x.shape().end());
  if (*compiled_->samples == samples)
    return *compiled_;
  std::unique_ptr<CompiledModel> next;
  auto cached = trainSpecialized_.find(samples);
  if (cached != trainSpecialized_.end()) {
    next = std::move(cached->second);
    trainSpecialized_.erase(cached);
  } else {
    next = buildTraining(compiled_->options,
                         resolveLosses(compiled_->options, outputNames()),
                         samples);
  }
  // The optimizer state carries over: it depends on the weights only.
  next->state.states = std::move(compiled_->state.states);
  next->state.iterations = compiled_->state.iterations;
  next->state.learning_rate = compiled_->state.learning_rate;
  compiled_->state.states.clear();
  std::vector<std::vector<int64_t>> key = *compiled_->samples;
  trainSpecialized_[key] = std::move(compiled_);
  compiled_ = std::move(next);
  return *compiled_;
}

//===----------------------------------------------------------------------===//
// Training and inference
//===----------------------------------------------------------------------===//

void Model::requireCompiled(const char *what) const {
  if (!compiled_)
    throw Error(std::string("Model ") + name_ +
                ": you must call compile() "
                "before " +
                what + "()");
}

Tensor Model::prepareInput(const Tensor &x, size_t input,
                           const char *what) const {
  const std::vector<int64_t> &want = inputs_.at(input).shape();
  bool ok = x.rank() == static_cast<int64_t>(want.size());
  for (size_t i = 1; ok && i < want.size(); ++i)
    ok = want[i] < 0 || x.dim(static_cast<int64_t>(i)) == want[i];
  if (!ok)
    throw Error(std::string(what) + ": input '" +
                inputs_[input].node()->layer->name() + "' of model " + name_ +
                " expects shape " + formatShape(want) + ", but got " +
                x.shapeString());
  if (x.dtype() == inputs_[input].dtype())
    return x;
  return x.astype(inputs_[input].dtype());
}

History Model::fit(const Tensor &x, const Tensor &y,
                   const FitOptions &options) {
  return fit(std::vector<Tensor>{x}, std::vector<Tensor>{y}, options);
}

History Model::fit(const std::vector<Tensor> &xs, const std::vector<Tensor> &ys,
                   const FitOptions &options) {
  requireCompiled("fit");
  std::vector<Tensor> inputs = prepareInputs(xs, "fit");
  CompiledModel &program = trainingProgram(inputs);
  if (usesSampleWeights(options))
    return fitWeighted(program, inputs, ys, prepareFit(options));
  return layerc::fit(program.program, program.state, inputs, ys,
                     prepareFit(options));
}

std::vector<Tensor> Model::byName(const NamedTensors &named,
                                  const std::vector<std::string> &names,
                                  const char *what, const char *kind) const {
  std::string known;
  for (const std::string &n : names)
    known += (known.empty() ? "" : ", ") + n;
  std::vector<Tensor> out;
  for (const std::string &n : names) {
    auto it = named.find(n);
    if (it == named.end())
      throw Error(std::string(what) + ": no " + kind + " named '" + n +
                  "' was given (model " + name_ + "'s " + kind + "s: " + known +
                  ")");
    out.push_back(it->second);
  }
  for (const auto &[n, t] : named)
    if (std::find(names.begin(), names.end(), n) == names.end())
      throw Error(std::string(what) + ": model " + name_ + " has no " + kind +
                  " named '" + n + "' (its " + kind + "s: " + known + ")");
  return out;
}

History Model::fit(const NamedTensors &xs, const NamedTensors &ys,
                   const FitOptions &options) {
  return fit(byName(xs, inputNames(), "fit", "input"),
             byName(ys, outputNames(), "fit", "output"), options);
}

std::vector<double> Model::evaluate(const NamedTensors &xs,
                                    const NamedTensors &ys,
                                    const EvaluateOptions &options) {
  return evaluate(byName(xs, inputNames(), "evaluate", "input"),
                  byName(ys, outputNames(), "evaluate", "output"), options);
}

NamedTensors Model::predict(const NamedTensors &xs,
                            const PredictOptions &options) {
  std::vector<Tensor> out =
      predict(byName(xs, inputNames(), "predict", "input"), options);
  NamedTensors named;
  std::vector<std::string> names = outputNames();
  for (size_t i = 0; i < out.size(); ++i)
    named[names[i]] = out[i];
  return named;
}

std::vector<double> Model::evaluate(const Tensor &x, const Tensor &y,
                                    const EvaluateOptions &options) {
  return evaluate(std::vector<Tensor>{x}, std::vector<Tensor>{y}, options);
}

std::vector<double> Model::evaluate(const std::vector<Tensor> &xs,
                                    const std::vector<Tensor> &ys,
                                    const EvaluateOptions &options) {
  requireCompiled("evaluate");
  std::vector<Tensor> inputs = prepareInputs(xs, "evaluate");
  CompiledModel &program = trainingProgram(inputs);
  if (options.sample_weight)
    return evaluateWeighted(program, inputs, ys, options);
  return layerc::evaluate(program.program, program.state, inputs, ys, options);
}

std::vector<Tensor> Model::prepareInputs(const std::vector<Tensor> &xs,
                                         const char *what) const {
  if (xs.size() != inputs_.size())
    throw Error(std::string(what) + ": model " + name_ + " expects " +
                std::to_string(inputs_.size()) + " input tensors, but got " +
                std::to_string(xs.size()));
  std::vector<Tensor> prepared;
  for (size_t i = 0; i < xs.size(); ++i)
    prepared.push_back(prepareInput(xs[i], i, what));
  return prepared;
}

Tensor Model::predict(const Tensor &x, const PredictOptions &options) {
  if (inputs_.size() != 1)
    throw Error("predict: model " + name_ + " has " +
                std::to_string(inputs_.size()) +
                " inputs; pass one tensor per input");
  return predict(std::vector<Tensor>{x}, options).front();
}

std::vector<Tensor> Model::predict(const std::vector<Tensor> &xs,
                                   const PredictOptions &options) {
  std::vector<Tensor> prepared = prepareInputs(xs, "predict");
  CompiledModel &program = inferenceProgram(prepared);
  return layerc::predict(program.program, program.state, prepared, options);
}

bool Model::hasUnknownSampleSizes() const {
  for (const SymbolicTensor &in : inputs_)
    for (size_t d = 1; d < in.shape().size(); ++d)
      if (in.shape()[d] < 0)
        return true;
  return false;
}

CompiledModel &Model::inferenceProgram(const std::vector<Tensor> &xs) {
  if (compiled_ && !compiled_->samples)
    return *compiled_;
  // Inputs with unknown sizes besides the batch (sequences of any length)
  // get one program per sample shape, as Keras retraces per shape.
  std::vector<std::vector<int64_t>> samples;
  bool specialize = hasUnknownSampleSizes();
  if (specialize)
    for (const Tensor &x : xs)
      samples.emplace_back(x.shape().begin() + 1, x.shape().end());
  std::unique_ptr<CompiledModel> &slot =
      specialize ? specialized_[samples] : forwardOnly_;
  if (slot)
    return *slot;
  PipelineOptions pipeline;
  if (specialize)
    pipeline.inputShapes = shapeOptions(samples);
  mlir::MLIRContext ctx(compilerRegistry());
  mlir::OwningOpRef<mlir::ModuleOp> module = emitModel(*this, &ctx);
  std::shared_ptr<JitModule> jit = compileModel(*module, pipeline, name_);
  std::optional<CompiledFunction> predict = jit->lookup("predict");
  if (!predict)
    throw Error("internal error: no compiled 'predict'");
  auto compiled = std::make_unique<CompiledModel>();
  compiled->program.predict = *predict;
  compiled->program.numInputs = countRole(predict->inputs, Role::Input);
  compiled->program.numOutputs = static_cast<int>(predict->outputs.size());
  for (const auto &layer : weightLayers_)
    for (Weight &w : layer->weights())
      compiled->state.params.push_back(w.value);
  compiled->program.numParams = countRole(predict->inputs, Role::Param) +
                                countRole(predict->inputs, Role::Buffer);
  slot = std::move(compiled);
  return *slot;
}

std::vector<Tensor> Model::getWeights() const {
  std::vector<Tensor> out;
  for (const auto &layer : weightLayers_)
    for (Tensor &t : layer->getWeights())
      out.push_back(t);
  return out;
}

void Model::setWeights(const std::vector<Tensor> &weights) {
  size_t expected = 0;
  for (const auto &layer : weightLayers_)
    expected += layer->weights().size();
  if (weights.size() != expected)
    throw Error("Model " + name_ + " expects " + std::to_string(expected) +
                " weight arrays, but received " +
                std::to_string(weights.size()));
  // Check every layer's arrays before changing any.
  for (int pass = 0; pass < 2; ++pass) {
    size_t next = 0;
    for (const auto &layer : weightLayers_) {
      size_t n = layer->weights().size();
      std::vector<Tensor> mine(weights.begin() + next,
                               weights.begin() + next + n);
      if (pass == 0)
        layer->checkWeights(mine);
      else
        layer->setWeights(mine);
      next += n;
    }
  }
}

Tensor Layer::operator()(const Tensor &x) {
  if (x.shape().empty())
    throw Error("Layer " + name_ + ": an eager call needs a batch (rank >= 1)");
  std::vector<int64_t> sample(x.shape().begin() + 1, x.shape().end());
  size_t before = nodes_.size();
  Tensor out;
  {
    SymbolicTensor in = Input(sample, {.name = name_ + "_eager_input",
                                       .dtype = x.dtype(),
                                       .batch_size = x.shape()[0]});
    Model model(in, apply({in}).front(), name_ + "_eager");
    out = model.predict(x, {.batch_size = x.shape()[0], .verbose = 0});
  }
  // An eager call leaves no node behind, as in Keras.
  nodes_.resize(std::min(nodes_.size(), before));
  return out;
}
