//! The native trainer against ONNX Runtime's training API: `models/export_head_training` ran
//! the reference problem (inputs and initial weights from formulas, recomputed here) through
//! the training artifacts with onnxruntime-training 1.19.2 and stored its losses and final
//! parameters in `models/head_training/reference.json`. The native head must follow the same
//! path step by step. Runs without any ONNX Runtime.

use crate::common::head_reference::{floats, number, problem, reference, step_inputs};
use precious_engine::learn::head::{Head, HeadConfig};

#[test]
fn native_head_follows_onnx_runtime_training_step_by_step() {
    let r = reference();
    let get = |k: &str| number(&r, k);
    let (rows, width, steps) = (
        get("rows") as usize,
        get("width") as usize,
        get("steps") as usize,
    );
    // The artifacts' width is the engine's widest row: a new signal must regenerate them.
    let signals = precious_engine::learn::dataset::signal_names(precious_engine::pick::PCA_DIMS);
    assert_eq!(
        width,
        precious_engine::features::backbone::EMBEDDING_DIM + signals.len()
    );
    let config = HeadConfig {
        hidden: 0,
        learning_rate: get("learning_rate") as f32,
        weight_decay: get("weight_decay") as f32,
        seed: 0,
    };
    assert_eq!(
        (config.learning_rate, config.weight_decay),
        (
            HeadConfig::default().learning_rate,
            HeadConfig::default().weight_decay
        ),
        "the artifacts were made with the default hyperparameters"
    );
    let (x, target, w0, b0) = problem(rows, width);
    let mut head = Head::logistic(config, w0, b0);
    let want = floats(&r["losses"]);
    assert_eq!(want.len(), steps);
    let mut worst = 0f64;
    for (t, want) in want.iter().enumerate() {
        let (y, w) = step_inputs(t, &target);
        let got = head.step(x.view(), &y, &w) as f64;
        let diff = (got - want).abs() / want.abs().max(1.0);
        worst = worst.max(diff);
        assert!(
            diff < 1e-4,
            "step {t}: native loss {got}, ONNX Runtime {want}"
        );
    }
    let (w, b) = head.layers()[0];
    let every = floats(&r["final_w_every_97th"]);
    let flat: Vec<f32> = w.iter().copied().collect();
    for (k, want) in every.iter().enumerate() {
        let got = flat[k * 97] as f64;
        assert!((got - want).abs() < 1e-5, "w[{}]: {got} vs {want}", k * 97);
    }
    let sum: f64 = flat.iter().map(|&v| v as f64).sum();
    let abs_sum: f64 = flat.iter().map(|&v| (v as f64).abs()).sum();
    assert!((sum - get("final_w_sum")).abs() < 1e-3, "sum {sum}");
    assert!(
        (abs_sum - get("final_w_abs_sum")).abs() < 1e-3,
        "abs sum {abs_sum}"
    );
    for (got, want) in b.iter().zip(floats(&r["final_b"])) {
        assert!((*got as f64 - want).abs() < 1e-5, "b: {got} vs {want}");
    }
    let p = head.p_delete(x.view());
    for (got, want) in p.iter().zip(floats(&r["final_p_delete"])) {
        assert!(
            (*got as f64 - want).abs() < 1e-4,
            "P(delete): {got} vs {want}"
        );
    }
    eprintln!("{steps} steps: worst relative loss difference {worst:.2e}");
}
