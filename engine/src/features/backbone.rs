//! The CNN backbone: EfficientNet-Lite0's 1,280-d pooled features, run by tract or, with the
//! `ort` cargo feature, by ONNX Runtime.
//!
//! The ONNX file (see `models/README.md`) is compiled into the binary so that the engine works
//! offline with nothing to install; it is parsed and optimised once per process, and shared by
//! every worker thread.
//!
//! Backends: tract (pure Rust, always there) and ONNX Runtime (`ort` feature: ~3x faster here,
//! but its shared library is loaded at run time and may be missing). Which one runs is chosen
//! when the backbone loads ([`Choice`], env [`BACKEND_ENV`]); whatever goes wrong with ONNX
//! Runtime (no library, a file that is not ONNX Runtime, a runtime too old for `ort`, a failed
//! session) falls back to tract, and [`Backbone::note`] says why in one line.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use image::RgbImage;
use tract_onnx::prelude::*;

use crate::{Error, Result};

#[cfg(feature = "ort")]
mod onnxruntime;

pub const EMBEDDING_DIM: usize = 1280;
pub const INPUT_SIDE: u32 = 224;

/// `tract`, `ort` or `auto` (the default: ONNX Runtime when it loads, else tract).
pub const BACKEND_ENV: &str = "PRECIOUS_BACKBONE";
/// The ONNX Runtime shared library to load (`ort` feature); see [`ort_library_candidates`].
pub const ORT_LIBRARY_ENV: &str = "ORT_DYLIB_PATH";
/// The library file `tests/tools/fetch_onnxruntime` puts in `target/onnxruntime/`.
pub const ORT_LIBRARY_FILE: &str = "libonnxruntime.so.1.32.0";

static MODEL_BYTES: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../models/efficientnet_lite0_features.onnx"
));

type Plan = Arc<TypedRunnableModel>;

/// Which backend to load.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Choice {
    /// ONNX Runtime if it loads, else tract.
    #[default]
    Auto,
    Tract,
    /// ONNX Runtime; still falls back to tract (with a note) when it cannot load.
    Ort,
}

impl Choice {
    pub fn parse(s: &str) -> Option<Choice> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "auto" => Some(Choice::Auto),
            "tract" => Some(Choice::Tract),
            "ort" | "onnxruntime" => Some(Choice::Ort),
            _ => None,
        }
    }
}

/// The backend a loaded [`Backbone`] runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Tract,
    Ort,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Tract => "tract",
            Backend::Ort => "ort",
        }
    }
}

enum Runner {
    Tract(Plan),
    #[cfg(feature = "ort")]
    Ort(onnxruntime::OrtRunner),
}

/// A loaded, optimised backbone. Cheap to share across threads (`&Backbone` is `Sync`).
pub struct Backbone {
    runner: Runner,
    note: String,
}

impl Backbone {
    /// Loads the backend chosen by [`BACKEND_ENV`] (default auto), ONNX Runtime from
    /// [`ORT_LIBRARY_ENV`] or the default places. Never fails over ONNX Runtime: it falls
    /// back to tract (a few hundred ms to optimise the plan: do it once).
    pub fn load() -> Result<Backbone> {
        let raw = std::env::var(BACKEND_ENV).unwrap_or_default();
        match Choice::parse(&raw) {
            Some(choice) => Backbone::load_with(choice, None),
            None => {
                let mut b = Backbone::load_with(Choice::Auto, None)?;
                b.note = format!(
                    "{} ({BACKEND_ENV}={raw:?} ignored: not tract, ort or auto)",
                    b.note
                );
                Ok(b)
            }
        }
    }

    /// Loads the given backend; `ort_library` overrides [`ORT_LIBRARY_ENV`] and the default
    /// places (ignored without the `ort` feature). Falls back to tract when ONNX Runtime
    /// cannot be used; errors only when tract cannot load the bundled model.
    pub fn load_with(choice: Choice, ort_library: Option<&Path>) -> Result<Backbone> {
        if choice == Choice::Tract {
            return Backbone::tract("tract (chosen)".into());
        }
        #[cfg(feature = "ort")]
        {
            match onnxruntime::OrtRunner::load(MODEL_BYTES, ort_library) {
                Ok(runner) => {
                    let note = runner.describe();
                    Ok(Backbone {
                        runner: Runner::Ort(runner),
                        note,
                    })
                }
                Err(why) => Backbone::tract(format!(
                    "tract ({why}; run tests/tools/fetch_onnxruntime or set {ORT_LIBRARY_ENV})"
                )),
            }
        }
        #[cfg(not(feature = "ort"))]
        {
            let _ = ort_library;
            Backbone::tract(
                match choice {
                    Choice::Ort => {
                        "tract (ONNX Runtime asked for, but this build has no `ort` feature)"
                    }
                    _ => "tract (built without the `ort` feature)",
                }
                .into(),
            )
        }
    }

    fn tract(note: String) -> Result<Backbone> {
        Ok(Backbone {
            runner: Runner::Tract(load_plan(MODEL_BYTES, INPUT_SIDE)?),
            note,
        })
    }

    /// The process-wide backbone ([`Backbone::load`]), loaded on first use.
    pub fn shared() -> Result<&'static Backbone> {
        static SHARED: OnceLock<Backbone> = OnceLock::new();
        if let Some(b) = SHARED.get() {
            return Ok(b);
        }
        let loaded = Backbone::load()?;
        Ok(SHARED.get_or_init(|| loaded))
    }

    pub fn backend(&self) -> Backend {
        match self.runner {
            Runner::Tract(_) => Backend::Tract,
            #[cfg(feature = "ort")]
            Runner::Ort(_) => Backend::Ort,
        }
    }

    /// One line for people: the backend, and why tract when ONNX Runtime was wanted.
    pub fn note(&self) -> &str {
        &self.note
    }

    /// Embeds a working image (shorter side 256): centre-crop 224, normalise, run.
    pub fn embed(&self, working: &RgbImage) -> Result<Vec<f32>> {
        self.run(input_tensor(working))
    }

    /// Runs the model on an already preprocessed `[1, 3, 224, 224]` input.
    pub fn run(&self, input: Tensor) -> Result<Vec<f32>> {
        match &self.runner {
            Runner::Tract(plan) => {
                let out = plan.run(tvec!(input.into())).map_err(model_err)?;
                let view = out[0].to_plain_array_view::<f32>().map_err(model_err)?;
                Ok(view.iter().copied().collect())
            }
            #[cfg(feature = "ort")]
            Runner::Ort(runner) => {
                let side = INPUT_SIDE as usize;
                if input.shape() != [1, 3, side, side] {
                    return Err(Error::Model(format!(
                        "backbone input shape {:?}, expected [1, 3, {side}, {side}]",
                        input.shape()
                    )));
                }
                let view = input.to_plain_array_view::<f32>().map_err(model_err)?;
                let shape = [1, 3, side as i64, side as i64];
                match view.as_slice() {
                    Some(data) => runner.run(data, shape),
                    None => runner.run(&view.iter().copied().collect::<Vec<_>>(), shape),
                }
            }
        }
    }
}

/// `backbone: <note>` for the process-wide backbone (loads it if needed): what the CLI and the
/// app print once.
pub fn backend_note() -> String {
    match Backbone::shared() {
        Ok(b) => format!("backbone: {}", b.note()),
        Err(e) => format!("backbone: failed to load ({e})"),
    }
}

/// Where ONNX Runtime is looked for, in order: [`ORT_LIBRARY_ENV`] alone when set; else
/// [`ORT_LIBRARY_FILE`] (and `libonnxruntime.so`) in `<workspace>/target/onnxruntime/` (where
/// `tests/tools/fetch_onnxruntime` puts it) and next to the executable.
pub fn ort_library_candidates() -> Vec<std::path::PathBuf> {
    use std::path::PathBuf;
    if let Some(p) = std::env::var_os(ORT_LIBRARY_ENV).filter(|p| !p.is_empty()) {
        return vec![PathBuf::from(p)];
    }
    let generic = format!(
        "{}onnxruntime{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    let mut dirs = vec![PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../target/onnxruntime"
    ))];
    if let Some(dir) = std::env::current_exe().ok().and_then(|e| {
        e.parent()
            .map(|d| d.to_path_buf())
            .filter(|d| !d.as_os_str().is_empty())
    }) {
        dirs.push(dir);
    }
    let mut out = Vec::new();
    for d in dirs {
        out.push(d.join(ORT_LIBRARY_FILE));
        out.push(d.join(&generic));
    }
    out
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
