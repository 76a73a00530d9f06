//===- LayerDialect.td - The layer dialect ---------------*- tablegen -*-===//
//
// The `layer` dialect: one op per Keras layer call, on builtin ranked tensors
// whose batch dimension is dynamic (tensor<?x784xf32>), plus the few ops the
// autodiff pass needs to express gradients, losses and optimizer updates.
//
//===----------------------------------------------------------------------===//

#ifndef LAYER_DIALECT_TD
#define LAYER_DIALECT_TD

include "mlir/IR/OpBase.td"

def Layer_Dialect : Dialect {
  let name = "layer";
  let summary = "Deep-learning layers as ops, the input of layerc's compiler";
  let description = [{
    Every op of the `layer` dialect is one layer call of a model built with
    layerc's functional API (or one step of its training: a loss, a gradient,
    an optimizer update). Operands and results are builtin tensors; the batch
    dimension is dynamic and every other dimension becomes static after the
    `layer-shape-inference` pass. Parameters (kernels, biases) are function
    arguments, so the same code serves inference and training.
  }];
  let cppNamespace = "::layerc::layer";
  // The kinds of LayerEnums.td print as #layer.activation<relu>.
  let useDefaultAttributePrinterParser = 1;
  // `layer.tile` (Layer_TileAttr) is checked against the op that carries it.
  let hasOperationAttrVerify = 1;
}

class Layer_Op<string mnemonic, list<Trait> traits = []> :
    Op<Layer_Dialect, mnemonic, traits>;

#endif // LAYER_DIALECT_TD
