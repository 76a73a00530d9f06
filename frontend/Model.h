//===- Model.h - Functional models: summary, compile, fit -------*- C++ -*-===//
//
// Model(inputs, outputs, name) walks the graph of layer calls between them.
// compile() turns it into native code in process: MLIRGen -> layer dialect,
// layer-autodiff for the loss and optimizer -> the one compiler pipeline ->
// JIT. fit/evaluate/predict then run in the runtime with no compiler
// involved. Names and defaults follow Keras.
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_FRONTEND_MODEL_H
#define LAYERC_FRONTEND_MODEL_H

#include "frontend/Layer.h"
#include "runtime/Dataset.h"
#include "runtime/SafeTensors.h"
#include "runtime/Training.h"

#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace layerc {

/// A loss by Keras name; build it with the functions in `losses`.
struct Loss {
  std::string name = "mean_squared_error";
  bool from_logits = false;
  Loss() = default;
  Loss(const char *kerasName) : name(kerasName) {}
  Loss(std::string kerasName, bool fromLogits)
      : name(std::move(kerasName)), from_logits(fromLogits) {}
};

namespace losses {
struct CrossentropyOptions {
  bool from_logits = false;
};
Loss SparseCategoricalCrossentropy(CrossentropyOptions options = {});
Loss CategoricalCrossentropy(CrossentropyOptions options = {});
Loss BinaryCrossentropy(CrossentropyOptions options = {});
Loss MeanSquaredError();
Loss MeanAbsoluteError();
} // namespace losses

/// An optimizer and its hyper-parameters (Keras defaults per kind).
struct Optimizer {
  std::string name = "rmsprop";
  /// A constant or a schedule of the iteration count (runtime/Schedules.h).
  LearningRate learning_rate = 0.001;
  double momentum = 0.0;
  bool nesterov = false;
  double rho = 0.9;
  bool centered = false;
  double beta_1 = 0.9;
  double beta_2 = 0.999;
  double epsilon = 1e-7;
  bool amsgrad = false;
  /// Decoupled weight decay (AdamW's; 0 for the others by default).
  double weight_decay = 0.0;
  /// Adagrad's starting accumulator.
  double initial_accumulator_value = 0.1;
  /// Gradient clipping before the update, as Keras's optimizer arguments
  /// (0: off; at most one of the three): each gradient to this L2 norm,
  /// each element to [-clipvalue, clipvalue], or all gradients together
  /// to this L2 norm.
  double clipnorm = 0.0;
  double clipvalue = 0.0;
  double global_clipnorm = 0.0;
  Optimizer() = default;
  /// "sgd", "rmsprop", "adam", "adamw", "adagrad", "adadelta", "adamax",
  /// "nadam" or "lion" with Keras's defaults.
  Optimizer(const char *kerasName);
};

namespace optimizers {
struct SGDOptions {
  LearningRate learning_rate = 0.01;
  double momentum = 0.0;
  bool nesterov = false;
  double weight_decay = 0.0;
  double clipnorm = 0.0;
  double clipvalue = 0.0;
  double global_clipnorm = 0.0;
};
struct RMSpropOptions {
  LearningRate learning_rate = 0.001;
  double rho = 0.9;
  double epsilon = 1e-7;
  bool centered = false;
  double weight_decay = 0.0;
  double clipnorm = 0.0;
  double clipvalue = 0.0;
  double global_clipnorm = 0.0;
};
struct AdamOptions {
  LearningRate learning_rate = 0.001;
  double beta_1 = 0.9;
  double beta_2 = 0.999;
  double epsilon = 1e-7;
  bool amsgrad = false;
  double weight_decay = 0.0;
  double clipnorm = 0.0;
  double clipvalue = 0.0;
  double global_clipnorm = 0.0;
};
struct AdamWOptions {
  LearningRate learning_rate = 0.001;
  double weight_decay = 0.004;
  double beta_1 = 0.9;
  double beta_2 = 0.999;
  double epsilon = 1e-7;
  bool amsgrad = false;
  double clipnorm = 0.0;
  double clipvalue = 0.0;
  double global_clipnorm = 0.0;
};
/// Keras's Adagrad: its accumulator starts at initial_accumulator_value.
struct AdagradOptions {
  LearningRate learning_rate = 0.001;
  double initial_accumulator_value = 0.1;
  double epsilon = 1e-7;
  double weight_decay = 0.0;
  double clipnorm = 0.0;
  double clipvalue = 0.0;
  double global_clipnorm = 0.0;
};
struct AdadeltaOptions {
  LearningRate learning_rate = 0.001;
  double rho = 0.95;
  double epsilon = 1e-7;
  double weight_decay = 0.0;
  double clipnorm = 0.0;
  double clipvalue = 0.0;
  double global_clipnorm = 0.0;
};
struct AdamaxOptions {
  LearningRate learning_rate = 0.001;
  double beta_1 = 0.9;
  double beta_2 = 0.999;
  double epsilon = 1e-7;
  double weight_decay = 0.0;
  double clipnorm = 0.0;
  double clipvalue = 0.0;
  double global_clipnorm = 0.0;
};
struct NadamOptions {
  LearningRate learning_rate = 0.001;
  double beta_1 = 0.9;
  double beta_2 = 0.999;
  double epsilon = 1e-7;
  double weight_decay = 0.0;
  double clipnorm = 0.0;
  double clipvalue = 0.0;
  double global_clipnorm = 0.0;
};
/// Keras's Lion: beta_1 in (0, 1], beta_2 in [0, 1).
struct LionOptions {
  LearningRate learning_rate = 0.001;
  double beta_1 = 0.9;
  double beta_2 = 0.99;
  double weight_decay = 0.0;
  double clipnorm = 0.0;
  double clipvalue = 0.0;
  double global_clipnorm = 0.0;
};
Optimizer SGD(SGDOptions options = {});
Optimizer RMSprop(RMSpropOptions options = {});
Optimizer Adam(AdamOptions options = {});
Optimizer AdamW(AdamWOptions options = {});
Optimizer Adagrad(AdagradOptions options = {});
Optimizer Adadelta(AdadeltaOptions options = {});
Optimizer Adamax(AdamaxOptions options = {});
Optimizer Nadam(NadamOptions options = {});
Optimizer Lion(LionOptions options = {});
} // namespace optimizers

/// How fit() spreads training over processes (Keras's distribution
/// strategies). `Distribute::mpi()`: data-parallel over the ranks of an
/// MPI job (run the program under `mpirun -np N`); every rank calls
/// compile() and fit() with the same model, data and options, trains on its
/// shard of each global batch of batch_size samples, and ends with the same
/// weights. See docs/Distributed.md.
struct Distribute {
  enum class Kind { None, Mpi };
  Kind kind = Kind::None;
  /// One process (the default; LAYERC_DISTRIBUTE=mpi still selects MPI).
  static Distribute none() { return {}; }
  static Distribute mpi() { return {Kind::Mpi}; }
};

/// One metric of compile(): by Keras's name ("accuracy", "auc", "mae",
/// ...), or a metric with arguments (metrics::MeanIoU).
struct MetricSpec {
  /// What the metric is logged as (a name given as a string is also its
  /// kind).
  std::string name{};
  /// "MeanIoU" for metrics::MeanIoU; empty for a metric by name.
  std::string class_name{};
  int64_t num_classes = 0;
  std::optional<int64_t> ignore_class{};
  bool sparse_y_true = true;
  bool sparse_y_pred = true;

  MetricSpec() = default;
  MetricSpec(const char *kerasName) : name(kerasName) {}
  MetricSpec(std::string kerasName) : name(std::move(kerasName)) {}
};

namespace metrics {
struct MeanIoUOptions {
  int64_t num_classes = 0;
  std::string name = "mean_io_u";
  std::optional<int64_t> ignore_class{};
  /// Integer targets (else one-hot: their argmax).
  bool sparse_y_true = true;
  /// Integer outputs (else scores: their argmax over the last axis).
  bool sparse_y_pred = true;
};
/// keras.metrics.MeanIoU(num_classes, ...): the mean over the classes of
/// their intersection over union.
MetricSpec MeanIoU(MeanIoUOptions options);
} // namespace metrics

struct CompileOptions {
  /// The loss of every output (Keras's single loss).
  Loss loss{};
  Optimizer optimizer{};
  std::vector<MetricSpec> metrics{};
  /// One loss per output, in output order (Keras's list); overrides `loss`.
  std::vector<Loss> losses{};
  /// One loss per output name (Keras's dict); every output needs one.
  std::map<std::string, Loss> losses_by_name{};
  /// The weight of each output's loss in the total (Keras's loss_weights,
  /// as a list or by output name); 1 by default.
  std::vector<double> loss_weights{};
  std::map<std::string, double> loss_weights_by_name{};
  /// Data-parallel training; overrides LAYERC_DISTRIBUTE.
  std::optional<Distribute> distribute{};
  /// The code generator of predict() (docs/Backends.md): "llvm" (the
  /// default); "halide", for models of the ops the Halide backend lowers
  /// (an error names the first one it does not); or "auto", which times
  /// both on this machine at `backend_batch` and keeps the faster (LLVM
  /// for a model Halide cannot lower). evaluate() and fit() run on LLVM.
  std::string backend = "llvm";
  int64_t backend_batch = 32;
  /// A file that keeps auto's measurements, keyed by layerc version, CPU,
  /// batch and the model's ops and shapes: read before timing, written
  /// after, and shippable with a model (LAYERC_BACKEND_CACHE when empty).
  std::string backend_cache{};
};

/// Each output's loss and weight, from the list, the names or the single
/// loss of `options`. Throws layerc::Error naming the outputs on a count
/// or name that does not match, or an unknown loss.
struct OutputLosses {
  std::vector<Loss> losses{};
  std::vector<double> weights{};
};
OutputLosses resolveLosses(const CompileOptions &options,
                           const std::vector<std::string> &outputNames);

class CompiledModel;

/// Tensors given by input or output name (Keras's dict inputs):
/// `{{"title", titles}, {"body", bodies}}`. (Not a plain std::map, whose
/// iterator-pair constructor would make `predict({a, b})` ambiguous.)
class NamedTensors : public std::map<std::string, Tensor> {
public:
  NamedTensors() = default;
  NamedTensors(std::initializer_list<value_type> values) : map(values) {}
};

/// A Model called like a layer (Keras's "Functional" rows in a summary):
/// its node's body is the model's graph, so the weights are the model's
/// own, shared, never copied.
class FunctionalLayer : public Layer {
public:
  FunctionalLayer(std::shared_ptr<const Graph> graph, const std::string &name);
  std::string className() const override { return "Functional"; }
  const std::shared_ptr<const Graph> &graph() const { return graph_; }
  /// The model's config (Model::getConfig()'s "config").
  Json getConfig() const override;

protected:
  std::shared_ptr<const Graph>
  trace(const std::vector<SymbolicTensor> &inputs) override;
  int expectedInputs() const override {
    return static_cast<int>(graph_->inputs.size());
  }

private:
  std::shared_ptr<const Graph> graph_;
};

class Model {
public:
  Model(SymbolicTensor input, SymbolicTensor output, std::string name = "");
  Model(std::vector<SymbolicTensor> inputs, std::vector<SymbolicTensor> outputs,
        std::string name = "");
  Model(Model &&) noexcept;
  Model &operator=(Model &&) noexcept;
  ~Model();

  const std::string &name() const { return name_; }
  const std::vector<SymbolicTensor> &inputs() const { return inputs_; }
  const std::vector<SymbolicTensor> &outputs() const { return outputs_; }
  /// Every layer of the model in topological order (inputs first).
  const std::vector<std::shared_ptr<Layer>> &layers() const { return layers_; }
  /// Every call node in topological order.
  const std::vector<std::shared_ptr<Node>> &nodes() const { return nodes_; }
  /// Keras's model.input / model.output (an error when there are several).
  const SymbolicTensor &input() const;
  const SymbolicTensor &output() const;
  /// The names of the input layers and of the output layers, in order
  /// (what inputs and targets given by name are matched against).
  std::vector<std::string> inputNames() const;
  std::vector<std::string> outputNames() const;
  /// The layers that own weights, nested models and custom layers looked
  /// through, each once: the order of getWeights() and of the parameters.
  const std::vector<std::shared_ptr<Layer>> &weightLayers() const {
    return weightLayers_;
  }

  /// Calls the model like a layer (`encoder(img)`): one node of the
  /// model's FunctionalLayer, whose weights are this model's.
  SymbolicTensor operator()(const SymbolicTensor &input) const;
  std::vector<SymbolicTensor>
  operator()(const std::vector<SymbolicTensor> &inputs) const;
  /// The FunctionalLayer standing for this model inside others.
  const std::shared_ptr<FunctionalLayer> &asLayer() const { return layer_; }
  /// The layer named `name`; throws layerc::Error if there is none.
  std::shared_ptr<Layer> getLayer(const std::string &name) const;

  int64_t countParams() const;
  /// Prints Keras 3's summary table (to std::cout by default), as Keras
  /// prints it when stdout is not a terminal (76 columns; Summary.cpp).
  void summary(std::ostream &os) const;
  void summary() const;

  /// The model in the layer dialect, as text (what compile() compiles).
  std::string toMLIR() const;

  /// Compiles predict/evaluate/train_step to native code (JIT).
  void compile(const CompileOptions &options);
  bool compiled() const { return compiled_ != nullptr; }
  /// The code generator that runs predict(): "halide" when compile() chose
  /// it (CompileOptions::backend), else "llvm"; and why, for "auto" (what
  /// it measured, or why Halide could not run the model).
  std::string predictBackend() const;
  std::string predictBackendReason() const;
  /// The optimizer's learning rate for the next step (Keras's
  /// model.optimizer.learning_rate): the constant, or the schedule at the
  /// steps taken so far.
  double learningRate() const;
  /// Replaces a constant learning rate from the next step on, as Keras's
  /// callbacks do. Throws layerc::Error when the rate is a schedule (Keras
  /// refuses too) or the value is negative or not finite.
  void setLearningRate(double value);

  History fit(const Tensor &x, const Tensor &y, const FitOptions &options = {});
  /// fit() for several inputs (in the order of inputs()) and targets (one
  /// per output; the compiled loss is summed over the outputs).
  History fit(const std::vector<Tensor> &xs, const std::vector<Tensor> &ys,
              const FitOptions &options = {});
  /// fit() with inputs and targets by name: inputNames() / outputNames();
  /// a missing or unknown name is an error listing the model's names.
  History fit(const NamedTensors &xs, const NamedTensors &ys,
              const FitOptions &options = {});
  /// fit() on a data::Dataset (runtime/Dataset.h), whose batches hold one
  /// tensor per input and per output: batches of options.batch_size,
  /// shuffled each epoch from options.seed exactly as fit() on tensors
  /// (the same results), loaded options.prefetch batches ahead on a
  /// background thread while the model trains.
  History fit(const data::Dataset &dataset, const FitOptions &options = {});
  /// evaluate() and predict() on a dataset's samples, in order (predict()
  /// uses only the inputs).
  std::vector<double> evaluate(const data::Dataset &dataset,
                               const EvaluateOptions &options = {});
  std::vector<Tensor> predict(const data::Dataset &dataset,
                              const PredictOptions &options = {});
  /// Returns {loss, metrics...}.
  std::vector<double> evaluate(const Tensor &x, const Tensor &y,
                               const EvaluateOptions &options = {});
  std::vector<double> evaluate(const std::vector<Tensor> &xs,
                               const std::vector<Tensor> &ys,
                               const EvaluateOptions &options = {});
  std::vector<double> evaluate(const NamedTensors &xs, const NamedTensors &ys,
                               const EvaluateOptions &options = {});
  /// Keras's predict(). Works before compile(): the first call then
  /// compiles the forward function alone (any layer, trainable or not).
  Tensor predict(const Tensor &x, const PredictOptions &options = {});
  /// predict() for several inputs (in the order of inputs()); one tensor per
  /// output.
  std::vector<Tensor> predict(const std::vector<Tensor> &xs,
                              const PredictOptions &options = {});
  /// predict() with inputs by name; the outputs by output name.
  NamedTensors predict(const NamedTensors &xs,
                       const PredictOptions &options = {});

  /// Every weight of every layer, in layer order (Keras's get_weights()).
  std::vector<Tensor> getWeights() const;
  void setWeights(const std::vector<Tensor> &weights);

  /// Writes every weight ("<layer>/<weight>") and, once the model has
  /// trained, the optimizer's state ("optimizer/<layer>/<weight>/<slot>")
  /// and step count to `path` in the safetensors layout. The write is
  /// atomic: if it fails, or the process dies, the previous file is intact.
  void saveWeights(const std::string &path) const;
  /// Reads a file written by saveWeights(). Every weight must be present
  /// with its shape and dtype; the error names the tensor otherwise, and
  /// nothing is changed. The optimizer state is restored too when the
  /// model is compiled with the same optimizer, so training resumes
  /// exactly where it stopped.
  void loadWeights(const std::string &path);

  /// Keras's get_config() of a functional model: every layer in order with
  /// its class, config and inbound nodes, and the input/output layers.
  Json getConfig() const;
  /// Rebuilds the model (fresh weights) from getConfig(). `customObjects`
  /// adds factories for layer classes of the application; an unknown class
  /// is an error naming it.
  static Model
  fromConfig(const Json &config,
             const std::map<std::string, LayerFactory> &customObjects = {});

  /// A model from an ONNX file (frontend/import, docs/Import.md): each
  /// node becomes the Keras layer that computes it and initializers become
  /// its weights, so the result summarizes, predicts, fits and saves like
  /// any other. Inputs and outputs keep the file's (channels-first)
  /// layout. An operator or attribute that does not map is an error naming
  /// it, its node and the opset.
  static Model fromOnnx(const std::string &path);

  /// model.save(): one file in the safetensors layout holding the weights,
  /// the optimizer state, and the model and compile configs as metadata.
  /// Atomic like saveWeights(); it carries no code. A path ending in
  /// ".keras" gets Keras 3's format instead (docs/Import.md): config,
  /// compile config and weights, no optimizer state.
  void save(const std::string &path) const;

private:
  friend Model loadModel(const std::string &,
                         const std::map<std::string, LayerFactory> &, bool);
  friend Model loadKerasModel(const std::string &,
                              const std::map<std::string, LayerFactory> &,
                              bool);
  /// The weights (and optimizer state) as a safetensors file.
  SafeTensorsFile checkpoint() const;
  /// Validates `file` against the model, then copies it in.
  void restore(const SafeTensorsFile &file, const std::string &path);
  void requireCompiled(const char *what) const;
  /// `named` in the order of `names`, every name present, no other.
  std::vector<Tensor> byName(const NamedTensors &named,
                             const std::vector<std::string> &names,
                             const char *what, const char *kind) const;
  Tensor prepareInput(const Tensor &x, size_t input, const char *what) const;
  std::vector<Tensor> prepareInputs(const std::vector<Tensor> &xs,
                                    const char *what) const;
  /// `options` with the callbacks given this model and the validation
  /// inputs prepared (ModelDataset.cpp).
  FitOptions prepareFit(const FitOptions &options);
  /// The inputs of sample 0 of `dataset`, prepared, when the model's inputs
  /// have unknown sizes (they choose the program); none otherwise.
  std::vector<Tensor> probeInputs(const data::Dataset &dataset,
                                  const char *what) const;
  /// compile()'s program for inputs of `samples` sample shapes (all known
  /// sizes when absent); with `sampleWeights`, its functions take one
  /// sample-weight vector per output after the targets.
  std::unique_ptr<CompiledModel>
  buildTraining(const CompileOptions &options, const OutputLosses &resolved,
                const std::optional<std::vector<std::vector<int64_t>>> &samples,
                bool sampleWeights = false);
  /// Keras's sample_weight and class_weight (SampleWeights.cpp): whether
  /// fit() needs the weighted program, which `base`'s program weighted is
  /// (compiled on first use, kept in `base`), `ys` followed by each
  /// output's weights (`sampleWeight`, else from `classWeight`, else ones;
  /// errors name `argument`), and fit/evaluate running it.
  static bool usesSampleWeights(const FitOptions &options);
  const TrainingProgram &weightedProgram(CompiledModel &base);
  std::vector<Tensor>
  withSampleWeights(const char *fn, const std::vector<Tensor> &ys,
                    int64_t samples, const std::optional<Tensor> &sampleWeight,
                    const std::map<int64_t, double> &classWeight,
                    const std::string &argument) const;
  History fitWeighted(CompiledModel &program, const std::vector<Tensor> &inputs,
                      const std::vector<Tensor> &ys, FitOptions options);
  std::vector<double> evaluateWeighted(CompiledModel &program,
                                       const std::vector<Tensor> &inputs,
                                       const std::vector<Tensor> &ys,
                                       EvaluateOptions options);
  /// The training program fit/evaluate run for `xs`: for inputs of unknown
  /// sizes, the one of their sample shapes (compiled on first use), which
  /// takes over the optimizer state.
  CompiledModel &trainingProgram(const std::vector<Tensor> &xs);
  /// The program predict() runs: the training one once compiled, else a
  /// forward-only one compiled on first use.
  CompiledModel &inferenceProgram(const std::vector<Tensor> &xs);
  /// Whether an input has an unknown (None) size besides the batch.
  bool hasUnknownSampleSizes() const;

  std::string name_;
  std::vector<SymbolicTensor> inputs_, outputs_;
  std::vector<std::shared_ptr<Layer>> layers_;
  std::vector<std::shared_ptr<Node>> nodes_;
  std::vector<std::shared_ptr<Layer>> weightLayers_;
  std::shared_ptr<FunctionalLayer> layer_;
  std::unique_ptr<CompiledModel> compiled_;
  std::unique_ptr<CompiledModel> forwardOnly_;
  /// Training programs per input sample shape not in use (compiled_ is
  /// the one in use), for inputs of unknown sizes.
  std::map<std::vector<std::vector<int64_t>>, std::unique_ptr<CompiledModel>>
      trainSpecialized_;
  /// Forward programs per input sample shape, for inputs of unknown sizes.
  std::map<std::vector<std::vector<int64_t>>, std::unique_ptr<CompiledModel>>
      specialized_;
};

/// The compile config stored in a saved model, if it was saved after
/// compile().
std::optional<CompileOptions> readCompileConfig(const std::string &path);

/// Keras's load_model(): rebuilds, compiles (when the file says how) and
/// restores a model written by Model::save(), so that it predicts bit for
/// bit what the saved model did and resumes training where it stopped.
/// Malformed files are refused with an error naming the file and the
/// tensor or field.
/// With `compile` false (Keras's compile=False) the model is not compiled
/// and the optimizer state is ignored.
Model loadModel(const std::string &path,
                const std::map<std::string, LayerFactory> &customObjects = {},
                bool compile = true);

/// What loadModel() does for a Keras 3 .keras file (by its extension or
/// its zip magic; Model::save() writes one for a path ending in .keras):
/// the functional model of config.json with the weights of
/// model.weights.h5, compiled as its compile_config says when compile is
/// true and the optimizer, loss and metrics exist in layerc (see
/// docs/Import.md); otherwise it is left uncompiled. Keras's optimizer
/// state is not read: training starts with a fresh optimizer.
Model loadKerasModel(
    const std::string &path,
    const std::map<std::string, LayerFactory> &customObjects = {},
    bool compile = true);

} // namespace layerc

#endif // LAYERC_FRONTEND_MODEL_H
