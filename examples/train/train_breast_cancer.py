#!/usr/bin/python3
"""Train a small MLP on the Wisconsin Diagnostic Breast Cancer data set and
export it to ONNX for Sibyl.

    /usr/bin/python3 examples/train/train_breast_cancer.py

Data: sklearn.datasets.load_breast_cancer (bundled with scikit-learn, a copy of
the UCI "Breast Cancer Wisconsin (Diagnostic)" data set): 569 rows, 30 real
features, target 0 = malignant, 1 = benign.

Model: raw features -> (x - mean) / std -> Linear(30, 32) -> ReLU
       -> Linear(32, 2) -> Softmax. Standardisation constants come from the
training split and are baked into the graph, so clients send raw values.

Writes (relative to this script):
    ../models/breast_cancer/1/model.onnx   input "features" [batch, 30] f32,
                                           output "probabilities" [batch, 2] f32
    ../models/breast_cancer/samples.json   4 held-out rows (2 per class) with
                                           torch-computed probabilities
"""
import sys

sys.dont_write_bytecode = True  # keep examples/train free of __pycache__

from sklearn.datasets import load_breast_cancer  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

import _common as c  # noqa: E402

SEED = 0


def main():
    c.set_seed(SEED)
    data = load_breast_cancer()
    X_train, X_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=0.25, stratify=data.target,
        random_state=SEED)

    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0)
    model = c.MLP([30, 32, 2], mean=mean, std=std)
    loss = c.train(model, X_train, y_train, epochs=100, lr=1e-2,
                   weight_decay=1e-3, seed=SEED)

    print("breast_cancer: train=%d test=%d final train loss=%.4f"
          % (len(X_train), len(X_test), loss))
    print("  train accuracy: %.4f" % c.accuracy(model, X_train, y_train))
    print("  test accuracy:  %.4f" % c.accuracy(model, X_test, y_test))

    model_path = c.here("..", "models", "breast_cancer", "1", "model.onnx")
    c.export_onnx(model, 30, model_path, "features", "probabilities")

    idx = c.pick_samples(y_test, per_class=2)
    inputs = X_test[idx]
    probs = c.predict(model, inputs)
    c.write_samples(c.here("..", "models", "breast_cancer", "samples.json"),
                    inputs, y_test[idx], probs)

    c.verify_onnx(model_path, "features", "probabilities", 30, 2, inputs, probs)


if __name__ == "__main__":
    main()
