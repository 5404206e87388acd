//! Per-photo features, all computed from the working image (see [`crate::decode`]) but the
//! blur measure, which needs a window at full resolution ([`quality::blur`]).
//! Learning code sees only these vectors and numbers, never pixels or paths.

pub mod augment;
pub mod backbone;
pub mod hog;
pub mod phash;
pub mod quality;

use image::{GrayImage, RgbImage};
use serde::Serialize;

pub use backbone::{Backbone, EMBEDDING_DIM};
pub use quality::Quality;

/// The feature space clustered to pick photos.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Space {
    /// Backbone embeddings (cosine geometry, PCA to 64-d): what the photo shows.
    #[default]
    Embedding,
    /// HOG projected by the gallery's PCA: layout and edges (the seed project's choice).
    HogPca,
}

/// Bump when any feature changes meaning, so stored rows are recomputed on the next scan.
/// 2: the full-resolution blur measure ([`quality::blur`]).
pub const FEATURE_VERSION: i64 = 2;

#[derive(Clone, Debug, Serialize)]
pub struct Features {
    /// Backbone embedding ([`EMBEDDING_DIM`] values, not normalised).
    #[serde(skip)]
    pub embedding: Vec<f32>,
    /// HOG descriptor ([`hog::HOG_DIM`] values in 0..=1).
    #[serde(skip)]
    pub hog: Vec<f32>,
    pub quality: Quality,
    /// 64-bit DCT perceptual hash: near-duplicates differ in few bits.
    pub phash: u64,
}

/// Every feature of a working image (no blur measure: that needs the full-resolution
/// [`crate::decode::Detail`]; see [`with_embedding`]).
pub fn extract(working: &RgbImage, backbone: &Backbone) -> crate::Result<Features> {
    Ok(with_embedding(working, backbone.embed(working)?, None))
}

/// Everything but the embedding (cheap: HOG, quality, perceptual hash), around a given one;
/// the blur measure from `detail`, the full-resolution window [`quality::detail_window`] chose.
pub fn with_embedding(
    working: &RgbImage,
    embedding: Vec<f32>,
    detail: Option<&GrayImage>,
) -> Features {
    let gray = image::DynamicImage::ImageRgb8(working.clone()).into_luma8();
    let mut quality = quality::measure(working, &gray);
    quality.blur = detail.and_then(quality::blur);
    Features {
        embedding,
        hog: hog::hog(&gray),
        quality,
        phash: phash::phash(&gray),
    }
}
