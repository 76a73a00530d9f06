//===- LayerEnums.td - The kinds of the layer dialect ----*- tablegen -*-===//
//
// Every kind an op takes (an activation, a padding, a pooling, an
// interpolation, a recurrent cell, a loss) is an enum attribute, not a
// string: the verifier knows the values, C++ switches over them, and the
// IR spells them as Keras does: `activation = #layer.activation<relu>`.
//
//===----------------------------------------------------------------------===//

#ifndef LAYER_ENUMS_TD
#define LAYER_ENUMS_TD

include "dialect/LayerDialect.td"
include "mlir/IR/EnumAttr.td"

class Layer_Enum<string name, string summary, list<I32EnumAttrCase> cases>
    : I32EnumAttr<name, summary, cases> {
  let cppNamespace = "::layerc::layer";
  let genSpecializedAttr = 0;
}

class Layer_EnumAttr<EnumAttrInfo info, string mnemonic>
    : EnumAttr<Layer_Dialect, info, mnemonic> {
  let assemblyFormat = "`<` $value `>`";
}

def Layer_Activation : Layer_Enum<"Activation", "a Keras activation", [
  I32EnumAttrCase<"Linear", 0, "linear">,
  I32EnumAttrCase<"Relu", 1, "relu">,
  I32EnumAttrCase<"Sigmoid", 2, "sigmoid">,
  I32EnumAttrCase<"Tanh", 3, "tanh">,
  I32EnumAttrCase<"Softmax", 4, "softmax">,
  I32EnumAttrCase<"Gelu", 5, "gelu">,
  I32EnumAttrCase<"Elu", 6, "elu">,
  I32EnumAttrCase<"Selu", 7, "selu">,
  I32EnumAttrCase<"Swish", 8, "swish">,
  I32EnumAttrCase<"HardSigmoid", 9, "hard_sigmoid">]>;
def Layer_ActivationAttr : Layer_EnumAttr<Layer_Activation, "activation">;

def Layer_Padding : Layer_Enum<"Padding", "Keras's padding of a window", [
  I32EnumAttrCase<"Valid", 0, "valid">,
  I32EnumAttrCase<"Same", 1, "same">]>;
def Layer_PaddingAttr : Layer_EnumAttr<Layer_Padding, "padding">;

def Layer_PoolKind : Layer_Enum<"PoolKind", "what a pooling window keeps", [
  I32EnumAttrCase<"Max", 0, "max">,
  I32EnumAttrCase<"Average", 1, "average">]>;
def Layer_PoolKindAttr : Layer_EnumAttr<Layer_PoolKind, "pool">;

def Layer_Interpolation : Layer_Enum<"Interpolation",
                                     "how upsampling fills new positions", [
  I32EnumAttrCase<"Nearest", 0, "nearest">,
  I32EnumAttrCase<"Bilinear", 1, "bilinear">]>;
def Layer_InterpolationAttr
    : Layer_EnumAttr<Layer_Interpolation, "interpolation">;

def Layer_Cell : Layer_Enum<"Cell", "a recurrent cell", [
  I32EnumAttrCase<"SimpleRnn", 0, "simple_rnn">,
  I32EnumAttrCase<"Lstm", 1, "lstm">,
  I32EnumAttrCase<"Gru", 2, "gru">]>;
def Layer_CellAttr : Layer_EnumAttr<Layer_Cell, "cell">;

def Layer_NormKind : Layer_Enum<"NormKind", "what layer.normalize divides by", [
  I32EnumAttrCase<"Standardize", 0, "standardize">,
  I32EnumAttrCase<"Variance", 1, "variance">,
  I32EnumAttrCase<"L2", 2, "l2">]>;
def Layer_NormKindAttr : Layer_EnumAttr<Layer_NormKind, "norm">;

def Layer_Constraint : Layer_Enum<"Constraint",
                                  "a Keras weight constraint", [
  I32EnumAttrCase<"MaxNorm", 0, "max_norm">,
  I32EnumAttrCase<"MinMaxNorm", 1, "min_max_norm">,
  I32EnumAttrCase<"UnitNorm", 2, "unit_norm">,
  I32EnumAttrCase<"NonNeg", 3, "non_neg">]>;
def Layer_ConstraintAttr : Layer_EnumAttr<Layer_Constraint, "constraint">;

def Layer_Noise : Layer_Enum<"Noise", "the noise a training step adds", [
  I32EnumAttrCase<"Dropout", 0, "dropout">,
  I32EnumAttrCase<"GaussianDropout", 1, "gaussian_dropout">,
  I32EnumAttrCase<"GaussianNoise", 2, "gaussian_noise">,
  I32EnumAttrCase<"AlphaDropout", 3, "alpha_dropout">]>;
def Layer_NoiseAttr : Layer_EnumAttr<Layer_Noise, "noise">;

def Layer_Loss : Layer_Enum<"Loss", "a Keras loss", [
  I32EnumAttrCase<"SparseCategoricalCrossentropy", 0,
                  "sparse_categorical_crossentropy">,
  I32EnumAttrCase<"CategoricalCrossentropy", 1, "categorical_crossentropy">,
  I32EnumAttrCase<"BinaryCrossentropy", 2, "binary_crossentropy">,
  I32EnumAttrCase<"MeanSquaredError", 3, "mean_squared_error">,
  I32EnumAttrCase<"MeanAbsoluteError", 4, "mean_absolute_error">]>;
def Layer_LossAttr : Layer_EnumAttr<Layer_Loss, "loss">;

// How the CPU's register-blocked kernel of a Dense, MatMul or convolution op
// is tiled, chosen by the `layer-tile` pass from the target description and
// read by `layer-to-linalg`: carried as the op's discardable attribute
// `layer.tile`. Every size is in elements.
def Layer_TileAttr : AttrDef<Layer_Dialect, "Tile"> {
  let mnemonic = "tile";
  let summary = "the tiling of a register-blocked CPU kernel";
  let description = [{
    `lanes` elements per vector, `vectors` vectors of the output's last axis
    per register block, and `block` rows (Dense, MatMul: rows of the
    output; convolutions: output columns, or input channels for a filter
    gradient) per register block: block x vectors accumulators stay in
    registers through the reduction. The cache tiles of a matmul: `panel`
    output columns and `slice` steps of the reduction at a time, and B's
    slice of a panel packed when the output has at least `pack_rows` rows
    and `pack_columns` columns. Convolutions read the first three.

    `winograd` (0, left out: none) is the output tile `m` of a Winograd
    F(m x m, 3 x 3) convolution: a 2-D `layer.conv`, `layer.conv_transpose`
    or `layer.conv_input_grad` with a 3 x 3 kernel, stride 1, dilation 1
    and one group computes each m x m block of its output from the
    (m + 2) x (m + 2) block of its input that covers it: m = 2 with 16
    products per input channel and filter instead of 36, m = 4 with 36
    instead of 144.

    ```mlir
    %y = layer.dense %x, %k, %b {layer.tile = #layer.tile<lanes = 8,
        vectors = 2, block = 6, panel = 256, slice = 256, pack_rows = 64,
        pack_columns = 512>} : ...
    ```
  }];
  let parameters = (ins "int64_t":$lanes, "int64_t":$vectors,
                        "int64_t":$block, "int64_t":$panel, "int64_t":$slice,
                        "int64_t":$pack_rows, "int64_t":$pack_columns,
                        DefaultValuedParameter<"int64_t", "0">:$winograd);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

#endif // LAYER_ENUMS_TD
