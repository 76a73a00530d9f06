// The optimizers beyond sgd, rmsprop and adam, and gradient clipping: each
// names its state slots as Keras does and updates with its own op; clipping
// takes every gradient before the first update (and in apply_step, the
// gradients it is given).
// RUN: layerc-opt %s --layer-autodiff='optimizer=adagrad initial-accumulator-value=0.5' \
// RUN:   | FileCheck %s --check-prefix=ADAGRAD
// RUN: layerc-opt %s --layer-autodiff='optimizer=adadelta rho=0.95' \
// RUN:   | FileCheck %s --check-prefix=ADADELTA
// RUN: layerc-opt %s --layer-autodiff='optimizer=adamax' | FileCheck %s --check-prefix=ADAMAX
// RUN: layerc-opt %s --layer-autodiff='optimizer=nadam' | FileCheck %s --check-prefix=NADAM
// RUN: layerc-opt %s --layer-autodiff='optimizer=lion beta-2=0.99' | FileCheck %s --check-prefix=LION
// RUN: layerc-opt %s --layer-autodiff='optimizer=adam global-clipnorm=1.0 split-step' \
// RUN:   | FileCheck %s --check-prefix=CLIP
// With learning-rate-input (fit()), train_step and apply_step take the
// step's learning rate after the step, and every update reads it.
// RUN: layerc-opt %s --layer-autodiff='optimizer=sgd momentum=0.9 learning-rate-input split-step' \
// RUN:   | FileCheck %s --check-prefix=LR
// RUN: not layerc-opt %s --layer-autodiff='optimizer=sgd learning-rate-input decay-steps=10' 2>&1 \
// RUN:   | FileCheck %s --check-prefix=LR-SCHEDULE
// RUN: layerc-opt %s --layer-autodiff='optimizer=nadam learning-rate-input' --layer-to-linalg \
// RUN:   | FileCheck %s --check-prefix=LOWERED
// RUN: not layerc-opt %s --layer-autodiff='optimizer=adam clipnorm=1.0 clipvalue=0.5' 2>&1 \
// RUN:   | FileCheck %s --check-prefix=TWO
// RUN: not layerc-opt %s --layer-autodiff='optimizer=adafactor' 2>&1 \
// RUN:   | FileCheck %s --check-prefix=UNKNOWN
// Every form lowers to linalg.
// RUN: layerc-opt %s --layer-autodiff='optimizer=nadam clipnorm=0.5' --layer-to-linalg \
// RUN:   | FileCheck %s --check-prefix=LOWERED
// RUN: layerc-opt %s --layer-autodiff='optimizer=lion clipvalue=0.5' --layer-to-linalg \
// RUN:   | FileCheck %s --check-prefix=LOWERED

func.func @predict(%x: tensor<2x4xf32> {layer.name = "x"},
                   %k: tensor<4x3xf32> {layer.param, layer.name = "dense/kernel"},
                   %b: tensor<3xf32> {layer.param, layer.name = "dense/bias"})
    -> tensor<2x3xf32> {
  %0 = layer.dense %x, %k, %b : (tensor<2x4xf32>, tensor<4x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// ADAGRAD-LABEL: func.func @train_step
// ADAGRAD-SAME: {layer.name = "dense/kernel/accumulator", layer.role = "state"}
// ADAGRAD: layer.adagrad_update {{.*}}initial_accumulator_value = 5.000000e-01 : f64
// ADAGRAD-NOT: layer.clip_gradients

// ADADELTA-LABEL: func.func @train_step
// ADADELTA-SAME: {layer.name = "dense/kernel/accumulated_grad", layer.role = "state"}
// ADADELTA-SAME: {layer.name = "dense/kernel/accumulated_delta_var", layer.role = "state"}
// ADADELTA: layer.adadelta_update {{.*}}rho = 0.94999999999999996 : f64

// ADAMAX-LABEL: func.func @train_step
// ADAMAX-SAME: {layer.name = "dense/kernel/momentum", layer.role = "state"}
// ADAMAX-SAME: {layer.name = "dense/kernel/norm", layer.role = "state"}
// ADAMAX: layer.adamax_update

// NADAM-LABEL: func.func @train_step
// NADAM-SAME: {layer.name = "dense/kernel/momentum", layer.role = "state"}
// NADAM-SAME: {layer.name = "dense/kernel/velocity", layer.role = "state"}
// NADAM: layer.nadam_update

// LION-LABEL: func.func @train_step
// LION-SAME: {layer.name = "dense/kernel/momentum", layer.role = "state"}
// LION-NOT: layer.name = "dense/kernel/velocity"
// LION: layer.lion_update {{.*}}beta_2 = 0.98999999999999999 : f64

// CLIP-LABEL: func.func @train_step
// CLIP: %[[C:[0-9]+]]:2 = layer.clip_gradients %{{.+}}, %{{.+}} {global_clipnorm = 1.000000e+00 : f64} : (tensor<4x3xf32>, tensor<3xf32>) -> (tensor<4x3xf32>, tensor<3xf32>)
// CLIP-NEXT: layer.adam_update %{{.+}}, %[[C]]#0,
// CLIP-NEXT: layer.adam_update %{{.+}}, %[[C]]#1,
// CLIP-LABEL: func.func @grad_step
// CLIP-NOT: layer.clip_gradients
// CLIP-LABEL: func.func @apply_step
// CLIP-SAME: (%arg0: tensor<4x3xf32> {layer.name = "dense/kernel", layer.role = "param"}, %arg1: tensor<3xf32> {{.*}}, %arg2: tensor<4x3xf32> {layer.name = "dense/kernel/grad", layer.role = "grad"}, %arg3: tensor<3xf32> {layer.name = "dense/bias/grad", layer.role = "grad"}
// CLIP-NEXT: %[[A:[0-9]+]]:2 = layer.clip_gradients %arg2, %arg3 {global_clipnorm
// CLIP-NEXT: layer.adam_update %arg0, %[[A]]#0,

// LR-LABEL: func.func @train_step
// LR-SAME: %[[T:[a-z0-9]+]]: tensor<f32> {layer.name = "step", layer.role = "step"}, %[[LR:[a-z0-9]+]]: tensor<f32> {layer.name = "learning_rate", layer.role = "learning_rate"})
// LR: layer.sgd_update %{{.+}}, %{{.+}}, %{{.+}} lr %[[LR]] {
// LR: layer.sgd_update %{{.+}}, %{{.+}}, %{{.+}} lr %[[LR]] {
// LR-LABEL: func.func @apply_step
// LR-SAME: {layer.name = "step", layer.role = "step"}, %[[ALR:[a-z0-9]+]]: tensor<f32> {layer.name = "learning_rate", layer.role = "learning_rate"})
// LR: layer.sgd_update %{{.+}}, %{{.+}}, %{{.+}} lr %[[ALR]] {
// LR-SCHEDULE: learning-rate-input needs an optimizer and replaces the compiled schedule

// TWO: only one of clipnorm, clipvalue and global-clipnorm can be set
// UNKNOWN: unknown optimizer 'adafactor'; expected sgd, rmsprop, adam, adamw, adagrad, adadelta, adamax, nadam, lion or none

// LOWERED-LABEL: func.func @train_step
// LOWERED-NOT: = layer.
