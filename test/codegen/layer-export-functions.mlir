// RUN: layerc-opt %s -split-input-file --layer-export-functions | FileCheck %s

// Public functions become destination-passing C entry points: inputs and
// then outputs as memrefs, an i32 status returned (0 here; failed checks
// return other codes after layer-lower-checks), argument/result attributes
// dropped, llvm.emit_c_interface set, layer.num_inputs says how many
// arguments are inputs (layer-gpu-map copies them in, the rest back). A result's dynamic size is checked
// against its output buffer's before anything is written there.

// CHECK-LABEL: func.func @predict
// CHECK-SAME: (%[[X:[^:]+]]: memref<?x4xf32>, %[[K:[^:]+]]: memref<4x3xf32>, %[[OUT0:[^:]+]]: memref<?x3xf32>, %[[OUT1:[^:]+]]: memref<f32>) -> i32
// CHECK-SAME: attributes {layer.num_inputs = {{[0-9]+}} : i64, layer.status, llvm.emit_c_interface}
// CHECK-NOT: layer.name
// CHECK-NEXT: %[[TX:.+]] = bufferization.to_tensor %[[X]] restrict : memref<?x4xf32> to tensor<?x4xf32>
// CHECK-NEXT: %[[TK:.+]] = bufferization.to_tensor %[[K]] restrict : memref<4x3xf32> to tensor<4x3xf32>
// CHECK-NEXT: %[[Y:.+]] = layer.dense %[[TX]], %[[TK]]
// CHECK-NEXT: %[[C:.+]] = arith.constant dense
// CHECK: %[[HAVE:.+]] = memref.dim %[[OUT0]]
// CHECK: %[[WANT:.+]] = tensor.dim %[[Y]]
// CHECK-NEXT: %[[OK:.+]] = arith.cmpi eq, %[[HAVE]], %[[WANT]]
// CHECK-NEXT: cf.assert %[[OK]], "function 'predict': dimension 0 of output 'y' differs from its buffer's
// CHECK-NEXT: bufferization.materialize_in_destination %[[Y]] in restrict writable %[[OUT0]] : (tensor<?x3xf32>, memref<?x3xf32>) -> ()
// CHECK-NEXT: bufferization.materialize_in_destination %[[C]] in restrict writable %[[OUT1]] : (tensor<f32>, memref<f32>) -> ()
// CHECK-NEXT: %[[ZERO:.+]] = arith.constant 0 : i32
// CHECK-NEXT: return %[[ZERO]] : i32
func.func @predict(%x: tensor<?x4xf32> {layer.name = "x"}, %k: tensor<4x3xf32> {layer.param, layer.name = "k"})
    -> (tensor<?x3xf32> {layer.name = "y"}, tensor<f32>) {
  %0 = layer.dense %x, %k : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
  %c = arith.constant dense<1.0> : tensor<f32>
  return %0, %c : tensor<?x3xf32>, tensor<f32>
}

// Private functions and declarations are left alone.
// CHECK-LABEL: func.func private @helper
// CHECK-SAME: (%{{.+}}: tensor<4xf32>) -> tensor<4xf32> {
// CHECK-NOT: llvm.emit_c_interface
func.func private @helper(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}
// CHECK-LABEL: func.func private @external
// CHECK-SAME: (tensor<4xf32>) -> tensor<4xf32>{{$}}
func.func private @external(tensor<4xf32>) -> tensor<4xf32>

// -----

// An argument returned unchanged is copied into its output buffer.
// CHECK-LABEL: func.func @identity
// CHECK-SAME: (%[[IN:[^:]+]]: memref<2x2xf64>, %[[OUT:[^:]+]]: memref<2x2xf64>) -> i32 attributes {layer.num_inputs = {{[0-9]+}} : i64, layer.status, llvm.emit_c_interface}
// CHECK-NEXT: %[[T:.+]] = bufferization.to_tensor %[[IN]] restrict
// CHECK-NEXT: bufferization.materialize_in_destination %[[T]] in restrict writable %[[OUT]]
func.func @identity(%x: tensor<2x2xf64>) -> tensor<2x2xf64> {
  return %x : tensor<2x2xf64>
}
