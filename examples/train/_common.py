"""Shared helpers for the Sibyl example-model scripts.

Run the scripts with Debian's interpreter (/usr/bin/python3), which has the
python3-torch / python3-sklearn / python3-onnx / python3-numpy packages.
Tested with torch 1.13 (TorchScript-based torch.onnx.export), onnx 1.12,
scikit-learn 1.2, numpy 1.24.
"""
import json
import os
import random

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from torch import nn

OPSET = 17  # highest opset torch 1.13's TorchScript exporter supports


def set_seed(seed):
    """Make training reproducible (single thread => fixed reduction order)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)


class MLP(nn.Module):
    """Linear/ReLU stack ending in softmax; optional folded standardisation.

    forward() returns probabilities (what gets exported); logits() is used
    for training with CrossEntropyLoss.
    """

    def __init__(self, sizes, mean=None, std=None):
        super().__init__()
        layers = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(a, b))
            if i < len(sizes) - 2:
                layers.append(nn.ReLU())
        self.net = nn.Sequential(*layers)
        if mean is not None:
            self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32))
            self.register_buffer("std", torch.tensor(std, dtype=torch.float32))
        else:
            self.mean = None
            self.std = None

    def logits(self, x):
        if self.mean is not None:
            x = (x - self.mean) / self.std
        return self.net(x)

    def forward(self, x):
        return torch.softmax(self.logits(x), dim=1)


def train(model, X, y, epochs, lr, batch_size=None, weight_decay=0.0, seed=0):
    """Adam + cross-entropy. batch_size=None means full-batch."""
    X = torch.tensor(X, dtype=torch.float32)
    y = torch.tensor(y, dtype=torch.long)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(seed)
    n = len(X)
    model.train()
    for _ in range(epochs):
        if batch_size is None:
            batches = [torch.arange(n)]
        else:
            perm = torch.randperm(n, generator=gen)
            batches = perm.split(batch_size)
        for idx in batches:
            opt.zero_grad()
            loss = loss_fn(model.logits(X[idx]), y[idx])
            loss.backward()
            opt.step()
    model.eval()
    return float(loss)


@torch.no_grad()
def predict(model, X):
    model.eval()
    return model(torch.tensor(np.asarray(X), dtype=torch.float32)).numpy()


def accuracy(model, X, y):
    return float((predict(model, X).argmax(axis=1) == np.asarray(y)).mean())


def pick_samples(y, per_class):
    """Indices into y: the first `per_class` rows of each class, interleaved
    by class (c0, c1, ..., c0, c1, ...)."""
    y = np.asarray(y)
    classes = sorted(set(y.tolist()))
    chosen = [np.flatnonzero(y == c)[:per_class] for c in classes]
    out = []
    for k in range(per_class):
        for arr in chosen:
            out.append(int(arr[k]))
    return out


def here(*parts):
    """Path relative to this directory (examples/train)."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), *parts)


def export_onnx(model, n_features, path, input_name, output_name):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    model.eval()
    dummy = torch.zeros(1, n_features, dtype=torch.float32)
    torch.onnx.export(
        model,
        dummy,
        path,
        input_names=[input_name],
        output_names=[output_name],
        dynamic_axes={input_name: {0: "batch"}, output_name: {0: "batch"}},
        opset_version=OPSET,
        do_constant_folding=True,
        export_params=True,
    )


def write_samples(path, inputs, labels, probabilities):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    doc = {
        "inputs": [[float(v) for v in row] for row in inputs],
        "labels": [int(v) for v in labels],
        "probabilities": [[float(v) for v in row] for row in probabilities],
    }
    # One row per line: readable, and still plain JSON.
    parts = []
    for key in ("inputs", "labels", "probabilities"):
        value = doc[key]
        if key == "labels":
            body = json.dumps(value)
        else:
            body = "[\n" + ",\n".join("    " + json.dumps(r) for r in value) + "\n  ]"
        parts.append('  "%s": %s' % (key, body))
    with open(path, "w") as f:
        f.write("{\n" + ",\n".join(parts) + "\n}\n")


# --- verification -----------------------------------------------------------

def _run_numpy(model_proto, feeds):
    """Minimal numpy interpreter for the ops these MLPs export to.

    onnxruntime is not packaged in Debian 12 and onnx 1.12 has no reference
    evaluator, so this is the independent check that the ONNX graph computes
    the same thing as the torch model.
    """
    env = dict(feeds)
    for init in model_proto.graph.initializer:
        env[init.name] = numpy_helper.to_array(init)
    for node in model_proto.graph.node:
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        ins = [env[name] for name in node.input if name]
        op = node.op_type
        if op == "Constant":
            out = numpy_helper.to_array(attrs["value"])
        elif op == "Sub":
            out = ins[0] - ins[1]
        elif op == "Div":
            out = ins[0] / ins[1]
        elif op == "Add":
            out = ins[0] + ins[1]
        elif op == "Mul":
            out = ins[0] * ins[1]
        elif op == "MatMul":
            out = ins[0] @ ins[1]
        elif op == "Relu":
            out = np.maximum(ins[0], 0)
        elif op == "Gemm":
            a, b = ins[0], ins[1]
            if attrs.get("transA", 0):
                a = a.T
            if attrs.get("transB", 0):
                b = b.T
            out = attrs.get("alpha", 1.0) * (a @ b)
            if len(ins) > 2:
                out = out + attrs.get("beta", 1.0) * ins[2]
        elif op == "Softmax":
            axis = attrs.get("axis", -1)
            e = np.exp(ins[0] - ins[0].max(axis=axis, keepdims=True))
            out = e / e.sum(axis=axis, keepdims=True)
        else:
            raise NotImplementedError("op %s" % op)
        env[node.output[0]] = out.astype(np.float32)
    return [env[o.name] for o in model_proto.graph.output]


def _describe(value_info):
    t = value_info.type.tensor_type
    dims = [d.dim_param if d.dim_param else d.dim_value for d in t.shape.dim]
    return value_info.name, onnx.TensorProto.DataType.Name(t.elem_type), dims


def verify_onnx(path, input_name, output_name, n_features, n_classes,
                sample_inputs, expected_probs):
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    ins = [_describe(v) for v in model.graph.input]
    outs = [_describe(v) for v in model.graph.output]
    opset = [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")]
    print("  file:    %s (%d bytes)" % (os.path.relpath(path), os.path.getsize(path)))
    print("  opset:   %s" % opset)
    print("  ops:     %s" % [n.op_type for n in model.graph.node])
    print("  inputs:  %s" % ins)
    print("  outputs: %s" % outs)
    assert ins == [(input_name, "FLOAT", ["batch", n_features])], ins
    assert outs == [(output_name, "FLOAT", ["batch", n_classes])], outs
    x = np.asarray(sample_inputs, dtype=np.float32)
    (got,) = _run_numpy(model, {input_name: x})
    diff = float(np.abs(got - np.asarray(expected_probs, dtype=np.float32)).max())
    print("  max |onnx(numpy) - torch| on samples: %.3g" % diff)
    assert diff < 1e-5, diff
