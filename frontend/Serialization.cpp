//===- Serialization.cpp - Checkpoints, configs and saved models
//-----------===//
//
// Everything that turns a model into bytes and back. Weights are named
// "<layer>/<weight>" and optimizer slots "optimizer/<layer>/<weight>/<slot>"
// in a safetensors file (runtime/SafeTensors.h); a saved model adds its
// Keras-style config and its compile config as JSON metadata. Loading
// validates everything before it changes anything.
//
//===----------------------------------------------------------------------===//

#include "frontend/CompiledModel.h"
#include "frontend/KerasFile.h"
#include "frontend/Model.h"
#include "frontend/Ops.h"
#include "frontend/layers/Attention.h"
#include "frontend/layers/Composite.h"
#include "frontend/layers/Convolution.h"
#include "frontend/layers/Core.h"
#include "frontend/layers/DepthwiseConvolution.h"
#include "frontend/layers/Noise.h"
#include "frontend/layers/Normalization.h"
#include "frontend/layers/Preprocessing.h"
#include "frontend/layers/Recurrent.h"
#include "frontend/layers/Wrappers.h"

#include <cstring>
#include <set>
#include <tuple>

using namespace layerc;

//===----------------------------------------------------------------------===//
// Checkpoints
//===----------------------------------------------------------------------===//

namespace {
constexpr const char *kOptimizerPrefix = "optimizer/";
} // namespace

SafeTensorsFile Model::checkpoint() const {
  SafeTensorsFile file;
  file.metadata["format"] = "layerc-weights";
  file.metadata["model"] = name_;
  for (const auto &layer : weightLayers_)
    for (const Weight &w : layer->weights())
      file.tensors.emplace_back(layer->name() + "/" + w.name, w.value);
  if (compiled_ && !compiled_->state.states.empty()) {
    std::vector<BufferSpec> specs = compiled_->stateSpecs();
    for (size_t i = 0; i < specs.size(); ++i)
      file.tensors.emplace_back(kOptimizerPrefix + specs[i].name,
                                compiled_->state.states[i]);
    file.metadata["optimizer"] = compiled_->options.optimizer.name;
    file.metadata["iterations"] = std::to_string(compiled_->state.iterations);
    // Callbacks may have changed it (ReduceLROnPlateau).
    file.metadata["learning_rate"] =
        compiled_->state.learning_rate.toConfig().dump();
  }
  return file;
}

void Model::saveWeights(const std::string &path) const {
  saveSafeTensors(path, checkpoint());
}

void Model::loadWeights(const std::string &path) {
  restore(loadSafeTensors(path), path);
}

void Model::restore(const SafeTensorsFile &constFile, const std::string &path) {
  SafeTensorsFile file = constFile;
  auto check = [&](const std::string &name, const Tensor &want) {
    const Tensor *have = file.find(name);
    if (!have)
      throw Error(path + ": no tensor '" + name + "' for model " + name_ +
                  " (expected shape " + want.shapeString() + ")");
    if (have->shape() != want.shape() || have->dtype() != want.dtype())
      throw Error(path + ": tensor '" + name + "' has shape " +
                  have->shapeString() + " " + dtypeName(have->dtype()) +
                  " but model " + name_ + " expects " + want.shapeString() +
                  " " + dtypeName(want.dtype()));
    return have;
  };
  auto copy = [](const Tensor &from, Tensor &to) {
    std::memcpy(to.rawData(), from.rawData(), from.nbytes());
  };

  // Validate everything before changing anything.
  std::vector<std::pair<const Tensor *, Tensor *>> updates;
  for (const auto &layer : weightLayers_)
    for (Weight &w : layer->weights())
      updates.emplace_back(check(layer->name() + "/" + w.name, w.value),
                           &w.value);
  bool hasState = file.metadata.count("optimizer") > 0;
  size_t weightTensors = 0;
  for (const auto &entry : file.tensors)
    if (entry.first.rfind(kOptimizerPrefix, 0) != 0)
      ++weightTensors;
  if (weightTensors != updates.size())
    throw Error(path + ": holds " + std::to_string(weightTensors) +
                " weights but model " + name_ + " has " +
                std::to_string(updates.size()));

  std::vector<Tensor> states;
  int64_t iterations = 0;
  std::optional<LearningRate> learningRate;
  if (hasState && compiled_) {
    if (file.metadata["optimizer"] != compiled_->options.optimizer.name)
      throw Error(path + ": holds the state of optimizer '" +
                  file.metadata["optimizer"] + "' but model " + name_ +
                  " is compiled with '" + compiled_->options.optimizer.name +
                  "'");
    for (const BufferSpec &spec : compiled_->stateSpecs()) {
      Tensor zero(spec.shape, spec.dtype);
      states.push_back(check(kOptimizerPrefix + spec.name, zero)->clone());
    }
    try {
      iterations = std::stoll(file.metadata["iterations"]);
    } catch (const std::exception &) {
      throw Error(path + ": metadata 'iterations' is not an integer");
    }
    // Absent in files written before fit() passed the learning rate.
    if (auto it = file.metadata.find("learning_rate");
        it != file.metadata.end())
      learningRate = LearningRate::fromConfig(
          Json::parse(it->second, path + ": metadata 'learning_rate'", 8),
          path + ": metadata 'learning_rate'");
  }

  for (auto &[from, to] : updates)
    copy(*from, *to);
  if (!states.empty()) {
    if (compiled_->state.states.empty())
      compiled_->state.states = std::move(states);
    else
      for (size_t i = 0; i < states.size(); ++i)
        copy(states[i], compiled_->state.states[i]);
    compiled_->state.iterations = iterations;
    // A constant a callback changed carries over; a schedule is part of
    // the compile options, which the file does not replace.
    if (learningRate && learningRate->isConstant() &&
        compiled_->state.learning_rate.isConstant())
      compiled_->state.learning_rate = *learningRate;
  }
}

//===----------------------------------------------------------------------===//
// Configs
//===----------------------------------------------------------------------===//

const std::map<std::string, LayerFactory> &layerc::builtinLayerFactories() {
  static const std::map<std::string, LayerFactory> factories = [] {
    std::map<std::string, LayerFactory> out;
    addCoreLayerFactories(out);
    addCompositeLayerFactories(out);
    addAttentionLayerFactories(out);
    addConvolutionLayerFactories(out);
    addDepthwiseConvolutionLayerFactories(out);
    addWrapperLayerFactories(out);
    addNoiseLayerFactories(out);
    addPreprocessingLayerFactories(out);
    addNormalizationLayerFactories(out);
    addRecurrentLayerFactories(out);
    out["OpLambda"] = OpLayer::fromConfig;
    return out;
  }();
  return factories;
}

namespace {

/// [layer name, node index, tensor index], as Keras writes inbound nodes.
Json tensorRef(const std::string &layer, int node, int tensor) {
  return Json::array({Json(layer), Json(node), Json(tensor)});
}

[[noreturn]] void badConfig(const std::string &what) {
  throw Error("invalid model config: " + what);
}

const Json &field(const Json &object, const std::string &key, Json::Kind kind,
                  const std::string &where) {
  const Json *value = object.isObject() ? object.get(key) : nullptr;
  if (!value || value->kind() != kind)
    badConfig(where + " needs a field '" + key + "' of the right type");
  return *value;
}

std::tuple<std::string, int, int> readRef(const Json &ref,
                                          const std::string &where) {
  if (!ref.isArray() || ref.items().size() != 3 || !ref.items()[0].isString() ||
      !ref.items()[1].isInteger() || !ref.items()[2].isInteger())
    badConfig(where + ": a tensor reference must be [layer, node, tensor]");
  return {ref.items()[0].asString(), static_cast<int>(ref.items()[1].asInt()),
          static_cast<int>(ref.items()[2].asInt())};
}

DType dtypeFromName(const std::string &name) {
  for (DType d : {DType::Float32, DType::Float64, DType::Int32, DType::Int64,
                  DType::UInt8})
    if (name == dtypeName(d))
      return d;
  badConfig("unknown dtype '" + name + "'");
}

} // namespace

namespace {
/// Keras's config of a functional graph: every layer in order with its
/// class, config and inbound nodes, and the input/output layers.
Json graphConfig(const Graph &graph, const std::string &name) {
  // Node indices count a layer's calls within this graph.
  std::map<const Node *, int> nodeIndex;
  std::map<const Layer *, int> calls;
  for (const auto &node : graph.nodes)
    nodeIndex[node.get()] = calls[node->layer.get()]++;
  auto ref = [&](const SymbolicTensor &t) {
    return tensorRef(t.node()->layer->name(), nodeIndex[t.node().get()],
                     t.index());
  };

  std::vector<Json> layers;
  for (const auto &layer : graph.layers) {
    std::vector<Json> inbound;
    for (const auto &node : graph.nodes) {
      if (node->layer != layer || dynamic_cast<InputLayer *>(layer.get()))
        continue;
      std::vector<Json> refs;
      for (const SymbolicTensor &t : node->inputs)
        refs.push_back(ref(t));
      inbound.push_back(Json::array(std::move(refs)));
    }
    layers.push_back(
        Json::object({{"class_name", layer->className()},
                      {"name", layer->name()},
                      {"config", layer->getConfig()},
                      {"inbound_nodes", Json::array(std::move(inbound))}}));
  }
  auto refs = [&](const std::vector<SymbolicTensor> &tensors) {
    std::vector<Json> out;
    for (const SymbolicTensor &t : tensors)
      out.push_back(ref(t));
    return Json::array(std::move(out));
  };
  return Json::object({{"name", name},
                       {"layers", Json::array(std::move(layers))},
                       {"input_layers", refs(graph.inputs)},
                       {"output_layers", refs(graph.outputs)}});
}
} // namespace

Json Model::getConfig() const {
  return Json::object({{"class_name", "Functional"},
                       {"config", graphConfig(*layer_->graph(), name_)}});
}

Json FunctionalLayer::getConfig() const { return graphConfig(*graph_, name()); }

namespace {

/// Rebuilds the input layer described by `config` as a call of Input().
SymbolicTensor rebuildInput(const Json &config) {
  const char *cls = "InputLayer";
  std::string name =
      configField(config, cls, "name", Json::Kind::String).asString();
  const auto &batchShape =
      configField(config, cls, "batch_shape", Json::Kind::Array).items();
  if (batchShape.empty())
    badConfig("input '" + name + "' has an empty batch_shape");
  std::vector<int64_t> shape;
  for (size_t i = 1; i < batchShape.size(); ++i) {
    if (!batchShape[i].isInteger())
      badConfig("input '" + name + "' has a non-integer dimension");
    shape.push_back(batchShape[i].asInt());
  }
  DType dtype = dtypeFromName(
      configField(config, cls, "dtype", Json::Kind::String).asString());
  int64_t batch = -1;
  if (batchShape[0].isInteger() && batchShape[0].asInt() > 0)
    batch = batchShape[0].asInt();
  else if (!batchShape[0].isNull())
    badConfig("input '" + name + "': the batch size must be null or positive");
  return Input(shape, {.name = name, .dtype = dtype, .batch_size = batch});
}

} // namespace

Model Model::fromConfig(
    const Json &config,
    const std::map<std::string, LayerFactory> &customObjects) {
  if (field(config, "class_name", Json::Kind::String, "the model").asString() !=
      "Functional")
    badConfig("only Functional models can be rebuilt");
  const Json &body = field(config, "config", Json::Kind::Object, "the model");
  std::string name =
      field(body, "name", Json::Kind::String, "the model").asString();

  // Outputs of every call, by (layer name, node index).
  std::map<std::pair<std::string, int>, std::vector<SymbolicTensor>> outputs;
  struct Pending {
    std::shared_ptr<Layer> layer;
    int node;
    const Json *inputs;
  };
  std::vector<Pending> pending;
  const auto &builtins = builtinLayerFactories();
  const auto &entries =
      field(body, "layers", Json::Kind::Array, "the model").items();
  // Far above any real model; keeps hostile files from building graphs too
  // deep to tear down.
  constexpr size_t kMaxLayers = 10000;
  if (entries.size() > kMaxLayers)
    badConfig("the model has " + std::to_string(entries.size()) +
              " layers; at most " + std::to_string(kMaxLayers) +
              " are accepted");
  std::set<std::string> names;
  for (const Json &entry : entries) {
    const Json *entryName = entry.isObject() ? entry.get("name") : nullptr;
    if (entryName && entryName->isString() &&
        !names.insert(entryName->asString()).second)
      badConfig("two layers are named \"" + entryName->asString() + "\"");
    std::string cls =
        field(entry, "class_name", Json::Kind::String, "a layer").asString();
    const Json &layerConfig =
        field(entry, "config", Json::Kind::Object, "layer of class " + cls);
    if (cls == "InputLayer") {
      SymbolicTensor input = rebuildInput(layerConfig);
      outputs[{input.node()->layer->name(), 0}] = {input};
      continue;
    }
    auto custom = customObjects.find(cls);
    auto builtin = builtins.find(cls);
    std::shared_ptr<Layer> layer;
    if (custom != customObjects.end())
      layer = custom->second(layerConfig);
    else if (cls == "Functional") {
      // A nested model: rebuilt whole, then called like a layer. Nesting
      // is bounded so that a hostile file cannot exhaust the stack.
      static thread_local int depth = 0;
      constexpr int kMaxNesting = 64;
      if (depth >= kMaxNesting)
        badConfig("models are nested more than " + std::to_string(kMaxNesting) +
                  " deep");
      struct Guard {
        Guard() { ++depth; }
        ~Guard() { --depth; }
      } guard;
      layer = Model::fromConfig(Json::object({{"class_name", "Functional"},
                                              {"config", layerConfig}}),
                                customObjects)
                  .asLayer();
    } else if (builtin != builtins.end())
      layer = builtin->second(layerConfig);
    else
      throw Error("unknown layer class '" + cls +
                  "'; pass a factory for it in customObjects");
    if (!layer)
      badConfig("the factory of layer class '" + cls + "' returned nothing");
    const Json &inbound = field(entry, "inbound_nodes", Json::Kind::Array,
                                "layer " + layer->name());
    for (size_t n = 0; n < inbound.items().size(); ++n) {
      if (!inbound.items()[n].isArray())
        badConfig("layer " + layer->name() + ": inbound node is not a list");
      pending.push_back({layer, static_cast<int>(n), &inbound.items()[n]});
    }
  }

  // Call layers as soon as their inputs exist (a shared layer's second call
  // may need the output of a layer listed after it).
  auto lookup = [&](const Json &refJson, const std::string &where,
                    SymbolicTensor &out) {
    auto [layerName, node, tensor] = readRef(refJson, where);
    auto found = outputs.find({layerName, node});
    if (found == outputs.end())
      return false;
    if (tensor < 0 || tensor >= static_cast<int>(found->second.size()))
      badConfig(where + " reads output " + std::to_string(tensor) + " of " +
                layerName + ", which does not exist");
    out = found->second[tensor];
    return true;
  };
  bool progress = true;
  while (!pending.empty() && progress) {
    progress = false;
    for (auto it = pending.begin(); it != pending.end();) {
      std::vector<SymbolicTensor> inputs(it->inputs->items().size());
      bool ready = true;
      for (size_t i = 0; ready && i < inputs.size(); ++i)
        ready = lookup(it->inputs->items()[i], "layer " + it->layer->name(),
                       inputs[i]);
      if (!ready) {
        ++it;
        continue;
      }
      outputs[{it->layer->name(), it->node}] = it->layer->apply(inputs);
      it = pending.erase(it);
      progress = true;
    }
  }
  if (!pending.empty())
    badConfig("the inputs of layer " + pending.front().layer->name() +
              " are never produced");

  auto resolve = [&](const char *key) {
    std::vector<SymbolicTensor> tensors;
    for (const Json &r :
         field(body, key, Json::Kind::Array, "the model").items()) {
      SymbolicTensor t;
      if (!lookup(r, key, t))
        badConfig(std::string(key) + " names a tensor that does not exist");
      tensors.push_back(t);
    }
    return tensors;
  };
  return Model(resolve("input_layers"), resolve("output_layers"), name);
}

//===----------------------------------------------------------------------===//
// Saved models
//===----------------------------------------------------------------------===//

namespace {

constexpr const char *kModelFormat = "layerc-model";

Json compileConfig(const CompileOptions &o,
                   const std::vector<std::string> &outputNames) {
  std::vector<Json> metrics;
  for (const MetricSpec &m : o.metrics)
    metrics.push_back(
        m.class_name.empty()
            ? Json(m.name)
            : Json::object(
                  {{"class_name", Json(m.class_name)},
                   {"config",
                    Json::object(
                        {{"num_classes", Json(m.num_classes)},
                         {"name", Json(m.name)},
                         {"ignore_class", m.ignore_class ? Json(*m.ignore_class)
                                                         : Json(nullptr)},
                         {"sparse_y_true", Json(m.sparse_y_true)},
                         {"sparse_y_pred", Json(m.sparse_y_pred)}})}}));
  const Optimizer &opt = o.optimizer;
  // Stored resolved: one loss and weight per output, in output order.
  OutputLosses resolved = resolveLosses(o, outputNames);
  std::vector<Json> losses, weights;
  for (size_t i = 0; i < resolved.losses.size(); ++i) {
    losses.push_back(
        Json::object({{"name", resolved.losses[i].name},
                      {"from_logits", resolved.losses[i].from_logits}}));
    weights.emplace_back(resolved.weights[i]);
  }
  return Json::object(
      {{"loss", resolved.losses[0].name},
       {"from_logits", resolved.losses[0].from_logits},
       {"losses", Json::array(std::move(losses))},
       {"loss_weights", Json::array(std::move(weights))},
       {"optimizer",
        Json::object(
            {{"name", opt.name},
             {"learning_rate", opt.learning_rate.toConfig()},
             {"momentum", opt.momentum},
             {"nesterov", opt.nesterov},
             {"rho", opt.rho},
             {"beta_1", opt.beta_1},
             {"beta_2", opt.beta_2},
             {"epsilon", opt.epsilon},
             {"centered", opt.centered},
             {"amsgrad", opt.amsgrad},
             {"weight_decay", opt.weight_decay},
             {"initial_accumulator_value", opt.initial_accumulator_value},
             {"clipnorm", opt.clipnorm},
             {"clipvalue", opt.clipvalue},
             {"global_clipnorm", opt.global_clipnorm}})},
       {"metrics", Json::array(std::move(metrics))}});
}

CompileOptions compileOptions(const Json &c) {
  const std::string where = "the compile config";
  CompileOptions o;
  o.loss = Loss(field(c, "loss", Json::Kind::String, where).asString(),
                field(c, "from_logits", Json::Kind::Bool, where).asBool());
  // Absent in files written before per-output losses existed.
  if (const Json *losses = c.get("losses")) {
    if (!losses->isArray())
      badConfig(where + ": 'losses' must be a list");
    for (const Json &l : losses->items())
      o.losses.emplace_back(
          field(l, "name", Json::Kind::String, where).asString(),
          field(l, "from_logits", Json::Kind::Bool, where).asBool());
  }
  if (const Json *weights = c.get("loss_weights")) {
    if (!weights->isArray())
      badConfig(where + ": 'loss_weights' must be a list");
    for (const Json &w : weights->items()) {
      if (!w.isNumber())
        badConfig(where + ": loss weights must be numbers");
      o.loss_weights.push_back(w.asDouble());
    }
  }
  const Json &opt = field(c, "optimizer", Json::Kind::Object, where);
  o.optimizer.name = field(opt, "name", Json::Kind::String, where).asString();
  auto number = [&](const char *key) {
    const Json *v = opt.get(key);
    if (!v || !v->isNumber())
      badConfig(where + ": optimizer field '" + key + "' must be a number");
    return v->asDouble();
  };
  const Json *lr = opt.get("learning_rate");
  if (!lr)
    badConfig(where + ": the optimizer has no learning_rate");
  o.optimizer.learning_rate =
      LearningRate::fromConfig(*lr, where + ": the optimizer's learning_rate");
  o.optimizer.momentum = number("momentum");
  // Absent in files written before these options existed.
  auto flag = [&](const char *key, bool &out) {
    if (const Json *n = opt.get(key)) {
      if (!n->isBool())
        badConfig(where + ": optimizer field '" + key + "' must be a boolean");
      out = n->asBool();
    }
  };
  auto optionalNumber = [&](const char *key, double &out) {
    if (opt.get(key))
      out = number(key);
  };
  flag("nesterov", o.optimizer.nesterov);
  flag("centered", o.optimizer.centered);
  flag("amsgrad", o.optimizer.amsgrad);
  optionalNumber("weight_decay", o.optimizer.weight_decay);
  optionalNumber("initial_accumulator_value",
                 o.optimizer.initial_accumulator_value);
  optionalNumber("clipnorm", o.optimizer.clipnorm);
  optionalNumber("clipvalue", o.optimizer.clipvalue);
  optionalNumber("global_clipnorm", o.optimizer.global_clipnorm);
  // Files written before schedules were objects: ExponentialDecay as
  // fields beside a number (decay_steps 0: a constant).
  double decaySteps = 0;
  optionalNumber("decay_steps", decaySteps);
  if (lr->isNumber() && decaySteps > 0) {
    schedules::ExponentialDecay decay{.initial_learning_rate = lr->asDouble(),
                                      .decay_steps = decaySteps};
    optionalNumber("decay_rate", decay.decay_rate);
    flag("staircase", decay.staircase);
    o.optimizer.learning_rate = decay;
  }
  o.optimizer.rho = number("rho");
  o.optimizer.beta_1 = number("beta_1");
  o.optimizer.beta_2 = number("beta_2");
  o.optimizer.epsilon = number("epsilon");
  for (const Json &m : field(c, "metrics", Json::Kind::Array, where).items()) {
    if (m.isString()) {
      o.metrics.push_back(m.asString());
      continue;
    }
    const Json *cls = m.isObject() ? m.get("class_name") : nullptr;
    if (!cls || !cls->isString() || cls->asString() != "MeanIoU")
      badConfig(where + ": a metric is a name or a MeanIoU object");
    const Json &mc = field(m, "config", Json::Kind::Object, where);
    const Json &n = field(mc, "num_classes", Json::Kind::Number, where);
    const Json *ignore = mc.get("ignore_class");
    if (!n.isInteger() || (ignore && !ignore->isNull() && !ignore->isInteger()))
      badConfig(where + ": MeanIoU's num_classes and ignore_class must be "
                        "integers");
    auto flagOf = [&](const char *key) {
      return field(mc, key, Json::Kind::Bool, where).asBool();
    };
    o.metrics.push_back(metrics::MeanIoU(
        {.num_classes = n.asInt(),
         .name = field(mc, "name", Json::Kind::String, where).asString(),
         .ignore_class = ignore && !ignore->isNull()
                             ? std::optional<int64_t>(ignore->asInt())
                             : std::nullopt,
         .sparse_y_true = flagOf("sparse_y_true"),
         .sparse_y_pred = flagOf("sparse_y_pred")}));
  }
  return o;
}

} // namespace

void Model::save(const std::string &path) const {
  if (keras::isKerasFile(path, /*sniff=*/false))
    return keras::save(path, *this, compiled_ ? &compiled_->options : nullptr);
  SafeTensorsFile file = checkpoint();
  file.metadata["format"] = kModelFormat;
  file.metadata["model_config"] = getConfig().dump();
  if (compiled_)
    file.metadata["compile_config"] =
        compileConfig(compiled_->options, outputNames()).dump();
  saveSafeTensors(path, file);
}

Model layerc::loadModel(
    const std::string &path,
    const std::map<std::string, LayerFactory> &customObjects, bool compile) {
  if (keras::isKerasFile(path))
    return loadKerasModel(path, customObjects, compile);
  SafeTensorsFile file = loadSafeTensors(path);
  auto format = file.metadata.find("format");
  if (format == file.metadata.end() || format->second != kModelFormat)
    throw Error(path + ": not a saved layerc model (its metadata lacks "
                       "format=layerc-model; weights alone load with "
                       "Model::loadWeights)");
  auto config = file.metadata.find("model_config");
  if (config == file.metadata.end())
    throw Error(path + ": the metadata has no model_config");
  auto prefixed = [&](const Error &e) {
    std::string what = e.what();
    return Error(what.rfind(path, 0) == 0 ? what : path + ": " + what);
  };
  std::optional<Model> model;
  try {
    model.emplace(Model::fromConfig(
        Json::parse(config->second, path + ": model_config"), customObjects));
  } catch (const Error &e) {
    throw prefixed(e);
  }
  // The weights before compile(): a layer may read them when it is
  // compiled (Normalization's statistics, as Keras's finalize_state()
  // after loading); then once more for the optimizer's state.
  model->restore(file, path);
  auto compileConfig = file.metadata.find("compile_config");
  if (compile && compileConfig != file.metadata.end()) {
    try {
      model->compile(compileOptions(
          Json::parse(compileConfig->second, path + ": compile_config")));
    } catch (const Error &e) {
      throw prefixed(e);
    }
    model->restore(file, path);
  }
  return std::move(*model);
}

Model layerc::loadKerasModel(
    const std::string &path,
    const std::map<std::string, LayerFactory> &customObjects, bool compile) {
  keras::Archive archive = keras::readArchive(path);
  auto prefixed = [&](const Error &e) {
    std::string what = e.what();
    return Error(what.rfind(path, 0) == 0 ? what
                                          : path + ": config.json: " + what);
  };
  std::optional<Model> model;
  try {
    model.emplace(Model::fromConfig(archive.modelConfig, customObjects));
  } catch (const Error &e) {
    throw prefixed(e);
  }
  // As loadModel(): the weights before compile(), which may read them.
  model->restore(keras::readWeights(archive, *model, path), path);
  if (compile && archive.compileOptions) {
    try {
      model->compile(*archive.compileOptions);
    } catch (const Error &e) {
      throw prefixed(e);
    }
  }
  return std::move(*model);
}

std::optional<CompileOptions>
layerc::readCompileConfig(const std::string &path) {
  if (keras::isKerasFile(path))
    return keras::readArchive(path).compileOptions;
  SafeTensorsFile file = loadSafeTensors(path);
  auto compile = file.metadata.find("compile_config");
  if (compile == file.metadata.end())
    return std::nullopt;
  return compileOptions(
      Json::parse(compile->second, path + ": compile_config"));
}
