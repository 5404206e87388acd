//! The reference problem of `models/export_head_training.py` (its inputs recomputed from the
//! same formulas) and what ONNX Runtime's training API did on it (`reference.json`). Shared by
//! `head_training_parity.rs` (native) and `ort_training.rs` (the engine on ONNX Runtime).
#![allow(dead_code)]

use ndarray::{Array1, Array2};
use serde_json::Value;

pub const REFERENCE: &str = include_str!("../../../../models/head_training/reference.json");

/// `problem()` of models/export_head_training.py, in f64 then rounded to f32 as numpy does.
pub fn problem(rows: usize, width: usize) -> (Array2<f32>, Vec<usize>, Array2<f32>, Array1<f32>) {
    let target: Vec<usize> = (0..rows).map(|i| (i % 3 == 0) as usize).collect();
    let x = Array2::from_shape_fn((rows, width), |(i, j)| {
        let (i, j) = (i as f64, j as f64);
        let sign = 2.0 * target[i as usize] as f64 - 1.0;
        ((0.37 * i + 0.11 * j).sin() + 0.5 * sign * (0.05 * j).cos()) as f32
    });
    let w0 = Array2::from_shape_fn((width, 2), |(j, c)| {
        (0.01 * (0.7 * (j * 2 + c) as f64).cos()) as f32
    });
    (x, target, w0, Array1::from(vec![0.05f32, -0.05]))
}

/// `step_inputs(t, target)` of the script: supervised, class-balanced weights on even steps;
/// on odd steps some targets flipped (pseudo-labels) and some weights 0 (the FixMatch mask).
pub fn step_inputs(t: usize, target: &[usize]) -> (Vec<usize>, Vec<f32>) {
    let n = target.len();
    let mean = target.iter().sum::<usize>() as f64 / n as f64;
    let mut y = target.to_vec();
    let mut w: Vec<f32> = target
        .iter()
        .map(|&c| {
            let v = if c == 1 {
                0.5 / mean
            } else {
                0.5 / (1.0 - mean)
            };
            (v / n as f64) as f32
        })
        .collect();
    if t % 2 == 1 {
        for r in 0..n {
            if (r + t).is_multiple_of(5) {
                y[r] = 1 - y[r];
            }
            if (r * 7 + t).is_multiple_of(4) {
                w[r] = 0.0;
            }
        }
    }
    (y, w)
}

pub fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("a list")
        .iter()
        .map(|x| x.as_f64().expect("a number"))
        .collect()
}

pub fn reference() -> Value {
    serde_json::from_str(REFERENCE).unwrap()
}

pub fn number(r: &Value, key: &str) -> f64 {
    r[key]
        .as_f64()
        .unwrap_or_else(|| panic!("reference.json has no number {key}"))
}
