#!/usr/bin/env python3
"""Generate test/reference/keras_layers.safetensors: layer outputs from Keras 3.

Real Keras is the first oracle: every case is run through Keras 3 itself
(JAX backend, float64), not through a re-implementation. Run it from the
repository root with a Python that has Keras and JAX (`.ci/keras-venv.sh`
makes one from PyPI):

    /tmp/layerc-keras-venv/bin/python test/reference/generate_keras.py
    /tmp/layerc-keras-venv/bin/python test/reference/generate_keras.py --check

--check writes nothing: it recomputes every case and compares the committed
file with it (the same float32 values within 1e-5 relative, 1e-6 absolute:
another CPU may round float64 sums differently), listing any difference.

Two sources of cases, in one file of the same format as
torch_layers.safetensors (README.md):

* every case of torch_layers.safetensors (each guide layer, written by
  generate_torch.py): the same Keras config, inputs and weights, run through
  the Keras layer that the config names; where Keras and the PyTorch
  re-implementation disagree beyond the case's tolerance, the script says so
  (Keras wins: the stored output is Keras's);
* the cases below (KERAS_CASES): layers that only Keras defines the
  semantics of, with inputs and weights drawn here.

The file is deterministic for one Keras version (per-case seeds).
"""

import json
import os
import sys
import zlib
from collections import Counter, OrderedDict

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_ENABLE_X64", "1")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402

import keras  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from torch_ref.safetensors_io import (NAME_RE, differences,  # noqa: E402
                                      read_safetensors, write_safetensors)

TORCH_PATH = os.path.join(HERE, "torch_layers.safetensors")
OUT_PATH = os.path.join(HERE, "keras_layers.safetensors")

keras.config.set_floatx("float64")


class Case:
    """Inputs and weights of one new case, drawn from a per-case seed."""

    def __init__(self, name):
        assert NAME_RE.match(name), name
        self.name = name
        self.rng = np.random.RandomState(zlib.crc32(name.encode()) & 0x7FFFFFFF)

    def input(self, shape, low=-1.0, high=1.0):
        return self.rng.uniform(low, high, size=shape).astype(np.float32)

    def weight(self, shape):
        return self.rng.uniform(-0.5, 0.5, size=shape).astype(np.float32)


def wrapped(cls, **config):
    """The serialized form of a layer that Bidirectional or TimeDistributed
    wraps (Keras's {"module", "class_name", "config"})."""
    config.setdefault("name", cls.lower())
    return {"module": "keras.layers", "class_name": cls, "config": config}


def keras_layer(cls, config, dtype="float64"):
    """The Keras layer that `config` (Keras's get_config keys) describes."""
    config = dict(config)
    config["dtype"] = dtype
    if isinstance(config.get("layer"), dict):  # a wrapper: the same dtype
        inner = dict(config["layer"])
        inner["config"] = dict(inner["config"], dtype=dtype)
        config["layer"] = inner
    return keras.layers.deserialize(
        {"module": "keras.layers", "class_name": cls, "config": config})


def run_keras(cls, config, inputs, weights):
    """The outputs of the layer on `inputs` (batch first) with `weights`:
    in float64, or in float32 where Keras's JAX backend cannot run the layer
    in float64 (its recurrent loops keep float32 states)."""
    try:
        return run_keras_as(cls, config, inputs, weights, "float64")
    except TypeError:
        return run_keras_as(cls, config, inputs, weights, "float32")


def run_keras_as(cls, config, inputs, weights, dtype):
    # return_attention_scores is a call argument in Keras, a config key in
    # layerc (the scores are the second output).
    kw = {}
    if "return_attention_scores" in config:
        config = dict(config)
        kw["return_attention_scores"] = config.pop("return_attention_scores")
    layer = keras_layer(cls, config, dtype)
    symbolic = [keras.Input(x.shape[1:], dtype="int32" if x.dtype == np.int32
                            else dtype) for x in inputs]
    call_layer(cls, layer, symbolic)
    if weights or layer.get_weights():
        want = [w.shape for w in layer.get_weights()]
        got = [w.shape for w in weights]
        if want != got:
            raise ValueError("weights %s, Keras wants %s" % (got, want))
        layer.set_weights([w.astype(dtype) for w in weights])
    xs = [x if x.dtype == np.int32 else x.astype(dtype) for x in inputs]
    out = call_layer(cls, layer, xs, training=False, **kw)
    outs = out if isinstance(out, (list, tuple)) else [out]
    return [np.asarray(o, dtype=np.float64) for o in outs]


def call_layer(cls, layer, xs, **kw):
    """layer(xs): one tensor alone, several as a list, MultiHeadAttention's
    (query, value, key) as arguments."""
    if cls == "MultiHeadAttention":
        return layer(*xs, **kw)
    return layer(xs if len(xs) > 1 else xs[0], **kw)


def attention_config(**kw):
    """An Attention config: Keras's defaults, then `kw`."""
    config = dict(use_scale=False, score_mode="dot", dropout=0.0, seed=None)
    config.update(kw)
    return config


def mha_config(**kw):
    """A MultiHeadAttention config: Keras's defaults, then `kw`."""
    config = dict(num_heads=1, key_dim=2, value_dim=None, dropout=0.0, use_bias=True,
                  output_shape=None, attention_axes=None, use_gate=False,
                  sliding_window=None, kernel_initializer="glorot_uniform",
                  bias_initializer="zeros", kernel_regularizer=None,
                  bias_regularizer=None, activity_regularizer=None,
                  kernel_constraint=None, bias_constraint=None, seed=None)
    config.update(kw)
    return config


def conv_config(**kw):
    """A Conv1D config with padding="causal" and Keras's other defaults."""
    config = dict(strides=1, padding="causal", dilation_rate=1, groups=1,
                  activation="linear", use_bias=True)
    config.update(kw)
    return config


def depthwise_config(**kw):
    """A DepthwiseConv config: Keras's defaults, then `kw`."""
    config = dict(strides=1, padding="valid", depth_multiplier=1, dilation_rate=1,
                  activation="linear", use_bias=True)
    config.update(kw)
    return config


def separable_config(**kw):
    """A SeparableConv config: Keras's defaults, then `kw`."""
    return depthwise_config(**kw)


def layer_norm_config(**kw):
    """A LayerNormalization config: Keras's defaults, then `kw`."""
    config = dict(axis=-1, epsilon=1e-3, center=True, scale=True, rms_scaling=False)
    config.update(kw)
    return config


def group_norm_config(**kw):
    """A GroupNormalization config: Keras's defaults, then `kw`."""
    config = dict(groups=32, axis=-1, epsilon=1e-3, center=True, scale=True)
    config.update(kw)
    return config


# Layers beyond the guide: (class, case name, Keras config, input shapes
# (batch first) or a function of the case giving the inputs, draw weights,
# optionally a tolerance other than 1e-5).
KERAS_CASES = [
    ("LeakyReLU", "leaky_relu_default", {}, [[3, 5]]),
    ("LeakyReLU", "leaky_relu_slope_0_1_rank4", {"negative_slope": 0.1}, [[2, 3, 4, 2]]),
    ("ELU", "elu_default", {}, [[3, 6]]),
    ("ELU", "elu_alpha_0_5_rank3", {"alpha": 0.5}, [[2, 4, 3]]),
    ("ReLU", "relu_default", {}, [[3, 5]]),
    ("ReLU", "relu_max_value_0_5", {"max_value": 0.5}, [[3, 5]]),
    ("ReLU", "relu_negative_slope_0_2", {"negative_slope": 0.2}, [[2, 3, 4]]),
    ("ReLU", "relu_max_value_and_slope", {"max_value": 0.6, "negative_slope": 0.3},
     [[2, 4, 3, 2]]),
    ("ReLU", "relu_threshold", {"threshold": 0.4}, [[3, 6]]),
    ("ReLU", "relu_threshold_max_value_slope",
     {"threshold": 0.3, "max_value": 0.8, "negative_slope": 0.2}, [[2, 4, 3]]),
    ("Softmax", "softmax_default", {}, [[3, 7]]),
    ("Softmax", "softmax_rank4", {"axis": -1}, [[2, 3, 2, 5]]),
    ("PReLU", "prelu_default", {}, [[3, 5]], True),
    ("PReLU", "prelu_rank4", {}, [[2, 3, 4, 2]], True),
    ("PReLU", "prelu_shared_1_rank4", {"shared_axes": [1]}, [[2, 3, 4, 2]], True),
    ("PReLU", "prelu_shared_2_rank4", {"shared_axes": [2]}, [[2, 3, 4, 2]], True),
    ("PReLU", "prelu_shared_1_2_rank4", {"shared_axes": [1, 2]}, [[2, 3, 4, 2]], True),
    ("PReLU", "prelu_shared_1_3_rank4", {"shared_axes": [1, 3]}, [[2, 3, 4, 2]], True),
    ("PReLU", "prelu_shared_all_rank3", {"shared_axes": [1, 2]}, [[2, 3, 4]], True),
    ("Minimum", "minimum_2_rank2", {}, [[3, 5], [3, 5]]),
    ("Minimum", "minimum_3_rank4", {}, [[2, 3, 4, 2]] * 3),
    ("RepeatVector", "repeat_vector_3", {"n": 3}, [[2, 5]]),
    ("RepeatVector", "repeat_vector_1", {"n": 1}, [[3, 4]]),
    ("Cropping1D", "cropping1d_1_2", {"cropping": [1, 2]}, [[2, 7, 3]]),
    ("Cropping2D", "cropping2d_mixed", {"cropping": [[1, 0], [2, 1]]}, [[2, 5, 6, 3]]),
    ("Cropping3D", "cropping3d_mixed", {"cropping": [[1, 1], [0, 2], [1, 0]]},
     [[1, 4, 5, 3, 2]]),
    ("ZeroPadding1D", "zero_padding1d_2_1", {"padding": [2, 1]}, [[2, 5, 3]]),
    ("ZeroPadding2D", "zero_padding2d_mixed", {"padding": [[1, 0], [2, 1]]}, [[2, 3, 4, 2]]),
    ("ZeroPadding3D", "zero_padding3d_default", {}, [[1, 2, 3, 2, 2]]),
    ("Dot", "dot_axes_1", {"axes": 1}, [[3, 6], [3, 6]]),
    ("Dot", "dot_axes_minus_1_b1", {"axes": -1}, [[1, 4], [1, 4]]),
    ("Dot", "dot_rank3_axes_2_2", {"axes": [2, 2], "normalize": False},
     [[2, 3, 4], [2, 5, 4]]),
    ("Dot", "dot_rank3_axes_1_1", {"axes": 1, "normalize": False}, [[2, 3, 4], [2, 3, 2]]),
    ("Dot", "dot_rank3_axes_2_1", {"axes": [2, 1], "normalize": False},
     [[2, 3, 4], [2, 4, 5]]),
    ("Dot", "dot_rank3_axes_1_2_normalize", {"axes": [1, 2], "normalize": True},
     [[2, 4, 3], [2, 5, 4]]),
    ("Dot", "dot_rank2_normalize", {"axes": -1, "normalize": True}, [[3, 5], [3, 5]]),
    ("Softmax", "softmax_axis_1_rank3", {"axis": 1}, [[2, 4, 3]]),
    ("Softmax", "softmax_axis_1_rank4", {"axis": 1}, [[2, 3, 2, 4]]),
    ("Softmax", "softmax_axis_2_rank4", {"axis": -2}, [[2, 3, 4, 2]]),
    ("Rescaling", "rescaling_1_over_255", {"scale": 1.0 / 255, "offset": 0.0}, [[3, 6]]),
    ("Rescaling", "rescaling_offset", {"scale": 2.0, "offset": -1.0}, [[2, 3, 4, 2]]),
    # LayerNormalization, GroupNormalization, UnitNormalization, Permute.
    ("LayerNormalization", "layer_norm_default", layer_norm_config(), [[3, 6]], True),
    ("LayerNormalization", "layer_norm_rank3", layer_norm_config(), [[2, 4, 5]], True),
    ("LayerNormalization", "layer_norm_rank4_axes_2_3",
     layer_norm_config(axis=[2, 3], epsilon=1e-5), [[2, 3, 4, 5]], True),
    ("LayerNormalization", "layer_norm_rank3_axes_1_2_plain",
     layer_norm_config(axis=[-2, -1], center=False, scale=False), [[2, 3, 4]]),
    ("LayerNormalization", "layer_norm_scale_only", layer_norm_config(center=False),
     [[2, 3, 5]], True),
    ("LayerNormalization", "layer_norm_center_only_rank4", layer_norm_config(scale=False),
     [[2, 2, 3, 4]], True),
    ("LayerNormalization", "layer_norm_rms_scaling", layer_norm_config(rms_scaling=True),
     [[2, 3, 6]], True),
    ("GroupNormalization", "group_norm_groups_1", group_norm_config(groups=1), [[2, 5, 4]],
     True),
    ("GroupNormalization", "group_norm_groups_per_channel", group_norm_config(groups=4),
     [[2, 5, 4]], True),
    ("GroupNormalization", "group_norm_groups_minus_1", group_norm_config(groups=-1),
     [[2, 3, 3, 2]], True),
    ("GroupNormalization", "group_norm_groups_3_rank4", group_norm_config(groups=3),
     [[2, 3, 4, 6]], True),
    ("GroupNormalization", "group_norm_groups_4_rank2", group_norm_config(groups=4),
     [[3, 8]], True),
    ("GroupNormalization", "group_norm_plain",
     group_norm_config(groups=2, center=False, scale=False, epsilon=1e-5), [[2, 4, 6]]),
    ("UnitNormalization", "unit_norm_default", {"axis": -1}, [[3, 5]]),
    ("UnitNormalization", "unit_norm_rank3_axes_1_2", {"axis": [1, 2]}, [[2, 3, 4]]),
    ("UnitNormalization", "unit_norm_rank4", {"axis": -1}, [[2, 3, 2, 4]]),
    # Noise layers and ActivityRegularization: the identity at inference
    # (their training noise is checked statistically in NoiseLayersTest);
    # these cases check Keras's configs load and the outputs.
    ("Dropout", "dropout_noise_shape", {"rate": 0.3, "noise_shape": [None, 1, 4]},
     [[2, 3, 4]]),
    ("SpatialDropout1D", "spatial_dropout1d", {"rate": 0.4}, [[2, 5, 3]]),
    ("SpatialDropout2D", "spatial_dropout2d", {"rate": 0.4}, [[2, 4, 4, 3]]),
    ("SpatialDropout2D", "spatial_dropout2d_channels_first",
     {"rate": 0.2, "data_format": "channels_first"}, [[2, 3, 4, 4]]),
    ("SpatialDropout3D", "spatial_dropout3d", {"rate": 0.5}, [[1, 2, 3, 2, 3]]),
    ("GaussianNoise", "gaussian_noise", {"stddev": 0.5, "seed": 3}, [[3, 5]]),
    ("GaussianDropout", "gaussian_dropout", {"rate": 0.3}, [[3, 5]]),
    ("AlphaDropout", "alpha_dropout", {"rate": 0.2, "noise_shape": [None, 5]},
     [[3, 5]]),
    ("ActivityRegularization", "activity_regularization", {"l1": 0.1, "l2": 0.2},
     [[3, 5]]),
    ("Permute", "permute_rank3", {"dims": [2, 1]}, [[2, 4, 5]]),
    ("Permute", "permute_rank4", {"dims": [3, 1, 2]}, [[2, 3, 4, 5]]),
    # Bidirectional and TimeDistributed (the wrapped layer's config nested).
    ("Bidirectional", "bidirectional_lstm_concat",
     {"layer": wrapped("LSTM", units=3, return_sequences=True), "merge_mode": "concat"},
     [[2, 5, 4]], True),
    ("Bidirectional", "bidirectional_gru_sum",
     {"layer": wrapped("GRU", units=4), "merge_mode": "sum"}, [[3, 4, 2]], True),
    ("Bidirectional", "bidirectional_simple_rnn_none",
     {"layer": wrapped("SimpleRNN", units=2, return_sequences=True), "merge_mode": None},
     [[2, 4, 3]], True),
    ("Bidirectional", "bidirectional_lstm_ave_state",
     {"layer": wrapped("LSTM", units=2, return_state=True), "merge_mode": "ave"},
     [[2, 3, 3]], True),
    ("Bidirectional", "bidirectional_gru_mul",
     {"layer": wrapped("GRU", units=3, return_sequences=True),
      "merge_mode": "mul"}, [[2, 4, 2]], True),
    ("TimeDistributed", "time_distributed_dense",
     {"layer": wrapped("Dense", units=3, activation="tanh", use_bias=True)}, [[2, 4, 5]],
     True),
    ("TimeDistributed", "time_distributed_conv2d",
     {"layer": wrapped("Conv2D", filters=2, kernel_size=[3, 3], strides=[1, 1],
                       padding="valid", dilation_rate=[1, 1], groups=1, activation="relu",
                       use_bias=True)}, [[2, 3, 5, 5, 2]], True),
    ("TimeDistributed", "time_distributed_max_pooling1d",
     {"layer": wrapped("MaxPooling1D", pool_size=[2], strides=[2], padding="valid")},
     [[2, 3, 6, 2]]),
    # Conv1D padding="causal", DepthwiseConv1D/2D, SeparableConv1D/2D.
    ("Conv1D", "conv1d_causal_k3", conv_config(filters=4, kernel_size=3), [[2, 7, 3]], True),
    ("Conv1D", "conv1d_causal_dilated", conv_config(filters=2, kernel_size=2, dilation_rate=3),
     [[2, 6, 3]], True),
    ("Conv1D", "conv1d_causal_strided_relu",
     conv_config(filters=3, kernel_size=3, strides=2, activation="relu"), [[2, 7, 2]], True),
    ("DepthwiseConv2D", "depthwise_conv2d_k3", depthwise_config(kernel_size=3), [[2, 5, 6, 3]],
     True),
    ("DepthwiseConv2D", "depthwise_conv2d_m2_same_strided",
     depthwise_config(kernel_size=[3, 2], depth_multiplier=2, padding="same", strides=2,
                      activation="relu"), [[2, 7, 6, 3]], True),
    ("DepthwiseConv2D", "depthwise_conv2d_dilated_no_bias",
     depthwise_config(kernel_size=2, dilation_rate=2, use_bias=False), [[1, 6, 6, 2]], True),
    ("DepthwiseConv1D", "depthwise_conv1d_m3", depthwise_config(kernel_size=3, depth_multiplier=3),
     [[2, 8, 2]], True),
    ("SeparableConv2D", "separable_conv2d_k3", separable_config(filters=4, kernel_size=3),
     [[2, 6, 6, 3]], True),
    ("SeparableConv2D", "separable_conv2d_m2_same_strided",
     separable_config(filters=5, kernel_size=3, depth_multiplier=2, padding="same", strides=2,
                      activation="tanh"), [[2, 7, 5, 2]], True),
    ("SeparableConv1D", "separable_conv1d_dilated_no_bias",
     separable_config(filters=3, kernel_size=2, dilation_rate=2, use_bias=False), [[2, 9, 4]],
     True),
    # Attention, AdditiveAttention, MultiHeadAttention (inputs: query, value[, key]).
    ("Attention", "attention_dot", attention_config(), [[2, 3, 4], [2, 3, 4]], False, 1e-4),
    ("Attention", "attention_dot_scale_tq_tv", attention_config(use_scale=True),
     [[2, 3, 4], [2, 5, 4]], True, 1e-4),
    ("Attention", "attention_dot_key_scores", attention_config(return_attention_scores=True),
     [[2, 4, 3], [2, 2, 5], [2, 2, 3]], False, 1e-4),
    ("Attention", "attention_concat", attention_config(score_mode="concat"),
     [[2, 3, 4], [2, 2, 4]], True, 1e-4),
    ("Attention", "attention_concat_scale_key",
     attention_config(score_mode="concat", use_scale=True),
     [[2, 2, 3], [2, 4, 2], [2, 4, 3]], True, 1e-4),
    ("AdditiveAttention", "additive_attention_default",
     {"use_scale": True, "dropout": 0.0}, [[2, 3, 4], [2, 5, 4]], True, 1e-4),
    ("AdditiveAttention", "additive_attention_no_scale_key",
     {"use_scale": False, "dropout": 0.0}, [[2, 4, 3], [2, 2, 5], [2, 2, 3]], False, 1e-4),
    ("MultiHeadAttention", "mha_1_head_self", mha_config(num_heads=1, key_dim=3),
     [[2, 4, 5], [2, 4, 5]], True, 1e-4),
    ("MultiHeadAttention", "mha_2_heads_cross", mha_config(num_heads=2, key_dim=3),
     [[2, 3, 4], [2, 5, 6]], True, 1e-4),
    # Keras's fused dot_product_attention (JAX) needs value_dim == key_dim;
    # with the scores returned it takes its einsum path.
    ("MultiHeadAttention", "mha_3_heads_value_dim_key_scores",
     mha_config(num_heads=3, key_dim=2, value_dim=4, return_attention_scores=True),
     [[2, 4, 5], [2, 3, 3], [2, 3, 6]], True, 1e-4),
    ("MultiHeadAttention", "mha_2_heads_no_bias", mha_config(num_heads=2, key_dim=4,
                                                             use_bias=False),
     [[2, 3, 4], [2, 3, 4]], True, 1e-4),
    ("MultiHeadAttention", "mha_2_heads_output_shape",
     mha_config(num_heads=2, key_dim=3, output_shape=[7]), [[2, 3, 4], [2, 2, 5]], True, 1e-4),
]


def norm_config(**kw):
    """A Normalization config: Keras's defaults, then `kw`."""
    config = dict(axis=[-1], invert=False, mean=None, variance=None)
    config.update(kw)
    return config


# Normalization: (case name, Keras config, input shape, shape of the data
# that adapt() learns the mean and variance from, or None when the config
# gives them). The data, stored as `<case>/adapt`, is adapted on by Keras
# here (in float64) and by KerasParityTests before predicting.
NORMALIZATION_CASES = [
    ("norm_adapt_last_axis", norm_config(), [3, 5], [20, 5]),
    ("norm_adapt_axis_1_rank3", norm_config(axis=[1]), [2, 4, 3], [10, 4, 3]),
    ("norm_adapt_axes_1_3_rank4", norm_config(axis=[1, 3]), [2, 3, 4, 2], [6, 3, 4, 2]),
    ("norm_adapt_axis_none", norm_config(axis=[]), [3, 4], [16, 4]),
    ("norm_adapt_invert", norm_config(invert=True), [3, 4], [12, 4]),
    ("norm_adapt_invert_axis_minus_2", norm_config(axis=[-2], invert=True), [2, 3, 4],
     [7, 3, 4]),
    ("norm_given_scalar", norm_config(axis=[], mean=2.0, variance=4.0), [3, 5], None),
    ("norm_given_per_feature",
     norm_config(mean=[0.5, -1.0, 2.0, 0.0], variance=[4.0, 0.25, 1e-16, 9.0]), [3, 4],
     None),
    ("norm_given_broadcast_rank4_invert",
     norm_config(axis=[1, 2], mean=[1.0, -2.0, 0.5, 3.0], variance=[1.0, 2.0, 0.5, 4.0],
                 invert=True), [2, 3, 4, 2], None),
]


def gen_normalization_cases(cases, tensors):
    for name, config, shape, adapt_shape in NORMALIZATION_CASES:
        c = Case(name)
        x = c.input(shape)
        layer = keras_layer("Normalization", config)
        extra = []
        if adapt_shape is not None:
            # Features of different means and spreads.
            data = (c.input(adapt_shape, -2.0, 3.0) * 1.5 + 0.25).astype(np.float32)
            layer.adapt(data.astype(np.float64))
            extra.append((name + "/adapt", data))
        out = np.asarray(layer(x.astype(np.float64)), dtype=np.float64)
        # The adapted weights (mean, variance, count), which the test
        # compares with its own adapt()'s.
        weights = [w.astype(np.int32 if w.dtype.kind == "i" else np.float32)
                   for w in layer.get_weights()]
        add(cases, tensors, name, "Normalization", config, [x], weights, [out], 1e-5, 1e-5)
        tensors.extend(extra)


def gen_keras_cases(cases, tensors):
    for entry in KERAS_CASES:
        cls, name, config, shapes = entry[:4]
        with_weights = len(entry) > 4 and entry[4]
        tol = entry[5] if len(entry) > 5 else 1e-5
        c = Case(name)
        inputs = [c.input(s) for s in shapes]
        weights = []
        if with_weights:
            probe = keras_layer(cls, {k: v for k, v in config.items()
                                      if k != "return_attention_scores"})
            if cls in ("Attention", "AdditiveAttention", "MultiHeadAttention"):
                call_layer(cls, probe, [keras.Input(s[1:]) for s in shapes])
            else:
                probe(keras.Input(shapes[0][1:]))
            weights = [c.weight(w.shape) for w in probe.get_weights()]
        outs = run_keras(cls, config, inputs, weights)
        add(cases, tensors, name, cls, config, inputs, weights, outs, tol, tol)


def add(cases, tensors, name, cls, config, inputs, weights, outs, rtol, atol):
    cfg = OrderedDict([("name", name)])
    cfg.update((k, v) for k, v in config.items() if k != "name")
    cases.append(OrderedDict([("name", name), ("class", cls), ("config", cfg),
                              ("rtol", rtol), ("atol", atol)]))
    for i, x in enumerate(inputs):
        tensors.append(("%s/input.%d" % (name, i), x))
    for i, w in enumerate(weights):
        tensors.append(("%s/weight.%d" % (name, i), w))
    for k, out in enumerate(outs):
        if not np.all(np.isfinite(out)):
            raise ValueError("non-finite output in %r" % name)
        suffix = "" if k == 0 else ".%d" % k
        tensors.append(("%s/expected%s" % (name, suffix), out.astype(np.float32)))


def gen_guide_cases(cases, tensors):
    """Every PyTorch case, through Keras. Returns the disagreements."""
    torch_cases, _, arrays = read_safetensors(TORCH_PATH)
    disagree = []
    for case in torch_cases:
        name, cls = case["name"], case["class"]

        def numbered(kind):
            out, i = [], 0
            while "%s/%s.%d" % (name, kind, i) in arrays:
                out.append(np.array(arrays["%s/%s.%d" % (name, kind, i)]))
                i += 1
            return out

        inputs, weights = numbered("input"), numbered("weight")
        torch_outs = [np.array(arrays[name + "/expected"])] + numbered("expected")
        config = {k: v for k, v in case["config"].items() if k != "name"}
        outs = run_keras(cls, config, inputs, weights)
        for k, (got, want) in enumerate(zip(outs, torch_outs)):
            err = np.abs(got - want) - (case["atol"] + case["rtol"] * np.abs(got))
            if got.shape != want.shape or np.any(err > 0):
                disagree.append("%s output %d: shapes %s / %s, max excess %.3g"
                                % (name, k, got.shape, want.shape,
                                   float(np.max(err)) if got.shape == want.shape
                                   else float("nan")))
        add(cases, tensors, name, cls, config, inputs, weights, outs,
            case["rtol"], case["atol"])
    return disagree


def check(cases, tensors):
    """Compares the committed file with the cases just computed."""
    problems = differences(OUT_PATH, cases, tensors, read_safetensors)
    for p in problems:
        print("keras_layers.safetensors:", p)
    print("%d cases checked against Keras %s: %s"
          % (len(cases), keras.__version__, "MISMATCH" if problems else "same"))
    return 1 if problems else 0


def main():
    cases, tensors = [], []
    disagree = gen_guide_cases(cases, tensors)
    gen_keras_cases(cases, tensors)
    gen_normalization_cases(cases, tensors)
    if "--check" in sys.argv[1:]:
        return check(cases, tensors)
    metadata = {"cases": json.dumps(cases, separators=(",", ":")),
                "keras": keras.__version__}
    write_safetensors(OUT_PATH, tensors, metadata)
    read_safetensors(OUT_PATH)  # checks what was written
    counts = Counter(c["class"] for c in cases)
    for cls in sorted(counts):
        print("%-24s %3d" % (cls, counts[cls]))
    print("%d cases, %d classes, Keras %s -> %s"
          % (len(cases), len(counts), keras.__version__, OUT_PATH))
    for d in disagree:
        print("Keras differs from the PyTorch reference:", d)
    return 0


if __name__ == "__main__":
    sys.exit(main())
