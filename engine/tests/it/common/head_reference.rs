//! The reference problem of `models/export_head_training.py` (its rows recomputed from the
//! same formulas) and what ONNX Runtime's training API made of it (`reference.json`). Shared by
//! `head_training_parity.rs` (the native solver) and `ort_training.rs` (the engine on ONNX
//! Runtime).
#![allow(dead_code)]

use ndarray::Array2;
use serde_json::Value;

/// The parity's tolerances, ONNX Runtime's fit against the native one (the figures are in
/// `docs/ort-training.md`): on P(delete) of any row (fitted or not), and on each weight and the
/// bias (the weights are up to ~1). ONNX Runtime stops at 1e-7 of the first gradient norm, in
/// float32; the native solver is exact to ~1e-9.
pub const P_TOLERANCE: f64 = 1e-3;
pub const W_TOLERANCE: f64 = 5e-3;

pub const REFERENCE: &str = include_str!("../../../../models/head_training/reference.json");

pub fn reference() -> Value {
    serde_json::from_str(REFERENCE).unwrap()
}

pub fn number(r: &Value, key: &str) -> f64 {
    r[key]
        .as_f64()
        .unwrap_or_else(|| panic!("reference.json has no number {key}"))
}

pub fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("a list")
        .iter()
        .map(|x| x.as_f64().expect("a number"))
        .collect()
}

/// `problem()` of the script, from the sizes in `r`: rows (a unit-length embedding part, then
/// a block of signals), and which are deletes. In f64, rounded to f32 at the end, as numpy.
pub fn problem(r: &Value) -> (Array2<f32>, Vec<bool>) {
    let rows = number(r, "rows") as usize;
    let embedding = number(r, "embedding") as usize;
    let signals = number(r, "signals") as usize;
    let weight = number(r, "signal_weight");
    let clean: Vec<bool> = (0..rows).map(|i| i % 4 == 0).collect();
    let delete: Vec<bool> = (0..rows).map(|i| clean[i] ^ (i % 13 == 7)).collect();
    let mut x = Array2::<f32>::zeros((rows, embedding + signals));
    for i in 0..rows {
        let sign = if clean[i] { 1.0 } else { -1.0 };
        let fi = i as f64;
        let e: Vec<f64> = (0..embedding)
            .map(|j| {
                let fj = j as f64;
                let class = if j % 3 == 0 {
                    0.8 * sign * (0.05 * fj).cos()
                } else {
                    0.0
                };
                (0.61 * (fi + 1.0) * ((j % 89) as f64 + 1.0) + 0.13 * fj).sin() + class
            })
            .collect();
        let norm = e.iter().map(|v| v * v).sum::<f64>().sqrt();
        for (j, v) in e.iter().enumerate() {
            x[[i, j]] = (v / norm) as f32;
        }
        for k in 0..signals {
            let fk = k as f64;
            let class = if k < 4 { 0.9 * sign } else { 0.0 };
            let v =
                ((0.29 * (fi + 2.0) * (fk + 3.0)).cos() + class) * weight / (signals as f64).sqrt();
            x[[i, embedding + k]] = v as f32;
        }
    }
    (x, delete)
}

/// The largest absolute difference between two lists.
pub fn max_abs_diff(a: impl IntoIterator<Item = f64>, b: impl IntoIterator<Item = f64>) -> f64 {
    a.into_iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}
