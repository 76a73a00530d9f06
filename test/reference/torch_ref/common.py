"""Case collection and the torch helpers shared by the generators of
generate_torch.py: per-case seeded inputs and weights, the registry of cases
and tensors written to the file, float64 conversion, channels-first/last
layouts, Keras 2 activations and TensorFlow's "same" padding."""

import math
import re
import zlib
from collections import OrderedDict

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(1)  # deterministic float64 reductions
torch.manual_seed(0)

RTOL = 1e-5
ATOL = 1e-5
from .safetensors_io import NAME_RE


# --------------------------------------------------------------------------
# Case collection
# --------------------------------------------------------------------------

class Case:
    def __init__(self, name):
        if not NAME_RE.match(name):
            raise ValueError("bad case name %r" % name)
        self.name = name
        # Per-case seed: independent of the order and number of other cases.
        self.rng = np.random.RandomState(zlib.crc32(name.encode()) & 0x7FFFFFFF)

    def input(self, shape):
        """Keras input, batch first: uniform(-1, 1) float32."""
        return self.rng.uniform(-1.0, 1.0, size=shape).astype(np.float32)

    def int_input(self, shape, high):
        """Integer indices in [0, high) (Embedding)."""
        return self.rng.randint(0, high, size=shape).astype(np.int32)

    def weight(self, shape, low=-0.5, high=0.5):
        return self.rng.uniform(low, high, size=shape).astype(np.float32)


CASES = []          # list of dicts: name, class, config, rtol, atol
TENSORS = []        # list of (tensor name, numpy array) in file order
_CASE_NAMES = set()


def add_case(case, cls, config, inputs, weights, expected, rtol=RTOL, atol=ATOL):
    """Register one case. `config` gets "name" (the case name) prepended.
    `expected` is one tensor, or a list of the layer's outputs for multi-output
    layers (RNN return_state): output 0 is stored as "<case>/expected", output k >= 1
    as "<case>/expected.<k>"."""
    name = case.name
    if name in _CASE_NAMES:
        raise ValueError("duplicate case name %r" % name)
    _CASE_NAMES.add(name)
    cfg = OrderedDict()
    cfg["name"] = re.sub(r"[^A-Za-z0-9]", "_", name)
    for k, v in config.items():
        cfg[k] = v
    CASES.append(OrderedDict([("name", name), ("class", cls), ("config", cfg),
                              ("rtol", rtol), ("atol", atol)]))
    for i, x in enumerate(inputs):
        TENSORS.append(("%s/input.%d" % (name, i), x))
    for i, w in enumerate(weights):
        TENSORS.append(("%s/weight.%d" % (name, i), w))
    outputs = list(expected) if isinstance(expected, (list, tuple)) else [expected]
    for k, out in enumerate(outputs):
        exp = out.detach().numpy() if isinstance(out, torch.Tensor) else out
        exp = np.asarray(exp, dtype=np.float64)
        if not np.all(np.isfinite(exp)):
            raise ValueError("non-finite expected output in %r" % name)
        suffix = "" if k == 0 else ".%d" % k
        TENSORS.append(("%s/expected%s" % (name, suffix), exp.astype(np.float32)))


# --------------------------------------------------------------------------
# Torch helpers (float64, layout conversion, activations, padding)
# --------------------------------------------------------------------------

def t64(a):
    return torch.from_numpy(np.asarray(a, dtype=np.float64))


def to_channels_first(x):
    """Keras (batch, d1..dn, C) -> torch (batch, C, d1..dn)."""
    n = x.dim() - 2
    return x.permute(0, n + 1, *range(1, n + 1)).contiguous()


def to_channels_last(x):
    """torch (batch, C, d1..dn) -> Keras (batch, d1..dn, C)."""
    n = x.dim() - 2
    return x.permute(0, *range(2, n + 2), 1).contiguous()


SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def activation(name, x):
    """Keras 2 activations (on channels-last tensors; softmax uses the last axis)."""
    if name == "linear":
        return x
    if name == "relu":
        return torch.relu(x)
    if name == "sigmoid":
        return torch.sigmoid(x)
    if name == "tanh":
        return torch.tanh(x)
    if name == "softmax":
        return torch.softmax(x, dim=-1)
    if name == "gelu":  # Keras 2 gelu(approximate=False): 0.5 x (1 + erf(x / sqrt 2))
        return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))
    if name == "elu":   # alpha = 1
        return torch.where(x > 0, x, torch.expm1(x))
    if name == "selu":
        return SELU_SCALE * torch.where(x > 0, x, SELU_ALPHA * torch.expm1(x))
    if name == "swish":  # x * sigmoid(x)
        return x * torch.sigmoid(x)
    if name == "hard_sigmoid":  # Keras 3: relu6(x + 3) / 6 (Keras 2: clip(0.2 x + 0.5, 0, 1))
        return torch.clamp(x / 6.0 + 0.5, 0.0, 1.0)
    raise ValueError(name)


def same_pads(length, k_eff, stride):
    """TensorFlow "SAME": out = ceil(L / s), total = max((out-1)*s + k_eff - L, 0),
    before = total // 2, after = total - before."""
    out = -(-length // stride)
    total = max((out - 1) * stride + k_eff - length, 0)
    return total // 2, total - total // 2


def torch_pad_list(pads):
    """[(before, after) per spatial axis, first axis first] -> F.pad's list (last axis first)."""
    flat = []
    for before, after in reversed(pads):
        flat += [before, after]
    return flat


CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
CONV_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
MAX_POOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
AVG_POOL = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}
