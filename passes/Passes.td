//===- Passes.td - layerc passes on the layer dialect ----*- tablegen -*-===//

#ifndef LAYERC_PASSES_TD
#define LAYERC_PASSES_TD

include "mlir/Pass/PassBase.td"

def LayerShapeInference : Pass<"layer-shape-inference", "::mlir::func::FuncOp"> {
  let summary = "Infer every result shape of layer ops from the inputs";
  let description = [{
    A worklist over the ops of a function (Toy chapter 4's algorithm): an op
    whose operands are all ranked gets its result types from its
    ShapeInference interface; this repeats until nothing changes. The batch
    dimension stays dynamic. Shapes that cannot agree are reported as a
    diagnostic naming the op and the shapes; ops left unranked are reported
    too. Finally the function's result types are updated to match its
    return.
  }];
}

def LayerShapeChecks : Pass<"layer-shape-checks", "::mlir::func::FuncOp"> {
  let summary = "Check at run time the sizes that shape inference could not";
  let description = [{
    Every shape rule decides what it can at compile time; the size relations
    it cannot decide because a size is dynamic (an unknown feature count that
    must match a kernel, a slice on an axis of unknown extent, two inputs of
    unknown length that are added) it records. This pass asks each op's rule
    for them and inserts, before the op, `tensor.dim`s, the comparison and a
    `cf.assert` whose message names the layer, the operands and the
    dimensions. A relation between two sizes the compiler can prove equal
    folds away in canonicalization, so it costs nothing. The asserts become
    error codes of the exported function (layer-lower-checks), never a
    wrong answer or an out-of-bounds access.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::cf::ControlFlowDialect",
                           "::mlir::tensor::TensorDialect"];
}

def LayerAutodiff : Pass<"layer-autodiff", "::mlir::ModuleOp"> {
  let summary = "Build train_step/evaluate (or grad) from an inference function";
  let description = [{
    Given the inference function `function`, whose weights are the
    arguments marked `layer.param` (trainable) or `layer.buffer`
    (non-trainable: BatchNormalization's moving statistics, frozen
    weights), builds in the same module:
      - `evaluate(x..., y..., weights...) -> (loss, outputs...)`; with
        `output-losses`, each output's loss follows
      - with an optimizer: `train_step(x..., y..., weights..., state...,
        step) -> (loss, outputs..., new weights..., new state...)`, with
        optimizer state for the trainable weights only
      - with `optimizer=none`: `grad(x..., y..., weights...) -> (loss,
        outputs..., d loss / d param...)`
    With `split-step` (and an optimizer), also the two halves of
    `train_step`, for data-parallel training where the gradients of several
    shards are summed between them:
      - `grad_step(x..., y..., weights..., step, sample_offset) -> (loss,
        outputs..., d loss / d param..., new buffers...)`: the forward and
        backward passes in training mode on one shard of a global batch
        that starts at sample `sample_offset` of it (dropout draws the
        global batch's masks);
      - `apply_step(params..., grads..., state..., step) -> (new params...,
        new state...)`: the optimizer's update.
    In one process (offset 0) they compute what `train_step` computes, bit
    for bit.
    With `gradient-ready` (and split-step), grad_step also announces each
    gradient as soon as it is final: right after the op that produces it
    (the last accumulation of a weight used several times), a call
    `layerc_gradient_ready(i, data, count)` of an external C function,
    `void (int64_t, const float *, int64_t)`, with i the gradient's place
    among grad_step's gradient results and data its float32 elements
    (read through `bufferization.to_buffer`, so the call survives
    bufferization and sees the value as it is at that point). fit()'s
    data-parallel JIT defines the function and starts the all-reduce of
    the gradients that are ready while the backward pass goes on; an AOT
    library would leave the symbol unresolved, so it is off by default.
    `train_step` runs the layers in training mode: dropout masks its input,
    and `layer.batch_norm` normalizes by the batch's `layer.moments` and
    returns moving statistics updated with its `momentum` as the new values
    of those buffers (other buffers come back unchanged). With
    `batch-stats`, `evaluate` and `grad` normalize by batch statistics too,
    so that their gradients can be checked against each other.
    Gradients come from a reverse sweep over the forward ops, each op
    building its vector-Jacobian product through GradientOpInterface; the
    pass never switches on op types. Every argument of the new functions
    carries `layer.role` (input, target, sample_weight, param, buffer,
    state, step, offset, grad) and
    `layer.name`.
    With `sample-weights`, `evaluate`, `train_step`, `grad` and `grad_step`
    take after the targets one more argument per output,
    `<output>_sample_weight` (role sample_weight): one weight per sample,
    `tensor<Nxf32>` for a batch of N, by which each sample's loss is
    multiplied before the sum is divided by the batch size (Keras's
    `sample_weight`, and `class_weight` turned into one):
    `evaluate(x..., y..., sample_weight..., weights...)`, and so on.
  }];
  let dependentDialects = ["::layerc::layer::LayerDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::memref::MemRefDialect"];
  let options = [
    Option<"function", "function", "std::string", "\"predict\"",
           "The inference function to differentiate">,
    ListOption<"loss", "loss", "std::string",
               "The loss of every output (a Keras loss name), or one per "
               "output, separated by commas; a name may end in `:logits` or "
               "`:probs` to override from-logits for its output">,
    Option<"fromLogits", "from-logits", "bool", "false",
           "Cross-entropies take logits instead of probabilities">,
    ListOption<"lossWeights", "loss-weights", "::layerc::Real",
               "Weights of the outputs' losses in the total, separated by "
               "commas (default 1 each)">,
    Option<"outputLosses", "output-losses", "bool", "false",
           "Also return each output's (unweighted) loss, as trailing scalar "
           "results of evaluate and train_step">,
    Option<"optimizer", "optimizer", "std::string", "\"rmsprop\"",
           "sgd, rmsprop, adam, adamw, adagrad, adadelta, adamax, nadam, "
           "lion, or none (emit grad instead of train_step)">,
    Option<"learningRate", "learning-rate", "::layerc::Real", "-1.0",
           "Learning rate; negative selects the optimizer's Keras default "
           "(0.01 for sgd, 0.001 otherwise)">,
    Option<"momentum", "momentum", "::layerc::Real", "0.0", "SGD momentum">,
    Option<"nesterov", "nesterov", "bool", "false",
           "SGD with Nesterov momentum">,
    Option<"rho", "rho", "::layerc::Real", "0.9",
           "RMSprop and Adadelta decay (Keras's Adadelta default: 0.95)">,
    Option<"beta1", "beta-1", "::layerc::Real", "0.9",
           "beta_1 of Adam, Adamax, Nadam and Lion">,
    Option<"beta2", "beta-2", "::layerc::Real", "0.999",
           "beta_2 of Adam, Adamax, Nadam and Lion (Keras's Lion default: "
           "0.99)">,
    Option<"epsilon", "epsilon", "::layerc::Real", "1.0e-7",
           "epsilon of every optimizer but sgd and lion">,
    Option<"initialAccumulatorValue", "initial-accumulator-value",
           "::layerc::Real", "0.1", "Adagrad's initial accumulator value">,
    Option<"clipnorm", "clipnorm", "::layerc::Real", "0.0",
           "Clip each gradient to this L2 norm (0: off)">,
    Option<"clipvalue", "clipvalue", "::layerc::Real", "0.0",
           "Clip each gradient element to [-clipvalue, clipvalue] (0: off)">,
    Option<"globalClipnorm", "global-clipnorm", "::layerc::Real", "0.0",
           "Clip all gradients together to this L2 norm (0: off); at most "
           "one of clipnorm, clipvalue and global-clipnorm">,
    Option<"centered", "centered", "bool", "false",
           "Centered RMSprop (an average_gradient slot per parameter)">,
    Option<"amsgrad", "amsgrad", "bool", "false",
           "Adam's AMSGrad variant (a velocity_hat slot per parameter)">,
    Option<"weightDecay", "weight-decay", "::layerc::Real", "0.0",
           "Decoupled weight decay, w -= w * weight_decay * lr (AdamW)">,
    Option<"decaySteps", "decay-steps", "::layerc::Real", "0.0",
           "ExponentialDecay of the learning rate: lr * decay_rate ^ "
           "(iterations / decay_steps); 0 keeps it constant">,
    Option<"decayRate", "decay-rate", "::layerc::Real", "1.0",
           "ExponentialDecay's decay_rate">,
    Option<"staircase", "staircase", "bool", "false",
           "ExponentialDecay's staircase (integer exponent)">,
    Option<"learningRateInput", "learning-rate-input", "bool", "false",
           "train_step and apply_step take the step's learning rate as a "
           "last rank-0 argument (role learning_rate) instead of computing "
           "it: fit() evaluates schedules and callbacks on the host">,
    Option<"batchStats", "batch-stats", "bool", "false",
           "evaluate and grad normalize BatchNormalization by the batch's "
           "statistics, as train_step does">,
    Option<"sampleWeights", "sample-weights", "bool", "false",
           "evaluate, train_step, grad and grad_step take one rank-1 "
           "sample-weight argument per output after the targets (Keras's "
           "sample_weight; off: the signatures are unchanged)">,
    Option<"splitStep", "split-step", "bool", "false",
           "Also build grad_step and apply_step, the two halves of "
           "train_step, for data-parallel training">,
    Option<"gradientReady", "gradient-ready", "bool", "false",
           "With split-step: grad_step calls the external "
           "layerc_gradient_ready(index, data, count) as soon as each "
           "gradient is final, so that its all-reduce can overlap the rest "
           "of the backward pass (fit()'s JIT only)">,
  ];
  let statistics = [
    Statistic<"numGradientOps", "num-gradient-ops",
              "Ops whose gradient rule was applied">,
  ];
}

def LayerSpecializeShapes
    : Pass<"layer-specialize-shapes", "::mlir::ModuleOp"> {
  let summary = "Fix the input shapes of every public function";
  let description = [{
    Gives the leading tensor arguments of every public function the shapes
    `input-shapes` (sequences of a known length, images of a known size),
    then fixes dimension 0 of every dynamic tensor argument to `batch`,
    forgets the result types of every op with a shape rule and infers them
    again, so later stages see the sizes as constants: tile sizes can be
    chosen and run-time checks fold away. A shape that does not fit the
    layers is reported as a diagnostic naming the layer and the shapes.
  }];
  let options = [
    Option<"batch", "batch", "int64_t", "0",
           "The batch size, dimension 0 of every tensor argument (0: keep "
           "it as it is)">,
    ListOption<"inputShapes", "input-shapes", "std::string",
               "The shapes of the leading arguments, one per argument, as "
               "MLIR writes them without the element type, ? for a dynamic "
               "size (?x28x28,?x16)">,
  ];
}

def LayerFuse : Pass<"layer-fuse", "::mlir::func::FuncOp"> {
  let summary = "Fold activations, inference batch normalization and "
                "residual adds into dense and conv layers";
  let description = [{
    Three rewrites, each only where it cannot change what any value computes:
      1. `layer.activation` (any kind but softmax) of the result of a
         `layer.dense`, `layer.conv` or `layer.conv_transpose` whose own
         activation is linear and whose result has no other use becomes
         that op's `activation`; the activation op is erased.
      2. `layer.batch_norm` in inference form (moving statistics that are
         not `layer.moments` results and are defined before the layer) of
         the result of a `layer.dense` or `layer.conv` with a linear
         activation and no other use is folded into its weights:
         `kernel' = kernel * s`, `bias' = (bias - mean) * s + beta` with
         `s = gamma / sqrt(variance + epsilon)` per output channel (bias 0
         when absent). The weights are function arguments, so the
         arithmetic is emitted as layer ops before the layer (batch_norm of
         the kernel over its output axis, of the bias as a 1 x C row); it
         needs a static channel count.
      3. `layer.add` of the result of a `layer.conv` (any activation, no
         other use) and a tensor of the same type defined before the conv
         (a ResNet's shortcut) becomes the conv's `residual`, added after
         its activation by the kernel's epilogue; the add is erased. Nothing
         is folded into a conv that has a residual.
    A fused op keeps its location first (fused with the erased op's), so
    diagnostics still name its layer. In train_step and grad the
    pre-activation and the layer's output feed gradient ops, so neither
    rule fires there; batch_norm by batch statistics is never folded. Run
    it after layer-autodiff, never before: autodiff's training clone would
    turn the batch_norms of the folded weights into batch statistics of the
    weights.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
  let statistics = [
    Statistic<"numActivationsFused", "num-activations-fused",
              "Activations folded into the preceding layer">,
    Statistic<"numBatchNormsFolded", "num-batch-norms-folded",
              "Inference batch normalizations folded into the weights">,
    Statistic<"numResidualsFused", "num-residuals-fused",
              "Adds folded into the preceding convolution as its residual">,
  ];
}

#endif // LAYERC_PASSES_TD
