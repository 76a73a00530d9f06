//===- HeaderContext.cpp - The context API of a model's C header ----------===//
//
// Over the raw entry points of a model's functions, the header declares a
// context that owns the weights (found by name), the optimizer state and
// the step count, so an application calls <prefix>_predict(ctx, ...) and
// <prefix>_train_step(ctx, ...) with its inputs alone. Which argument is
// which comes from the roles the IR gives them (layoutFromRoles).
//
//===----------------------------------------------------------------------===//

#include "codegen/Header.h"
#include "codegen/HeaderWriter.h"

#include <algorithm>
#include <sstream>

using namespace layerc;
using namespace layerc::header;

namespace {

/// Whether the roles of `specs` follow `order`: a run of roles of the
/// first group (possibly empty), then of the second, and so on.
bool rolesInOrder(const std::vector<BufferSpec> &specs,
                  std::initializer_list<std::vector<Role>> order) {
  size_t i = 0;
  for (const std::vector<Role> &group : order)
    while (i < specs.size() &&
           std::find(group.begin(), group.end(), specs[i].role) != group.end())
      ++i;
  return i == specs.size();
}

} // namespace

/// The context API over the raw entry points (see emitCHeader).
void layerc::header::emitContext(std::ostringstream &os,
                                 const std::vector<CompiledFunction> &functions,
                                 const std::string &prefix,
                                 const ModelLayout &layout, bool cuda) {
  std::string P = upper(prefix), ctx = prefix + "_context";
  const CompiledFunction *predict = findFunction(functions, "predict");
  const CompiledFunction *train = findFunction(functions, "train_step");
  const CompiledFunction *evaluate = findFunction(functions, "evaluate");
  size_t nw = layout.embedded ? 0 : layout.weightNames.size();
  size_t ni = layout.numInputs, nt = layout.numTargets, no = layout.numOutputs;
  size_t ns = train ? countRole(train->inputs, Role::State) : 0;
  size_t arrayW = std::max<size_t>(nw, 1), arrayS = std::max<size_t>(ns, 1);
  std::vector<int64_t> counts;
  for (const auto &shape : layout.weightShapes) {
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    counts.push_back(n);
  }

  os << "/*===------------------------------------------------------------===*"
        "\n"
        " * The context API: one "
     << ctx
     << " holds a model instance's\n"
        " * weights"
     << (layout.embedded ? " (here compiled in)" : "")
     << (train ? ", the optimizer's state and step count" : "")
     << ".\n * Calls on one context that train must not overlap; predict and\n"
        " * evaluate only read it, so they may share one across threads.\n"
        " *===------------------------------------------------------------===*/"
        "\n";
  os << "#define " << P << "_NUM_WEIGHTS " << layout.weightNames.size()
     << "\n\ntypedef struct " << ctx << " {\n"
     << "  float *weights[2][" << arrayW << "]; /* current set: [current] */\n"
     << "  float *states[2][" << arrayS << "];  /* optimizer slots */\n"
     << "  int current;\n  int64_t iterations; /* train steps done */\n} "
     << ctx << ";\n\n";

  os << "static const char *const " << prefix << "_weight_names_["
     << std::max<size_t>(layout.weightNames.size(), 1) << "] = {";
  for (size_t i = 0; i < layout.weightNames.size(); ++i)
    os << (i ? ", " : "") << cStringLiteral(layout.weightNames[i]);
  if (layout.weightNames.empty())
    os << "\"\"";
  os << "};\nstatic const int64_t " << prefix << "_weight_counts_["
     << std::max<size_t>(counts.size(), 1) << "] = {";
  for (size_t i = 0; i < counts.size(); ++i)
    os << (i ? ", " : "") << counts[i];
  if (counts.empty())
    os << "0";
  os << "};\n";
  os << "static const int64_t " << prefix << "_weight_ranks_["
     << std::max<size_t>(counts.size(), 1) << "] = {";
  for (size_t i = 0; i < layout.weightShapes.size(); ++i)
    os << (i ? ", " : "") << layout.weightShapes[i].size();
  if (counts.empty())
    os << "0";
  os << "};\n";
  for (size_t i = 0; i < layout.weightShapes.size(); ++i) {
    os << "static const int64_t " << prefix << "_weight_shape" << i << "_["
       << std::max<size_t>(layout.weightShapes[i].size(), 1) << "] = {";
    for (size_t d = 0; d < layout.weightShapes[i].size(); ++d)
      os << (d ? ", " : "") << layout.weightShapes[i][d];
    if (layout.weightShapes[i].empty())
      os << "1";
    os << "};\n";
  }
  os << "\n/* The weights, by index in [0, " << P
     << "_NUM_WEIGHTS): their names as\n * in the .lcm file and their element "
        "counts (-1 / NULL out of range). */\n"
     << "static inline const char *" << prefix
     << "_weight_name(int i) {\n  return i >= 0 && i < " << P
     << "_NUM_WEIGHTS ? " << prefix << "_weight_names_[i] : NULL;\n}\n"
     << "static inline int64_t " << prefix
     << "_weight_count(int i) {\n  return i >= 0 && i < " << P
     << "_NUM_WEIGHTS ? " << prefix << "_weight_counts_[i] : -1;\n}\n"
     << "/* The index of the weight called `name`, or -1. */\n"
     << "static inline int " << prefix
     << "_find_weight(const char *name) {\n  int i;\n  if (!name)\n"
        "    return -1;\n  for (i = 0; i < "
     << P << "_NUM_WEIGHTS; ++i)\n    if (strcmp(" << prefix
     << "_weight_names_[i], name) == 0)\n      return i;\n  return -1;\n}\n\n";

  // destroy / create
  os << "static inline void " << prefix << "_destroy(" << ctx
     << " *ctx) {\n  int s, i;\n  if (!ctx)\n    return;\n"
     << "  for (s = 0; s < 2; ++s) {\n    for (i = 0; i < " << arrayW
     << "; ++i)\n      free(ctx->weights[s][i]);\n    for (i = 0; i < "
     << arrayS << "; ++i)\n      free(ctx->states[s][i]);\n  }\n"
     << "  free(ctx);\n}\n\n";
  os << "/* Creates a context in *ctx: weights "
     << (layout.embedded ? "are compiled in"
                         : "start at zero (set them by name or load them)")
     << ",\n * optimizer slots at zero. Returns " << P << "_OK, " << P
     << "_ERROR_MEMORY"
     << (cuda ? ",\n * or " + P + "_ERROR_DEVICE when no usable GPU is found"
              : std::string(" or ") + P + "_ERROR_NULL")
     << ". */\n"
     << "static inline int " << prefix << "_create(" << ctx << " **ctx) {\n  "
     << ctx << " *c;\n  int s;\n  if (!ctx)\n    return " << P
     << "_ERROR_NULL;\n  *ctx = NULL;\n"
     << (cuda ? "  if (layerc_cuda_init(NULL, 0) != 0)\n    return " + P +
                    "_ERROR_DEVICE;\n"
              : std::string())
     << "  c = (" << ctx << " *)calloc(1, sizeof(" << ctx
     << "));\n  if (!c)\n    return " << P
     << "_ERROR_MEMORY;\n  for (s = 0; s < " << (train ? 2 : 1) << "; ++s) {\n";
  for (size_t i = 0; i < nw; ++i)
    os << "    c->weights[s][" << i << "] = (float *)calloc((size_t)"
       << counts[i] << ", sizeof(float));\n    if (!c->weights[s][" << i
       << "]) {\n      " << prefix << "_destroy(c);\n      return " << P
       << "_ERROR_MEMORY;\n    }\n";
  for (size_t i = 0; i < ns; ++i) {
    const BufferSpec &spec = train->inputs[ni + nt + nw + i];
    int64_t n = 1;
    for (int64_t d : spec.shape)
      n *= d;
    os << "    c->states[s][" << i << "] = (float *)calloc((size_t)" << n
       << ", sizeof(float));\n    if (!c->states[s][" << i << "]) {\n      "
       << prefix << "_destroy(c);\n      return " << P
       << "_ERROR_MEMORY;\n    }\n";
  }
  os << "  }\n  (void)s;\n  *ctx = c;\n  return " << P << "_OK;\n}\n\n";

  // set / get
  for (bool set : {true, false}) {
    os << "/* " << (set ? "Copies `values` into" : "Copies into `values`")
       << " the weight called `name` (count elements). */\n"
       << "static inline int " << prefix
       << (set ? "_set_weight(" : "_get_weight(") << (set ? "" : "const ")
       << ctx << " *ctx, const char *name,\n    " << (set ? "const " : "")
       << "float *values, size_t count) {\n"
       << "  int i = " << prefix << "_find_weight(name);\n"
       << "  if (!ctx || !values)\n    return " << P << "_ERROR_NULL;\n"
       << "  if (i < 0)\n    return " << P << "_ERROR_NAME;\n";
    if (layout.embedded)
      os << "  (void)count;\n  return " << P << "_ERROR_EMBEDDED;\n}\n\n";
    else
      os << "  if (count > (size_t)INT64_MAX || (int64_t)count != " << prefix
         << "_weight_counts_[i])\n    return " << P << "_ERROR_SIZE;\n"
         << "  memcpy("
         << (set ? "ctx->weights[ctx->current][i], values"
                 : "values, ctx->weights[ctx->current][i]")
         << ", count * sizeof(float));\n  return " << P << "_OK;\n}\n\n";
  }

  auto weightArgs = [&](const std::string &set) {
    std::string text;
    for (size_t i = 0; i < nw; ++i)
      text += ", ctx->weights[" + set + "][" + std::to_string(i) + "], " +
              std::to_string(counts[i]);
    return text;
  };
  auto stateArgs = [&](const std::string &set) {
    std::string text;
    for (size_t i = 0; i < ns; ++i) {
      const BufferSpec &spec = train->inputs[ni + nt + nw + i];
      int64_t n = 1;
      for (int64_t d : spec.shape)
        n *= d;
      text += ", ctx->states[" + set + "][" + std::to_string(i) + "], " +
              std::to_string(n);
    }
    return text;
  };

  if (predict) {
    std::vector<std::string> names = parameterNames(*predict, prefix);
    size_t in = predict->inputs.size();
    os << "/* Runs the model on `batch` samples: the inputs and outputs of\n"
          " * "
       << prefix << "_predict_raw, without the weights. */\n"
       << "static inline int " << prefix << "_predict(const " << ctx
       << " *ctx, int64_t batch" << passThroughParams(*predict, names, 0, ni)
       << passThroughParams(*predict, names, in, names.size()) << ") {\n"
       << "  if (!ctx)\n    return " << P << "_ERROR_NULL;\n"
       << "  return " << prefix << "_predict_raw(batch"
       << passThroughArgs(names, 0, ni) << weightArgs("ctx->current")
       << passThroughArgs(names, in, names.size()) << ");\n}\n\n";
  }

  // Scratch buffers for the predictions train_step and evaluate write.
  auto scratch = [&](const CompiledFunction &f, size_t firstOutput) {
    std::string text;
    for (size_t k = 0; k < no; ++k) {
      const BufferSpec &spec = f.outputs[firstOutput + k];
      int64_t staticCount = 1;
      for (int64_t d : spec.shape)
        if (d != kDynamic)
          staticCount *= d;
      std::string v = "layerc_out" + std::to_string(k);
      text += "  if (batch > INT64_MAX / " + std::to_string(staticCount) +
              " / (int64_t)sizeof(" + cType(spec.dtype) + "))\n    return " +
              P + "_ERROR_SIZE;\n";
      text += "  " + std::string(cType(spec.dtype)) + " *" + v + " = (" +
              cType(spec.dtype) + " *)malloc((size_t)(" + countExpr(spec) +
              ") * sizeof(" + cType(spec.dtype) + "));\n";
    }
    return text;
  };
  auto scratchArgs = [&](const CompiledFunction &f, size_t firstOutput) {
    std::string text;
    for (size_t k = 0; k < no; ++k)
      text += ", layerc_out" + std::to_string(k) + ", (size_t)(" +
              countExpr(f.outputs[firstOutput + k]) + ")";
    return text;
  };
  auto scratchFree = [&]() {
    std::string text;
    for (size_t k = 0; k < no; ++k)
      text += "  free(layerc_out" + std::to_string(k) + ");\n";
    return text;
  };
  auto scratchCheck = [&]() {
    std::string text = "  if (";
    for (size_t k = 0; k < no; ++k)
      text +=
          (k ? " || " : "") + std::string("!layerc_out") + std::to_string(k);
    return text + ") {\n" + scratchFree() + "    return " + P +
           "_ERROR_MEMORY;\n  }\n";
  };

  if (evaluate) {
    std::vector<std::string> names = parameterNames(*evaluate, prefix);
    os << "/* The loss of the model on `batch` samples and their targets. */\n"
       << "static inline int " << prefix << "_evaluate(const " << ctx
       << " *ctx, int64_t batch"
       << passThroughParams(*evaluate, names, 0, ni + nt)
       << ",\n    float *loss) {\n  int rc;\n"
       << "  if (!ctx || !loss)\n    return " << P << "_ERROR_NULL;\n"
       << "  if (batch < 1)\n    return " << P << "_ERROR_BATCH;\n"
       << "  {\n"
       << scratch(*evaluate, 1) << scratchCheck() << "  rc = " << prefix
       << "_evaluate_raw(batch" << passThroughArgs(names, 0, ni + nt)
       << weightArgs("ctx->current") << ", loss, 1" << scratchArgs(*evaluate, 1)
       << ");\n"
       << scratchFree() << "  }\n  return rc;\n}\n\n";
  }
  if (train) {
    std::vector<std::string> names = parameterNames(*train, prefix);
    os << "/* One optimizer step on `batch` samples and their targets; writes\n"
          " * the loss before the step. The weights and optimizer state in\n"
          " * ctx are updated (double-buffered: nothing changes on error). */\n"
       << "static inline int " << prefix << "_train_step(" << ctx
       << " *ctx, int64_t batch" << passThroughParams(*train, names, 0, ni + nt)
       << ",\n    float *loss) {\n  int rc;\n  float step;\n"
       << "  if (!ctx || !loss)\n    return " << P << "_ERROR_NULL;\n"
       << "  if (batch < 1)\n    return " << P << "_ERROR_BATCH;\n"
       << "  step = (float)(ctx->iterations + 1);\n  {\n"
       << scratch(*train, 1) << scratchCheck() << "  rc = " << prefix
       << "_train_step_raw(batch" << passThroughArgs(names, 0, ni + nt)
       << weightArgs("ctx->current") << stateArgs("ctx->current")
       << ", &step, 1, loss, 1" << scratchArgs(*train, 1)
       << weightArgs("1 - ctx->current") << stateArgs("1 - ctx->current")
       << ");\n"
       << scratchFree() << "  }\n  if (rc == " << P << "_OK) {\n"
       << "    ctx->current = 1 - ctx->current;\n    ++ctx->iterations;\n  }\n"
       << "  return rc;\n}\n\n";
  }

  // File access through liblayerc_runtime.
  os << "#ifdef LAYERC_WITH_RUNTIME\n"
        "/* From liblayerc_runtime (runtime/CApi.h). */\n"
        "int layerc_read_tensors_shaped(const char *path, size_t n,\n"
        "                               const char *const *names, float "
        "*const *dst,\n                               const int64_t *ranks,\n"
        "                               const int64_t *const *shapes, char "
        "*error,\n                               size_t error_size);\n"
        "int layerc_write_tensors(const char *path, size_t n, const char "
        "*const *names,\n                         const float *const *src, "
        "const int64_t *ranks,\n                         const int64_t *const "
        "*shapes, char *error,\n                         size_t "
        "error_size);\n\n";
  os << "/* Loads every weight, by name, from a saved model (.lcm) or a\n"
        " * checkpoint; on error writes a message to `error` and changes "
        "nothing. */\n"
     << "static inline int " << prefix << "_load_weights(" << ctx
     << " *ctx, const char *path,\n    char *error, size_t error_size) {\n";
  // The weights' shapes as one array, for reading and writing files.
  auto shapesArray = [&] {
    os << "  const int64_t *shapes[" << arrayW << "] = {";
    for (size_t i = 0; i < nw; ++i)
      os << (i ? ", " : "") << prefix << "_weight_shape" << i << "_";
    if (!nw)
      os << "NULL";
    os << "};\n";
  };
  if (layout.embedded) {
    os << "  (void)ctx, (void)path, (void)error, (void)error_size;\n  return "
       << P << "_ERROR_EMBEDDED;\n}\n";
  } else {
    // Shapes, not only counts: a transposed kernel has the right count.
    shapesArray();
    os << "  if (!ctx || !path)\n    return " << P << "_ERROR_NULL;\n"
       << "  return layerc_read_tensors_shaped(\n             path, " << P
       << "_NUM_WEIGHTS, " << prefix << "_weight_names_,\n"
       << "             ctx->weights[ctx->current], " << prefix
       << "_weight_ranks_, shapes,\n             error, error_size) == 0\n"
       << "             ? " << P << "_OK\n             : " << P
       << "_ERROR_FILE;\n}\n";
  }
  os << "/* Saves every weight, by name, in the safetensors layout (atomic). "
        "*/\n"
     << "static inline int " << prefix << "_save_weights(const " << ctx
     << " *ctx, const char *path,\n    char *error, size_t error_size) {\n";
  if (layout.embedded) {
    os << "  (void)ctx, (void)path, (void)error, (void)error_size;\n  return "
       << P << "_ERROR_EMBEDDED;\n}\n";
  } else {
    shapesArray();
    os << "  if (!ctx || !path)\n    return " << P << "_ERROR_NULL;\n"
       << "  return layerc_write_tensors(path, " << P << "_NUM_WEIGHTS, "
       << prefix
       << "_weight_names_,\n                              (const float *const "
          "*)ctx->weights[ctx->current],\n                              "
       << prefix << "_weight_ranks_, shapes, error, error_size) == 0\n"
       << "             ? " << P << "_OK\n             : " << P
       << "_ERROR_FILE;\n}\n";
  }
  os << "#endif /* LAYERC_WITH_RUNTIME */\n\n";
}

std::optional<ModelLayout>
layerc::layoutFromRoles(const std::vector<CompiledFunction> &functions,
                        std::string &why) {
  auto refuse = [&](const std::string &reason) -> std::optional<ModelLayout> {
    why = "no context API: " + reason;
    return std::nullopt;
  };
  const CompiledFunction *predict = findFunction(functions, "predict");
  if (!predict)
    return refuse("the module has no function 'predict'");
  const std::vector<BufferSpec> &args = predict->inputs;
  if (!rolesInOrder(args, {{Role::Input}, {Role::Param, Role::Buffer}}))
    return refuse("predict's arguments must be its inputs, then its weights "
                  "(layer.param or layer.buffer)");
  ModelLayout layout;
  layout.numInputs = countRole(args, Role::Input);
  layout.numOutputs = static_cast<int>(predict->outputs.size());
  layout.numTargets = layout.numOutputs;
  if (layout.numInputs < 1 || layout.numOutputs < 1)
    return refuse("predict needs at least one input and one output");
  for (const BufferSpec &spec : args) {
    if (spec.role == Role::Input)
      continue;
    if (spec.dtype != DType::Float32 ||
        std::find(spec.shape.begin(), spec.shape.end(), kDynamic) !=
            spec.shape.end())
      return refuse("weight '" + spec.name + "' is " + spec.str() +
                    "; the context holds float32 weights of static shape");
    layout.weightNames.push_back(spec.name);
    layout.weightShapes.push_back(spec.shape);
  }
  for (const char *name : {"train_step", "evaluate"}) {
    const CompiledFunction *f = findFunction(functions, name);
    if (!f)
      continue;
    int targets = countRole(f->inputs, Role::Target);
    if (targets != layout.numOutputs)
      return refuse(std::string(name) + " has " + std::to_string(targets) +
                    " targets for the " + std::to_string(layout.numOutputs) +
                    " outputs of predict");
    bool ordered = std::string(name) == "train_step"
                       ? rolesInOrder(f->inputs, {{Role::Input},
                                                  {Role::Target},
                                                  {Role::Param, Role::Buffer},
                                                  {Role::State},
                                                  {Role::Step}}) &&
                             countRole(f->inputs, Role::Step) == 1
                       : rolesInOrder(f->inputs, {{Role::Input},
                                                  {Role::Target},
                                                  {Role::Param, Role::Buffer}});
    if (countRole(f->inputs, Role::SampleWeight) > 0)
      return refuse(std::string(name) +
                    " takes sample weights (layer-autodiff's sample-weights); "
                    "the C context has no argument for them: build without "
                    "sample-weights");
    if (countRole(f->inputs, Role::LearningRate) > 0)
      return refuse(std::string(name) +
                    " takes its learning rate as an argument "
                    "(layer-autodiff's learning-rate-input, for fit()); the "
                    "C context needs the rate computed in the compiled code: "
                    "build without learning-rate-input");
    if (!ordered)
      return refuse(std::string(name) +
                    "'s arguments are not in layer-autodiff's order "
                    "(inputs, targets, weights, optimizer state, step)");
    // The context passes predict's inputs and weights to it: the same
    // number, the weights of the same shapes, the state of static float32
    // shapes (it allocates it).
    if (countRole(f->inputs, Role::Input) != layout.numInputs)
      return refuse(std::string(name) + " takes another number of inputs " +
                    "than predict");
    std::vector<const BufferSpec *> weights;
    for (const BufferSpec &spec : f->inputs) {
      if (spec.role == Role::Param || spec.role == Role::Buffer)
        weights.push_back(&spec);
      bool state = spec.role == Role::State;
      if (state && (spec.dtype != DType::Float32 ||
                    std::find(spec.shape.begin(), spec.shape.end(), kDynamic) !=
                        spec.shape.end()))
        return refuse("optimizer state '" + spec.name + "' is " + spec.str() +
                      "; the context holds float32 state of "
                      "static shape");
    }
    if (weights.size() != layout.weightNames.size())
      return refuse(std::string(name) + " takes " +
                    std::to_string(weights.size()) + " weights, predict " +
                    std::to_string(layout.weightNames.size()));
    for (size_t i = 0; i < weights.size(); ++i)
      if (weights[i]->dtype != DType::Float32 ||
          weights[i]->shape != layout.weightShapes[i])
        return refuse("weight '" + weights[i]->name + "' of " + name + " is " +
                      weights[i]->str() + ", not the shape of predict's");
  }
  return layout;
}
