#!/usr/bin/env python3
"""Generate test/reference/keras_summary/<model>.txt: Keras 3's summary() text.

Real Keras is the oracle: each model below is built with Keras 3 (JAX
backend, float32 weights) and its model.summary() captured, exactly as
Keras prints it when stdout is not a terminal (`python script.py | cat`, a
log file): COLUMNS=80 stands for shutil.get_terminal_size()'s fallback
there, so the table is 76 characters wide, whatever terminal this script
runs in. SummaryParityTest builds the same models with layerc's C++ API
(every layer and input named explicitly, and every model but those of
unnamed(), whose default names are the point) and compares
Model::summary() with these files byte for byte. Run it from the repository
root with a Python that has Keras and JAX (`.ci/keras-venv.sh` makes one):

    /tmp/layerc-keras-venv/bin/python test/reference/generate_keras_summary.py
    /tmp/layerc-keras-venv/bin/python test/reference/generate_keras_summary.py --check

--check writes nothing: it recomputes every summary and compares it with the
committed file, listing any difference (exit status 1).
"""

import difflib
import os
import sys

os.environ["COLUMNS"] = "80"  # what a pipe gets: shutil's fallback
os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402

import keras  # noqa: E402
from keras import layers  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, "keras_summary")


def mnist():
    """The functional API guide's MNIST model (55,050 parameters)."""
    inputs = keras.Input(shape=(784,), name="img")
    x = layers.Dense(64, activation="relu", name="dense")(inputs)
    x = layers.Dense(64, activation="relu", name="dense_1")(x)
    outputs = layers.Dense(10, name="dense_2")(x)
    return keras.Model(inputs, outputs, name="mnist_model")


def ticket():
    """The guide's multi-input, multi-output ticket model."""
    title = keras.Input(shape=(None,), name="title", dtype="int32")
    body = keras.Input(shape=(None,), name="body", dtype="int32")
    tags = keras.Input(shape=(12,), name="tags")
    title_features = layers.Embedding(10000, 64, name="title_embedding")(title)
    body_features = layers.Embedding(10000, 64, name="body_embedding")(body)
    title_features = layers.LSTM(128, name="title_lstm")(title_features)
    body_features = layers.LSTM(32, name="body_lstm")(body_features)
    x = layers.concatenate([title_features, body_features, tags], name="concat")
    priority = layers.Dense(1, name="priority")(x)
    department = layers.Dense(4, name="department")(x)
    return keras.Model([title, body, tags], [priority, department], name="ticket")


def shared():
    """One Dense layer called on two inputs (two nodes, one row)."""
    a = keras.Input(shape=(16,), name="left")
    b = keras.Input(shape=(16,), name="right")
    encode = layers.Dense(8, activation="relu", name="shared_dense")
    x = layers.concatenate([encode(a), encode(b)], name="merge")
    out = layers.Dense(1, name="score")(x)
    return keras.Model([a, b], out, name="siamese")


def nested():
    """A model used as a layer: a "Functional" row."""
    x = keras.Input(shape=(16,), name="encoder_input")
    h = layers.Dense(8, activation="relu", name="enc_hidden")(x)
    code = layers.Dense(4, name="enc_code")(h)
    encoder = keras.Model(x, code, name="encoder")
    y = keras.Input(shape=(16,), name="autoencoder_input")
    z = encoder(y)
    z = layers.Dense(16, name="decoder_output")(z)
    return keras.Model(y, z, name="autoencoder")


def nested_multi_output():
    """A nested model with two outputs in a model that is not a chain."""
    x = keras.Input(shape=(6,), name="inner_input")
    inner = keras.Model(
        x, [layers.Dense(2, name="head_a")(x), layers.Dense(3, name="head_b")(x)],
        name="two_heads")
    y = keras.Input(shape=(6,), name="outer_input")
    a, b = inner(y)
    out = layers.concatenate([a, b], name="joined")
    return keras.Model(y, out, name="outer")


def batchnorm():
    """BatchNormalization: non-trainable moving statistics."""
    x = keras.Input(shape=(10,), name="features")
    h = layers.Dense(32, name="hidden")(x)
    h = layers.BatchNormalization(name="bn")(h)
    h = layers.Activation("relu", name="relu")(h)
    out = layers.Dense(1, name="out")(h)
    return keras.Model(x, out, name="bn_model")


def convnet():
    """A small conv net for 28x28 images."""
    x = keras.Input(shape=(28, 28, 1), name="image")
    h = layers.Conv2D(32, 3, activation="relu", name="conv1")(x)
    h = layers.MaxPooling2D(2, name="pool1")(h)
    h = layers.Conv2D(64, 3, activation="relu", name="conv2")(h)
    h = layers.MaxPooling2D(2, name="pool2")(h)
    h = layers.Flatten(name="flatten")(h)
    h = layers.Dropout(0.5, name="dropout")(h)
    out = layers.Dense(10, activation="softmax", name="classes")(h)
    return keras.Model(x, out, name="convnet")


def rnn_state():
    """An LSTM with return_state: one row with three output shapes."""
    x = keras.Input(shape=(7, 5), name="sequence")
    out, h, c = layers.LSTM(16, return_state=True, name="lstm")(x)
    y = layers.Dense(1, name="prediction")(out)
    return keras.Model(x, [y, h, c], name="rnn_state")


def bidirectional():
    """Two stacked Bidirectional LSTMs."""
    x = keras.Input(shape=(10, 8), name="tokens")
    h = layers.Bidirectional(
        layers.LSTM(16, return_sequences=True, name="lstm_a"), name="bidi_a")(x)
    h = layers.Bidirectional(layers.LSTM(8, name="lstm_b"), name="bidi_b")(h)
    out = layers.Dense(1, activation="sigmoid", name="label")(h)
    return keras.Model(x, out, name="bidirectional")


def long_names():
    """Names longer than their columns: wrapped, and cut with "…"."""
    a = keras.Input(shape=(32,), name="a_very_long_input_name_for_wrapping")
    b = keras.Input(shape=(32,), name="b")
    dense = layers.Dense(
        8, name="shared_dense_layer_with_a_really_long_name_that_wraps")
    x = layers.concatenate([dense(a), dense(b), a, b],
                           name="concatenate the four tensors")
    out = layers.Dense(1, name="output dense layer with spaces in its name")(x)
    return keras.Model([a, b], out,
                       name="a_model_whose_name_is_long_but_fits_on_one_line")


def unnamed():
    """Models without a name, as Keras 3 names them: functional,
    functional_1, ... (clear_session() restarts the count for each model
    here; SummaryParityTest builds no other model without a name)."""
    def member(tag):
        x = keras.Input(shape=(6,), name=f"member_{tag}_input")
        return keras.Model(x, layers.Dense(1, name=f"member_{tag}_dense")(x))

    first, second = member("a"), member("b")
    x = keras.Input(shape=(6,), name="ensemble_input")
    out = layers.average([first(x), second(x)], name="average")
    return keras.Model(x, out)


def batchnorm_after_a_step():
    """The batchnorm model after one Adam step: "Optimizer params" (the
    iteration count, the learning rate, a momentum and a velocity per
    trainable weight) joins the total."""
    model = batchnorm()
    model.compile(loss="mse", optimizer=keras.optimizers.Adam(0.01))
    x = np.linspace(-1, 1, 80, dtype="float32").reshape(8, 10)
    y = np.linspace(0, 1, 8, dtype="float32").reshape(8, 1)
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    return model


MODELS = {
    "mnist": mnist,
    "ticket": ticket,
    "shared": shared,
    "nested": nested,
    "nested_multi_output": nested_multi_output,
    "batchnorm": batchnorm,
    "convnet": convnet,
    "rnn_state": rnn_state,
    "bidirectional": bidirectional,
    "long_names": long_names,
    "unnamed": unnamed,
    "batchnorm_after_a_step": batchnorm_after_a_step,
}


def summary_text(model):
    lines = []
    model.summary(print_fn=lambda text, **kwargs: lines.append(text))
    return "".join(lines)


def main():
    check = "--check" in sys.argv[1:]
    os.makedirs(OUT_DIR, exist_ok=True)
    failed = False
    for name, build in MODELS.items():
        keras.utils.clear_session()
        text = summary_text(build())
        path = os.path.join(OUT_DIR, name + ".txt")
        if not check:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            continue
        try:
            with open(path, encoding="utf-8") as f:
                committed = f.read()
        except FileNotFoundError:
            committed = ""
        if committed != text:
            failed = True
            print(f"{name}: Keras's summary differs from {path}:")
            sys.stdout.writelines(difflib.unified_diff(
                committed.splitlines(True), text.splitlines(True),
                "committed", "keras"))
    if check:
        print("keras_summary: " + ("DIFFERENT" if failed else
                                   f"all {len(MODELS)} summaries match Keras"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
