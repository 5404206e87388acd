//! Benchmarks that measure the engine's choices on labelled data sets (a photo's class is its
//! parent folder's name, as in `imagenette-val/<class>/*.JPEG`): [`pick`] compares labeling
//! queues, [`learn`] compares learners and queues as a simulated user would meet them,
//! [`refresh`] times label -> refreshed suggestions. [`consistency`] is the kill-and-check
//! cycle of crash consistency (`precious bench reliability --only kills`, `tests/kills.rs`).

pub mod consistency;
pub mod index;
pub mod learn;
pub mod pick;
pub mod refresh;

use std::path::Path;

use serde::Serialize;

pub use pick::{bench_pick, pick_table, PickBenchRow};

#[derive(Clone, Copy, Debug, Serialize)]
pub struct MeanSd {
    pub mean: f64,
    pub sd: f64,
}

impl MeanSd {
    pub fn of(v: &[f64]) -> MeanSd {
        let n = v.len().max(1) as f64;
        let mean = v.iter().sum::<f64>() / n;
        let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0).max(1.0);
        MeanSd {
            mean,
            sd: var.sqrt(),
        }
    }
}

pub(crate) fn class_of(path: &str) -> String {
    Path::new(path)
        .parent()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
