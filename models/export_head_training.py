"""ONNX Runtime training artifacts for the classifier head (models/head_training/).

The head is the native trainer's (engine/src/learn/head.rs) logistic head: logits = x @ w + b,
w [WIDTH, 2], b [2], two classes (0 keep, 1 delete). The loss is the native one: weighted
cross-entropy, sum_i weight_i * CE(logits_i, target_i) / sum_i weight_i, so that the supervised
loss, class balance and FixMatch's masked, balanced pseudo-label loss all enter as (row,
target, weight) triples. The optimizer is PyTorch's AdamW (decay before the update, eps 1e-8,
betas 0.9/0.999, weight decay 1e-3 on every parameter), as native.

Inputs: x float32 [n, WIDTH], target int64 [n], weight float32 [n]. Outputs: loss (scalar)
and logits [n, 2] (the eval model's logits give the pseudo-labels). The engine pads rows
narrower than WIDTH with zeros: zero columns get zero gradients, so their weights stay 0.

Writes: training_model.onnx, eval_model.onnx, optimizer_model.onnx, checkpoint (all parameters
zero: the engine sets them from the native head's initialisation) and reference.json: a
small problem (inputs and initial weights defined by formulas the Rust test recomputes) run
for STEPS steps by ONNX Runtime's training API here, with its losses and final parameters,
so that CI can check the native trainer against ONNX Runtime without a training-enabled
runtime. Also checks ORT against torch.optim.AdamW on the same problem.

Usage: export_head_training.py generate --out DIR | check --out DIR
"""

import argparse
import json
import math
import os
import sys

import numpy as np
import onnx
import torch

import onnxruntime
from onnxruntime.training import artifacts
from onnxruntime.training import onnxblock
from onnxruntime.training.api import CheckpointState, Module, Optimizer

# EMBEDDING_DIM (1280) + PCA_DIMS HOG-PCA columns (64) + 17 signals (engine/src/learn/dataset.rs).
WIDTH = 1361
CLASSES = 2
LEARNING_RATE = 0.01
WEIGHT_DECAY = 1e-3
EPS = 1e-8
BETAS = (0.9, 0.999)
OPSET = 14
# The reference problem.
ROWS = 24
STEPS = 40
FILES = ["training_model.onnx", "eval_model.onnx", "optimizer_model.onnx", "checkpoint"]


class LogisticHead(torch.nn.Module):
    """The native head's layout: w is [inputs, outputs] (x @ w), not torch.nn.Linear's."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(WIDTH, CLASSES))
        self.b = torch.nn.Parameter(torch.zeros(CLASSES))

    def forward(self, x):
        return x @ self.w + self.b


class WeightedCrossEntropy(onnxblock.Block):
    """sum(weight * CE(logits, target)) / sum(weight)."""

    def build(self, logits_name):
        graph = self.base.graph
        graph.input.extend(
            [
                onnx.helper.make_tensor_value_info("target", onnx.TensorProto.INT64, ["n"]),
                onnx.helper.make_tensor_value_info("weight", onnx.TensorProto.FLOAT, ["n"]),
            ]
        )
        graph.node.extend(
            [
                onnx.helper.make_node(
                    "SoftmaxCrossEntropyLoss",
                    [logits_name, "target"],
                    # Its gradient needs the log-probabilities output.
                    ["row_loss", "row_log_prob"],
                    reduction="none",
                    name="row_loss",
                ),
                onnx.helper.make_node("Mul", ["row_loss", "weight"], ["weighted_loss"], name="weighted"),
                onnx.helper.make_node("ReduceSum", ["weighted_loss"], ["loss_sum"], keepdims=0, name="loss_sum"),
                onnx.helper.make_node("ReduceSum", ["weight"], ["weight_sum"], keepdims=0, name="weight_sum"),
                onnx.helper.make_node("Div", ["loss_sum", "weight_sum"], ["loss"], name="loss"),
            ]
        )
        return "loss"


class TorchStyleAdamW(onnxblock.optim.AdamW):
    """onnxblock's AdamW with adam_mode 0 (PyTorch: decay, then the Adam update), not 1
    (Hugging Face), and the native eps."""

    def __init__(self):
        super().__init__(betas=BETAS, eps=EPS, weight_decay=WEIGHT_DECAY)

    def _optimizer_specific_logic(self, *args):
        out = super()._optimizer_specific_logic(*args)
        for node in self.base.graph.node:
            if node.op_type == "AdamWOptimizer":
                for a in node.attribute:
                    if a.name == "adam_mode":
                        a.i = 0
        return out


def forward_model():
    torch.manual_seed(0)
    head = LogisticHead().eval()
    path = "/dev/shm/precious_head_forward.onnx" if os.path.isdir("/dev/shm") else "head_forward.onnx"
    torch.onnx.export(
        head,
        torch.zeros(4, WIDTH),
        path,
        input_names=["x"],
        output_names=["logits"],
        dynamic_axes={"x": {0: "n"}, "logits": {0: "n"}},
        opset_version=OPSET,
        do_constant_folding=False,
        export_params=True,
        keep_initializers_as_inputs=False,
        training=torch.onnx.TrainingMode.TRAINING,
    )
    model = onnx.load(path)
    os.remove(path)
    names = sorted(i.name for i in model.graph.initializer)
    if names != ["b", "w"]:
        sys.exit(f"unexpected parameters {names}")
    return model


def generate(out):
    os.makedirs(out, exist_ok=True)
    artifacts.generate_artifacts(
        forward_model(),
        requires_grad=["w", "b"],
        frozen_params=[],
        loss=WeightedCrossEntropy(),
        optimizer=TorchStyleAdamW(),
        artifact_directory=out,
        additional_output_names=["logits"],
    )
    for f in FILES:
        if not os.path.exists(os.path.join(out, f)):
            sys.exit(f"generate_artifacts wrote no {f}")
    opt = onnx.load(os.path.join(out, "optimizer_model.onnx"))
    modes = [a.i for n in opt.graph.node if n.op_type == "AdamWOptimizer" for a in n.attribute if a.name == "adam_mode"]
    if modes != [0]:
        sys.exit(f"optimizer adam_mode {modes}, want [0]")


# The reference problem: the same formulas are in engine/tests/head_training_parity.rs.
def problem():
    i = np.arange(ROWS, dtype=np.float64)[:, None]
    j = np.arange(WIDTH, dtype=np.float64)[None, :]
    target = (np.arange(ROWS) % 3 == 0).astype(np.int64)
    x = np.sin(0.37 * i + 0.11 * j) + 0.5 * (2 * target[:, None] - 1) * np.cos(0.05 * j)
    w0 = 0.01 * np.cos(0.7 * np.arange(WIDTH * CLASSES, dtype=np.float64)).reshape(WIDTH, CLASSES)
    b0 = np.array([0.05, -0.05])
    return x.astype(np.float32), target, w0.astype(np.float32), b0.astype(np.float32)


def step_inputs(t, target):
    """Step t's targets and weights: the even steps are supervised (class-balanced weights),
    the odd ones FixMatch-like (some rows flipped to a pseudo-label, some masked to 0)."""
    n = len(target)
    y = target.copy()
    w = np.where(target == 1, 0.5 / target.mean(), 0.5 / (1 - target.mean())) / n
    if t % 2 == 1:
        for r in range(n):
            if (r + t) % 5 == 0:
                y[r] = 1 - y[r]
            if (r * 7 + t) % 4 == 0:
                w[r] = 0.0
    return y.astype(np.int64), w.astype(np.float32)


def run_ort(out, x, target, w0, b0):
    state = CheckpointState.load_checkpoint(os.path.join(out, "checkpoint"))
    module = Module(
        os.path.join(out, "training_model.onnx"), state, os.path.join(out, "eval_model.onnx"), device="cpu"
    )
    optimizer = Optimizer(os.path.join(out, "optimizer_model.onnx"), module)
    optimizer.set_learning_rate(LEARNING_RATE)
    state.parameters["w"] = w0
    state.parameters["b"] = b0
    module.train()
    losses = []
    for t in range(STEPS):
        y, w = step_inputs(t, target)
        loss, _logits = module(x, y, w)
        optimizer.step()
        module.lazy_reset_grad()
        losses.append(float(loss))
    module.eval()
    ones = np.ones(len(target), dtype=np.float32)
    _, logits = module(x, target, ones)
    return losses, state.parameters["w"].data.copy(), state.parameters["b"].data.copy(), logits


def run_torch(x, target, w0, b0):
    head = LogisticHead()
    with torch.no_grad():
        head.w.copy_(torch.from_numpy(w0))
        head.b.copy_(torch.from_numpy(b0))
    opt = torch.optim.AdamW(head.parameters(), lr=LEARNING_RATE, betas=BETAS, eps=EPS, weight_decay=WEIGHT_DECAY)
    losses = []
    xt = torch.from_numpy(x)
    for t in range(STEPS):
        y, w = step_inputs(t, target)
        w = torch.from_numpy(w)
        rows = torch.nn.functional.cross_entropy(head(xt), torch.from_numpy(y), reduction="none")
        loss = (rows * w).sum() / w.sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss))
    return losses, head.w.detach().numpy(), head.b.detach().numpy()


def reference(out):
    x, target, w0, b0 = problem()
    losses, w, b, logits = run_ort(out, x, target, w0, b0)
    t_losses, t_w, t_b = run_torch(x, target, w0, b0)
    diff = {
        "loss": max(abs(a - c) for a, c in zip(losses, t_losses)),
        "w": float(np.abs(w - t_w).max()),
        "b": float(np.abs(b - t_b).max()),
    }
    print(f"onnxruntime-training vs torch.optim.AdamW, {STEPS} steps: max abs diff {diff}")
    # float32 sums over 1,361 columns in a different order: ~1e-5 on the loss, 1e-7 on weights.
    if diff["loss"] > 1e-4 or diff["w"] > 1e-5 or diff["b"] > 1e-5:
        sys.exit("ONNX Runtime's training disagrees with torch's AdamW")
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p = p / p.sum(axis=1, keepdims=True)
    ref = {
        "about": "export_head_training.py: the reference problem run by onnxruntime-training "
        + onnxruntime.__version__
        + " (CPU); engine/tests/head_training_parity.rs recomputes the inputs",
        "width": WIDTH,
        "rows": ROWS,
        "steps": STEPS,
        "learning_rate": LEARNING_RATE,
        "weight_decay": WEIGHT_DECAY,
        "losses": [round(v, 7) for v in losses],
        "torch_max_abs_diff": diff,
        "final_b": [float(v) for v in b],
        # w is 2,722 numbers; a checksum-like summary plus every 97th entry keeps the file small.
        "final_w_sum": float(w.astype(np.float64).sum()),
        "final_w_abs_sum": float(np.abs(w.astype(np.float64)).sum()),
        "final_w_every_97th": [float(v) for v in w.reshape(-1)[::97]],
        "final_p_delete": [round(float(v), 7) for v in p[:, 1]],
    }
    with open(os.path.join(out, "reference.json"), "w") as f:
        json.dump(ref, f, indent=1)
        f.write("\n")


def main():
    onnxruntime.set_default_logger_severity(3)
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["generate", "check"])
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    if a.mode == "generate":
        generate(a.out)
        reference(a.out)
    else:
        generate(a.out)


if __name__ == "__main__":
    main()
