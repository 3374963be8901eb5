#!/usr/bin/python3
"""Train a tiny MLP on Fisher's iris data set and export it to ONNX for Sibyl.

    /usr/bin/python3 examples/train/train_iris.py

Data: sklearn.datasets.load_iris (bundled with scikit-learn; R. A. Fisher,
1936, as in the UCI "Iris" data set): 150 rows, 4 features (sepal length,
sepal width, petal length, petal width, in cm), target 0 = setosa,
1 = versicolor, 2 = virginica.

Model: raw features -> (x - mean) / std -> Linear(4, 16) -> ReLU
       -> Linear(16, 3) -> Softmax (standardisation baked into the graph).

Writes (relative to this script):
    ../models/iris/1/model.onnx   input "features" [batch, 4] f32,
                                  output "probabilities" [batch, 3] f32
    ../models/iris/samples.json   3 held-out rows (1 per class) with
                                  torch-computed probabilities
"""
import sys

sys.dont_write_bytecode = True  # keep examples/train free of __pycache__

from sklearn.datasets import load_iris  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

import _common as c  # noqa: E402

SEED = 0


def main():
    c.set_seed(SEED)
    data = load_iris()
    X_train, X_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=0.3, stratify=data.target,
        random_state=SEED)

    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0)
    model = c.MLP([4, 16, 3], mean=mean, std=std)
    loss = c.train(model, X_train, y_train, epochs=300, lr=1e-2,
                   weight_decay=1e-4, seed=SEED)

    print("iris: train=%d test=%d final train loss=%.4f"
          % (len(X_train), len(X_test), loss))
    print("  train accuracy: %.4f" % c.accuracy(model, X_train, y_train))
    print("  test accuracy:  %.4f" % c.accuracy(model, X_test, y_test))

    model_path = c.here("..", "models", "iris", "1", "model.onnx")
    c.export_onnx(model, 4, model_path, "features", "probabilities")

    idx = c.pick_samples(y_test, per_class=1)
    inputs = X_test[idx]
    probs = c.predict(model, inputs)
    c.write_samples(c.here("..", "models", "iris", "samples.json"),
                    inputs, y_test[idx], probs)

    c.verify_onnx(model_path, "features", "probabilities", 4, 3, inputs, probs)


if __name__ == "__main__":
    main()
