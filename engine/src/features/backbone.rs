//! The CNN backbone: EfficientNet-Lite0's 1,280-d pooled features, run by tract.
//!
//! The ONNX file (see `models/README.md`) is compiled into the binary so that the engine works
//! offline with nothing to install; it is parsed and optimised once per process, and the plan is
//! shared by every worker thread.

use std::sync::{Arc, OnceLock};

use image::RgbImage;
use tract_onnx::prelude::*;

use crate::{Error, Result};

pub const EMBEDDING_DIM: usize = 1280;
pub const INPUT_SIDE: u32 = 224;

static MODEL_BYTES: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../models/efficientnet_lite0_features.onnx"
));

type Plan = Arc<TypedRunnableModel>;

/// A loaded, optimised backbone. Cheap to share across threads (`&Backbone` is `Sync`).
pub struct Backbone {
    plan: Plan,
}

impl Backbone {
    /// Parses and optimises the bundled model (a few hundred ms: do it once).
    pub fn load() -> Result<Backbone> {
        Ok(Backbone {
            plan: load_plan(MODEL_BYTES, INPUT_SIDE)?,
        })
    }

    /// The process-wide backbone, loaded on first use.
    pub fn shared() -> Result<&'static Backbone> {
        static SHARED: OnceLock<Backbone> = OnceLock::new();
        if let Some(b) = SHARED.get() {
            return Ok(b);
        }
        let loaded = Backbone::load()?;
        Ok(SHARED.get_or_init(|| loaded))
    }

    /// Embeds a working image (shorter side 256): centre-crop 224, normalise, run.
    pub fn embed(&self, working: &RgbImage) -> Result<Vec<f32>> {
        self.run(input_tensor(working))
    }

    /// Runs the model on an already preprocessed `[1, 3, 224, 224]` input.
    pub fn run(&self, input: Tensor) -> Result<Vec<f32>> {
        let out = self.plan.run(tvec!(input.into())).map_err(model_err)?;
        let view = out[0].to_plain_array_view::<f32>().map_err(model_err)?;
        Ok(view.iter().copied().collect())
    }
}

fn model_err(e: impl std::fmt::Display) -> Error {
    Error::Model(e.to_string())
}

/// Loads an ONNX model with a fixed `[1, 3, side, side]` f32 input.
pub fn load_plan(bytes: &[u8], side: u32) -> Result<Plan> {
    let shape = [1usize, 3, side as usize, side as usize];
    load_onnx(bytes, InferenceFact::dt_shape(f32::datum_type(), shape))
}

/// Loads any single-input ONNX model with the given input fact.
pub fn load_onnx(bytes: &[u8], input: InferenceFact) -> Result<Plan> {
    tract_onnx::onnx()
        .model_for_read(&mut std::io::Cursor::new(bytes))
        .and_then(|m| m.with_input_fact(0, input))
        .and_then(|m| m.into_optimized())
        .and_then(|m| m.into_runnable())
        .map_err(model_err)
}

/// The documented preprocessing after the resize: centre-crop 224, `(x - 127) / 128`, NCHW.
pub fn input_tensor(working: &RgbImage) -> Tensor {
    let side = INPUT_SIDE as usize;
    let (w, h) = (working.width() as usize, working.height() as usize);
    let (left, top) = (w.saturating_sub(side) / 2, h.saturating_sub(side) / 2);
    let arr = tract_ndarray::Array4::from_shape_fn((1, 3, side, side), |(_, c, y, x)| {
        let (px, py) = ((left + x).min(w - 1), (top + y).min(h - 1));
        (working.get_pixel(px as u32, py as u32).0[c] as f32 - 127.0) / 128.0
    });
    arr.into()
}
