//! The native solver against ONNX Runtime's training API: `models/export_head_training` solved
//! the reference problem (rows from formulas, recomputed here) with the training artifacts on
//! onnxruntime-training 1.19.2, checked it against torch's L-BFGS, and stored the solution in
//! `models/head_training/reference.json`. The native Newton fit must find the same optimum.
//! Runs without any ONNX Runtime.

use crate::common::head_reference::{
    floats, max_abs_diff, number, problem, reference, P_TOLERANCE, W_TOLERANCE,
};
use precious_engine::learn::logistic::{self, Logistic};

#[test]
fn the_native_fit_is_the_optimum_onnx_runtime_found() {
    let r = reference();
    // The engine's widest row fits the artifacts (a new signal column may need new ones).
    let width = number(&r, "width") as usize;
    let widest = precious_engine::features::backbone::EMBEDDING_DIM
        + precious_engine::learn::dataset::signal_names(precious_engine::pick::PCA_DIMS).len();
    assert!(
        widest <= width,
        "rows of {widest} columns, artifacts of {width}: run models/export_head_training"
    );
    let (x, y) = problem(&r);
    let strength = number(&r, "strength");
    let c = logistic::balanced(&y);
    let (native, solve) = logistic::fit(x.view(), &y, &c, strength);
    let ort = Logistic {
        w: floats(&r["w"]).iter().map(|&v| v as f32).collect(),
        b: number(&r, "b") as f32,
    };
    assert_eq!(native.w.len(), ort.w.len());
    let dp = max_abs_diff(
        native.p_delete(x.view()).iter().map(|&v| f64::from(v)),
        floats(&r["p_delete"]),
    );
    // The stored probabilities are those of the stored weights.
    let stored = max_abs_diff(
        ort.p_delete(x.view()).iter().map(|&v| f64::from(v)),
        floats(&r["p_delete"]),
    );
    let dw = max_abs_diff(
        native.w.iter().map(|&v| f64::from(v)),
        ort.w.iter().map(|&v| f64::from(v)),
    );
    let db = f64::from((native.b - ort.b).abs());
    let objective = |m: &Logistic| logistic::objective(x.view(), &y, &c, strength, m);
    let (f_native, f_ort) = (objective(&native), objective(&ort));
    eprintln!(
        "reference problem ({} rows x {} columns, C {strength}): native {} Newton steps, \
         objective {f_native:.6}; ONNX Runtime {} steps, objective {f_ort:.6}; max |dp| {dp:.1e}, \
         max |dw| {dw:.1e}, |db| {db:.1e}",
        x.nrows(),
        x.ncols(),
        solve.iterations,
        number(&r, "steps"),
    );
    assert!(stored < 1e-6, "reference.json's p_delete: {stored}");
    assert!(dp < P_TOLERANCE, "P(delete): max abs diff {dp}");
    assert!(dw < W_TOLERANCE && db < W_TOLERANCE, "w: {dw}, b: {db}");
    // The native optimum is the lower objective, by no more than float32's rounding.
    assert!(f_native <= f_ort + 1e-9 * f_ort.abs() && f_ort - f_native < 1e-5 * f_native);
}
