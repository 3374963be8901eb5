#!/usr/bin/python3
"""Build the "tabular MLP" benchmark model for Sibyl and export it to ONNX.

    /usr/bin/python3 examples/train/export_tabular_mlp.py

Model: input [batch, 32] -> Linear(32, 256) -> ReLU -> Linear(256, 256)
       -> ReLU -> Linear(256, 2) -> Softmax   (74,754 parameters, no
standardisation: the synthetic features are already roughly unit scale).

Weights: seeded init, then a few epochs of training on a synthetic binary
classification set from sklearn.datasets.make_classification(n_samples=10000,
n_features=32, n_informative=16, n_redundant=8, random_state=0), so outputs
are meaningful rather than random. The point of this model is serving
throughput/latency, not accuracy.

Writes (relative to this script):
    ../models/tabular_mlp/1/model.onnx   input "input" [batch, 32] f32,
                                         output "probabilities" [batch, 2] f32
    ../models/tabular_mlp/samples.json   2 held-out rows (1 per class), inputs
                                         rounded to 6 decimals, with
                                         torch-computed probabilities
"""
import sys

sys.dont_write_bytecode = True  # keep examples/train free of __pycache__

import numpy as np  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

import _common as c  # noqa: E402

SEED = 0


def main():
    c.set_seed(SEED)
    X, y = make_classification(n_samples=10000, n_features=32,
                               n_informative=16, n_redundant=8,
                               random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, stratify=y, random_state=SEED)

    model = c.MLP([32, 256, 256, 2])
    n_params = sum(p.numel() for p in model.parameters())
    loss = c.train(model, X_train, y_train, epochs=5, lr=1e-3,
                   batch_size=128, seed=SEED)

    print("tabular_mlp: params=%d train=%d test=%d final batch loss=%.4f"
          % (n_params, len(X_train), len(X_test), loss))
    print("  train accuracy: %.4f" % c.accuracy(model, X_train, y_train))
    print("  test accuracy:  %.4f" % c.accuracy(model, X_test, y_test))

    model_path = c.here("..", "models", "tabular_mlp", "1", "model.onnx")
    c.export_onnx(model, 32, model_path, "input", "probabilities")

    idx = c.pick_samples(y_test, per_class=1)
    # Short decimals in the JSON; probabilities are computed on exactly these.
    inputs = np.round(X_test[idx], 6)
    probs = c.predict(model, inputs)
    c.write_samples(c.here("..", "models", "tabular_mlp", "samples.json"),
                    inputs, y_test[idx], probs)

    c.verify_onnx(model_path, "input", "probabilities", 32, 2, inputs, probs)


if __name__ == "__main__":
    main()
