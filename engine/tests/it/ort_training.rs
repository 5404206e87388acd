//! The head trained by ONNX Runtime's training API (`ort-training`), executed: against the
//! runtime's own Python run of the artifacts (`reference.json`), against the native trainer
//! (supervised and FixMatch through the one training loop), through the exported inference
//! model loaded back, and through `Engine::train`.
//!
//! The runtime: onnxruntime-training 1.19.2, the last training-enabled ONNX Runtime, whose C API
//! lives inside its Python extension. This test embeds Debian's CPython 3.11, imports the wheel
//! (`tests/tools/fetch_onnxruntime_training` puts it in target/onnxruntime-training) and has it
//! register `tests/tools/ort_training_handoff.c` as a custom-op library, which learns where ONNX
//! Runtime's API base lies and serves it from a private copy of the runtime (the Python module's
//! copy holds the process's one default logging manager); the engine then loads that library by
//! path like any ONNX Runtime.

use std::ffi::{c_char, c_int, CString};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::common::head_reference::{floats, number, problem, reference, step_inputs};
use ndarray::{Array1, Array2};
use precious_engine::learn::head::{Head, HeadConfig, Rng, Trainer};
use precious_engine::learn::ort_training::{OrtTrainer, ARTIFACT_WIDTH};
use precious_engine::learn::train::{self, Method, TrainConfig, Views};
use precious_engine::{TrainOptions, TrainerChoice};
use tract_onnx::prelude::*;

const LIBPYTHON: &str = "/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0";

fn fetched() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../target/onnxruntime-training"
    ))
}

/// The hand-off library, once the embedded Python's ONNX Runtime has handed it its API.
fn training_runtime() -> &'static Path {
    static HANDOFF: OnceLock<PathBuf> = OnceLock::new();
    HANDOFF.get_or_init(|| {
        let dir = std::fs::canonicalize(fetched()).unwrap_or_else(|_| fetched());
        let site = dir.join("site");
        let handoff = dir.join("libprecious_ort_handoff.so");
        assert!(
            site.join("onnxruntime").is_dir()
                && handoff.is_file()
                && dir.join("onnxruntime-training-c-api.so").is_file()
                && Path::new(LIBPYTHON).is_file(),
            "no training-enabled ONNX Runtime: run tests/tools/fetch_onnxruntime_training"
        );
        // Held open for the whole process, so that what ONNX Runtime hands it stays when
        // Python's session options (which also open it) are gone.
        // SAFETY: a C library with no initialisers.
        let held = unsafe { libloading::Library::new(&handoff) }.expect("the hand-off loads");
        std::mem::forget(held);
        // SAFETY: libpython's initialisers; RTLD_GLOBAL so that the extension module Python
        // loads next resolves its Py* symbols against it.
        let python = unsafe {
            libloading::os::unix::Library::open(
                Some(LIBPYTHON),
                libloading::os::unix::RTLD_NOW | libloading::os::unix::RTLD_GLOBAL,
            )
        }
        .expect("libpython3.11 loads");
        let script = format!(
            "import sys\n\
             sys.dont_write_bytecode = True\n\
             sys.path.insert(0, {site:?})\n\
             import onnxruntime.capi._pybind_state as C\n\
             C.SessionOptions().register_custom_ops_library({handoff:?})\n",
            site = site.display().to_string(),
            handoff = handoff.display().to_string(),
        );
        let script = CString::new(script).unwrap();
        // SAFETY: the CPython embedding API, called once, on one thread, in this order.
        unsafe {
            let init = python
                .get::<unsafe extern "C" fn(c_int)>(b"Py_InitializeEx")
                .unwrap();
            let run = python
                .get::<unsafe extern "C" fn(*const c_char) -> c_int>(b"PyRun_SimpleString")
                .unwrap();
            init(0);
            assert_eq!(
                run(script.as_ptr()),
                0,
                "the embedded Python failed (see stderr)"
            );
        }
        std::mem::forget(python);
        handoff
    })
}

fn ort_trainer(head: &Head) -> OrtTrainer {
    OrtTrainer::new(Some(training_runtime()), head).unwrap_or_else(|why| panic!("{why}"))
}

fn max_abs_diff(a: &Array1<f32>, b: &Array1<f32>) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn runs_on_onnx_runtime_1_19_with_the_training_api() {
    let t = ort_trainer(&Head::new(8, HeadConfig::default()));
    assert!(
        t.describe().starts_with("ONNX Runtime 1.19.2 (") && t.describe().contains("training API"),
        "{}",
        t.describe()
    );
}

/// The reference problem, step by step: the engine's ONNX Runtime trainer against the same
/// runtime driven from Python (`reference.json`), and against the native head.
#[test]
fn follows_the_python_reference_and_the_native_head_step_by_step() {
    let r = reference();
    let (rows, width) = (number(&r, "rows") as usize, number(&r, "width") as usize);
    let (x, target, w0, b0) = problem(rows, width);
    let config = HeadConfig::default();
    let mut native = Head::logistic(config.clone(), w0.clone(), b0.clone());
    let mut ort = ort_trainer(&Head::logistic(config, w0, b0));
    let (mut vs_python, mut vs_native) = (0f64, 0f64);
    for (t, want) in floats(&r["losses"]).iter().enumerate() {
        let (y, w) = step_inputs(t, &target);
        let got = ort.train_step(x.view(), &y, &w).unwrap() as f64;
        let mine = native.step(x.view(), &y, &w) as f64;
        vs_python = vs_python.max((got - want).abs() / want.abs().max(1.0));
        vs_native = vs_native.max((got - mine).abs() / mine.abs().max(1.0));
    }
    eprintln!(
        "{} steps: worst relative loss difference vs Python {vs_python:.2e}, vs native {vs_native:.2e}",
        number(&r, "steps")
    );
    assert!(vs_python < 1e-5, "vs the Python run: {vs_python}");
    assert!(vs_native < 1e-4, "vs native: {vs_native}");
    let p = ort.probabilities(x.view()).unwrap().column(1).to_owned();
    let want = Array1::from(
        floats(&r["final_p_delete"])
            .iter()
            .map(|&v| v as f32)
            .collect::<Vec<_>>(),
    );
    assert!(max_abs_diff(&p, &want) < 1e-5, "P(delete) vs Python");
    assert!(
        max_abs_diff(&p, &native.p_delete(x.view())) < 1e-4,
        "P(delete) vs native"
    );
    let back = ort.to_head().unwrap();
    assert!(max_abs_diff(&p, &back.p_delete(x.view())) < 1e-5, "to_head");
}

/// Two classes in 10-D (labeled rows, unlabeled rows with weak and strong views, test rows).
fn fixmatch_problem() -> (Array2<f32>, Vec<usize>, Views, Array2<f32>) {
    let mut rng = Rng::new(7);
    let make = |n: usize, rng: &mut Rng| {
        let y: Vec<usize> = (0..n).map(|i| (i % 4 == 0) as usize).collect();
        let x = Array2::from_shape_fn((n, 10), |(i, j)| {
            rng.normal() * 0.7 + if j == 0 { 3.0 * y[i] as f32 - 1.5 } else { 0.0 }
        });
        (x, y)
    };
    let (xl, yl) = make(24, &mut rng);
    let (xu, _) = make(300, &mut rng);
    let (xt, _) = make(200, &mut rng);
    let mut noisy = |s: f32| xu.mapv(|v| v + rng.normal() * s);
    let views = Views {
        weak: noisy(0.05),
        strong: vec![noisy(0.3), noisy(0.3)],
    };
    (xl, yl, views, xt)
}

/// The engine's training loop (supervised, FixMatch) on both trainers from the same initial
/// weights: same losses, same pseudo-label mask, same predictions.
#[test]
fn the_training_loop_gives_the_native_result_on_onnx_runtime() {
    let (xl, yl, views, xt) = fixmatch_problem();
    for method in [Method::Supervised, Method::FixMatch] {
        let config = TrainConfig {
            method,
            steps: 150,
            ..TrainConfig::default()
        };
        let mut native = Head::new(10, config.head.clone());
        let mut ort = ort_trainer(&native);
        let Ok(n) = train::train(&mut native, xl.view(), &yl, Some(&views), &config);
        let o = train::train(&mut ort, xl.view(), &yl, Some(&views), &config).unwrap();
        let (pn, po) = (
            native.p_delete(xt.view()),
            ort.to_head().unwrap().p_delete(xt.view()),
        );
        let diff = max_abs_diff(&pn, &po);
        eprintln!(
            "{}: loss {:.6} -> {:.6} native, {:.6} -> {:.6} ONNX Runtime; mask {:.3} / {:.3}; \
             P(delete) max abs diff {diff:.2e} over {} rows",
            method.as_str(),
            n.first_loss,
            n.final_loss,
            o.first_loss,
            o.final_loss,
            n.mask_rate,
            o.mask_rate,
            xt.nrows()
        );
        assert_eq!(n.used_views, o.used_views);
        assert_eq!(o.used_views, method == Method::FixMatch);
        assert!((n.first_loss - o.first_loss).abs() < 1e-5);
        assert!((n.final_loss - o.final_loss).abs() < 1e-3 * n.final_loss.max(1e-2));
        assert!((n.mask_rate - o.mask_rate).abs() < 0.01);
        assert!(diff < 1e-3, "{diff}");
    }
}

/// The exported inference model (ONNX Runtime's `ExportModelForInferencing`) loads back (in
/// tract, the engine's ONNX runner) and gives the trained head's predictions.
#[test]
fn the_exported_inference_model_loads_back_with_the_trained_predictions() {
    let (xl, yl, _, xt) = fixmatch_problem();
    let config = TrainConfig {
        method: Method::Supervised,
        steps: 100,
        ..TrainConfig::default()
    };
    let mut ort = ort_trainer(&Head::new(10, config.head.clone()));
    train::train(&mut ort, xl.view(), &yl, None, &config).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("head_inference.onnx");
    ort.export_inference(&path).unwrap();
    let n = xt.nrows();
    let mut padded = Array2::<f32>::zeros((n, ARTIFACT_WIDTH));
    padded.slice_mut(ndarray::s![.., ..10]).assign(&xt);
    let plan = tract_onnx::onnx()
        .model_for_path(&path)
        // As declared in the file: x [n, ARTIFACT_WIDTH], n symbolic.
        .and_then(|m| m.into_optimized())
        .and_then(|m| m.into_runnable())
        .unwrap();
    let input = Tensor::from_shape(&[n, ARTIFACT_WIDTH], padded.as_slice().unwrap()).unwrap();
    let out = plan.run(tvec!(input.into())).unwrap();
    assert_eq!(out[0].shape(), &[n, 2]);
    let logits = out[0].to_plain_array_view::<f32>().unwrap();
    let p: Array1<f32> = logits
        .rows()
        .into_iter()
        .map(|l| 1.0 / (1.0 + (l[0] - l[1]).exp()))
        .collect();
    let want = ort.to_head().unwrap().p_delete(xt.view());
    assert!(max_abs_diff(&p, &want) < 1e-5, "exported vs trained");
}

/// `Engine::train` asked for ONNX Runtime trains on it, says so, and stores the head it made,
/// which predicts as the natively trained one.
#[test]
fn the_engine_trains_on_onnx_runtime_when_asked() {
    let tmp = tempfile::tempdir().unwrap();
    let mut engine = crate::common::labeled_demo(&tmp.path().join("p.sqlite"), 30);
    let opts = TrainOptions {
        config: TrainConfig {
            method: Method::Supervised,
            ..TrainConfig::default()
        },
        trainer: TrainerChoice::OrtTraining(Some(training_runtime().to_path_buf())),
        ..TrainOptions::default()
    };
    let on_ort = engine.train(&opts).unwrap().model;
    let trainer = &on_ort.metrics.train.trainer;
    assert!(trainer.starts_with("ONNX Runtime 1.19.2 ("), "{trainer}");
    let native = crate::common::train_natively(&mut engine, opts);
    let width = native.body.head.layers()[0].0.nrows();
    let mut rng = Rng::new(3);
    let x = Array2::from_shape_fn((50, width), |_| rng.normal());
    let diff = max_abs_diff(
        &native.body.head.p_delete(x.view()),
        &on_ort.body.head.p_delete(x.view()),
    );
    eprintln!(
        "demo gallery, 30 labels, {width} columns: final loss {} native, {} ONNX Runtime; \
         P(delete) max abs diff {diff:.2e}",
        native.metrics.train.final_loss, on_ort.metrics.train.final_loss
    );
    assert!(diff < 1e-3, "{diff}");
}
