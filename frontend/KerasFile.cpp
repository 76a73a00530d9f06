//===- KerasFile.cpp - Keras 3 .keras files: archive, configs -------------===//
//
// See KerasFile.h. Keras 3's config is normalized into the Keras-style
// config Model::fromConfig() already reads (dtype policies become their
// names, inbound nodes become [layer, node, tensor] lists), and
// getConfig()'s is dressed the other way round. Compile configs map onto
// CompileOptions where the options exist in layerc.
//
//===----------------------------------------------------------------------===//

#include "frontend/KerasFile.h"
#include "runtime/Error.h"
#include "runtime/Zip.h"

#include <cctype>
#include <fstream>
#include <map>
#include <set>

using namespace layerc;
using namespace layerc::keras;

namespace {

constexpr const char *kConfigEntry = "config.json";
constexpr const char *kMetadataEntry = "metadata.json";
constexpr const char *kWeightsEntry = "model.weights.h5";
/// The Keras version whose files these are (and that reads ours).
constexpr const char *kKerasVersion = "3.15.1";

[[noreturn]] void bad(const std::string &path, const std::string &what) {
  throw Error(path + ": config.json: " + what);
}

const Json *member(const Json &object, const char *key) {
  return object.isObject() ? object.get(key) : nullptr;
}

/// Keras's class names are a few dozen characters; longer ones from the
/// file are refused before anything (snakeCase, error messages) uses them.
constexpr size_t kMaxClassName = 1024;

void checkClassName(const Json &cls, const std::string &path,
                    const std::string &what) {
  if (cls.isString() && cls.asString().size() > kMaxClassName)
    bad(path,
        what + " has a class_name of " + std::to_string(cls.asString().size()) +
            " characters (at most " + std::to_string(kMaxClassName) + ")");
}

/// A "__keras_tensor__" as a [layer, node, tensor] reference.
Json tensorRef(const Json &arg, const std::string &path,
               const std::string &where) {
  const Json *cls = member(arg, "class_name");
  const Json *history = member(arg, "config")
                            ? member(*member(arg, "config"), "keras_history")
                            : nullptr;
  if (!cls || !cls->isString() || cls->asString() != "__keras_tensor__" ||
      !history)
    bad(path, where + ": a call argument that is not a tensor "
                      "(\"__keras_tensor__\") is not supported");
  return *history;
}

/// Keras 3's inbound node ({"args": [...], "kwargs": {...}}) as the list of
/// input references fromConfig() reads. A list argument (merge layers'
/// inputs) contributes its tensors in order.
Json inboundNode(const Json &node, const std::string &path,
                 const std::string &where) {
  if (node.isArray())
    return node; // Already a list of references (Keras 2 style).
  const Json *args = member(node, "args");
  if (!args || !args->isArray())
    bad(path, where + ": an inbound node needs a list \"args\"");
  std::vector<Json> refs;
  for (const Json &arg : args->items()) {
    if (arg.isArray()) {
      for (const Json &t : arg.items())
        refs.push_back(tensorRef(t, path, where));
    } else {
      refs.push_back(tensorRef(arg, path, where));
    }
  }
  if (const Json *kwargs = member(node, "kwargs"))
    for (const auto &[key, value] : kwargs->members())
      if (member(value, "class_name") || value.isArray())
        bad(path,
            where + ": tensor keyword argument '" + key + "' is not supported");
  return Json::array(std::move(refs));
}

/// A reference list that Keras writes flat when there is one tensor.
Json refList(const Json &refs) {
  if (refs.isArray() && !refs.items().empty() && refs.items()[0].isString())
    return Json::array({refs});
  return refs;
}

Json normalizeBody(const Json &body, const std::string &path, int depth);

Json normalizeLayer(const Json &entry, const std::string &path, int depth) {
  const Json *cls = member(entry, "class_name");
  const Json *config = member(entry, "config");
  if (!cls || !cls->isString() || !config || !config->isObject())
    bad(path, "every layer needs \"class_name\" and an object \"config\"");
  checkClassName(*cls, path, "a layer");
  std::string where = "layer of class " + cls->asString();
  Json out = Json::object({{"class_name", *cls}});
  const Json *name = member(entry, "name");
  if (!name)
    name = member(*config, "name");
  if (name) {
    out.set("name", *name);
    if (name->isString())
      where = "layer " + name->asString();
  }
  Json layerConfig = *config;
  if (cls->asString() == "Functional" || cls->asString() == "Model") {
    out.set("class_name", "Functional");
    layerConfig = normalizeBody(*config, path, depth + 1);
  } else {
    // A dtype policy ({"class_name": "DTypePolicy", "config": {"name":
    // "float32"}}) by its name.
    if (const Json *dtype = member(*config, "dtype"))
      if (const Json *policy = member(*dtype, "config"))
        if (const Json *policyName = member(*policy, "name"))
          layerConfig.set("dtype", *policyName);
  }
  out.set("config", layerConfig);
  std::vector<Json> nodes;
  if (const Json *inbound = member(entry, "inbound_nodes")) {
    if (!inbound->isArray())
      bad(path, where + ": \"inbound_nodes\" must be a list");
    for (const Json &node : inbound->items())
      nodes.push_back(inboundNode(node, path, where));
  }
  out.set("inbound_nodes", Json::array(std::move(nodes)));
  return out;
}

Json normalizeBody(const Json &body, const std::string &path, int depth) {
  // fromConfig() bounds nesting too; this keeps the conversion's own
  // recursion from running first.
  if (depth > 64)
    bad(path, "models are nested more than 64 deep");
  if (!body.isObject())
    bad(path, "a model's \"config\" must be an object");
  Json out = body;
  const Json *layerList = member(body, "layers");
  if (!layerList || !layerList->isArray())
    bad(path, "the model needs a list \"layers\"");
  std::vector<Json> layers;
  for (const Json &entry : layerList->items())
    layers.push_back(normalizeLayer(entry, path, depth));
  out.set("layers", Json::array(std::move(layers)));
  for (const char *key : {"input_layers", "output_layers"}) {
    const Json *refs = member(body, key);
    if (!refs)
      bad(path, std::string("the model needs \"") + key + "\"");
    out.set(key, refList(*refs));
  }
  return out;
}

/// Every layer's HDF5 group: the n-th layer of snake-cased class c is
/// "<prefix>layers/c_n" (plain "c" for the first), as Keras's saving_lib
/// names the elements of model.layers; nested models recurse.
void groupPaths(const Json &body, const std::string &prefix,
                std::map<std::string, std::string> &out) {
  std::map<std::string, int> used;
  for (const Json &entry : body.get("layers")->items()) {
    std::string snake = snakeCase(entry.get("class_name")->asString());
    int n = used.count(snake) ? ++used[snake] : (used[snake] = 0);
    std::string group =
        prefix + "layers/" + (n ? snake + "_" + std::to_string(n) : snake);
    const Json *name = entry.get("name");
    if (name && name->isString())
      out.emplace(name->asString(), group);
    if (entry.get("class_name")->asString() == "Functional")
      groupPaths(*entry.get("config"), group + "/", out);
  }
}

//===----------------------------------------------------------------------===//
// Compile configs
//===----------------------------------------------------------------------===//

/// Keras's optimizer classes and layerc's names for them.
const std::map<std::string, std::string> &optimizerClasses() {
  static const std::map<std::string, std::string> classes = {
      {"SGD", "sgd"},       {"RMSprop", "rmsprop"}, {"Adam", "adam"},
      {"AdamW", "adamw"},   {"Adagrad", "adagrad"}, {"Adadelta", "adadelta"},
      {"Adamax", "adamax"}, {"Nadam", "nadam"},     {"Lion", "lion"}};
  return classes;
}

/// "sparse_categorical_crossentropy" -> "SparseCategoricalCrossentropy".
std::string camelCase(const std::string &name) {
  std::string out;
  bool upper = true;
  for (char c : name) {
    if (c == '_') {
      upper = true;
      continue;
    }
    out.push_back(upper ? static_cast<char>(std::toupper(c)) : c);
    upper = false;
  }
  return out;
}

/// A loss from Keras's serialization: a name, a function object or a loss
/// object. nullopt: one layerc does not have in that form.
std::optional<Loss> lossFrom(const Json &l, const std::string &path) {
  if (l.isString())
    return Loss(l.asString(), false);
  const Json *cls = member(l, "class_name");
  if (cls)
    checkClassName(*cls, path, "a loss");
  const Json *config = member(l, "config");
  if (!cls || !cls->isString() || !config)
    return std::nullopt;
  if (config->isString()) // {"class_name": "function", "config": "mse"}
    return Loss(config->asString(), false);
  if (!config->isObject())
    return std::nullopt;
  const Json *reduction = config->get("reduction");
  if (reduction && !(reduction->isString() &&
                     reduction->asString() == "sum_over_batch_size"))
    return std::nullopt;
  for (const auto &[key, value] : config->members())
    if (key != "name" && key != "reduction" && key != "from_logits" &&
        key != "dtype" && !(key == "ignore_class" && value.isNull()))
      return std::nullopt; // label_smoothing, axis, ...: not in layerc
  const Json *logits = config->get("from_logits");
  return Loss(snakeCase(cls->asString()),
              logits && logits->isBool() && logits->asBool());
}

std::optional<CompileOptions> compileFrom(const Json &c,
                                          const std::string &path) {
  if (!c.isObject())
    throw Error(path + ": config.json: compile_config must be an object");
  CompileOptions o;
  // The optimizer.
  const Json *opt = c.get("optimizer");
  if (opt && opt->isString()) {
    o.optimizer = Optimizer(opt->asString().c_str());
  } else if (const Json *cls = opt ? member(*opt, "class_name") : nullptr) {
    auto known = cls->isString() ? optimizerClasses().find(cls->asString())
                                 : optimizerClasses().end();
    const Json *config = member(*opt, "config");
    if (known == optimizerClasses().end() || !config || !config->isObject())
      return std::nullopt;
    o.optimizer = Optimizer(known->second.c_str());
    for (const auto &[key, v] : config->members()) {
      auto number = [&](double &out) {
        if (v.isNull())
          out = 0; // weight_decay / clipping: off
        else if (v.isNumber())
          out = v.asDouble();
        else
          throw Error(path + ": config.json: optimizer field '" + key +
                      "' must be a number");
      };
      auto flag = [&](bool &out) {
        if (!v.isBool())
          throw Error(path + ": config.json: optimizer field '" + key +
                      "' must be a boolean");
        out = v.asBool();
      };
      Optimizer &p = o.optimizer;
      if (key == "learning_rate")
        p.learning_rate = LearningRate::fromConfig(
            v, path + ": config.json: the optimizer's learning_rate");
      else if (key == "momentum")
        number(p.momentum);
      else if (key == "rho")
        number(p.rho);
      else if (key == "beta_1")
        number(p.beta_1);
      else if (key == "beta_2")
        number(p.beta_2);
      else if (key == "epsilon")
        number(p.epsilon);
      else if (key == "weight_decay")
        number(p.weight_decay);
      else if (key == "initial_accumulator_value")
        number(p.initial_accumulator_value);
      else if (key == "clipnorm")
        number(p.clipnorm);
      else if (key == "clipvalue")
        number(p.clipvalue);
      else if (key == "global_clipnorm")
        number(p.global_clipnorm);
      else if (key == "nesterov")
        flag(p.nesterov);
      else if (key == "centered")
        flag(p.centered);
      else if (key == "amsgrad")
        flag(p.amsgrad);
      else if (key == "use_ema") {
        if (!v.isBool() || v.asBool())
          return std::nullopt;
      } else if (key == "loss_scale_factor" ||
                 key == "gradient_accumulation_steps" ||
                 key == "ema_overwrite_frequency") {
        if (!v.isNull())
          return std::nullopt;
      }
      // name, ema_momentum: no effect here.
    }
  } else if (opt && !opt->isNull()) {
    return std::nullopt;
  }
  // The loss: one, a list per output or a dict by output name.
  const Json *loss = c.get("loss");
  if (!loss || loss->isNull())
    return std::nullopt; // Keras compiles without a loss; layerc cannot.
  if (loss->isArray()) {
    for (const Json &l : loss->items()) {
      std::optional<Loss> one = lossFrom(l, path);
      if (!one)
        return std::nullopt;
      o.losses.push_back(*one);
    }
  } else if (loss->isObject() && !loss->get("class_name")) {
    for (const auto &[output, l] : loss->members()) {
      std::optional<Loss> one = lossFrom(l, path);
      if (!one)
        return std::nullopt;
      o.losses_by_name[output] = *one;
    }
  } else if (std::optional<Loss> one = lossFrom(*loss, path)) {
    o.loss = *one;
  } else {
    return std::nullopt;
  }
  if (const Json *weights = c.get("loss_weights");
      weights && !weights->isNull()) {
    auto number = [&](const Json &w) {
      if (!w.isNumber())
        throw Error(path + ": config.json: loss weights must be numbers");
      return w.asDouble();
    };
    if (weights->isArray())
      for (const Json &w : weights->items())
        o.loss_weights.push_back(number(w));
    else if (weights->isObject())
      for (const auto &[output, w] : weights->members())
        o.loss_weights_by_name[output] = number(w);
    else
      return std::nullopt;
  }
  if (const Json *metrics = c.get("metrics"); metrics && !metrics->isNull()) {
    if (!metrics->isArray())
      return std::nullopt;
    for (const Json &m : metrics->items()) {
      if (!m.isString())
        return std::nullopt;
      o.metrics.push_back(m.asString().c_str());
    }
  }
  if (const Json *weighted = c.get("weighted_metrics");
      weighted && !weighted->isNull())
    return std::nullopt;
  return o;
}

Json compileConfigOf(const CompileOptions &o,
                     const std::vector<std::string> &outputNames) {
  const Optimizer &p = o.optimizer;
  std::string cls;
  for (const auto &[kerasClass, name] : optimizerClasses())
    if (name == p.name)
      cls = kerasClass;
  auto orNull = [](double v) { return v == 0 ? Json(nullptr) : Json(v); };
  std::vector<std::pair<std::string, Json>> config = {
      {"name", p.name},
      {"learning_rate", p.learning_rate.toConfig()},
      {"weight_decay", orNull(p.weight_decay)},
      {"clipnorm", orNull(p.clipnorm)},
      {"global_clipnorm", orNull(p.global_clipnorm)},
      {"clipvalue", orNull(p.clipvalue)},
      {"use_ema", false},
      {"ema_momentum", 0.99},
      {"ema_overwrite_frequency", nullptr},
      {"loss_scale_factor", nullptr},
      {"gradient_accumulation_steps", nullptr}};
  auto add = [&](const char *key, Json value) {
    config.emplace_back(key, std::move(value));
  };
  if (p.name == "sgd") {
    add("momentum", p.momentum);
    add("nesterov", p.nesterov);
  } else if (p.name == "rmsprop") {
    add("rho", p.rho);
    add("momentum", p.momentum);
    add("epsilon", p.epsilon);
    add("centered", p.centered);
  } else if (p.name == "adagrad") {
    add("initial_accumulator_value", p.initial_accumulator_value);
    add("epsilon", p.epsilon);
  } else if (p.name == "adadelta") {
    add("rho", p.rho);
    add("epsilon", p.epsilon);
  } else {
    add("beta_1", p.beta_1);
    add("beta_2", p.beta_2);
    if (p.name != "lion")
      add("epsilon", p.epsilon);
    if (p.name == "adam" || p.name == "adamw")
      add("amsgrad", p.amsgrad);
  }
  Json optimizer = Json::object({{"module", "keras.optimizers"},
                                 {"class_name", cls},
                                 {"config", Json::object(std::move(config))},
                                 {"registered_name", nullptr}});
  auto lossJson = [](const Loss &l) {
    if (!l.from_logits)
      return Json(l.name);
    return Json::object(
        {{"module", "keras.losses"},
         {"class_name", camelCase(l.name)},
         {"config", Json::object({{"name", l.name},
                                  {"reduction", "sum_over_batch_size"},
                                  {"from_logits", true}})},
         {"registered_name", nullptr}});
  };
  OutputLosses resolved = resolveLosses(o, outputNames);
  Json loss, weights = nullptr;
  if (resolved.losses.size() == 1) {
    loss = lossJson(resolved.losses[0]);
    if (resolved.weights[0] != 1.0)
      weights = Json::array({Json(resolved.weights[0])});
  } else {
    std::vector<Json> losses, ws;
    for (size_t i = 0; i < resolved.losses.size(); ++i) {
      losses.push_back(lossJson(resolved.losses[i]));
      ws.emplace_back(resolved.weights[i]);
    }
    loss = Json::array(std::move(losses));
    weights = Json::array(std::move(ws));
  }
  // Keras applies a flat metric list to a single output; several outputs
  // would need a list per output, which layerc does not record.
  Json metrics = nullptr;
  if (resolved.losses.size() == 1 && !o.metrics.empty()) {
    std::vector<Json> names;
    for (const MetricSpec &m : o.metrics)
      if (m.class_name.empty())
        names.emplace_back(m.name);
    metrics = Json::array(std::move(names));
  }
  return Json::object({{"optimizer", optimizer},
                       {"loss", loss},
                       {"loss_weights", weights},
                       {"metrics", metrics},
                       {"weighted_metrics", nullptr},
                       {"run_eagerly", false},
                       {"steps_per_execution", 1},
                       {"jit_compile", true}});
}

//===----------------------------------------------------------------------===//
// Writing configs
//===----------------------------------------------------------------------===//

Json keras3Body(const Graph &graph, const Json &body);

/// getConfig()'s layer entry dressed as Keras 3 writes it.
Json keras3Layer(const Graph &graph, const Json &entry,
                 const std::map<std::string, const Layer *> &byName) {
  std::string cls = entry.get("class_name")->asString();
  std::string name = entry.get("name")->asString();
  const Layer *layer = byName.count(name) ? byName.at(name) : nullptr;
  Json config = *entry.get("config");
  if (cls == "Functional") {
    auto *nested = dynamic_cast<const FunctionalLayer *>(layer);
    if (!nested)
      throw Error("cannot save nested model " + name + " as a .keras file");
    config = keras3Body(*nested->graph(), config);
  }
  // Node indices count a layer's calls within this graph, as getConfig().
  std::vector<Json> nodes;
  std::map<std::pair<const Layer *, int>, const Node *> nodeOf;
  std::map<const Layer *, int> calls;
  for (const auto &node : graph.nodes)
    nodeOf[{node->layer.get(), calls[node->layer.get()]++}] = node.get();
  std::map<const Node *, int> indexOf;
  for (const auto &[key, node] : nodeOf)
    indexOf[node] = key.second;
  auto tensor = [&](const SymbolicTensor &t) {
    std::vector<Json> shape;
    for (int64_t d : t.shape())
      shape.push_back(d < 0 ? Json(nullptr) : Json(d));
    return Json::object(
        {{"class_name", "__keras_tensor__"},
         {"config", Json::object({{"shape", Json::array(std::move(shape))},
                                  {"dtype", dtypeName(t.dtype())},
                                  {"keras_history",
                                   Json::array({Json(t.node()->layer->name()),
                                                Json(indexOf[t.node().get()]),
                                                Json(t.index())})}})}});
  };
  if (!dynamic_cast<const InputLayer *>(layer))
    for (int n = 0; nodeOf.count({layer, n}); ++n) {
      const Node &node = *nodeOf[{layer, n}];
      std::vector<Json> args;
      for (const SymbolicTensor &t : node.inputs)
        args.push_back(tensor(t));
      // Merge layers take their inputs as one list argument.
      static const std::set<std::string> listInputs = {
          "Add",     "Subtract", "Multiply",    "Average",
          "Maximum", "Minimum",  "Concatenate", "Dot"};
      if (listInputs.count(cls))
        args = {Json::array(std::move(args))};
      nodes.push_back(Json::object({{"args", Json::array(std::move(args))},
                                    {"kwargs", Json::object()}}));
    }
  return Json::object(
      {{"module", cls == "Functional" ? "keras.src.models"
                                        ".functional"
                                      : "keras.layers"},
       {"class_name", cls},
       {"config", config},
       {"registered_name", cls == "Functional" ? Json("Functional") : Json()},
       {"name", name},
       {"inbound_nodes", Json::array(std::move(nodes))}});
}

Json keras3Body(const Graph &graph, const Json &body) {
  std::map<std::string, const Layer *> byName;
  for (const auto &layer : graph.layers)
    byName[layer->name()] = layer.get();
  Json out = body;
  std::vector<Json> layers;
  for (const Json &entry : body.get("layers")->items())
    layers.push_back(keras3Layer(graph, entry, byName));
  out.set("layers", Json::array(std::move(layers)));
  out.set("trainable", true);
  // One input or output is written flat, as Keras does.
  for (const char *key : {"input_layers", "output_layers"}) {
    const Json &refs = *body.get(key);
    if (refs.items().size() == 1)
      out.set(key, refs.items()[0]);
  }
  return out;
}

} // namespace

std::string layerc::keras::snakeCase(const std::string &className) {
  // Keras: re.sub(r"\W+", "", name), then "(.)([A-Z][a-z]+)" -> r"\1_\2",
  // then "([a-z])([A-Z])" -> r"\1_\2", then lower(). One pass over the
  // characters, no regex: std::regex recurses once per character and a
  // long name from a file would overflow the stack. An underscore goes
  // before an uppercase letter that starts a lowercase word (after any
  // character) or follows a lowercase letter; that is where the two
  // substitutions put one (the first's matches cannot overlap in a way
  // that hides a word start the second does not catch).
  auto upper = [](char c) { return c >= 'A' && c <= 'Z'; };
  auto lower = [](char c) { return c >= 'a' && c <= 'z'; };
  std::string word;
  for (char c : className)
    if (upper(c) || lower(c) || (c >= '0' && c <= '9') || c == '_')
      word += c;
  std::string out;
  for (size_t i = 0; i < word.size(); ++i) {
    char c = word[i];
    bool startsWord =
        i > 0 && upper(c) && i + 1 < word.size() && lower(word[i + 1]);
    bool afterLower = i > 0 && upper(c) && lower(word[i - 1]);
    if (startsWord || afterLower)
      out += '_';
    out += upper(c) ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return out;
}

bool layerc::keras::isKerasFile(const std::string &path, bool sniff) {
  if (path.size() >= 6 && path.compare(path.size() - 6, 6, ".keras") == 0)
    return true;
  if (!sniff)
    return false;
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  return in && in.read(magic, 4) && looksLikeZip(std::string(magic, 4));
}

Archive layerc::keras::readArchive(const std::string &path) {
  // Only these two are inflated; metadata.json and any other entry is
  // checked but not read.
  std::vector<ZipEntry> entries =
      readZipFile(path, {kConfigEntry, kWeightsEntry});
  auto find = [&](const char *name) -> const std::string & {
    for (const ZipEntry &e : entries)
      if (e.name == name)
        return e.data;
    throw Error(path + ": not a Keras 3 .keras file: the zip has no entry '" +
                name + "'");
  };
  Json config = Json::parse(find(kConfigEntry), path + ": config.json");
  const Json *cls = member(config, "class_name");
  if (!cls || !cls->isString())
    bad(path, "the model needs a \"class_name\"");
  checkClassName(*cls, path, "the model");
  if (cls->asString() != "Functional" && cls->asString() != "Model")
    bad(path, "model class '" + cls->asString() +
                  "' cannot be loaded (only functional models can; a "
                  "Sequential model can be rebuilt as one)");
  const Json *body = member(config, "config");
  if (!body)
    bad(path, "the model needs a \"config\"");
  Archive archive;
  archive.modelConfig =
      Json::object({{"class_name", "Functional"},
                    {"config", normalizeBody(*body, path, 0)}});
  if (const Json *compile = config.get("compile_config");
      compile && !compile->isNull())
    archive.compileOptions = compileFrom(*compile, path);
  archive.weightsH5 = find(kWeightsEntry);
  return archive;
}

SafeTensorsFile layerc::keras::readWeights(const Archive &archive,
                                           const Model &model,
                                           const std::string &path) {
  std::map<std::string, std::string> paths;
  groupPaths(*archive.modelConfig.get("config"), "", paths);
  return readWeightsH5(archive.weightsH5, model, paths, path);
}

void layerc::keras::save(const std::string &path, const Model &model,
                         const CompileOptions *options) {
  Json body = *model.getConfig().get("config");
  std::map<std::string, std::string> paths;
  groupPaths(body, "", paths);
  Json config =
      Json::object({{"module", "keras.src.models.functional"},
                    {"class_name", "Functional"},
                    {"config", keras3Body(*model.asLayer()->graph(), body)},
                    {"registered_name", "Functional"},
                    {"build_config", Json::object({{"input_shape", nullptr}})},
                    {"compile_config",
                     options ? compileConfigOf(*options, model.outputNames())
                             : Json(nullptr)}});
  Json metadata = Json::object(
      {{"keras_version", kKerasVersion}, {"date_saved", "layerc"}});
  std::vector<ZipEntry> entries = {
      {kMetadataEntry, metadata.dump()},
      {kConfigEntry, config.dump()},
      {kWeightsEntry, writeWeightsH5(model, paths)}};
  writeFileAtomically(path, writeZip(entries));
}
