#!/usr/bin/env python3
"""Keras 3 .keras files both ways, with Keras itself as the oracle.

1. Keras builds the guide's models (the MNIST MLP; the encoder, decoder and
   autoencoder and the toy ResNet of the functional-API guide, as
   examples/functional_guide.cpp builds them in C++) and an LSTM
   classifier of tokens, gives them random
   weights and saves each as DIR/<name>.keras, with a batch of inputs
   DIR/<name>_x.npy and Keras's predictions DIR/<name>_y.npy. One model is
   saved compiled (RMSprop, sparse cross-entropy from logits, accuracy).
2. The C++ driver (test/keras-files/keras_file_roundtrip.cpp) loads each
   file with layerc::loadModel, checks its predictions against Keras's
   within 1e-5, fits the compiled one, and saves each again with
   Model::save as DIR/<name>.layerc.keras, its predictions in
   DIR/<name>_layerc_y.npy.
3. Keras loads layerc's files and must predict what layerc predicted
   (within 1e-5), and the compile config must come back.

  KERAS_BACKEND=jax python keras_roundtrip.py --driver PATH [--dir DIR]

Exits non-zero on any mismatch.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import warnings

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402

TOLERANCE = 1e-5


def max_error(got, want):
    """max |got - want|, relative to the outputs' scale when it is over 1
    (float32 sums of thousands of terms differ in their last bits)."""
    if got.shape != want.shape:
        return float("inf")
    scale = max(1.0, float(np.max(np.abs(want))))
    return float(np.max(np.abs(got - want))) / scale


def mnist_mlp():
    inputs = keras.Input(shape=(784,), name="digits")
    x = layers.Dense(64, activation="relu")(inputs)
    x = layers.Dense(64, activation="relu")(x)
    return keras.Model(inputs, layers.Dense(10)(x), name="mnist_model")


def encoder_autoencoder():
    encoder_input = keras.Input(shape=(28, 28, 1), name="img")
    x = layers.Conv2D(16, 3, activation="relu")(encoder_input)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.MaxPooling2D(3)(x)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.Conv2D(16, 3, activation="relu")(x)
    encoder_output = layers.GlobalMaxPooling2D()(x)
    encoder = keras.Model(encoder_input, encoder_output, name="encoder")
    x = layers.Reshape((4, 4, 1))(encoder_output)
    x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
    x = layers.Conv2DTranspose(32, 3, activation="relu")(x)
    x = layers.UpSampling2D(3)(x)
    x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
    decoder_output = layers.Conv2DTranspose(1, 3, activation="relu")(x)
    autoencoder = keras.Model(encoder_input, decoder_output,
                              name="autoencoder")
    return encoder, autoencoder


def decoder():
    code = keras.Input(shape=(16,), name="encoded_img")
    x = layers.Reshape((4, 4, 1))(code)
    x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
    x = layers.Conv2DTranspose(32, 3, activation="relu")(x)
    x = layers.UpSampling2D(3)(x)
    x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
    x = layers.Conv2DTranspose(1, 3, activation="relu")(x)
    return keras.Model(code, x, name="decoder")


def toy_resnet():
    inputs = keras.Input(shape=(32, 32, 3), name="img")
    x = layers.Conv2D(32, 3, activation="relu")(inputs)
    x = layers.Conv2D(64, 3, activation="relu")(x)
    block_1_output = layers.MaxPooling2D(3)(x)
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(block_1_output)
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
    block_2_output = layers.add([x, block_1_output])
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(block_2_output)
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
    block_3_output = layers.add([x, block_2_output])
    x = layers.Conv2D(64, 3, activation="relu")(block_3_output)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(256, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    return keras.Model(inputs, layers.Dense(10)(x), name="toy_resnet")


def lstm_classifier():
    """Tokens -> Embedding -> LSTM (its variables sit in its cell)."""
    tokens = keras.Input(shape=(7,), dtype="int32", name="tokens")
    x = layers.Embedding(50, 8)(tokens)
    x = layers.LSTM(16)(x)
    return keras.Model(tokens, layers.Dense(3)(x), name="lstm_classifier")


def models():
    encoder, autoencoder = encoder_autoencoder()
    compiled = mnist_mlp()
    compiled.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"])
    return {"mnist_mlp": mnist_mlp(), "encoder": encoder,
            "decoder": decoder(), "autoencoder": autoencoder,
            "toy_resnet": toy_resnet(), "lstm_classifier": lstm_classifier(),
            "mnist_compiled": compiled}


def write(directory, rng):
    names = []
    for name, model in models().items():
        # Keras's own (seeded) random kernels, and random biases too, so
        # that every weight matters and activations stay near 1.
        model.set_weights([(w + rng.normal(0, 0.05, w.shape)).astype(
            np.float32) for w in model.get_weights()])
        shape = (2,) + tuple(model.inputs[0].shape[1:])
        if "int" in str(model.inputs[0].dtype):
            x = rng.integers(0, 50, shape).astype(np.int32)
        else:
            x = rng.uniform(0, 1, shape).astype(np.float32)
        y = np.asarray(model.predict(x, verbose=0))
        model.save(os.path.join(directory, name + ".keras"))
        np.save(os.path.join(directory, name + "_x.npy"), x)
        np.save(os.path.join(directory, name + "_y.npy"), y)
        names.append(name)
    return names


def check(directory, names):
    failures = 0
    for name in names:
        model = keras.saving.load_model(
            os.path.join(directory, name + ".layerc.keras"))
        x = np.load(os.path.join(directory, name + "_x.npy"))
        want = np.load(os.path.join(directory, name + "_layerc_y.npy"))
        got = np.asarray(model.predict(x, verbose=0))
        err = max_error(got, want)
        ok = err <= TOLERANCE
        if name == "mnist_compiled":
            # layerc's file carries the compile config back to Keras.
            ok = ok and model.compiled and isinstance(
                model.optimizer, keras.optimizers.RMSprop) and isinstance(
                model.loss, keras.losses.SparseCategoricalCrossentropy) \
                and model.loss.get_config()["from_logits"]
            model.fit(x, np.array([1, 2]), epochs=1, verbose=0)
        print(f"{'ok' if ok else 'FAIL'}: Keras loads layerc's {name}.keras:"
              f" max |keras - layerc| = {err:.3g}")
        failures += not ok
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--driver", required=True,
                        help="the keras_file_roundtrip program")
    parser.add_argument("--dir", help="where to write (default: a "
                        "temporary directory)")
    args = parser.parse_args()
    directory = args.dir or tempfile.mkdtemp(prefix="layerc-keras-files.")
    os.makedirs(directory, exist_ok=True)
    keras.utils.set_random_seed(1)
    names = write(directory, np.random.default_rng(1))
    driver = subprocess.run([args.driver, directory] + names)
    if driver.returncode != 0:
        print(f"FAIL: {args.driver} exited with {driver.returncode}")
        return 1
    with warnings.catch_warnings():
        # layerc writes no optimizer variables; Keras says it skips them.
        warnings.filterwarnings("ignore", message="Skipping variable loading")
        failures = check(directory, names)
    print(f"== .keras round trip: {len(names) - failures}/{len(names)} "
          f"models agree with Keras {keras.__version__} ({directory})")
    if failures:
        return 1
    if not args.dir:
        shutil.rmtree(directory)
    return 0


if __name__ == "__main__":
    sys.exit(main())
