//! The head trained by ONNX Runtime's training API (cargo feature `ort-training`), as an
//! alternative to the native [`Head`]: the same loop ([`super::train::train`]) drives either
//! through [`Trainer`].
//!
//! The artifacts (`models/head_training/`, made by `models/export_head_training`) are the native
//! logistic head exactly: logits = x w + b, the weighted cross-entropy, PyTorch's AdamW with
//! the native hyperparameters. They are compiled in; their input width is fixed
//! ([`ARTIFACT_WIDTH`]), and narrower rows are padded with zeros, which changes nothing (zero
//! inputs give zero gradients, so those weights stay 0).
//!
//! The runtime is the process's one ONNX Runtime (`crate::ort_runtime`), which must be a
//! training-enabled build: the Android and iOS training packages are; PyPI's `onnxruntime` and
//! npm's `onnxruntime-node` are not (their `GetTrainingApi` returns null). Anything missing is
//! a reason, never a panic: the caller trains natively and says why.
//!
//! `ort`'s own `Trainer::step` panics on its outputs in 2.0.0-rc.15 ("tensor values require
//! the allocator it was created with"), so the steps call `TrainStep`, `OptimizerStep`,
//! `LazyResetGrad` and `EvalStep` of the C API directly; `ort` only creates the session.

use std::ffi::{c_void, CStr, CString};
use std::path::{Path, PathBuf};
use std::ptr;

use ::ort::environment::Environment;
use ::ort::memory::Allocator;
use ::ort::session::Session;
use ::ort::sys::{OrtStatusPtr, OrtValue};
use ::ort::training::{training_api, Checkpoint, Trainer as OrtSession};
use ::ort::value::Tensor;
use ::ort::AsPointer;
use ndarray::{Array1, Array2, ArrayView2};

use super::head::{Head, HeadConfig, Trainer};
use crate::ort_runtime::{self, shown};
use crate::{Error, Result};

/// Input width of the artifacts: the 1,280-d embedding, 64 HOG-PCA columns and 17 signals
/// (`learn::dataset`); the engine's widest row.
pub const ARTIFACT_WIDTH: usize = 1361;

const TRAINING_MODEL: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../models/head_training/training_model.onnx"
));
const EVAL_MODEL: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../models/head_training/eval_model.onnx"
));
const OPTIMIZER_MODEL: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../models/head_training/optimizer_model.onnx"
));
const CHECKPOINT: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../models/head_training/checkpoint"
));

/// The model inputs, in the order `TrainStep` and `EvalStep` take them.
const INPUTS: [&str; 3] = ["x", "target", "weight"];

/// A head being trained by ONNX Runtime. Built from a native head (its weights are the
/// starting point); [`OrtTrainer::to_head`] gives the result back as a native head.
pub struct OrtTrainer {
    session: OrtSession,
    env: Environment,
    config: HeadConfig,
    /// The real input width (rows are padded from it to [`ARTIFACT_WIDTH`]).
    inputs: usize,
    outputs: usize,
    description: String,
}

impl OrtTrainer {
    /// Loads ONNX Runtime from `library` (else `ORT_DYLIB_PATH` or the default places, as the
    /// backbone does) and starts a training session at `head`'s weights. `Err` is a reason
    /// for people: no library, no training API in it, a head the artifacts do not cover.
    pub fn new(library: Option<&Path>, head: &Head) -> std::result::Result<OrtTrainer, String> {
        let layers = head.layers();
        if head.config.hidden != 0 || layers.len() != 1 {
            return Err(format!(
                "the training artifacts are for the logistic head; this one has {} hidden units",
                head.config.hidden
            ));
        }
        let inputs = layers[0].0.nrows();
        if inputs > ARTIFACT_WIDTH {
            return Err(format!(
                "rows of {inputs} columns are wider than the training artifacts' {ARTIFACT_WIDTH}"
            ));
        }
        let candidates = match library {
            Some(p) => vec![p.to_path_buf()],
            None => crate::features::backbone::ort_library_candidates(),
        };
        ort_runtime::unwind_to_reason(|| OrtTrainer::start(&candidates, head, inputs))
    }

    fn start(
        candidates: &[PathBuf],
        head: &Head,
        inputs: usize,
    ) -> std::result::Result<OrtTrainer, String> {
        let (runtime, not_loaded) = ort_runtime::load(candidates)?;
        let at = format!(
            "ONNX Runtime {} ({})",
            runtime.version,
            shown(&runtime.library)
        );
        let also = not_loaded.map_or(String::new(), |p| {
            format!(
                "; {} not loaded: a process loads one ONNX Runtime",
                shown(&p)
            )
        });
        training_api().map_err(|_| {
            format!(
                "{at} has no training API (GetTrainingApi returned null: it was built without \
                 --enable_training_apis){also}"
            )
        })?;
        let session = open_session(&runtime.env, None).map_err(|e| format!("{at}: {e}"))?;
        let mut trainer = OrtTrainer {
            session,
            env: runtime.env.clone(),
            config: head.config.clone(),
            inputs,
            outputs: 0,
            description: format!("{at}, training API{also}"),
        };
        trainer
            .check_signature()
            .map_err(|w| format!("{at}: {w}"))?;
        trainer
            .set_weights(head)
            .map_err(|w| format!("{at}: {w}"))?;
        trainer
            .session
            .optimizer()
            .set_lr(head.config.learning_rate)
            .map_err(|e| format!("{at}: learning rate: {e}"))?;
        Ok(trainer)
    }

    /// "ONNX Runtime 1.19.2 (/path/libonnxruntime.so), training API".
    pub fn describe(&self) -> &str {
        &self.description
    }

    fn session_ptr(&self) -> *mut ::ort::sys::OrtTrainingSession {
        self.session.ptr().cast_mut()
    }

    /// The artifacts' inputs must be [`INPUTS`] in order; the outputs loss, then logits.
    fn check_signature(&mut self) -> std::result::Result<(), String> {
        let api = training_api().map_err(|e| e.to_string())?;
        let allocator = Allocator::default();
        let s = self.session_ptr();
        let mut n = 0usize;
        status(unsafe { (api.TrainingSessionGetTrainingModelInputCount)(s, &mut n) })?;
        let mut names = Vec::new();
        for i in 0..n {
            let mut name: *const std::ffi::c_char = ptr::null();
            status(unsafe {
                (api.TrainingSessionGetTrainingModelInputName)(
                    s,
                    i,
                    allocator.ptr().cast_mut(),
                    &mut name,
                )
            })?;
            // SAFETY: a NUL-terminated string the allocator made; freed right after.
            names.push(
                unsafe { CStr::from_ptr(name) }
                    .to_string_lossy()
                    .into_owned(),
            );
            unsafe { allocator.free(name.cast_mut()) };
        }
        if names != INPUTS {
            return Err(format!(
                "the training model takes {names:?}, not {INPUTS:?}"
            ));
        }
        status(unsafe { (api.TrainingSessionGetTrainingModelOutputCount)(s, &mut self.outputs) })?;
        let mut eval_outputs = 0usize;
        status(unsafe { (api.TrainingSessionGetEvalModelOutputCount)(s, &mut eval_outputs) })?;
        if self.outputs != 2 || eval_outputs != 2 {
            return Err(format!(
                "the models give {} and {eval_outputs} outputs, not loss and logits",
                self.outputs
            ));
        }
        Ok(())
    }

    /// Copies `head`'s weights (padded with zero rows) and bias into the checkpoint.
    fn set_weights(&mut self, head: &Head) -> std::result::Result<(), String> {
        let (w, b) = head.layers()[0];
        let mut padded = vec![0f32; ARTIFACT_WIDTH * 2];
        for (i, row) in w.rows().into_iter().enumerate() {
            padded[i * 2] = row[0];
            padded[i * 2 + 1] = row[1];
        }
        update_parameter(&self.session, "w", &[ARTIFACT_WIDTH, 2], padded)?;
        update_parameter(&self.session, "b", &[2], b.to_vec())
    }

    /// The trained head, as a native head (fresh AdamW moments).
    pub fn to_head(&self) -> Result<Head> {
        let w = parameter(&self.session, "w").map_err(Error::Model)?;
        let b = parameter(&self.session, "b").map_err(Error::Model)?;
        if w.len() != ARTIFACT_WIDTH * 2 || b.len() != 2 {
            return Err(Error::Model(
                "ONNX Runtime gave parameters of another shape".into(),
            ));
        }
        let w = Array2::from_shape_vec((ARTIFACT_WIDTH, 2), w)
            .expect("checked length")
            .slice_move(ndarray::s![..self.inputs, ..]);
        Ok(Head::logistic(self.config.clone(), w, Array1::from(b)))
    }

    /// Writes the inference model (`x` `[n, ARTIFACT_WIDTH]` in, `logits` out, the current
    /// weights) to `path`. ONNX Runtime exports only from a session made from files (it
    /// re-reads the eval model), so the artifacts go to `<path>.parts/` for the time of the
    /// export, into a second session with these weights.
    pub fn export_inference(&self, path: &Path) -> Result<()> {
        let parts = PathBuf::from(format!("{}.parts", path.display()));
        let export = || -> std::result::Result<(), String> {
            let w = parameter(&self.session, "w")?;
            let b = parameter(&self.session, "b")?;
            std::fs::create_dir_all(&parts).map_err(|e| e.to_string())?;
            let session = open_session(&self.env, Some(&parts))?;
            update_parameter(&session, "w", &[ARTIFACT_WIDTH, 2], w)?;
            update_parameter(&session, "b", &[2], b)?;
            session.export(path, ["logits"]).map_err(|e| e.to_string())
        };
        let result = export();
        let _ = std::fs::remove_dir_all(&parts);
        result.map_err(|e| Error::Model(format!("ONNX Runtime could not export the model: {e}")))
    }

    /// Runs `TrainStep` (`train`) or `EvalStep` on the rows; the outputs' floats (loss, logits).
    fn run(
        &mut self,
        train: bool,
        x: ArrayView2<f32>,
        y: &[usize],
        w: &[f32],
    ) -> std::result::Result<Vec<Vec<f32>>, String> {
        let n = x.nrows();
        if x.ncols() != self.inputs || y.len() != n || w.len() != n {
            return Err(format!(
                "rows {}x{}, {} targets and {} weights for a head of {} inputs",
                n,
                x.ncols(),
                y.len(),
                w.len(),
                self.inputs
            ));
        }
        let mut padded = vec![0f32; n * ARTIFACT_WIDTH];
        for (i, row) in x.rows().into_iter().enumerate() {
            for (j, v) in row.iter().enumerate() {
                padded[i * ARTIFACT_WIDTH + j] = *v;
            }
        }
        let e = |e: ::ort::Error| e.to_string();
        let x = Tensor::from_array(([n, ARTIFACT_WIDTH], padded)).map_err(e)?;
        let y = Tensor::from_array(([n], y.iter().map(|&c| c as i64).collect::<Vec<_>>()))
            .map_err(e)?;
        let w = Tensor::from_array(([n], w.to_vec())).map_err(e)?;
        let inputs = [x.ptr(), y.ptr(), w.ptr()];
        let mut outputs: Vec<*mut OrtValue> = vec![ptr::null_mut(); self.outputs];
        let api = training_api().map_err(|e| e.to_string())?;
        let step = if train { api.TrainStep } else { api.EvalStep };
        // SAFETY: the session is live, the inputs are live tensors of the declared types and
        // shapes, and `outputs` has room for every model output; each output is released.
        status(unsafe {
            step(
                self.session_ptr(),
                ptr::null(),
                inputs.len(),
                inputs.as_ptr(),
                outputs.len(),
                outputs.as_mut_ptr(),
            )
        })?;
        let values = outputs.iter().map(|&v| unsafe { floats(v) }).collect();
        for v in outputs {
            unsafe { (::ort::api().ReleaseValue)(v) };
        }
        values
    }
}

impl Trainer for OrtTrainer {
    type Error = Error;

    fn probabilities(&mut self, x: ArrayView2<f32>) -> Result<Array2<f32>> {
        let n = x.nrows();
        let mut out = self
            .run(false, x, &vec![0; n], &vec![1.0; n])
            .map_err(|e| Error::Model(format!("ONNX Runtime eval step: {e}")))?;
        let logits = Array2::from_shape_vec((n, 2), out.swap_remove(1))
            .map_err(|_| Error::Model("ONNX Runtime gave logits of another shape".into()))?;
        Ok(super::head::softmax_rows(&logits))
    }

    fn train_step(&mut self, x: ArrayView2<f32>, y: &[usize], w: &[f32]) -> Result<f32> {
        // As native: no step without weight (the loss would divide by 0).
        if w.iter().sum::<f32>() <= 0.0 {
            return Ok(0.0);
        }
        let err = |what: &str, e: String| Error::Model(format!("ONNX Runtime {what}: {e}"));
        let out = self.run(true, x, y, w).map_err(|e| err("train step", e))?;
        let api = training_api().map_err(|e| err("training API", e.to_string()))?;
        status(unsafe { (api.OptimizerStep)(self.session_ptr(), ptr::null()) })
            .map_err(|e| err("optimizer step", e))?;
        status(unsafe { (api.LazyResetGrad)(self.session_ptr()) })
            .map_err(|e| err("gradient reset", e))?;
        Ok(out[0].first().copied().unwrap_or(f32::NAN))
    }
}

/// A training session over the compiled-in artifacts: from memory, or (`files`) from copies
/// written into that folder.
fn open_session(
    env: &Environment,
    files: Option<&Path>,
) -> std::result::Result<OrtSession, String> {
    let fail = |what: &str, e: ::ort::Error| format!("{what}: {e}");
    // One thread: the step is tiny, and a fixed summation order keeps runs repeatable.
    let builder = Session::builder(env)
        .and_then(|b| b.with_intra_threads(1).map_err(Into::into))
        .and_then(|b| b.with_inter_threads(1).map_err(Into::into))
        .map_err(|e| fail("session options", e))?;
    let Some(dir) = files else {
        let checkpoint =
            Checkpoint::load_from_buffer(CHECKPOINT).map_err(|e| fail("checkpoint", e))?;
        return OrtSession::new_from_memory(
            builder,
            Allocator::default(),
            checkpoint,
            TRAINING_MODEL,
            EVAL_MODEL,
            OPTIMIZER_MODEL,
        )
        .map_err(|e| fail("training session", e));
    };
    let files = [
        ("training_model.onnx", TRAINING_MODEL),
        ("eval_model.onnx", EVAL_MODEL),
        ("optimizer_model.onnx", OPTIMIZER_MODEL),
        ("checkpoint", CHECKPOINT),
    ];
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).map_err(|e| format!("{name}: {e}"))?;
    }
    let checkpoint = Checkpoint::load(dir.join("checkpoint")).map_err(|e| fail("checkpoint", e))?;
    OrtSession::new(
        builder,
        Allocator::default(),
        checkpoint,
        dir.join("training_model.onnx"),
        dir.join("eval_model.onnx"),
        dir.join("optimizer_model.onnx"),
    )
    .map_err(|e| fail("training session", e))
}

fn update_parameter(
    session: &OrtSession,
    name: &str,
    shape: &[usize],
    data: Vec<f32>,
) -> std::result::Result<(), String> {
    let api = training_api().map_err(|e| e.to_string())?;
    let value = Tensor::from_array((shape.to_vec(), data)).map_err(|e| e.to_string())?;
    let name = CString::new(name).expect("no NUL");
    // SAFETY: the checkpoint belongs to a live session; the value is a live tensor of the
    // parameter's shape, which ONNX Runtime copies.
    status(unsafe {
        (api.UpdateParameter)(
            session.checkpoint().ptr().cast_mut(),
            name.as_ptr(),
            value.ptr().cast_mut(),
        )
    })
}

fn parameter(session: &OrtSession, name: &str) -> std::result::Result<Vec<f32>, String> {
    let api = training_api().map_err(|e| e.to_string())?;
    let allocator = Allocator::default();
    let name = CString::new(name).expect("no NUL");
    let mut value: *mut OrtValue = ptr::null_mut();
    // SAFETY: the checkpoint belongs to a live session; the value it gives is released below.
    status(unsafe {
        (api.GetParameter)(
            session.checkpoint().ptr(),
            name.as_ptr(),
            allocator.ptr().cast_mut(),
            &mut value,
        )
    })?;
    let out = unsafe { floats(value) };
    unsafe { (::ort::api().ReleaseValue)(value) };
    out
}

/// A status as a result (its message on error; the status released).
fn status(s: OrtStatusPtr) -> std::result::Result<(), String> {
    if s.0.is_null() {
        return Ok(());
    }
    let api = ::ort::api();
    // SAFETY: a non-null status from the API: read its message, then release it.
    let message = unsafe { CStr::from_ptr((api.GetErrorMessage)(s.0)) }
        .to_string_lossy()
        .into_owned();
    unsafe { (api.ReleaseStatus)(s.0) };
    Err(message)
}

/// The elements of a float tensor value.
///
/// # Safety
/// `value` is null or a live `OrtValue` holding a tensor.
unsafe fn floats(value: *mut OrtValue) -> std::result::Result<Vec<f32>, String> {
    if value.is_null() {
        return Err("no output value".into());
    }
    let api = ::ort::api();
    let mut info = ptr::null_mut();
    status((api.GetTensorTypeAndShape)(value, &mut info))?;
    let mut count = 0usize;
    let counted = status((api.GetTensorShapeElementCount)(info, &mut count));
    (api.ReleaseTensorTypeAndShapeInfo)(info);
    counted?;
    let mut data: *mut c_void = ptr::null_mut();
    status((api.GetTensorMutableData)(value, &mut data))?;
    if count == 0 {
        return Ok(Vec::new());
    }
    Ok(std::slice::from_raw_parts(data.cast::<f32>(), count).to_vec())
}
