"""BatchNormalization, Embedding, Dense, the merge layers, Activation,
Flatten and Reshape: the Keras 2 semantics with torch and their cases."""

from collections import OrderedDict

import numpy as np
import torch

from .common import activation, add_case, Case, t64


# --------------------------------------------------------------------------
# BatchNormalization, Embedding, Dense
# --------------------------------------------------------------------------

def batchnorm_case(name, in_shape, epsilon, center=True, scale=True):
    """Keras BatchNormalization inference (axis -1):
    y = (x - moving_mean) / sqrt(moving_variance + eps) * gamma + beta.
    Weights: gamma (if scale), beta (if center), moving_mean, moving_variance."""
    c = Case(name)
    x = c.input(in_shape)
    ch = in_shape[-1]
    weights = []
    gamma = beta = None
    if scale:
        gamma = c.weight([ch])
        weights.append(gamma)
    if center:
        beta = c.weight([ch])
        weights.append(beta)
    mean = c.weight([ch])
    var = c.weight([ch], 0.5, 1.5)
    weights += [mean, var]
    y = (t64(x) - t64(mean)) / torch.sqrt(t64(var) + epsilon)
    if scale:
        y = y * t64(gamma)
    if center:
        y = y + t64(beta)
    config = OrderedDict([("axis", -1), ("momentum", 0.99), ("epsilon", epsilon),
                          ("center", center), ("scale", scale)])
    add_case(c, "BatchNormalization", config, [x], weights, y)


def embedding_case(name, in_shape, input_dim, output_dim):
    """Keras Embedding: out[..., :] = embeddings[index]."""
    c = Case(name)
    idx = c.int_input(in_shape, input_dim)
    emb = c.weight([input_dim, output_dim])
    y = t64(emb)[torch.from_numpy(idx.astype(np.int64))]
    config = OrderedDict([("input_dim", input_dim), ("output_dim", output_dim)])
    add_case(c, "Embedding", config, [idx], [emb], y)


def dense_case(name, in_shape, units, act="linear", use_bias=True):
    """Keras Dense: y = act(x @ kernel + bias) on the last axis (any rank)."""
    c = Case(name)
    x = c.input(in_shape)
    kernel = c.weight([in_shape[-1], units])
    weights = [kernel]
    y = torch.matmul(t64(x), t64(kernel))
    if use_bias:
        bias = c.weight([units])
        weights.append(bias)
        y = y + t64(bias)
    y = activation(act, y)
    config = OrderedDict([("units", units), ("activation", act), ("use_bias", use_bias)])
    add_case(c, "Dense", config, [x], weights, y)


def gen_batchnorm_embedding_dense():
    batchnorm_case("batchnorm_rank2_eps1e3", [3, 5], 1e-3)
    batchnorm_case("batchnorm_rank4_eps1e5", [3, 5, 6, 4], 1e-5)
    batchnorm_case("batchnorm_rank3_nocenter", [1, 7, 3], 1e-3, center=False)
    batchnorm_case("batchnorm_rank4_noscale", [1, 6, 5, 2], 1e-3, scale=False)
    batchnorm_case("batchnorm_rank2_plain_eps1e5", [3, 6], 1e-5, center=False, scale=False)

    embedding_case("embedding_seq", [3, 7], 10, 4)
    embedding_case("embedding_seq_b1", [1, 5], 3, 6)
    embedding_case("embedding_rank3", [3, 2, 4], 7, 3)
    embedding_case("embedding_rank3_b1", [1, 3, 5], 20, 2)

    dense_case("dense_rank2", [3, 5], 4)
    dense_case("dense_rank2_relu_nobias", [1, 6], 3, "relu", use_bias=False)
    dense_case("dense_rank3", [3, 4, 6], 3)
    dense_case("dense_rank3_softmax", [1, 5, 2], 4, "softmax")
    dense_case("dense_rank4_tanh", [1, 2, 3, 5], 2, "tanh")


# --------------------------------------------------------------------------
# Merging
# --------------------------------------------------------------------------

def merge_case(cls, name, shapes, axis=None):
    """Keras merge layers: element-wise Add / Subtract (x0 - x1) / Multiply /
    Average (mean) / Maximum, and Concatenate along `axis` (batch is axis 0)."""
    c = Case(name)
    xs = [c.input(s) for s in shapes]
    ts = [t64(x) for x in xs]
    if cls == "Add":
        y = sum(ts[1:], ts[0])
    elif cls == "Subtract":
        assert len(ts) == 2
        y = ts[0] - ts[1]
    elif cls == "Multiply":
        y = ts[0]
        for t in ts[1:]:
            y = y * t
    elif cls == "Average":
        y = sum(ts[1:], ts[0]) / len(ts)
    elif cls == "Maximum":
        y = ts[0]
        for t in ts[1:]:
            y = torch.maximum(y, t)
    elif cls == "Concatenate":
        y = torch.cat(ts, dim=axis)
    else:
        raise ValueError(cls)
    config = OrderedDict()
    if cls == "Concatenate":
        config["axis"] = axis
    add_case(c, cls, config, xs, [], y)


def gen_merging():
    for cls in ("Add", "Multiply", "Average", "Maximum"):
        p = cls.lower()
        merge_case(cls, p + "_2_rank2", [[3, 5]] * 2)
        merge_case(cls, p + "_3_rank2", [[1, 6]] * 3)
        merge_case(cls, p + "_2_rank4", [[3, 5, 6, 2]] * 2)
        merge_case(cls, p + "_3_rank3", [[3, 4, 5]] * 3)
    merge_case("Subtract", "subtract_rank2", [[3, 5]] * 2)
    merge_case("Subtract", "subtract_rank2_b1", [[1, 7]] * 2)
    merge_case("Subtract", "subtract_rank3", [[3, 4, 5]] * 2)
    merge_case("Subtract", "subtract_rank4", [[1, 5, 6, 3]] * 2)
    merge_case("Concatenate", "concatenate_last_rank2", [[3, 4], [3, 6]], axis=-1)
    merge_case("Concatenate", "concatenate_last_rank4_3", [[1, 5, 6, 2], [1, 5, 6, 3],
                                                          [1, 5, 6, 1]], axis=-1)
    merge_case("Concatenate", "concatenate_axis1_rank3", [[3, 4, 5], [3, 2, 5]], axis=1)
    merge_case("Concatenate", "concatenate_axis2_rank4", [[3, 5, 2, 3], [3, 5, 4, 3],
                                                         [3, 5, 1, 3]], axis=2)
    merge_case("Concatenate", "concatenate_axis1_rank4", [[1, 3, 5, 2], [1, 4, 5, 2]], axis=1)


# --------------------------------------------------------------------------
# Activation, Flatten, Reshape
# --------------------------------------------------------------------------

def activation_case(name, in_shape, act, scale=None):
    """Keras Activation layer. `scale` (a power of two, so exact in float32) widens the
    inputs from uniform(-1, 1) to uniform(-scale, scale)."""
    c = Case(name)
    x = c.input(in_shape)
    if scale is not None:
        x = x * np.float32(scale)
    if act == "hard_sigmoid":  # both clipped regions and the linear part are covered
        assert (x < -2.5).any() and (x > 2.5).any() and (np.abs(x) < 2.5).any(), name
    y = activation(act, t64(x))
    add_case(c, "Activation", OrderedDict([("activation", act)]), [x], [], y)


def flatten_case(name, in_shape):
    """Keras Flatten (channels_last): (batch, d1, ..., dn) -> (batch, d1*...*dn), row-major."""
    c = Case(name)
    x = c.input(in_shape)
    y = t64(x).reshape(in_shape[0], -1)
    add_case(c, "Flatten", OrderedDict(), [x], [], y)


def reshape_case(name, in_shape, target_shape):
    """Keras Reshape: row-major reshape of each sample to target_shape (one -1 allowed)."""
    c = Case(name)
    x = c.input(in_shape)
    y = t64(x).reshape([in_shape[0]] + list(target_shape))
    add_case(c, "Reshape", OrderedDict([("target_shape", list(target_shape))]), [x], [], y)


def gen_misc():
    for act, shape in (("linear", [3, 5]), ("relu", [3, 4, 5]), ("sigmoid", [1, 6]),
                       ("tanh", [3, 2, 3, 4]), ("softmax", [3, 7]), ("gelu", [1, 4, 5]),
                       ("elu", [3, 6]), ("selu", [3, 3, 4]), ("swish", [1, 2, 3, 5])):
        activation_case("activation_" + act, shape, act)
    # Keras softmax reduces over the last axis for rank > 2 too.
    activation_case("activation_softmax_rank4", [1, 3, 4, 5], "softmax")
    # Keras 3 hard_sigmoid(x) = relu6(x + 3) / 6: 0 for x <= -3, 1 for x >= 3.
    # Inputs uniform(-4, 4) so that both clipped regions and the linear part are hit.
    activation_case("activation_hard_sigmoid", [3, 4, 5], "hard_sigmoid", scale=4.0)

    flatten_case("flatten_rank3", [3, 4, 5])
    flatten_case("flatten_rank4", [1, 2, 3, 4])
    flatten_case("flatten_rank5", [3, 5, 2, 3, 2])
    flatten_case("flatten_rank2", [1, 7])

    reshape_case("reshape_rank2_to_rank3", [3, 12], [3, 4])
    reshape_case("reshape_rank4_to_rank3", [1, 4, 6, 2], [8, 6])
    reshape_case("reshape_rank3_to_rank2", [3, 6, 4], [24])
    reshape_case("reshape_rank2_to_rank4", [1, 24], [2, 3, 4])
    reshape_case("reshape_minus_one", [3, 2, 3, 4], [6, -1])
