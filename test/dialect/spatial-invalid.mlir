// RUN: layerc-opt %s -split-input-file -verify-diagnostics

// One case per diagnostic of the convolution, pooling, upsampling,
// normalization, embedding and merging verifiers (dialect/ConvShapeRules.cpp,
// CoreShapeRules.cpp, RecurrentShapeRules.cpp) and of the parser.

func.func @conv_rank3_input(%x: tensor<?x784xf32>, %k: tensor<3x3x1x8xf32>) -> tensor<*xf32> {
  // expected-error @below {{'layer.conv' op expects a channels-last input (batch, spatial..., channels) with 1 to 3 spatial dimensions, got (None, 784)}}
  %0 = layer.conv %x, %k {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<?x784xf32>, tensor<3x3x1x8xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @conv_kernel_rank(%x: tensor<?x28x28x1xf32>, %k: tensor<3x1x8xf32>) -> tensor<*xf32> {
  // expected-error @below {{kernel of shape (3, 1, 8) must have rank 4 for an input of shape (None, 28, 28, 1)}}
  %0 = layer.conv %x, %k {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<?x28x28x1xf32>, tensor<3x1x8xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @conv_kernel_too_large(%x: tensor<?x2x2x1xf32>, %k: tensor<3x3x1x8xf32>) -> tensor<*xf32> {
  // expected-error @below {{kernel of shape (3, 3, 1, 8) (dilated size 3 on spatial axis 0) is larger than the unpadded input of shape (None, 2, 2, 1)}}
  %0 = layer.conv %x, %k {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<?x2x2x1xf32>, tensor<3x3x1x8xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @conv_bad_padding(%x: tensor<?x8x8x1xf32>, %k: tensor<3x3x1x8xf32>) -> tensor<*xf32> {
  // expected-error @below {{expected ::layerc::layer::Padding to be one of: valid, same}}
  // expected-error @below {{failed to parse Layer_PaddingAttr parameter 'value'}}
  %0 = layer.conv %x, %k {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, padding = #layer.padding<causal>} : (tensor<?x8x8x1xf32>, tensor<3x3x1x8xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @conv_strides_length(%x: tensor<?x8x8x1xf32>, %k: tensor<3x3x1x8xf32>) -> tensor<*xf32> {
  // expected-error @below {{strides has 1 entries but the input has 2 spatial dimensions}}
  %0 = layer.conv %x, %k {strides = array<i64: 1>, dilations = array<i64: 1, 1>} : (tensor<?x8x8x1xf32>, tensor<3x3x1x8xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @conv_zero_dilation(%x: tensor<?x8x8x1xf32>, %k: tensor<3x3x1x8xf32>) -> tensor<*xf32> {
  // expected-error @below {{dilations entries must be positive, got 0}}
  %0 = layer.conv %x, %k {strides = array<i64: 1, 1>, dilations = array<i64: 0, 1>} : (tensor<?x8x8x1xf32>, tensor<3x3x1x8xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @conv_groups(%x: tensor<?x8x8x3xf32>, %k: tensor<3x3x1x8xf32>) -> tensor<*xf32> {
  // expected-error @below {{groups (2) must divide the input channels (3) and the filters (8)}}
  %0 = layer.conv %x, %k {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, groups = 2} : (tensor<?x8x8x3xf32>, tensor<3x3x1x8xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @conv_channels(%x: tensor<?x8x8x3xf32>, %k: tensor<3x3x2x8xf32>) -> tensor<*xf32> {
  // expected-error @below {{kernel of shape (3, 3, 2, 8) does not fit an input of shape (None, 8, 8, 3): expected 3 input channels per group}}
  %0 = layer.conv %x, %k {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<?x8x8x3xf32>, tensor<3x3x2x8xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @conv_bias(%x: tensor<?x8x8x3xf32>, %k: tensor<3x3x3x8xf32>, %b: tensor<4xf32>) -> tensor<*xf32> {
  // expected-error @below {{bias of shape (4,) does not match 8 filters}}
  %0 = layer.conv %x, %k, %b {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<?x8x8x3xf32>, tensor<3x3x3x8xf32>, tensor<4xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @conv_result(%x: tensor<?x8x8x3xf32>, %k: tensor<3x3x3x8xf32>) -> tensor<?x8x8x8xf32> {
  // expected-error @below {{result #0 has shape (None, 8, 8, 8) but the operands give (None, 6, 6, 8)}}
  %0 = layer.conv %x, %k {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<?x8x8x3xf32>, tensor<3x3x3x8xf32>) -> tensor<?x8x8x8xf32>
  return %0 : tensor<?x8x8x8xf32>
}

// -----

func.func @conv_transpose_output_padding(%x: tensor<?x4x4x8xf32>, %k: tensor<3x3x2x8xf32>) -> tensor<*xf32> {
  // expected-error @below {{output_padding 2 must be in [0, stride 2)}}
  %0 = layer.conv_transpose %x, %k {strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>, output_padding = array<i64: 2, 1>} : (tensor<?x4x4x8xf32>, tensor<3x3x2x8xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @conv_transpose_channels(%x: tensor<?x4x4x8xf32>, %k: tensor<3x3x2x4xf32>) -> tensor<*xf32> {
  // expected-error @below {{kernel of shape (3, 3, 2, 4) does not fit an input of shape (None, 4, 4, 8): expected 8 input channels per group}}
  %0 = layer.conv_transpose %x, %k {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, output_padding = array<i64>} : (tensor<?x4x4x8xf32>, tensor<3x3x2x4xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @pool_kind(%x: tensor<?x8x8x3xf32>) -> tensor<*xf32> {
  // expected-error @below {{expected ::layerc::layer::PoolKind to be one of: max, average}}
  // expected-error @below {{failed to parse Layer_PoolKindAttr parameter 'value'}}
  %0 = layer.pool %x {kind = #layer.pool<min>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<?x8x8x3xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @pool_too_large(%x: tensor<?x2x8x3xf32>) -> tensor<*xf32> {
  // expected-error @below {{pool_size 3 on spatial axis 0 is larger than the unpadded input of shape (None, 2, 8, 3)}}
  %0 = layer.pool %x {kind = #layer.pool<max>, pool_size = array<i64: 3, 3>, strides = array<i64: 3, 3>} : (tensor<?x2x8x3xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @global_pool_rank(%x: tensor<?x8xf32>) -> tensor<*xf32> {
  // expected-error @below {{expects a channels-last input (batch, spatial..., channels) with 1 to 3 spatial dimensions, got (None, 8)}}
  %0 = layer.global_pool %x {kind = #layer.pool<max>} : (tensor<?x8xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @upsample_interpolation(%x: tensor<?x8x8x3xf32>) -> tensor<*xf32> {
  // expected-error @below {{expected ::layerc::layer::Interpolation to be one of: nearest, bilinear}}
  // expected-error @below {{failed to parse Layer_InterpolationAttr parameter 'value'}}
  %0 = layer.upsample %x {size = array<i64: 2, 2>, interpolation = #layer.interpolation<bicubic>} : (tensor<?x8x8x3xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @upsample_bilinear_1d(%x: tensor<?x8x3xf32>) -> tensor<*xf32> {
  // expected-error @below {{bilinear interpolation needs 2 spatial dimensions, got (None, 8, 3)}}
  %0 = layer.upsample %x {size = array<i64: 2>, interpolation = #layer.interpolation<bilinear>} : (tensor<?x8x3xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @batch_norm_channels(%x: tensor<?x8x8x3xf32>, %m: tensor<4xf32>, %v: tensor<3xf32>) -> tensor<*xf32> {
  // expected-error @below {{moving_mean of shape (4,) does not match the 3 channels of the input (None, 8, 8, 3)}}
  %0 = layer.batch_norm %x, %m, %v {epsilon = 1.0e-3 : f64} : (tensor<?x8x8x3xf32>, tensor<4xf32>, tensor<3xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @batch_norm_epsilon(%x: tensor<?x3xf32>, %m: tensor<3xf32>, %v: tensor<3xf32>) -> tensor<*xf32> {
  // expected-error @below {{epsilon must be positive, got 0}}
  %0 = layer.batch_norm %x, %m, %v {epsilon = 0.0 : f64} : (tensor<?x3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @batch_norm_momentum(%x: tensor<?x3xf32>, %m: tensor<3xf32>, %v: tensor<3xf32>) -> tensor<*xf32> {
  // expected-error @below {{momentum must be in [0, 1], got 1.5}}
  %0 = layer.batch_norm %x, %m, %v {epsilon = 1.0e-3 : f64, momentum = 1.5 : f64} : (tensor<?x3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @moments_channels(%x: tensor<?x?xf32>) -> (tensor<*xf32>, tensor<*xf32>) {
  // expected-error @below {{needs a known number of channels (last axis), got (None, None)}}
  %0, %1 = layer.moments %x : (tensor<?x?xf32>) -> (tensor<*xf32>, tensor<*xf32>)
  return %0, %1 : tensor<*xf32>, tensor<*xf32>
}

// -----

func.func @batch_norm_grad_shapes(%dy: tensor<?x4xf32>, %x: tensor<?x3xf32>, %m: tensor<3xf32>, %v: tensor<3xf32>) {
  // expected-error @below {{output_grad of shape (None, 4) does not match the input (None, 3)}}
  %0:5 = layer.batch_norm_grad %dy, %x, %m, %v {epsilon = 1.0e-3 : f64} : (tensor<?x4xf32>, tensor<?x3xf32>, tensor<3xf32>, tensor<3xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @moments_grad_channels(%x: tensor<?x3xf32>, %m: tensor<3xf32>, %dm: tensor<2xf32>, %dv: tensor<3xf32>) -> tensor<*xf32> {
  // expected-error @below {{mean_grad of shape (2,) does not match the 3 channels of the input (None, 3)}}
  %0 = layer.moments_grad %x, %m, %dm, %dv : (tensor<?x3xf32>, tensor<3xf32>, tensor<2xf32>, tensor<3xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @embedding_table(%ids: tensor<?x5xi32>, %t: tensor<100xf32>) -> tensor<*xf32> {
  // expected-error @below {{expects a table of shape (input_dim, output_dim), got (100,)}}
  %0 = layer.embedding %ids, %t : (tensor<?x5xi32>, tensor<100xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @concatenate_mismatch(%a: tensor<?x9x9x64xf32>, %b: tensor<?x8x9x32xf32>) -> tensor<*xf32> {
  // expected-error @below {{a concatenate layer requires inputs with matching shapes except for the concatenation axis -1, got (None, 9, 9, 64) and (None, 8, 9, 32) (input #1)}}
  %0 = layer.concatenate %a, %b : (tensor<?x9x9x64xf32>, tensor<?x8x9x32xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @concatenate_batch_axis(%a: tensor<?x9xf32>, %b: tensor<?x9xf32>) -> tensor<*xf32> {
  // expected-error @below {{axis 0 is out of range for inputs of shape (None, 9) (the batch axis cannot be concatenated)}}
  %0 = layer.concatenate %a, %b {axis = 0 : i64} : (tensor<?x9xf32>, tensor<?x9xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @average_shapes(%a: tensor<?x9x9x64xf32>, %b: tensor<?x9x9x32xf32>) -> tensor<*xf32> {
  // expected-error @below {{input #1 of shape (None, 9, 9, 32) does not match input #0 of shape (None, 9, 9, 64)}}
  %0 = layer.average %a, %b : (tensor<?x9x9x64xf32>, tensor<?x9x9x32xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @subtract_shapes(%a: tensor<?x9x9x64xf32>, %b: tensor<?x9x9x32xf32>) -> tensor<*xf32> {
  // expected-error @below {{rhs of shape (None, 9, 9, 32) does not match lhs of shape (None, 9, 9, 64)}}
  %0 = layer.subtract %a, %b : (tensor<?x9x9x64xf32>, tensor<?x9x9x32xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @rnn_rank2(%x: tensor<?x8xf32>, %k: tensor<8x128xf32>, %rk: tensor<32x128xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  // expected-error @below {{expects an input of shape (batch, timesteps, features), got (None, 8)}}
  %0, %1, %2 = layer.rnn %x, %k, %rk {cell = #layer.cell<lstm>} : (tensor<?x8xf32>, tensor<8x128xf32>, tensor<32x128xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return %0, %1, %2 : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}

// -----

func.func @rnn_cell(%x: tensor<?x4x8xf32>, %k: tensor<8x32xf32>, %rk: tensor<32x32xf32>) -> (tensor<*xf32>, tensor<*xf32>) {
  // expected-error @below {{expected ::layerc::layer::Cell to be one of: simple_rnn, lstm, gru}}
  // expected-error @below {{failed to parse Layer_CellAttr parameter 'value'}}
  %0, %1 = layer.rnn %x, %k, %rk {cell = #layer.cell<rnn>} : (tensor<?x4x8xf32>, tensor<8x32xf32>, tensor<32x32xf32>) -> (tensor<*xf32>, tensor<*xf32>)
  return %0, %1 : tensor<*xf32>, tensor<*xf32>
}

// -----

func.func @rnn_results(%x: tensor<?x4x8xf32>, %k: tensor<8x128xf32>, %rk: tensor<32x128xf32>) -> (tensor<*xf32>, tensor<*xf32>) {
  // expected-error @below {{a lstm cell has 3 results (the output and the final states), got 2}}
  %0, %1 = layer.rnn %x, %k, %rk {cell = #layer.cell<lstm>} : (tensor<?x4x8xf32>, tensor<8x128xf32>, tensor<32x128xf32>) -> (tensor<*xf32>, tensor<*xf32>)
  return %0, %1 : tensor<*xf32>, tensor<*xf32>
}

// -----

func.func @rnn_recurrent_kernel(%x: tensor<?x4x8xf32>, %k: tensor<8x128xf32>, %rk: tensor<32x96xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  // expected-error @below {{recurrent_kernel of shape (32, 96) must be (units, 4 * units)}}
  %0, %1, %2 = layer.rnn %x, %k, %rk {cell = #layer.cell<lstm>} : (tensor<?x4x8xf32>, tensor<8x128xf32>, tensor<32x96xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return %0, %1, %2 : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}

// -----

func.func @rnn_kernel(%x: tensor<?x4x8xf32>, %k: tensor<7x128xf32>, %rk: tensor<32x128xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  // expected-error @below {{kernel of shape (7, 128) does not fit an input of shape (None, 4, 8) and 32 units: expected (8, 128)}}
  %0, %1, %2 = layer.rnn %x, %k, %rk {cell = #layer.cell<lstm>} : (tensor<?x4x8xf32>, tensor<7x128xf32>, tensor<32x128xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return %0, %1, %2 : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}

// -----

func.func @gru_bias(%x: tensor<?x4x8xf32>, %k: tensor<8x96xf32>, %rk: tensor<32x96xf32>, %b: tensor<96xf32>) -> (tensor<*xf32>, tensor<*xf32>) {
  // expected-error @below {{bias of shape (96,) must be (2, 96)}}
  %0, %1 = layer.rnn %x, %k, %rk, %b {cell = #layer.cell<gru>, reset_after} : (tensor<?x4x8xf32>, tensor<8x96xf32>, tensor<32x96xf32>, tensor<96xf32>) -> (tensor<*xf32>, tensor<*xf32>)
  return %0, %1 : tensor<*xf32>, tensor<*xf32>
}

// -----

func.func @rnn_softmax(%x: tensor<?x4x8xf32>, %k: tensor<8x32xf32>, %rk: tensor<32x32xf32>) -> (tensor<*xf32>, tensor<*xf32>) {
  // expected-error @below {{softmax is not an element-wise activation}}
  %0, %1 = layer.rnn %x, %k, %rk {cell = #layer.cell<simple_rnn>, activation = #layer.activation<softmax>} : (tensor<?x4x8xf32>, tensor<8x32xf32>, tensor<32x32xf32>) -> (tensor<*xf32>, tensor<*xf32>)
  return %0, %1 : tensor<*xf32>, tensor<*xf32>
}

// -----

func.func @reset_after_lstm(%x: tensor<?x4x8xf32>, %k: tensor<8x128xf32>, %rk: tensor<32x128xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  // expected-error @below {{reset_after applies to a gru cell only}}
  %0, %1, %2 = layer.rnn %x, %k, %rk {cell = #layer.cell<lstm>, reset_after} : (tensor<?x4x8xf32>, tensor<8x128xf32>, tensor<32x128xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return %0, %1, %2 : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}

// -----

func.func @conv_lstm_rank(%x: tensor<?x4x8xf32>, %k: tensor<3x3x8x16xf32>, %rk: tensor<3x3x4x16xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  // expected-error @below {{expects an input of shape (batch, timesteps, spatial..., channels) with 1 to 3 spatial dimensions, got (None, 4, 8)}}
  %0, %1, %2 = layer.conv_lstm %x, %k, %rk {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<?x4x8xf32>, tensor<3x3x8x16xf32>, tensor<3x3x4x16xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return %0, %1, %2 : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}

// -----

func.func @conv_lstm_kernel(%x: tensor<?x4x8x8x3xf32>, %k: tensor<3x3x2x16xf32>, %rk: tensor<3x3x4x16xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  // expected-error @below {{kernel of shape (3, 3, 2, 16) does not fit an input of shape (None, 4, 8, 8, 3) and 4 filters}}
  %0, %1, %2 = layer.conv_lstm %x, %k, %rk {strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<?x4x8x8x3xf32>, tensor<3x3x2x16xf32>, tensor<3x3x4x16xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return %0, %1, %2 : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}

// -----

// A Conv2D kernel on a rank-3 (Conv1D-shaped) input.
func.func @conv2d_kernel_on_rank3(%x: tensor<?x28x28xf32>, %k: tensor<3x3x1x8xf32>) -> tensor<*xf32> {
  // expected-error @below {{kernel of shape (3, 3, 1, 8) must have rank 3 for an input of shape (None, 28, 28)}}
  %0 = layer.conv %x, %k {strides = array<i64: 1>, dilations = array<i64: 1>} : (tensor<?x28x28xf32>, tensor<3x3x1x8xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @upsample_grad_interpolation(%dy: tensor<?x8x8x4xf32>, %x: tensor<?x4x4x4xf32>) -> tensor<?x4x4x4xf32> {
  // expected-error @below {{expected ::layerc::layer::Interpolation to be one of: nearest, bilinear}}
  // expected-error @below {{failed to parse Layer_InterpolationAttr parameter 'value'}}
  %0 = layer.upsample_grad %dy, %x {size = array<i64: 2, 2>, interpolation = #layer.interpolation<bicubic>} : (tensor<?x8x8x4xf32>, tensor<?x4x4x4xf32>) -> tensor<?x4x4x4xf32>
  return %0 : tensor<?x4x4x4xf32>
}

// -----

// The gradient of a recurrent layer refuses softmax too (its lowering has
// no element-wise softmax).
func.func @rnn_grad_softmax(%x: tensor<2x3x4xf32>, %k: tensor<4x5xf32>, %rk: tensor<5x5xf32>, %dy: tensor<2x5xf32>, %dh: tensor<2x5xf32>) {
  // expected-error @below {{softmax is not an element-wise activation}}
  %0:3 = layer.rnn_grad %x, %k, %rk, %dy, %dh {cell = #layer.cell<simple_rnn>, activation = #layer.activation<softmax>} : (tensor<2x3x4xf32>, tensor<4x5xf32>, tensor<5x5xf32>, tensor<2x5xf32>, tensor<2x5xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @conv_residual_shape(%x: tensor<?x6x6x2xf32>, %k: tensor<3x3x2x2xf32>, %r: tensor<?x6x5x2xf32>) -> tensor<*xf32> {
  // expected-error @below {{'layer.conv' op residual of shape (None, 6, 5, 2) does not match the result's shape (None, 6, 6, 2)}}
  %0 = layer.conv %x, %k residual %r {strides = array<i64: 1, 1>, padding = #layer.padding<same>, dilations = array<i64: 1, 1>} : (tensor<?x6x6x2xf32>, tensor<3x3x2x2xf32>, tensor<?x6x5x2xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @conv_residual_element_type(%x: tensor<?x6x6x2xf32>, %k: tensor<3x3x2x2xf32>, %r: tensor<?x6x6x2xf64>) -> tensor<*xf32> {
  // expected-error @below {{'layer.conv' op residual has element type 'f64' but the input has 'f32'}}
  %0 = layer.conv %x, %k residual %r {strides = array<i64: 1, 1>, padding = #layer.padding<same>, dilations = array<i64: 1, 1>} : (tensor<?x6x6x2xf32>, tensor<3x3x2x2xf32>, tensor<?x6x6x2xf64>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}
