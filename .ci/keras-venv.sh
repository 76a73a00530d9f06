#!/usr/bin/env bash
# Makes the Python virtual environment that runs Keras 3 (JAX backend), the
# first oracle of the layer tests: test/reference/generate_keras.py writes
# test/reference/keras_layers.safetensors with it, and its --check mode
# compares the committed file with what the installed Keras computes.
# Test oracles only: nothing of it is built into or linked with layerc.
#
#   bash .ci/keras-venv.sh [DIR]     # default /tmp/layerc-keras-venv
#   DIR/bin/python test/reference/generate_keras.py [--check]
set -euo pipefail
venv=${1:-/tmp/layerc-keras-venv}
# Keras 3 imports TensorFlow unless told its backend.
export KERAS_BACKEND=jax
if ! "$venv/bin/python" -c "import keras, jax" 2> /dev/null; then
  /usr/bin/python3 -m venv "$venv"
  # Pinned: the committed reference file was computed with these.
  "$venv/bin/pip" install -q keras==3.15.1 jax==0.10.2 jaxlib==0.10.2
fi
"$venv/bin/python" -c "import keras; print('Keras', keras.__version__, 'in $venv')"
