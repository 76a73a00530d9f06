// RUN: layerc-opt %s -split-input-file --layer-to-linalg | FileCheck %s
// No layer op survives the conversion.
// RUN: layerc-opt %s -split-input-file --layer-to-linalg | FileCheck %s --check-prefix=NOLAYER
// NOLAYER: func.func
// NOLAYER-NOT: layer.

// The shape of each lowering: dense is a register-blocked kernel plus one
// element-wise linalg.generic for the bias and the activation (3 columns
// are not whole vectors: the kernel's columns are padded to 8, the first 3
// of the product kept), reductions are generics with a "reduction"
// iterator, optimizers are one multi-result generic.
// (The numbers are checked by the executed tests in test/tools.)

// CHECK-LABEL: func.func @dense_relu
// CHECK-SAME: (%[[X:.+]]: tensor<?x4xf32>, %[[K:.+]]: tensor<4x3xf32>, %[[B:.+]]: tensor<3xf32>) -> tensor<?x3xf32>
// CHECK: tensor.pad %[[K]] low[0, 0] high[0, 5]
// CHECK: vector.fma {{.*}} : vector<8xf32>
// CHECK: %[[MM:.+]] = tensor.extract_slice %{{.+}}[0, 0] [%{{.+}}, 3] [1, 1] : tensor<?x8xf32> to tensor<?x3xf32>
// CHECK: %[[Y:.+]] = linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "parallel"]
// CHECK-SAME: ins(%[[MM]], %[[B]] : tensor<?x3xf32>, tensor<3xf32>)
// CHECK: arith.addf
// CHECK: arith.maximumf
// CHECK: return %[[Y]]
func.func @dense_relu(%x: tensor<?x4xf32>, %k: tensor<4x3xf32>, %b: tensor<3xf32>) -> tensor<?x3xf32> {
  %0 = layer.dense %x, %k, %b {activation = #layer.activation<relu>} : (tensor<?x4xf32>, tensor<4x3xf32>, tensor<3xf32>) -> tensor<?x3xf32>
  return %0 : tensor<?x3xf32>
}

// -----

// Without bias and activation, dense is the kernel alone.
// CHECK-LABEL: func.func @dense_linear
// CHECK: %[[MM:.+]] = tensor.extract_slice
// CHECK-NOT: linalg.generic
// CHECK: return %[[MM]]
func.func @dense_linear(%x: tensor<?x4xf32>, %k: tensor<4x3xf32>) -> tensor<?x3xf32> {
  %0 = layer.dense %x, %k : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
  return %0 : tensor<?x3xf32>
}

// -----

// Dense on the last axis of a rank-3 input: one generic contraction whose
// reduction loop sits outside the unit-stride output loop, then the
// activation.
// CHECK-LABEL: func.func @dense_rank3_f64
// CHECK: %[[MM:.+]] = linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "reduction", "parallel"]} ins(%{{.+}}, %{{.+}} : tensor<2x5x8xf64>, tensor<8x3xf64>) outs(%{{.+}} : tensor<2x5x3xf64>)
// CHECK: %[[T:.+]] = linalg.generic {{.*}} ins(%[[MM]] : tensor<2x5x3xf64>)
// CHECK: math.tanh %{{.+}} : f64
// CHECK: return %[[T]]
func.func @dense_rank3_f64(%x: tensor<2x5x8xf64>, %k: tensor<8x3xf64>) -> tensor<2x5x3xf64> {
  %0 = layer.dense %x, %k {activation = #layer.activation<tanh>} : (tensor<2x5x8xf64>, tensor<8x3xf64>) -> tensor<2x5x3xf64>
  return %0 : tensor<2x5x3xf64>
}

// -----

// Softmax over the last axis, stabilised by the row maximum: max-reduce,
// exp(x - max), sum-reduce, divide.
// CHECK-LABEL: func.func @softmax
// CHECK-SAME: (%[[X:.+]]: tensor<?x10xf32>)
// CHECK: %[[NEGINF:.+]] = arith.constant 0xFF800000 : f32
// CHECK: %[[INIT:.+]] = linalg.fill ins(%[[NEGINF]] : f32) outs(%{{.+}} : tensor<?xf32>)
// CHECK: %[[MAX:.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%[[X]] : tensor<?x10xf32>) outs(%[[INIT]] : tensor<?xf32>)
// CHECK: arith.maximumf
// CHECK: %[[EXP:.+]] = linalg.generic {{.*}} ins(%[[X]], %[[MAX]] : tensor<?x10xf32>, tensor<?xf32>)
// CHECK: arith.subf
// CHECK: math.exp
// CHECK: %[[SUM:.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%[[EXP]] : tensor<?x10xf32>)
// CHECK: arith.addf
// CHECK: %[[Y:.+]] = linalg.generic {{.*}} ins(%[[EXP]], %[[SUM]] : tensor<?x10xf32>, tensor<?xf32>)
// CHECK: arith.divf
// CHECK: return %[[Y]]
func.func @softmax(%x: tensor<?x10xf32>) -> tensor<?x10xf32> {
  %0 = layer.activation %x {activation = #layer.activation<softmax>} : (tensor<?x10xf32>) -> tensor<?x10xf32>
  return %0 : tensor<?x10xf32>
}

// -----

// Element-wise layers are one generic each; dropout is the identity.
// CHECK-LABEL: func.func @sigmoid_add_dropout
// CHECK-SAME: (%[[X:.+]]: tensor<?x3xf32>, %[[Y:.+]]: tensor<?x3xf32>)
// CHECK: %[[S:.+]] = linalg.generic {{.*}} ins(%[[X]] : tensor<?x3xf32>)
// CHECK: arith.negf
// CHECK: math.exp
// CHECK: arith.divf
// CHECK: %[[A:.+]] = linalg.generic {{.*}} ins(%[[S]], %[[Y]] : tensor<?x3xf32>, tensor<?x3xf32>)
// CHECK: arith.addf
// CHECK-NOT: linalg.generic
// CHECK: return %[[A]]
func.func @sigmoid_add_dropout(%x: tensor<?x3xf32>, %y: tensor<?x3xf32>) -> tensor<?x3xf32> {
  %0 = layer.activation %x {activation = #layer.activation<sigmoid>} : (tensor<?x3xf32>) -> tensor<?x3xf32>
  %1 = layer.add %0, %y : (tensor<?x3xf32>, tensor<?x3xf32>) -> tensor<?x3xf32>
  %2 = layer.dropout %1 {rate = 0.5 : f64} : (tensor<?x3xf32>) -> tensor<?x3xf32>
  return %2 : tensor<?x3xf32>
}

// -----

// Products whose columns fill whole 256-bit vectors are register-blocked
// (matmulVectorized): loops over blocks of rows and of 2 column vectors
// carry the output; the reduction loop carries 12 accumulators.
// CHECK-LABEL: func.func @matmul
// CHECK-SAME: (%[[X:.+]]: tensor<?x784xf32>, %[[DY:.+]]: tensor<?x64xf32>, %[[W:.+]]: tensor<784x64xf32>, %[[K:.+]]: tensor<64x10xf32>)
// The kernel gradient X^T dY reduces over the batch.
// CHECK: scf.for
// CHECK: vector.transfer_read %[[DY]]
// CHECK: tensor.extract %[[X]]
// CHECK: vector.fma
// The input gradient dY W^T reads W transposed, rows contiguous.
// CHECK: %[[WT:.+]] = linalg.transpose ins(%[[W]] : tensor<784x64xf32>) outs(%{{.+}} : tensor<64x784xf32>) permutation = [1, 0]
// CHECK: vector.transfer_read %[[WT]]
// CHECK: vector.transfer_read %[[W]]
// 10 columns are not whole vectors: linalg.matmul.
// CHECK: linalg.matmul ins(%{{.+}}, %[[K]] : tensor<?x64xf32>, tensor<64x10xf32>)
func.func @matmul(%x: tensor<?x784xf32>, %dy: tensor<?x64xf32>, %w: tensor<784x64xf32>, %k: tensor<64x10xf32>)
    -> (tensor<784x64xf32>, tensor<?x784xf32>, tensor<?x64xf32>, tensor<?x10xf32>) {
  %0 = layer.matmul %x, %dy {transpose_lhs} : (tensor<?x784xf32>, tensor<?x64xf32>) -> tensor<784x64xf32>
  %1 = layer.matmul %dy, %w {transpose_rhs} : (tensor<?x64xf32>, tensor<784x64xf32>) -> tensor<?x784xf32>
  %2 = layer.matmul %x, %w : (tensor<?x784xf32>, tensor<784x64xf32>) -> tensor<?x64xf32>
  %3 = layer.matmul %dy, %k : (tensor<?x64xf32>, tensor<64x10xf32>) -> tensor<?x10xf32>
  return %0, %1, %2, %3 : tensor<784x64xf32>, tensor<?x784xf32>, tensor<?x64xf32>, tensor<?x10xf32>
}

// -----

// Reshape collapses the sample and expands it again with the batch size
// taken from the input; reduce_sum over the batch is a reduction generic.
// CHECK-LABEL: func.func @reshape_reduce
// CHECK-SAME: (%[[X:.+]]: tensor<?x784xf32>)
// CHECK: %[[C:.+]] = tensor.collapse_shape %[[X]] {{\[\[}}0, 1]] : tensor<?x784xf32> into tensor<?xf32>
// CHECK: %[[N:.+]] = tensor.dim %[[X]], %{{.+}} : tensor<?x784xf32>
// CHECK: %[[R:.+]] = tensor.expand_shape %[[C]] {{\[\[}}0, 1, 2]] output_shape [%[[N]], 28, 28] : tensor<?xf32> into tensor<?x28x28xf32>
// CHECK: %[[S:.+]] = linalg.generic {{.*}} iterator_types = ["reduction", "parallel", "parallel"]} ins(%[[R]] : tensor<?x28x28xf32>) outs(%{{.+}} : tensor<28x28xf32>)
// CHECK: arith.addf
// CHECK: return %[[R]], %[[S]]
func.func @reshape_reduce(%x: tensor<?x784xf32>) -> (tensor<?x28x28xf32>, tensor<28x28xf32>) {
  %0 = layer.reshape %x {target_shape = array<i64: 28, 28>} : (tensor<?x784xf32>) -> tensor<?x28x28xf32>
  %1 = layer.reduce_sum %0 {axis = 0 : i64} : (tensor<?x28x28xf32>) -> tensor<28x28xf32>
  return %0, %1 : tensor<?x28x28xf32>, tensor<28x28xf32>
}

// -----

// Sparse cross-entropy from logits: a stable log-sum-exp per sample, the
// label's logit picked by comparing linalg.index with the label, then the
// mean over the batch (sum times 1 / batch size).
// CHECK-LABEL: func.func @sparse_ce_logits
// CHECK-SAME: (%[[Z:.+]]: tensor<?x10xf32>, %[[L:.+]]: tensor<?xi32>) -> tensor<f32>
// CHECK: %[[MAX:.+]] = linalg.generic {{.*}} ins(%[[Z]] : tensor<?x10xf32>)
// CHECK: arith.maximumf
// CHECK: math.exp
// CHECK: %[[LSE:.+]] = linalg.generic {{.*}} iterator_types = ["parallel"]}
// CHECK: math.log
// CHECK: %[[PER:.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%[[Z]], %[[L]], %[[LSE]] : tensor<?x10xf32>, tensor<?xi32>, tensor<?xf32>)
// CHECK: linalg.index 1 : index
// CHECK: arith.cmpi eq
// CHECK: %[[SUM:.+]] = linalg.generic {{.*}} iterator_types = ["reduction"]} ins(%[[PER]] : tensor<?xf32>) outs(%{{.+}} : tensor<f32>)
// CHECK: %[[BATCH:.+]] = arith.sitofp %{{.+}} : i64 to f32
// CHECK: %[[INV:.+]] = arith.divf %{{.+}}, %[[BATCH]] : f32
// CHECK: %[[MEAN:.+]] = linalg.generic {{.*}} iterator_types = []} ins(%[[SUM]] : tensor<f32>)
// CHECK: arith.mulf %{{.+}}, %[[INV]]
// CHECK: return %[[MEAN]] : tensor<f32>
func.func @sparse_ce_logits(%z: tensor<?x10xf32>, %l: tensor<?xi32>) -> tensor<f32> {
  %0 = layer.loss %z, %l {loss = #layer.loss<sparse_categorical_crossentropy>, from_logits} : (tensor<?x10xf32>, tensor<?xi32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// Cross-entropy on probabilities normalises them and clips to
// [1e-7, 1 - 1e-7] as Keras does.
// CHECK-LABEL: func.func @categorical_ce_probs
// CHECK: arith.divf
// CHECK: %[[EPS:.+]] = arith.constant 1.000000e-07 : f32
// CHECK: arith.maximumf %{{.+}}, %[[EPS]]
// CHECK: %[[ONE_MINUS_EPS:.+]] = arith.constant 0.99999988 : f32
// CHECK: arith.minimumf %{{.+}}, %[[ONE_MINUS_EPS]]
// CHECK: math.log
// CHECK: arith.negf
// CHECK: return %{{.+}} : tensor<f32>
func.func @categorical_ce_probs(%p: tensor<?x10xf32>, %t: tensor<?x10xf32>) -> tensor<f32> {
  %0 = layer.loss %p, %t {loss = #layer.loss<categorical_crossentropy>} : (tensor<?x10xf32>, tensor<?x10xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// Mean squared error averages over every element (batch x features).
// CHECK-LABEL: func.func @mse
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]}
// CHECK: arith.subf
// CHECK: arith.mulf
// CHECK: linalg.generic {{.*}} iterator_types = ["reduction", "reduction"]}
// CHECK: %[[N0:.+]] = tensor.dim %{{.+}}, %{{.+}} : tensor<?x10xf32>
// CHECK: %[[N1:.+]] = tensor.dim %{{.+}}, %{{.+}} : tensor<?x10xf32>
// CHECK: arith.muli %{{.+}}, %[[N1]] : index
func.func @mse(%p: tensor<?x10xf32>, %t: tensor<?x10xf32>) -> tensor<f32> {
  %0 = layer.loss %p, %t {loss = #layer.loss<mean_squared_error>} : (tensor<?x10xf32>, tensor<?x10xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// Sample weights: each sample's terms times its weight (rank 1, read at
// the batch index), summed and divided by the same count as unweighted
// (Keras's sum_over_batch_size, not the sum of the weights).
// CHECK-LABEL: func.func @weighted_mse
// CHECK-SAME: (%[[P:.+]]: tensor<?x10xf32>, %[[T:.+]]: tensor<?x10xf32>, %[[W:.+]]: tensor<?xf32>)
// CHECK: %[[SQ:.+]] = linalg.generic {{.*}} ins(%[[P]], %[[T]] : tensor<?x10xf32>, tensor<?x10xf32>)
// CHECK: %[[WSQ:.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]} ins(%[[SQ]], %[[W]] : tensor<?x10xf32>, tensor<?xf32>)
// CHECK-NEXT: ^bb0
// CHECK-NEXT: arith.mulf
// CHECK: linalg.generic {{.*}} iterator_types = ["reduction", "reduction"]} ins(%[[WSQ]] : tensor<?x10xf32>)
// CHECK: tensor.dim %{{.+}}, %{{.+}} : tensor<?x10xf32>
// CHECK: tensor.dim %{{.+}}, %{{.+}} : tensor<?x10xf32>
// CHECK: arith.muli
func.func @weighted_mse(%p: tensor<?x10xf32>, %t: tensor<?x10xf32>, %w: tensor<?xf32>) -> tensor<f32> {
  %0 = layer.loss %p, %t weights(%w) {loss = #layer.loss<mean_squared_error>} : (tensor<?x10xf32>, tensor<?x10xf32>, tensor<?xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// Cross-entropies weigh the per-sample losses (rank 1) before the sum.
// CHECK-LABEL: func.func @weighted_sparse_ce
// CHECK-SAME: (%[[Z:.+]]: tensor<?x10xf32>, %[[L:.+]]: tensor<?xi32>, %[[W:.+]]: tensor<?xf32>)
// CHECK: %[[PER:.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%[[Z]], %[[L]], %{{.+}} : tensor<?x10xf32>, tensor<?xi32>, tensor<?xf32>)
// CHECK: %[[WPER:.+]] = linalg.generic {{.*}} iterator_types = ["parallel"]} ins(%[[PER]], %[[W]] : tensor<?xf32>, tensor<?xf32>)
// CHECK: arith.mulf
// CHECK: linalg.generic {{.*}} iterator_types = ["reduction"]} ins(%[[WPER]] : tensor<?xf32>)
func.func @weighted_sparse_ce(%z: tensor<?x10xf32>, %l: tensor<?xi32>, %w: tensor<?xf32>) -> tensor<f32> {
  %0 = layer.loss %z, %l weights(%w) {loss = #layer.loss<sparse_categorical_crossentropy>, from_logits} : (tensor<?x10xf32>, tensor<?xi32>, tensor<?xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// The gradient of sample n's loss is weighted by w[n] too.
// CHECK-LABEL: func.func @weighted_bce_grad
// CHECK-SAME: (%[[P:.+]]: tensor<?x3xf32>, %[[T:.+]]: tensor<?x3xf32>, %[[DL:.+]]: tensor<f32>, %[[W:.+]]: tensor<?xf32>)
// CHECK: %[[G:.+]] = linalg.generic {{.*}} ins(%[[P]], %[[T]] : tensor<?x3xf32>, tensor<?x3xf32>)
// CHECK: %[[WG:.+]] = linalg.generic {{.*}} ins(%[[G]], %[[W]] : tensor<?x3xf32>, tensor<?xf32>)
// CHECK-NEXT: ^bb0
// CHECK-NEXT: arith.mulf
// CHECK: return %[[WG]]
func.func @weighted_bce_grad(%p: tensor<?x3xf32>, %t: tensor<?x3xf32>, %d: tensor<f32>, %w: tensor<?xf32>) -> tensor<?x3xf32> {
  %0 = layer.loss_grad %p, %t, %d weights(%w) {loss = #layer.loss<binary_crossentropy>, from_logits} : (tensor<?x3xf32>, tensor<?x3xf32>, tensor<f32>, tensor<?xf32>) -> tensor<?x3xf32>
  return %0 : tensor<?x3xf32>
}

// -----

// d(sparse CE from logits)/dz = (softmax(z) - onehot(label)) * dloss / batch;
// relu's gradient selects dy where x > 0.
// CHECK-LABEL: func.func @gradients
// CHECK-SAME: (%[[Z:.+]]: tensor<?x3xf32>, %[[L:.+]]: tensor<?xi32>, %[[DL:.+]]: tensor<f32>, %[[X:.+]]: tensor<?x3xf32>)
// CHECK: %[[D:.+]] = tensor.extract %[[DL]][] : tensor<f32>
// CHECK: %[[SCALE:.+]] = arith.divf %[[D]], %{{.+}} : f32
// CHECK: math.exp
// CHECK: %[[P:.+]] = linalg.generic {{.*}} ins(%{{.+}}, %{{.+}} : tensor<?x3xf32>, tensor<?xf32>)
// CHECK-NEXT: ^bb0
// CHECK-NEXT: arith.divf
// CHECK: %[[DZ:.+]] = linalg.generic {{.*}} ins(%[[P]], %[[L]] : tensor<?x3xf32>, tensor<?xi32>)
// CHECK: linalg.index 1
// CHECK: arith.subf
// CHECK: arith.mulf %{{.+}}, %[[SCALE]]
// CHECK: %[[DX:.+]] = linalg.generic {{.*}} ins(%[[DZ]], %[[X]], %[[Z]] : tensor<?x3xf32>, tensor<?x3xf32>, tensor<?x3xf32>)
// CHECK: arith.cmpf ogt
// CHECK: arith.select
// CHECK: return %[[DZ]], %[[DX]]
func.func @gradients(%z: tensor<?x3xf32>, %l: tensor<?xi32>, %d: tensor<f32>, %x: tensor<?x3xf32>) -> (tensor<?x3xf32>, tensor<?x3xf32>) {
  %0 = layer.loss_grad %z, %l, %d {loss = #layer.loss<sparse_categorical_crossentropy>, from_logits} : (tensor<?x3xf32>, tensor<?xi32>, tensor<f32>) -> tensor<?x3xf32>
  %1 = layer.activation_grad %0, %x, %z {activation = #layer.activation<relu>} : (tensor<?x3xf32>, tensor<?x3xf32>, tensor<?x3xf32>) -> tensor<?x3xf32>
  return %0, %1 : tensor<?x3xf32>, tensor<?x3xf32>
}

// -----

// Each optimizer update is one generic producing the parameter and its
// slots together.
// CHECK-LABEL: func.func @sgd
// CHECK-SAME: (%[[W:.+]]: tensor<64xf32>, %[[G:.+]]: tensor<64xf32>, %[[V:.+]]: tensor<64xf32>)
// CHECK: %[[LR:.+]] = arith.constant 0.00999999977 : f32
// CHECK: %[[U:.+]]:2 = linalg.generic {{.*}} iterator_types = ["parallel"]} ins(%[[W]], %[[G]], %[[V]] : tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) outs(%{{.+}}, %{{.+}} : tensor<64xf32>, tensor<64xf32>)
// CHECK: %[[MOM:.+]] = arith.constant 0.899999976 : f32
// CHECK: linalg.yield
// CHECK: return %[[U]]#0, %[[U]]#1
func.func @sgd(%w: tensor<64xf32>, %g: tensor<64xf32>, %v: tensor<64xf32>) -> (tensor<64xf32>, tensor<64xf32>) {
  %w1, %v1 = layer.sgd_update %w, %g, %v {learning_rate = 0.01 : f64, momentum = 0.9 : f64} : (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) -> (tensor<64xf32>, tensor<64xf32>)
  return %w1, %v1 : tensor<64xf32>, tensor<64xf32>
}

// -----

// RMSprop: Keras adds epsilon inside the square root.
// CHECK-LABEL: func.func @rmsprop
// CHECK: %[[U:.+]]:2 = linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]} ins(%{{.+}}, %{{.+}}, %{{.+}} : tensor<784x64xf32>, tensor<784x64xf32>, tensor<784x64xf32>)
// CHECK: %[[A:.+]] = arith.addf
// CHECK: %[[EPS:.+]] = arith.constant 1.000000e-07 : f32
// CHECK: %[[AE:.+]] = arith.addf %[[A]], %[[EPS]] : f32
// CHECK: math.sqrt %[[AE]]
// CHECK: linalg.yield %{{.+}}, %[[A]] : f32, f32
// CHECK: return %[[U]]#0, %[[U]]#1
func.func @rmsprop(%w: tensor<784x64xf32>, %g: tensor<784x64xf32>, %a: tensor<784x64xf32>) -> (tensor<784x64xf32>, tensor<784x64xf32>) {
  %w1, %a1 = layer.rmsprop_update %w, %g, %a {learning_rate = 1.0e-3 : f64, rho = 0.9 : f64, epsilon = 1.0e-7 : f64} : (tensor<784x64xf32>, tensor<784x64xf32>, tensor<784x64xf32>) -> (tensor<784x64xf32>, tensor<784x64xf32>)
  return %w1, %a1 : tensor<784x64xf32>, tensor<784x64xf32>
}

// -----

// Adam: the bias-corrected step size is computed once from the step
// (scalar code before the generic), epsilon is added outside the root.
// CHECK-LABEL: func.func @adam
// CHECK-SAME: %[[T:[^:]+]]: tensor<f32>)
// CHECK: %[[STEP:.+]] = tensor.extract %[[T]][] : tensor<f32>
// CHECK: math.powf %{{.+}}, %[[STEP]] : f32
// CHECK: math.powf %{{.+}}, %[[STEP]] : f32
// CHECK: math.sqrt
// CHECK: %[[ALPHA:.+]] = arith.divf
// CHECK: %[[U:.+]]:3 = linalg.generic {{.*}} iterator_types = ["parallel"]} ins(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} : tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>)
// CHECK: %[[ROOT:.+]] = math.sqrt
// CHECK: arith.addf %[[ROOT]], %{{.+}} : f32
// CHECK: arith.mulf %{{.+}}, %[[ALPHA]] : f32
// CHECK: return %[[U]]#0, %[[U]]#1, %[[U]]#2
func.func @adam(%w: tensor<64xf32>, %g: tensor<64xf32>, %m: tensor<64xf32>, %v: tensor<64xf32>, %t: tensor<f32>) -> (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) {
  %w1, %m1, %v1 = layer.adam_update %w, %g, %m, %v, %t {learning_rate = 1.0e-3 : f64, beta_1 = 0.9 : f64, beta_2 = 0.999 : f64, epsilon = 1.0e-7 : f64}
      : (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<f32>) -> (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>)
  return %w1, %m1, %v1 : tensor<64xf32>, tensor<64xf32>, tensor<64xf32>
}

// -----

// normalize splits the last axis into its groups (an expand_shape with
// static sizes), sums each group over the normalized axes (the kept ones,
// batch and group, parallel), and merges the groups back.
// CHECK-LABEL: func.func @normalize_groups
// CHECK: tensor.expand_shape %{{.+}} {{\[\[}}0], [1], [2, 3]] output_shape [%{{.+}}, 5, 2, 4] : tensor<?x5x8xf32> into tensor<?x5x2x4xf32>
// CHECK: linalg.generic {{{.*}}iterator_types = ["parallel", "reduction", "parallel", "reduction"]}
// CHECK: math.rsqrt
// CHECK: tensor.collapse_shape %{{.+}} {{\[\[}}0], [1], [2, 3]] : tensor<?x5x2x4xf32> into tensor<?x5x8xf32>
func.func @normalize_groups(%x: tensor<?x5x8xf32>) -> tensor<?x5x8xf32> {
  %0 = layer.normalize %x {axis = 1 : i64, groups = 2 : i64, epsilon = 1.0e-3 : f64, kind = #layer.norm<standardize>}
      : (tensor<?x5x8xf32>) -> tensor<?x5x8xf32>
  return %0 : tensor<?x5x8xf32>
}

// -----

// l2 caps the reciprocal norm at 1 / epsilon.
// CHECK-LABEL: func.func @normalize_l2
// CHECK: math.rsqrt
// CHECK: arith.cmpf olt
// CHECK: arith.select
// CHECK-LABEL: func.func @normalize_grad_variance
// CHECK: linalg.generic
// CHECK-NOT: layer.normalize_grad
func.func @normalize_l2(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %0 = layer.normalize %x {axis = 1 : i64, epsilon = 1.0e-12 : f64, kind = #layer.norm<l2>}
      : (tensor<?x8xf32>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}
func.func @normalize_grad_variance(%dy: tensor<?x3x8xf32>, %x: tensor<?x3x8xf32>) -> tensor<?x3x8xf32> {
  %0 = layer.normalize_grad %dy, %x {axis = 1 : i64, epsilon = 1.0e-3 : f64, kind = #layer.norm<variance>}
      : (tensor<?x3x8xf32>, tensor<?x3x8xf32>) -> tensor<?x3x8xf32>
  return %0 : tensor<?x3x8xf32>
}

// -----

// batch_matmul is one generic: the batch, rows and columns parallel, the
// contraction a reduction; transpose_rhs reads the rhs as (b, j, k), and
// the dynamic batch size comes from the lhs.
// CHECK-DAG: #[[LHS:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[RHS:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>
// CHECK-DAG: #[[OUT:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @batch_matmul
// CHECK-SAME: (%[[Q:.+]]: tensor<?x4x8xf32>, %[[K:.+]]: tensor<?x6x8xf32>)
// CHECK: %[[N:.+]] = tensor.dim %[[Q]], %c0
// CHECK: %[[E:.+]] = tensor.empty(%[[N]]) : tensor<?x4x6xf32>
// CHECK: %[[Z:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%[[E]] : tensor<?x4x6xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[LHS]], #[[RHS]], #[[OUT]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[Q]], %[[K]] : tensor<?x4x8xf32>, tensor<?x6x8xf32>) outs(%[[Z]] : tensor<?x4x6xf32>)
// CHECK: arith.mulf
// CHECK: arith.addf
// NOLAYER-NOT: layer.batch_matmul
func.func @batch_matmul(%q: tensor<?x4x8xf32>, %k: tensor<?x6x8xf32>) -> tensor<?x4x6xf32> {
  %0 = layer.batch_matmul %q, %k {transpose_rhs}
      : (tensor<?x4x8xf32>, tensor<?x6x8xf32>) -> tensor<?x4x6xf32>
  return %0 : tensor<?x4x6xf32>
}

// -----

// transpose (Permute) is a linalg.transpose; the batch size carries over.
// CHECK-LABEL: func.func @transpose
// CHECK: %[[N:.+]] = tensor.dim %{{.+}}, %c0
// CHECK: %[[E:.+]] = tensor.empty(%[[N]]) : tensor<?x8x5xf32>
// CHECK: linalg.transpose ins(%{{.+}} : tensor<?x5x8xf32>) outs(%[[E]] : tensor<?x8x5xf32>) permutation = [0, 2, 1]
func.func @transpose(%x: tensor<?x5x8xf32>) -> tensor<?x8x5xf32> {
  %0 = layer.transpose %x {permutation = array<i64: 0, 2, 1>}
      : (tensor<?x5x8xf32>) -> tensor<?x8x5xf32>
  return %0 : tensor<?x8x5xf32>
}
