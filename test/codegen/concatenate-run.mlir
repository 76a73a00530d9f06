// Executed tests of layer.concatenate (one buffer, one loop over the rows
// before the axis, vector copies of each input's row): Inputs/concatenate.py
// compares layerc-run's results with np.concatenate, exactly.
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/Inputs/concatenate.py gen %t
//
// The last axis of rank-3 inputs: rows of 8 (one vector), 600 (a loop over
// 64-element vectors and a tail of 24), 5 (a tail only), an input twice.
// RUN: layerc-run %s --function=last_axis --input=%t/a.npy --input=%t/b.npy --input=%t/c.npy --output=%t/last_axis.npy
// RUN: %python %S/Inputs/concatenate.py check last_axis %t | FileCheck %s --check-prefix=LAST
// LAST: OK last_axis
//
// A middle axis, f64: each row is the input's whole (axis, 4, 6) block.
// RUN: layerc-run %s --function=middle_axis --input=%t/p.npy --input=%t/q.npy --output=%t/middle_axis.npy
// RUN: %python %S/Inputs/concatenate.py check middle_axis %t | FileCheck %s --check-prefix=MIDDLE
// MIDDLE: OK middle_axis
//
// Slices (strided buffers): to_buffer copies them to identity-layout
// buffers first.
// RUN: layerc-run %s --function=slices --input=%t/a.npy --output=%t/slices.npy
// RUN: %python %S/Inputs/concatenate.py check slices %t | FileCheck %s --check-prefix=SLICES
// SLICES: OK slices
//
// A size on the axis known only at run time: that input's rows are copied
// element by element (global average pooling gives the result a static
// sample shape).
// RUN: layerc-run %s --function=size_on_axis_at_run_time --input=%t/s.npy --input=%t/t.npy --output=%t/size_on_axis_at_run_time.npy
// RUN: %python %S/Inputs/concatenate.py check size_on_axis_at_run_time %t | FileCheck %s --check-prefix=DYNAMIC
// DYNAMIC: OK size_on_axis_at_run_time

func.func @last_axis(%a: tensor<?x3x8xf32>, %b: tensor<?x3x600xf32>, %c: tensor<?x3x5xf32>) -> tensor<*xf32> {
  %0 = layer.concatenate %a, %b, %c, %a {axis = -1 : i64} : (tensor<?x3x8xf32>, tensor<?x3x600xf32>, tensor<?x3x5xf32>, tensor<?x3x8xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

func.func @middle_axis(%p: tensor<?x2x4x6xf64>, %q: tensor<?x5x4x6xf64>) -> tensor<*xf64> {
  %0 = layer.concatenate %p, %q, %p {axis = 1 : i64} : (tensor<?x2x4x6xf64>, tensor<?x5x4x6xf64>, tensor<?x2x4x6xf64>) -> tensor<*xf64>
  return %0 : tensor<*xf64>
}

func.func @slices(%a: tensor<?x3x8xf32>) -> tensor<*xf32> {
  %0 = layer.slice %a {axis = 2 : i64, offset = 2 : i64, size = 5 : i64} : (tensor<?x3x8xf32>) -> tensor<*xf32>
  %1 = layer.slice %a {axis = 2 : i64, offset = 0 : i64, size = 3 : i64} : (tensor<?x3x8xf32>) -> tensor<*xf32>
  %2 = layer.concatenate %0, %1 {axis = 2 : i64} : (tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>
  %3 = layer.slice %a {axis = 1 : i64, offset = 1 : i64, size = 2 : i64} : (tensor<?x3x8xf32>) -> tensor<*xf32>
  %4 = layer.concatenate %2, %3, %a {axis = 1 : i64} : (tensor<*xf32>, tensor<*xf32>, tensor<?x3x8xf32>) -> tensor<*xf32>
  return %4 : tensor<*xf32>
}

func.func @size_on_axis_at_run_time(%s: tensor<?x?x2xf32>, %t: tensor<?x3x2xf32>) -> tensor<*xf32> {
  %0 = layer.concatenate %s, %t {axis = 1 : i64} : (tensor<?x?x2xf32>, tensor<?x3x2xf32>) -> tensor<*xf32>
  %1 = layer.global_pool %0 {kind = #layer.pool<average>} : (tensor<*xf32>) -> tensor<*xf32>
  return %1 : tensor<*xf32>
}
