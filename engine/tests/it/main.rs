//! The engine's integration tests, one binary (each test binary links the whole engine, so
//! one per crate keeps builds and CI short): real SQLite files, the real ONNX backbone, real
//! photos from the demo gallery and `../shared/data`. The ONNX Runtime variants are modules
//! behind their features (`tests/all.sh` runs them with `--features ort-training`).

mod common;

mod backbone;
mod cli;
mod decode;
mod delete_safety;
mod duplicates;
mod fuzz_regressions;
mod head_training_parity;
#[cfg(feature = "heif")]
mod heif;
mod hostile;
mod jpeg_codec;
mod labels;
mod learn;
mod model;
#[cfg(feature = "ort")]
mod ort_backend;
#[cfg(feature = "ort-training")]
mod ort_training;
#[cfg(feature = "ort-training")]
mod ort_training_fallback;
mod pick;
mod quality;
mod scan;
mod store;
mod trash;
mod video;
