"""ONNX Runtime training artifacts for the delete classifier (models/head_training/).

The classifier is engine/src/learn/logistic.rs's L2-regularised logistic regression. Over rows
x_i (padded with zeros to WIDTH columns), truths t_i = +1 (delete) / -1 (keep) and row weights
s_i = C c_i (C the regularisation strength, c_i the class-balanced weights), it minimises

    f(w, b) = 1/2 |w|^2 + sum_i s_i log(1 + exp(-t_i (x_i . w + b)))

with the bias b unpenalised. The artifacts compute exactly this: the margin m = x w + b (w is
[WIDTH, 1], b is [1]), the row losses by SoftmaxCrossEntropyLoss on the logits (-m/2, m/2)
(stable for any margin; the probabilities are those of sigmoid(m)), weighted by s_i and summed,
plus the penalty 1/2 |w|^2 on w alone. Inputs: x float32 [n, WIDTH], target int64 [n] (1 =
delete), weight float32 [n] (s_i). The training model's outputs are the objective `loss` and
its `gradient` [WIDTH + 1] (w's, then b's): ONNX Runtime's gradient builder makes the gradient;
this script only exposes it as an output, because the step size below needs it. (An output
named `*_grad` would be taken for a gradient buffer by ONNX Runtime, hence `gradient`.)

The optimizer is ONNX Runtime's SGD (`SGDOptimizerV2`: w <- w - lr * gradient), full batch,
with the step size (the learning rate of each step) chosen by the Barzilai-Borwein rule from
the last two gradients, alternating the long and the short step (Dai & Fletcher), and checked
by a non-monotone line search (Grippo, Lampariello & Lucidi) on the objective values the steps
report: a step that does not decrease the objective enough against the last MEMORY accepted
values is halved (its parameters written back). It stops when the gradient norm is RTOL of
the first one, or, once it is below ACCEPT of it, when PATIENCE steps brought no lower norm
(float32's floor, 2-6e-8 of the first on the engine's rows, was reached); it fails after
MAX_STEPS. The objective is strongly convex in w, so this
converges to the unique optimum, the one logistic.rs's Newton solver finds. run_ort() below is
the algorithm as engine/src/learn/ort_training.rs runs it; the two must stay in step.

Writes: training_model.onnx, eval_model.onnx (the objective alone), optimizer_model.onnx,
checkpoint (parameters zero) and reference.json: a reference problem (rows defined by formulas
that engine/tests/it/common/head_reference.rs recomputes) solved here by ONNX Runtime with the
algorithm above, and checked against an independent solver, torch's L-BFGS in float64.

Usage: export_head_training.py generate --out DIR
"""

import argparse
import json
import os
import sys

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

import onnxruntime
from onnxruntime.training import artifacts, onnxblock
from onnxruntime.training.api import CheckpointState, Module, Optimizer

# The engine's rows are the 1,280-d embedding, 64 HOG-PCA columns and the signals
# (engine/src/learn/dataset.rs): about 1,363 today. Room to spare for more signals.
WIDTH = 1408
OPSET = 14
FILES = ["training_model.onnx", "eval_model.onnx", "optimizer_model.onnx", "checkpoint"]

# The step-size rule (engine/src/learn/ort_training.rs has the same constants).
RTOL = 1e-7  # stop at this share of the first gradient norm (float32's floor is 2-6e-8 of it)
# ... or, once below ACCEPT of it, when PATIENCE steps brought no new lowest norm (the floor).
ACCEPT = 1e-6
PATIENCE = 100
MAX_STEPS = 10000
MEMORY = 10  # accepted objective values the line search compares with
ARMIJO = 1e-4  # sufficient decrease: f <= max(recent f) - ARMIJO * lr * |previous gradient|^2
SLACK = 1e-6  # ... + SLACK * |max(recent f)|: float32 sums of ~1e2 terms are not exact
LR_RANGE = (1e-10, 1e10)

# The reference problem: rows like the engine's (a unit-length embedding part and a block of
# signals at weight 3), class-imbalanced, with label noise; C as the engine's default.
ROWS = 60
EMBEDDING = 1280
SIGNALS = 70
SIGNAL_WEIGHT = 3.0
STRENGTH = 31.6


def forward_model():
    """margin = x @ w + b. w is a column: ONNX Runtime 1.19.2's MatMul gradient is wrong when
    the right operand is a vector ([WIDTH]); as [WIDTH, 1] it is right."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", WIDTH])
    margin = helper.make_tensor_value_info("margin", TensorProto.FLOAT, ["n", 1])
    w = numpy_helper.from_array(np.zeros((WIDTH, 1), np.float32), "w")
    b = numpy_helper.from_array(np.zeros(1, np.float32), "b")
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["xw"], name="xw"),
        helper.make_node("Add", ["xw", "b"], ["margin"], name="margin"),
    ]
    graph = helper.make_graph(nodes, "logistic_regression", [x], [margin], [w, b])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="precious")
    onnx.checker.check_model(model)
    return model


class Objective(onnxblock.Block):
    """1/2 |w|^2 + sum_i weight_i * CE((-m_i/2, m_i/2), target_i)."""

    def build(self, margin):
        graph = self.base.graph
        graph.input.extend(
            [
                helper.make_tensor_value_info("target", TensorProto.INT64, ["n"]),
                helper.make_tensor_value_info("weight", TensorProto.FLOAT, ["n"]),
            ]
        )
        graph.initializer.append(helper.make_tensor("half", TensorProto.FLOAT, [], [0.5]))
        node = helper.make_node
        graph.node.extend(
            [
                node("Mul", [margin, "half"], ["half_margin"], name="half_margin"),
                node("Neg", ["half_margin"], ["neg_half_margin"], name="neg_half_margin"),
                node("Concat", ["neg_half_margin", "half_margin"], ["logits"], axis=1, name="logits"),
                # Its gradient needs the log-probabilities output.
                node(
                    "SoftmaxCrossEntropyLoss",
                    ["logits", "target"],
                    ["row_loss", "row_log_prob"],
                    reduction="none",
                    name="row_loss",
                ),
                node("Mul", ["row_loss", "weight"], ["weighted_loss"], name="weighted_loss"),
                node("ReduceSum", ["weighted_loss"], ["data_loss"], keepdims=0, name="data_loss"),
                node("Mul", ["w", "w"], ["w_squared"], name="w_squared"),
                node("ReduceSum", ["w_squared"], ["w_norm2"], keepdims=0, name="w_norm2"),
                node("Mul", ["w_norm2", "half"], ["penalty"], name="penalty"),
                node("Add", ["penalty", "data_loss"], ["loss"], name="loss"),
            ]
        )
        return "loss"


def expose_gradient(path):
    """Adds the output `gradient` = [w_grad flattened, b_grad] to the training model."""
    model = onnx.load(path)
    names = {n for node in model.graph.node for n in node.output}
    if not {"w_grad", "b_grad"} <= names:
        sys.exit("the training model has no w_grad or b_grad")
    model.graph.initializer.append(helper.make_tensor("flat", TensorProto.INT64, [1], [-1]))
    model.graph.node.extend(
        [
            helper.make_node("Reshape", ["w_grad", "flat"], ["w_gradient"], name="w_gradient"),
            helper.make_node("Concat", ["w_gradient", "b_grad"], ["gradient"], axis=0, name="gradient"),
        ]
    )
    outputs = list(model.graph.output)
    if outputs[0].name != "loss":
        sys.exit(f"the training model's first output is {outputs[0].name}, not loss")
    del model.graph.output[:]
    model.graph.output.extend(
        [outputs[0], helper.make_tensor_value_info("gradient", TensorProto.FLOAT, [WIDTH + 1])] + outputs[1:]
    )
    onnx.checker.check_model(model)
    onnx.save(model, path)


def generate(out):
    os.makedirs(out, exist_ok=True)
    artifacts.generate_artifacts(
        forward_model(),
        requires_grad=["w", "b"],
        frozen_params=[],
        loss=Objective(),
        optimizer=onnxblock.optim.SGD(),
        artifact_directory=out,
    )
    for f in FILES:
        if not os.path.exists(os.path.join(out, f)):
            sys.exit(f"generate_artifacts wrote no {f}")
    expose_gradient(os.path.join(out, "training_model.onnx"))
    opt = onnx.load(os.path.join(out, "optimizer_model.onnx"))
    ops = [n.op_type for n in opt.graph.node]
    if ops != ["SGDOptimizerV2"]:
        sys.exit(f"optimizer ops {ops}, want SGDOptimizerV2")


def problem():
    """The reference problem; engine/tests/it/common/head_reference.rs has the same formulas.
    Computed in float64, rounded to float32 at the end."""
    i = np.arange(ROWS, dtype=np.float64)[:, None]
    clean = np.arange(ROWS) % 4 == 0
    delete = clean ^ (np.arange(ROWS) % 13 == 7)
    sign = np.where(clean, 1.0, -1.0)[:, None]
    j = np.arange(EMBEDDING)
    e = np.sin(0.61 * (i + 1) * (j % 89 + 1) + 0.13 * j) + 0.8 * sign * np.cos(0.05 * j) * (j % 3 == 0)
    e = e / np.sqrt((e * e).sum(axis=1, keepdims=True))
    k = np.arange(SIGNALS)
    v = (np.cos(0.29 * (i + 2) * (k + 3)) + 0.9 * sign * (k < 4)) * SIGNAL_WEIGHT / np.sqrt(SIGNALS)
    return np.hstack([e, v]).astype(np.float32), delete


def balanced(delete):
    """logistic::balanced: n / (2 n_class) per row."""
    n = len(delete)
    pos = int(delete.sum())
    return np.where(delete, n / (2 * max(pos, 1)), n / (2 * max(n - pos, 1)))


def run_ort(out, x, delete, weight):
    """The engine's fit (ort_training::fit_logistic), driven from Python: (w, b, objective,
    gradient norm, steps, rejected steps)."""
    state = CheckpointState.load_checkpoint(os.path.join(out, "checkpoint"))
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    module = Module(
        os.path.join(out, "training_model.onnx"),
        state,
        os.path.join(out, "eval_model.onnx"),
        device="cpu",
        session_options=options,
    )
    optimizer = Optimizer(os.path.join(out, "optimizer_model.onnx"), module)
    n, d = x.shape
    padded = np.zeros((n, WIDTH), np.float32)
    padded[:, :d] = x
    target = delete.astype(np.int64)
    weight = weight.astype(np.float32)
    module.train()
    recent, previous, lr, first = [], None, 0.0, None
    steps = rejected = iteration = 0
    lowest, lowest_step = np.inf, 0
    while True:
        if steps == MAX_STEPS:
            sys.exit(f"no convergence in {MAX_STEPS} steps")
        loss, gradient = module(padded, target, weight)
        steps += 1
        f = float(loss)
        g = gradient.astype(np.float64)
        if not (np.isfinite(f) and np.isfinite(g).all()):
            sys.exit("the objective or its gradient is not finite")
        if previous is not None:
            ref = max(recent)
            if f > ref - ARMIJO * lr * (previous @ previous) + SLACK * abs(ref):
                # Halve the last step: back from theta - lr g_prev to theta - lr/2 g_prev.
                rejected += 1
                theta = np.concatenate([state.parameters["w"].data.reshape(-1), state.parameters["b"].data])
                theta = theta.astype(np.float64) + 0.5 * lr * previous
                lr *= 0.5
                state.parameters["w"] = theta[:WIDTH].astype(np.float32).reshape(WIDTH, 1)
                state.parameters["b"] = theta[WIDTH:].astype(np.float32)
                module.lazy_reset_grad()
                continue
        norm = float(np.sqrt(g @ g))
        if first is None:
            first = norm
        if norm < lowest:
            lowest, lowest_step = norm, steps
        if norm <= RTOL * first:
            break
        if norm <= ACCEPT * first and steps - lowest_step >= PATIENCE:
            break
        if previous is None:
            lr = 1.0 / max(1.0, float(np.abs(g).max()))
        else:
            s = -lr * previous
            y = g - previous
            sy = float(s @ y)
            iteration += 1
            if sy > 0:
                lr = float(s @ s) / sy if iteration % 2 == 1 else sy / float(y @ y)
            lr = min(max(lr, LR_RANGE[0]), LR_RANGE[1])
        recent = (recent + [f])[-MEMORY:]
        optimizer.set_learning_rate(lr)
        optimizer.step()
        module.lazy_reset_grad()
        previous = g
    w = state.parameters["w"].data.reshape(-1)[:d].astype(np.float64)
    b = float(state.parameters["b"].data[0])
    return w, b, f, norm / first, steps, rejected


def run_lbfgs(x, delete, weight):
    """The independent reference: torch's L-BFGS (strong Wolfe line search) in float64."""
    torch.set_num_threads(1)
    xt = torch.from_numpy(x.astype(np.float64))
    t = torch.from_numpy(np.where(delete, 1.0, -1.0))
    s = torch.from_numpy(weight.astype(np.float64))
    w = torch.zeros(x.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros(1, dtype=torch.float64, requires_grad=True)

    def objective():
        m = xt @ w + b
        return 0.5 * (w @ w) + (s * torch.logaddexp(torch.zeros_like(m), -t * m)).sum()

    def closure():
        opt.zero_grad()
        f = objective()
        f.backward()
        return f

    # A second run from where the first stopped (a fresh history) gets closer still.
    for _ in range(2):
        opt = torch.optim.LBFGS(
            [w, b],
            lr=1,
            max_iter=10000,
            max_eval=20000,
            tolerance_grad=1e-11,
            tolerance_change=0,
            history_size=20,
            line_search_fn="strong_wolfe",
        )
        opt.step(closure)
    f = objective()
    gw, gb = torch.autograd.grad(f, [w, b])
    gnorm = float(torch.cat([gw, gb]).norm())
    # Float64 objective values of ~1e2 stop the line search about here: still 100 times below
    # float32's floor.
    if gnorm > 1e-6:
        sys.exit(f"L-BFGS did not converge: gradient norm {gnorm}")
    return w.detach().numpy(), float(b), float(f), gnorm


def sigmoid(m):
    return 1 / (1 + np.exp(-m))


def reference(out):
    x, delete = problem()
    weight = STRENGTH * balanced(delete)
    w, b, f, relative, steps, rejected = run_ort(out, x, delete, weight)
    lw, lb, lf, lgnorm = run_lbfgs(x, delete, weight)
    x64 = x.astype(np.float64)
    p = sigmoid(x64 @ w + b)
    lp = sigmoid(x64 @ lw + lb)
    diff = {
        "max_abs_p_delete": float(np.abs(p - lp).max()),
        "max_abs_w": float(np.abs(w - lw).max()),
        "abs_b": abs(b - lb),
        "objective": abs(f - lf),
    }
    print(
        f"onnxruntime-training {onnxruntime.__version__}: {steps} steps ({rejected} halved), objective {f:.6f}, "
        f"gradient norm {relative:.1e} of the first; vs L-BFGS (objective {lf:.6f}, gradient norm {lgnorm:.1e}): {diff}"
    )
    if diff["max_abs_p_delete"] > 1e-5 or diff["max_abs_w"] > 1e-3 or diff["abs_b"] > 1e-3:
        sys.exit("ONNX Runtime's solution is not L-BFGS's")
    nine = lambda v: float(f"{v:.9g}")  # noqa: E731 (float32 round-trips in 9 digits)
    ref = {
        "about": "export_head_training.py: the reference problem solved by onnxruntime-training "
        + onnxruntime.__version__
        + " (CPU) with the training artifacts; engine/tests/it/common/head_reference.rs recomputes "
        "the rows",
        "width": WIDTH,
        "rows": ROWS,
        "embedding": EMBEDDING,
        "signals": SIGNALS,
        "signal_weight": SIGNAL_WEIGHT,
        "strength": STRENGTH,
        "rule": {
            "rtol": RTOL,
            "accept": ACCEPT,
            "patience": PATIENCE,
            "max_steps": MAX_STEPS,
            "memory": MEMORY,
            "armijo": ARMIJO,
            "slack": SLACK,
        },
        "steps": steps,
        "halved": rejected,
        "objective": f,
        "gradient_norm_of_the_first": relative,
        "vs_lbfgs": diff,
        "b": nine(b),
        "w": [nine(v) for v in w],
        "p_delete": [nine(v) for v in p],
    }
    with open(os.path.join(out, "reference.json"), "w") as fh:
        json.dump(ref, fh, indent=1)
        fh.write("\n")


def main():
    onnxruntime.set_default_logger_severity(3)
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["generate"])
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    generate(a.out)
    reference(a.out)


if __name__ == "__main__":
    main()
