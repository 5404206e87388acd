//! Learning what this user deletes, from their labels. Sees photo ids and feature vectors
//! only, never pixels or paths.

pub mod active;
pub mod dataset;
pub mod ensemble;
pub mod export;
pub mod graph;
pub mod head;
pub mod logistic;
pub mod metrics;
#[cfg(feature = "ort-training")]
pub mod ort_training;
pub mod record;
pub mod suggest;
pub mod train;
