//! precious-engine: indexes a photo gallery on the device and picks the photos worth asking
//! the user about. No GUI, no network: front ends (the `precious` CLI, the Tauri app) call
//! [`Engine`] and get plain, serialisable data back.
//!
//! Data flows one way: [`source`] lists and reads files -> [`scan`] decodes once ([`decode`],
//! [`metadata`]) and extracts [`features`] -> [`store`] keeps them -> [`pick`] / [`cluster`]
//! choose what to label.

pub mod act;
pub mod assets;
pub mod cluster;
pub mod decode;
pub mod duplicates;
mod engine;
pub mod error;
pub mod features;
pub mod format;
pub mod learn;
pub mod memory;
pub mod metadata;
mod model;
mod neighbours;
#[cfg(feature = "ort")]
mod ort_runtime;
mod os_trash;
pub mod pick;
pub mod scan;
pub mod simulated;
pub mod source;
pub mod store;
pub mod thumbs;
pub mod video;
pub mod views;

pub use act::{
    ActReport, ActStatus, ActionKind, PhotoOutcome, RecoveryReport, RestoreReport, Settled,
    TrashReport, TrashedPhoto,
};
pub use duplicates::{Decision, DuplicateOptions, Duplicates, Tier};
pub use engine::{
    CompanionFile, Engine, FeatureSummary, FileError, Label, LabelCounts, PhotoCounts,
    PhotoDetails, Split, Status, APP_ID,
};
pub use error::{Error, Result};
pub use learn::train::{Method, TrainConfig};
pub use model::{
    Evaluation, PhotoScore, Refresh, Suggestions, TrainOptions, TrainReport, TrainerChoice,
    RANKING_CUT, TARGET_PRECISION,
};
pub use pick::{Pick, PickOptions, PickedPhoto, Space};
pub use scan::{ScanOptions, ScanProgress, ScanReport};
pub use source::{Entry, FsSource, GallerySource, Listed, Locator};
