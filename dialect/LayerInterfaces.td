//===- LayerInterfaces.td - Interfaces of layer ops ------*- tablegen -*-===//
//
// ShapeInferenceOpInterface lets the generic `layer-shape-inference` pass
// fill result types without knowing any op; GradientOpInterface lets the
// `layer-autodiff` pass build reverse-mode gradients the same way. Gradient
// rules are attached as external models from passes/autodiff/, one file per
// layer family.
//
//===----------------------------------------------------------------------===//

#ifndef LAYER_INTERFACES_TD
#define LAYER_INTERFACES_TD

include "mlir/IR/OpBase.td"

def ShapeInferenceOpInterface : OpInterface<"ShapeInference"> {
  let cppNamespace = "::layerc::layer";
  let description = [{
    An op whose result types follow from its operand types and attributes.
  }];
  let methods = [
    InterfaceMethod<[{
        Computes the result types from the operand types and sets them.
        Emits a diagnostic naming the op and the shapes and returns failure
        when the operands cannot agree.
      }],
      "::mlir::LogicalResult", "inferShapes">
  ];
}

def GradientOpInterface : OpInterface<"GradientOpInterface"> {
  let cppNamespace = "::layerc::layer";
  let description = [{
    An op that knows its vector-Jacobian product: given the gradients of the
    loss with respect to its results, it builds (at the builder's insertion
    point) the gradients with respect to its operands.
  }];
  let methods = [
    InterfaceMethod<[{
        Builds the gradient of every operand. `resultGrads` has one entry per
        result; a null entry means no gradient flows into that result (zero).
        Fills `operandGrads` with one entry per operand, null where the
        operand is not differentiable (labels, integer indices).
      }],
      "::mlir::LogicalResult", "buildGradient",
      (ins "::mlir::OpBuilder &":$builder,
           "::mlir::ArrayRef<::mlir::Value>":$resultGrads,
           "::llvm::SmallVectorImpl<::mlir::Value> &":$operandGrads)>
  ];
}

def TrainingCloneOpInterface : OpInterface<"TrainingCloneOpInterface"> {
  let cppNamespace = "::layerc::layer";
  let description = [{
    An op that behaves differently when layer-autodiff clones the inference
    function into a training or gradient function: dropout masks its input,
    batch normalization normalizes by the batch's statistics and updates
    the moving ones, and layers with a fused activation split it off so
    that the pre-activation is an SSA value the gradient rules can use. Ops
    without it are cloned as they are. The models are attached from
    passes/autodiff/TrainingClone.cpp.
  }];
  let methods = [
    InterfaceMethod<[{
        Builds this op's training-mode replacement at the builder's
        insertion point, reading operands through `map` and mapping every
        result of this op in it.
      }],
      "::mlir::LogicalResult", "cloneForTraining",
      (ins "::mlir::OpBuilder &":$builder, "::mlir::IRMapping &":$map,
           "::layerc::layer::TrainingCloneState &":$state)>
  ];
}

#endif // LAYER_INTERFACES_TD
