//! Learning what this user deletes, from their labels. Sees photo ids and feature vectors
//! only, never pixels or paths.
//!
//! Status: the classifier head (`head`) and the input rows (`dataset`) are in place; FixMatch over augmented views, evaluation and suggestions are the next steps
//! (issue "Learn what this user deletes").

pub mod active;
pub mod dataset;
pub mod export;
pub mod head;
pub mod metrics;
pub mod record;
pub mod suggest;
pub mod train;
