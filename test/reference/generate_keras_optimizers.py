#!/usr/bin/env python3
"""Generate test/reference/keras_optimizers.safetensors and
keras_metrics.safetensors: Keras 3's fit() and evaluate().

Each case trains one small model with one Keras optimizer (its options,
clipping, weight decay, a learning-rate schedule, or callbacks that change
the rate) in Keras 3 itself (JAX backend, float64): Input(4) -> Dense(3,
tanh) -> Dense(5) with a sparse categorical cross-entropy on logits, fit()
on 8 samples, batch_size 4, 2 epochs (or the case's), shuffle=False: four
optimizer steps. OptimizerParityTest.cpp
runs the same fit() in layerc and compares the weights after it and the
loss of each epoch.

Run it from the repository root with a Python that has Keras and JAX
(`.ci/keras-venv.sh` makes one from PyPI):

    /tmp/layerc-keras-venv/bin/python test/reference/generate_keras_optimizers.py
    /tmp/layerc-keras-venv/bin/python test/reference/generate_keras_optimizers.py --check

--check writes nothing: it recomputes every case and compares the committed
files with it.

keras_metrics.safetensors holds METRIC_CASES: evaluate() of a Dense layer
with a loss and metrics; per case `x`, `y`, `weight.<i>` and `values` (the
loss, then each metric in the order compile() got them).
MetricParityTest.cpp checks layerc's evaluate() against them.

Tensors per case: `<case>/x`, `<case>/y`, `<case>/initial.<i>` and
`<case>/final.<i>` (the weights in Keras's get_weights() order, before and
after fit), `<case>/loss` (History's loss per epoch) and
`<case>/learning_rate` (the optimizer's after fit). The metadata `cases`
lists {name, class, config[, fit]}: the Keras optimizer class, the
arguments it was built with (a schedule as Keras serializes it), and fit()'s
epochs and callbacks (a LearningRateScheduler names a function of
SCHEDULER_FUNCTIONS).
"""

import json
import os
import sys
import zlib

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_ENABLE_X64", "1")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402

import keras  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from torch_ref.safetensors_io import (NAME_RE, differences,  # noqa: E402
                                      read_raw, write_safetensors)

OUT_PATH = os.path.join(HERE, "keras_optimizers.safetensors")
METRICS_PATH = os.path.join(HERE, "keras_metrics.safetensors")

keras.config.set_floatx("float64")


def mean_iou(num_classes, sparse_y_true=True, sparse_y_pred=True,
             name="mean_io_u"):
    """A MeanIoU metric as Keras serializes it (the fields layerc reads)."""
    return {"class_name": "MeanIoU",
            "config": {"num_classes": num_classes, "name": name,
                       "sparse_y_true": sparse_y_true,
                       "sparse_y_pred": sparse_y_pred}}


def serialized(module, cls, **config):
    """Keras's serialized form of a regularizer or constraint."""
    return {"module": "keras." + module, "class_name": cls, "config": config}


def schedule(cls, **config):
    return {"class_name": cls, "config": config}


def exponential_decay(initial, steps, rate, staircase=False):
    return {"class_name": "ExponentialDecay",
            "config": {"initial_learning_rate": initial, "decay_steps": steps,
                       "decay_rate": rate, "staircase": staircase}}


# (name, Keras class, constructor arguments). Learning rates are larger
# than Keras's defaults so that four steps move the weights well beyond the
# tolerance: a wrong rule cannot pass.
CASES = [
    ("sgd", "SGD", {"learning_rate": 0.1}),
    ("sgd_nesterov", "SGD", {"learning_rate": 0.1, "momentum": 0.9,
                             "nesterov": True}),
    ("rmsprop", "RMSprop", {"learning_rate": 0.01}),
    ("rmsprop_centered", "RMSprop", {"learning_rate": 0.01, "rho": 0.8,
                                     "centered": True}),
    ("adam", "Adam", {"learning_rate": 0.05}),
    ("adam_amsgrad", "Adam", {"learning_rate": 0.05, "amsgrad": True}),
    ("adamw", "AdamW", {"learning_rate": 0.05, "weight_decay": 0.1}),
    ("adagrad", "Adagrad", {"learning_rate": 0.1}),
    ("adagrad_accumulator", "Adagrad", {"learning_rate": 0.1,
                                        "initial_accumulator_value": 0.5,
                                        "epsilon": 1e-3}),
    ("adadelta", "Adadelta", {"learning_rate": 1.0}),
    ("adadelta_rho", "Adadelta", {"learning_rate": 2.0, "rho": 0.5}),
    ("adamax", "Adamax", {"learning_rate": 0.05}),
    ("nadam", "Nadam", {"learning_rate": 0.05}),
    ("nadam_betas", "Nadam", {"learning_rate": 0.05, "beta_1": 0.8,
                              "beta_2": 0.9}),
    ("lion", "Lion", {"learning_rate": 0.01}),
    ("lion_betas", "Lion", {"learning_rate": 0.01, "beta_1": 0.5,
                            "beta_2": 0.9}),
    ("adam_clipnorm", "Adam", {"learning_rate": 0.05, "clipnorm": 0.1}),
    ("sgd_global_clipnorm", "SGD", {"learning_rate": 0.5,
                                    "global_clipnorm": 0.3}),
    ("rmsprop_clipvalue", "RMSprop", {"learning_rate": 0.01,
                                      "clipvalue": 0.02}),
    ("adamax_weight_decay", "Adamax", {"learning_rate": 0.05,
                                       "weight_decay": 0.2}),
    ("nadam_weight_decay", "Nadam", {"learning_rate": 0.05,
                                     "weight_decay": 0.2}),
    ("lion_weight_decay", "Lion", {"learning_rate": 0.01,
                                   "weight_decay": 0.5}),
    ("adagrad_exponential_decay", "Adagrad",
     {"learning_rate": exponential_decay(0.1, 2, 0.5)}),
    ("adadelta_staircase", "Adadelta",
     {"learning_rate": exponential_decay(2.0, 3, 0.5, True)}),
    ("sgd_piecewise_constant", "SGD",
     {"learning_rate": schedule("PiecewiseConstantDecay",
                                boundaries=[1, 2], values=[0.3, 0.1, 0.05])}),
    ("sgd_inverse_time", "SGD",
     {"learning_rate": schedule("InverseTimeDecay", initial_learning_rate=0.3,
                                decay_steps=1, decay_rate=0.5)}),
    ("sgd_inverse_time_staircase", "SGD",
     {"learning_rate": schedule("InverseTimeDecay", initial_learning_rate=0.3,
                                decay_steps=2, decay_rate=1.5,
                                staircase=True)}),
    ("sgd_polynomial", "SGD",
     {"learning_rate": schedule("PolynomialDecay", initial_learning_rate=0.3,
                                decay_steps=2, end_learning_rate=0.01,
                                power=2.0)}),
    ("sgd_polynomial_cycle", "SGD",
     {"learning_rate": schedule("PolynomialDecay", initial_learning_rate=0.3,
                                decay_steps=3, end_learning_rate=0.01,
                                power=0.5, cycle=True)}),
    ("sgd_cosine", "SGD",
     {"learning_rate": schedule("CosineDecay", initial_learning_rate=0.3,
                                decay_steps=3, alpha=0.1)}),
    ("adam_cosine_warmup", "Adam",
     {"learning_rate": schedule("CosineDecay", initial_learning_rate=0.01,
                                decay_steps=2, alpha=0.2, warmup_target=0.05,
                                warmup_steps=2)}),
    # Callbacks that change the learning rate (3 epochs: 6 steps).
    ("sgd_learning_rate_scheduler", "SGD", {"learning_rate": 0.2},
     {"epochs": 3, "callbacks": [{"class_name": "LearningRateScheduler",
                                  "config": {"schedule": "halve_after_0"}}]}),
    ("rmsprop_reduce_lr_on_plateau", "RMSprop", {"learning_rate": 0.02},
     {"epochs": 4, "callbacks": [{"class_name": "ReduceLROnPlateau",
                                  "config": {"monitor": "loss", "mode": "max",
                                             "factor": 0.5, "patience": 1,
                                             "cooldown": 1,
                                             "min_lr": 0.004}}]}),

# Regularizers and constraints on the two Dense layers ("layers": their
# extra Keras arguments, serialized).
    ("sgd_regularizers", "SGD", {"learning_rate": 0.1},
     {"layers": [{"kernel_regularizer": serialized("regularizers", "L2", l2=0.05)},
                 {"kernel_regularizer": serialized("regularizers", "L1", l1=0.02),
                  "bias_regularizer": serialized("regularizers", "L1L2", l1=0.01,
                                                 l2=0.03)}]}),
    ("adam_max_norm_non_neg", "Adam", {"learning_rate": 0.1},
     {"layers": [{"kernel_constraint": serialized("constraints", "MaxNorm", max_value=0.5,
                                                  axis=0)},
                 {"bias_constraint": serialized("constraints", "NonNeg")}]}),
    # Activity regularizers: (l1 sum|h| + l2 sum h^2) / batch of each
    # layer's output joins the loss.
    ("sgd_activity_regularizers", "SGD", {"learning_rate": 0.2},
     {"layers": [{"activity_regularizer": serialized("regularizers", "L1L2",
                                                     l1=0.05, l2=0.1)},
                 {"activity_regularizer": serialized("regularizers", "L2",
                                                     l2=0.2)}]}),
    ("sgd_unit_min_max_norm", "SGD", {"learning_rate": 0.2},
     {"layers": [{"kernel_constraint": serialized("constraints", "UnitNorm", axis=1),
                  "bias_regularizer": serialized("regularizers", "L2", l2=0.1)},
                 {"kernel_constraint": serialized("constraints", "MinMaxNorm",
                                                  min_value=0.2, max_value=0.6, rate=0.5,
                                                  axis=0)}]}),
    # Keras's sample_weight and class_weight (layer-autodiff's
    # sample-weights): each sample's loss times its weight, the batch's sum
    # divided by the batch size; class_weight weighs each sample by its
    # label's entry (1 for a class it leaves out). A zero and a negative
    # weight too (Keras accepts them).
    ("sgd_sample_weight", "SGD", {"learning_rate": 0.2},
     {"sample_weight": [0.5, 2.0, 1.0, 0.0, 3.0, 1.5, -0.25, 1.0]}),
    ("adam_class_weight", "Adam", {"learning_rate": 0.05},
     {"class_weight": {"0": 0.5, "2": 4.0, "4": 2.0}}),
]

# The Python functions that LearningRateScheduler cases name (the C++ test
# defines the same).
SCHEDULER_FUNCTIONS = {
    "halve_after_0": lambda epoch, lr: lr * 0.5 if epoch > 0 else lr,
}

BATCH, EPOCHS, SAMPLES = 4, 2, 8

# Metrics: Input(6) -> Dense(units, activation) with random weights,
# evaluate() on 16 samples in batches of 5 (the last one of 1), so each
# metric is accumulated over uneven batches as Keras does. (name, units,
# activation, loss (":logits": from_logits=True), targets, metrics[,
# extra: {"sample_weight": True} evaluates with random sample weights]).
METRIC_CASES = [
    ("binary", 3, "sigmoid", "binary_crossentropy", "binary",
     ["binary_accuracy", "precision", "recall", "mse", "mae", "auc"]),
    ("categorical", 9, "softmax", "categorical_crossentropy", "onehot",
     ["categorical_accuracy", "top_k_categorical_accuracy", "precision",
      "recall", "accuracy", "auc"]),
    ("sparse", 9, "softmax", "sparse_categorical_crossentropy", "sparse",
     ["sparse_categorical_accuracy", "sparse_top_k_categorical_accuracy",
      "accuracy"]),
    # MeanIoU (a metric object): the argmax of the scores against integer
    # labels, and one-hot targets against the argmax.
    ("mean_iou", 4, "softmax", "sparse_categorical_crossentropy", "sparse",
     [mean_iou(num_classes=4, sparse_y_pred=False)]),
    ("mean_iou_onehot", 3, "softmax", "categorical_crossentropy", "onehot",
     [mean_iou(num_classes=3, sparse_y_true=False, sparse_y_pred=False,
               name="iou")]),
    # Each loss, on logits too.
    ("regression_mse", 4, "linear", "mean_squared_error", "regression",
     ["mse", "mae"]),
    ("regression_mae", 4, "tanh", "mean_absolute_error", "regression",
     ["mae"]),
    ("binary_logits", 3, "linear", "binary_crossentropy:logits", "binary",
     ["binary_accuracy"]),
    ("categorical_logits", 9, "linear", "categorical_crossentropy:logits",
     "onehot", ["categorical_accuracy"]),
    ("sparse_logits", 9, "linear", "sparse_categorical_crossentropy:logits",
     "sparse", ["sparse_categorical_accuracy"]),
    # evaluate(sample_weight=...): the loss is weighted, the metrics of
    # compile(metrics=...) are not (Keras 3 weighs weighted_metrics only).
    ("sparse_weighted", 9, "softmax", "sparse_categorical_crossentropy",
     "sparse", ["sparse_categorical_accuracy", "accuracy"],
     {"sample_weight": True}),
    ("regression_weighted", 4, "linear", "mean_squared_error", "regression",
     ["mse", "mae"], {"sample_weight": True}),
]
METRIC_SAMPLES, METRIC_BATCH = 16, 5


def model(layers=None):
    """The cases' model; `layers` holds each Dense's extra arguments
    (serialized regularizers and constraints)."""
    extra = []
    for spec in layers or [{}, {}]:
        kwargs = {}
        for key, value in spec.items():
            module = (keras.regularizers if "regularizer" in key
                      else keras.constraints)
            kwargs[key] = module.deserialize(value)
        extra.append(kwargs)
    x = keras.Input((4,))
    h = keras.layers.Dense(3, activation="tanh", **extra[0])(x)
    return keras.Model(x, keras.layers.Dense(5, **extra[1])(h))


def optimizer(cls, config):
    config = dict(config)
    lr = config.get("learning_rate")
    if isinstance(lr, dict):
        config["learning_rate"] = keras.optimizers.schedules.deserialize(lr)
    return getattr(keras.optimizers, cls)(**config)


# Arguments whose effect each case must show: the case is also run without
# them, and its weights must end elsewhere (by far more than the test's
# tolerance), so a layerc that ignored the argument could not pass.
MUST_MATTER = ("clipnorm", "global_clipnorm", "clipvalue", "weight_decay",
               "initial_accumulator_value")
# The same for fit()'s arguments.
FIT_MUST_MATTER = ("layers", "sample_weight", "class_weight")


def callback(spec):
    config = dict(spec["config"])
    if spec["class_name"] == "LearningRateScheduler":
        config["schedule"] = SCHEDULER_FUNCTIONS[config["schedule"]]
    return getattr(keras.callbacks, spec["class_name"])(**config)


def run_case(name, cls, config, fit=None):
    assert NAME_RE.match(name), name
    fit = fit or {}
    tensors = fit_case(name, cls, config, fit)
    finals = [t for n, t in tensors if "/final." in n]
    for key in MUST_MATTER:
        if key in config and cls != "AdamW":
            without = {k: v for k, v in config.items() if k != key}
            others = [t for n, t in fit_case(name, cls, without, fit)
                      if "/final." in n]
            moved = max(np.abs(a - b).max() for a, b in zip(finals, others))
            assert moved > 1e-3, (name, key, moved)
    for key in FIT_MUST_MATTER:
        if key not in fit:
            continue
        plain = {k: v for k, v in fit.items() if k != key}
        others = [t for n, t in fit_case(name, cls, config, plain)
                  if "/final." in n]
        moved = max(np.abs(a - b).max() for a, b in zip(finals, others))
        assert moved > 1e-3, (name, key, moved)
    case = {"name": name, "class": cls, "config": config}
    if fit:
        case["fit"] = fit
    return case, tensors


def fit_case(name, cls, config, fit):
    """The case's tensors: data, initial and final weights, losses."""
    rng = np.random.RandomState(zlib.crc32(name.encode()) & 0x7FFFFFFF)
    x = rng.uniform(-2, 2, size=(SAMPLES, 4)).astype(np.float32)
    y = rng.randint(0, 5, size=(SAMPLES,)).astype(np.int32)
    m = model(fit.get("layers"))
    initial = [rng.uniform(-0.8, 0.8, size=w.shape).astype(np.float32)
               for w in m.get_weights()]
    m.set_weights([w.astype(np.float64) for w in initial])
    m.compile(optimizer=optimizer(cls, config),
              loss=keras.losses.SparseCategoricalCrossentropy(
                  from_logits=True))
    weighting = {}
    if "sample_weight" in fit:
        weighting["sample_weight"] = np.array(fit["sample_weight"])
    if "class_weight" in fit:
        weighting["class_weight"] = {int(k): v
                                     for k, v in fit["class_weight"].items()}
    history = m.fit(x.astype(np.float64), y, batch_size=BATCH,
                    epochs=fit.get("epochs", EPOCHS), shuffle=False, verbose=0,
                    callbacks=[callback(c) for c in fit.get("callbacks", [])],
                    **weighting)
    tensors = [(name + "/x", x), (name + "/y", y)]
    for i, w in enumerate(initial):
        tensors.append(("%s/initial.%d" % (name, i), w))
    for i, w in enumerate(m.get_weights()):
        tensors.append(("%s/final.%d" % (name, i), w.astype(np.float32)))
    tensors.append((name + "/loss",
                    np.array(history.history["loss"], dtype=np.float32)))
    # The learning rate after fit (callbacks change it).
    tensors.append((name + "/learning_rate", np.array(
        [float(m.optimizer.learning_rate)], dtype=np.float32)))
    return tensors


def metric_case(name, units, activation, loss, targets, metrics, extra=None):
    """Keras's evaluate() of one METRIC_CASES entry: the case and tensors
    x, y, weight.<i>, values (the loss, then each metric, in order) and,
    with extra's sample_weight, sample_weight (evaluate()'s)."""
    extra = extra or {}
    rng = np.random.RandomState(zlib.crc32(name.encode()) & 0x7FFFFFFF)
    x = rng.uniform(-2, 2, size=(METRIC_SAMPLES, 6)).astype(np.float32)
    if targets == "binary":
        y = (rng.uniform(size=(METRIC_SAMPLES, units)) > 0.5).astype(np.float32)
    elif targets == "onehot":
        y = np.eye(units, dtype=np.float32)[
            rng.randint(0, units, size=METRIC_SAMPLES)]
    elif targets == "regression":
        y = rng.uniform(-1, 1, size=(METRIC_SAMPLES, units)).astype(np.float32)
    else:
        y = rng.randint(0, units, size=METRIC_SAMPLES).astype(np.int32)
    inp = keras.Input((6,))
    m = keras.Model(inp, keras.layers.Dense(units, activation=activation)(inp))
    weights = [rng.uniform(-1, 1, size=w.shape).astype(np.float32)
               for w in m.get_weights()]
    m.set_weights([w.astype(np.float64) for w in weights])
    loss_name, _, logits = loss.partition(":")
    if logits:
        classes = {"binary_crossentropy": keras.losses.BinaryCrossentropy,
                   "categorical_crossentropy":
                       keras.losses.CategoricalCrossentropy,
                   "sparse_categorical_crossentropy":
                       keras.losses.SparseCategoricalCrossentropy}
        loss_object = classes[loss_name](from_logits=True)
    objects = [keras.metrics.MeanIoU(**k["config"]) if isinstance(k, dict)
               else k for k in metrics]
    names = [k["config"]["name"] if isinstance(k, dict) else k
             for k in metrics]
    m.compile(loss=loss_object if logits else loss_name, metrics=objects)
    sample_weight = None
    if extra.get("sample_weight"):
        # float32 values, so that layerc gets the same weights.
        sample_weight = rng.uniform(-0.5, 3, size=METRIC_SAMPLES).astype(
            np.float32).astype(np.float64)
    logs = m.evaluate(x.astype(np.float64), y, batch_size=METRIC_BATCH,
                      verbose=0, return_dict=True, sample_weight=sample_weight)
    values = [logs["loss"]] + [logs[k] for k in names]
    tensors = [(name + "/x", x), (name + "/y", y)]
    if sample_weight is not None:
        tensors.append((name + "/sample_weight",
                        sample_weight.astype(np.float32)))
    tensors += [("%s/weight.%d" % (name, i), w) for i, w in enumerate(weights)]
    tensors.append((name + "/values", np.array(values, dtype=np.float32)))
    config = {"units": units, "activation": activation, "loss": loss,
              "metrics": metrics}
    config.update(extra)
    return {"name": name, "class": "Dense", "config": config}, tensors


def check(path, cases, tensors):
    problems = differences(path, cases, tensors)
    for p in problems:
        print(os.path.basename(path) + ":", p)
    print("%s: %d cases checked against Keras %s: %s"
          % (os.path.basename(path), len(cases), keras.__version__,
             "MISMATCH" if problems else "same"))
    return 1 if problems else 0


def main():
    files = []
    cases, tensors = [], []
    for name, cls, config, *fit in CASES:
        case, case_tensors = run_case(name, cls, config, *fit)
        cases.append(case)
        tensors.extend(case_tensors)
    files.append((OUT_PATH, cases, tensors))
    cases, tensors = [], []
    for spec in METRIC_CASES:
        case, case_tensors = metric_case(*spec)
        cases.append(case)
        tensors.extend(case_tensors)
    files.append((METRICS_PATH, cases, tensors))
    if "--check" in sys.argv[1:]:
        return max(check(*f) for f in files)
    for path, cases, tensors in files:
        write_safetensors(path, tensors,
                          {"cases": json.dumps(cases, separators=(",", ":")),
                           "keras": keras.__version__})
        read_raw(path)  # checks what was written
        print("%d cases, Keras %s -> %s" % (len(cases), keras.__version__,
                                             path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
