//! The logistic regression fitted by ONNX Runtime's training API (cargo feature
//! `ort-training`), as an alternative to the native Newton solver ([`super::logistic::fit`]):
//! same objective, same optimum, within float32's precision.
//!
//! The artifacts (`models/head_training/`, made by `models/export_head_training`) compute
//! `½‖w‖² + Σ_i s_i log(1 + exp(−t_i (w·x_i + b)))`, the objective `logistic.rs` minimises,
//! with `s_i = C c_i` fed as the row weights and the bias unpenalised; the training model
//! gives the objective and its gradient. ONNX Runtime's SGD optimizer takes every step,
//! full batch, with the step size (each step's learning rate) chosen by the Barzilai-Borwein
//! rule, long and short steps alternating, under a non-monotone line search on the objective
//! values the steps report (a step that does not decrease the objective enough is halved,
//! its parameters written back). It stops at [`RTOL`] of the first gradient norm, just above
//! float32's floor, or at the floor ([`ACCEPT`], [`PATIENCE`]); it fails after [`MAX_STEPS`].
//! `models/export_head_training.py` runs the same rule from Python.
//!
//! The artifacts are compiled in; their input width is fixed ([`ARTIFACT_WIDTH`]), narrower
//! rows are padded with zeros, which changes nothing (a zero column's weight has the penalty's
//! gradient alone and stays 0), and wider rows are refused with a reason.
//!
//! The runtime is the process's one ONNX Runtime (`crate::ort_runtime`), which must be a
//! training-enabled build: the Android and iOS training packages are; PyPI's `onnxruntime` and
//! npm's `onnxruntime-node` are not (their `GetTrainingApi` returns null). Anything missing or
//! failing is a reason, never a panic: the caller fits natively and says why.
//!
//! `ort`'s own `Trainer::step` panics on its outputs in 2.0.0-rc.15 ("tensor values require
//! the allocator it was created with"), so the steps call `TrainStep`, `OptimizerStep` and
//! `LazyResetGrad` of the C API directly; `ort` only creates the session.

use std::ffi::{c_void, CStr, CString};
use std::path::{Path, PathBuf};
use std::ptr;
use std::time::Instant;

use ::ort::memory::Allocator;
use ::ort::session::Session;
use ::ort::sys::{OrtStatusPtr, OrtValue};
use ::ort::training::{training_api, Checkpoint, Trainer as OrtSession};
use ::ort::value::Tensor;
use ::ort::AsPointer;
use ndarray::ArrayView2;

use super::logistic::Logistic;
use crate::ort_runtime::{self, shown};

/// Input width of the artifacts: the engine's rows (the 1,280-d embedding, 64 HOG-PCA columns
/// and the signals of `learn::dataset`, 1,364 columns today), with room for more signals.
pub const ARTIFACT_WIDTH: usize = 1408;

/// The fit stops when the gradient norm is this share of the first one (float32's floor is
/// 2-6e-8 of it on the engine's rows) ...
pub const RTOL: f64 = 1e-7;
/// ... or, once below this share, when [`PATIENCE`] steps brought no lower norm (the floor).
pub const ACCEPT: f64 = 1e-6;
pub const PATIENCE: usize = 100;
/// Steps (`TrainStep` calls, halved ones included) before the fit gives up.
pub const MAX_STEPS: usize = 10_000;
/// The line search compares a step's objective with the largest of this many accepted ones.
pub const MEMORY: usize = 10;
/// Sufficient decrease: `f ≤ max(recent f) − ARMIJO · lr · ‖previous gradient‖² + SLACK ·
/// |max(recent f)|`, the slack for float32 sums of ~1e2 terms.
pub const ARMIJO: f64 = 1e-4;
pub const SLACK: f64 = 1e-6;
const LEARNING_RATES: (f64, f64) = (1e-10, 1e10);

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

/// The training model's inputs, in the order `TrainStep` takes them, and its outputs.
const INPUTS: [&str; 3] = ["x", "target", "weight"];
const OUTPUTS: [&str; 2] = ["loss", "gradient"];

/// Fits the logistic regression of [`super::logistic::fit`] (rows `x`, truth `y`, row
/// weights `c`, strength C) on ONNX Runtime's training API, loaded from `library` (else
/// `ORT_DYLIB_PATH` or the default places, as the backbone does). Returns the fit and who made
/// it ("ONNX Runtime 1.19.2 training API (N steps, ...)"). `Err` is a reason for people: no
/// library, no training API in it, rows the artifacts do not cover, a fit that failed.
pub fn fit_logistic(
    library: Option<&Path>,
    x: ArrayView2<f32>,
    y: &[bool],
    c: &[f64],
    strength: f64,
) -> std::result::Result<(Logistic, String), String> {
    let (n, d) = x.dim();
    if y.len() != n || c.len() != n {
        return Err(format!(
            "{n} rows, {} labels and {} weights do not match",
            y.len(),
            c.len()
        ));
    }
    if d > ARTIFACT_WIDTH {
        return Err(format!(
            "rows of {d} columns are wider than the training artifacts' {ARTIFACT_WIDTH} \
             (models/export_head_training makes them)"
        ));
    }
    if n == 0 || !y.contains(&true) || !y.contains(&false) {
        return Err("the fit needs rows of both kinds".into());
    }
    let finite = x.iter().all(|v| v.is_finite())
        && c.iter().all(|v| v.is_finite() && *v >= 0.0)
        && strength.is_finite()
        && strength > 0.0;
    if !finite {
        return Err("rows, weights or strength are not finite and positive".into());
    }
    let candidates = match library {
        Some(p) => vec![p.to_path_buf()],
        None => crate::features::backbone::ort_library_candidates(),
    };
    ort_runtime::unwind_to_reason(|| fit_on(&candidates, x, y, c, strength))
}

fn fit_on(
    candidates: &[PathBuf],
    x: ArrayView2<f32>,
    y: &[bool],
    c: &[f64],
    strength: f64,
) -> std::result::Result<(Logistic, String), String> {
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
    let start = Instant::now();
    let mut fit = Fit::open(&runtime.env, x, y, c, strength).map_err(|e| format!("{at}: {e}"))?;
    let solved = fit.solve().map_err(|e| format!("{at}: {e}"))?;
    let ms = start.elapsed().as_secs_f64() * 1e3;
    let who = format!(
        "ONNX Runtime {} training API ({} steps of gradient descent, Barzilai-Borwein step \
         sizes, {} halved, to a gradient norm {:.0e} of the first, {ms:.0} ms; {}{also})",
        runtime.version,
        solved.steps,
        solved.halved,
        solved.relative_gradient,
        shown(&runtime.library),
    );
    Ok((solved.logistic, who))
}

/// What a finished fit gives back.
struct Solved {
    logistic: Logistic,
    steps: usize,
    halved: usize,
    /// The last gradient norm, as a share of the first.
    relative_gradient: f64,
}

/// A training session over the compiled-in artifacts and the inputs of one fit.
struct Fit {
    session: OrtSession,
    /// The real input width (rows are padded from it to [`ARTIFACT_WIDTH`]).
    inputs: usize,
    x: Tensor<f32>,
    target: Tensor<i64>,
    weight: Tensor<f32>,
}

impl Fit {
    fn open(
        env: &::ort::environment::Environment,
        x: ArrayView2<f32>,
        y: &[bool],
        c: &[f64],
        strength: f64,
    ) -> std::result::Result<Fit, String> {
        let (n, d) = x.dim();
        let mut padded = vec![0f32; n * ARTIFACT_WIDTH];
        for (i, row) in x.rows().into_iter().enumerate() {
            for (j, v) in row.iter().enumerate() {
                padded[i * ARTIFACT_WIDTH + j] = *v;
            }
        }
        let e = |e: ::ort::Error| e.to_string();
        let fit = Fit {
            session: open_session(env)?,
            inputs: d,
            x: Tensor::from_array(([n, ARTIFACT_WIDTH], padded)).map_err(e)?,
            target: Tensor::from_array(([n], y.iter().map(|&d| d as i64).collect::<Vec<_>>()))
                .map_err(e)?,
            weight: Tensor::from_array((
                [n],
                c.iter()
                    .map(|&ci| (strength * ci) as f32)
                    .collect::<Vec<_>>(),
            ))
            .map_err(e)?,
        };
        fit.check_signature()?;
        Ok(fit)
    }

    fn session_ptr(&self) -> *mut ::ort::sys::OrtTrainingSession {
        self.session.ptr().cast_mut()
    }

    /// The training model's inputs must be [`INPUTS`] in order, its outputs [`OUTPUTS`].
    fn check_signature(&self) -> std::result::Result<(), String> {
        let api = training_api().map_err(|e| e.to_string())?;
        let allocator = Allocator::default();
        let s = self.session_ptr();
        type Count = unsafe extern "system" fn(
            *const ::ort::sys::OrtTrainingSession,
            *mut usize,
        ) -> OrtStatusPtr;
        type Name = unsafe extern "system" fn(
            *const ::ort::sys::OrtTrainingSession,
            usize,
            *mut ::ort::sys::OrtAllocator,
            *mut *const std::ffi::c_char,
        ) -> OrtStatusPtr;
        let names = |count: Count, name: Name| -> std::result::Result<Vec<String>, String> {
            let mut n = 0usize;
            // SAFETY: a live session; the count goes to `n`.
            status(unsafe { count(s, &mut n) })?;
            let mut out = Vec::with_capacity(n);
            for i in 0..n {
                let mut p: *const std::ffi::c_char = ptr::null();
                // SAFETY: `i` < the count; the name is a NUL-terminated string the allocator
                // made, freed right after.
                status(unsafe { name(s, i, allocator.ptr().cast_mut(), &mut p) })?;
                out.push(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned());
                unsafe { allocator.free(p.cast_mut()) };
            }
            Ok(out)
        };
        let inputs = names(
            api.TrainingSessionGetTrainingModelInputCount,
            api.TrainingSessionGetTrainingModelInputName,
        )?;
        let outputs = names(
            api.TrainingSessionGetTrainingModelOutputCount,
            api.TrainingSessionGetTrainingModelOutputName,
        )?;
        if inputs != INPUTS || outputs != OUTPUTS {
            return Err(format!(
                "the training model maps {inputs:?} to {outputs:?}, not {INPUTS:?} to {OUTPUTS:?}"
            ));
        }
        Ok(())
    }

    /// `TrainStep` at the current parameters: the objective and its gradient (w's, then b's).
    /// The gradient also goes to ONNX Runtime's buffers for the next `OptimizerStep`.
    fn train_step(&mut self) -> std::result::Result<(f64, Vec<f64>), String> {
        let api = training_api().map_err(|e| e.to_string())?;
        let inputs = [self.x.ptr(), self.target.ptr(), self.weight.ptr()];
        let mut outputs: [*mut OrtValue; 2] = [ptr::null_mut(); 2];
        // SAFETY: the session is live, the inputs are live tensors of the declared types and
        // shapes, and `outputs` has room for the model's two outputs; each is released.
        let ran = status(unsafe {
            (api.TrainStep)(
                self.session_ptr(),
                ptr::null(),
                inputs.len(),
                inputs.as_ptr(),
                outputs.len(),
                outputs.as_mut_ptr(),
            )
        });
        let values: Vec<_> = outputs.iter().map(|&v| unsafe { floats(v) }).collect();
        for v in outputs.into_iter().filter(|v| !v.is_null()) {
            unsafe { (::ort::api().ReleaseValue)(v) };
        }
        ran?;
        let [loss, gradient] = <[_; 2]>::try_from(values).expect("two outputs");
        let (loss, gradient) = (loss?, gradient?);
        if loss.len() != 1 || gradient.len() != ARTIFACT_WIDTH + 1 {
            return Err(format!(
                "the train step gave {} and {} numbers, not the objective and {} gradients",
                loss.len(),
                gradient.len(),
                ARTIFACT_WIDTH + 1
            ));
        }
        Ok((
            f64::from(loss[0]),
            gradient.into_iter().map(f64::from).collect(),
        ))
    }

    /// `OptimizerStep` (SGD: parameters −= `lr` · gradient), then `LazyResetGrad`.
    fn optimizer_step(&mut self, lr: f64) -> std::result::Result<(), String> {
        self.session
            .optimizer()
            .set_lr(lr as f32)
            .map_err(|e| format!("learning rate: {e}"))?;
        let api = training_api().map_err(|e| e.to_string())?;
        // SAFETY: a live session whose gradients the last train step filled.
        status(unsafe { (api.OptimizerStep)(self.session_ptr(), ptr::null()) })
            .map_err(|e| format!("optimizer step: {e}"))?;
        self.reset_gradient()
    }

    /// `LazyResetGrad`: the next train step overwrites the gradient buffers.
    fn reset_gradient(&mut self) -> std::result::Result<(), String> {
        let api = training_api().map_err(|e| e.to_string())?;
        // SAFETY: a live session.
        status(unsafe { (api.LazyResetGrad)(self.session_ptr()) })
            .map_err(|e| format!("gradient reset: {e}"))
    }

    /// The parameters as one vector: w (all [`ARTIFACT_WIDTH`]), then b.
    fn parameters(&self) -> std::result::Result<Vec<f64>, String> {
        let mut theta = parameter(&self.session, "w")?;
        theta.extend(parameter(&self.session, "b")?);
        if theta.len() != ARTIFACT_WIDTH + 1 {
            return Err(format!(
                "ONNX Runtime gave {} parameters, not {}",
                theta.len(),
                ARTIFACT_WIDTH + 1
            ));
        }
        Ok(theta.into_iter().map(f64::from).collect())
    }

    fn set_parameters(&mut self, theta: &[f64]) -> std::result::Result<(), String> {
        let f: Vec<f32> = theta.iter().map(|&v| v as f32).collect();
        update_parameter(
            &self.session,
            "w",
            &[ARTIFACT_WIDTH, 1],
            f[..ARTIFACT_WIDTH].to_vec(),
        )?;
        update_parameter(&self.session, "b", &[1], f[ARTIFACT_WIDTH..].to_vec())
    }

    /// Gradient descent from w = 0, b = 0 (the checkpoint's) to the optimum, every step
    /// ONNX Runtime's SGD with a Barzilai-Borwein learning rate under a non-monotone line
    /// search (see the module doc; `models/export_head_training.py`'s `run_ort` is the same).
    fn solve(&mut self) -> std::result::Result<Solved, String> {
        let mut recent: Vec<f64> = Vec::with_capacity(MEMORY);
        let mut previous: Option<Vec<f64>> = None;
        let (mut lr, mut first) = (0.0f64, None);
        let (mut steps, mut halved, mut iteration) = (0usize, 0usize, 0usize);
        let (mut lowest, mut lowest_step) = (f64::INFINITY, 0usize);
        let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
        let relative = loop {
            if steps == MAX_STEPS {
                return Err(format!(
                    "no convergence in {MAX_STEPS} steps (the gradient norm came down to {:.1e} \
                     of the first, not {ACCEPT:.0e})",
                    lowest / first.unwrap_or(1.0)
                ));
            }
            let (f, g) = self
                .train_step()
                .map_err(|e| format!("train step {}: {e}", steps + 1))?;
            steps += 1;
            if !f.is_finite() || !g.iter().all(|v| v.is_finite()) {
                return Err(format!(
                    "step {steps}: the objective or its gradient is not finite"
                ));
            }
            if let Some(p) = &previous {
                let top = recent.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                if f > top - ARMIJO * lr * dot(p, p) + SLACK * top.abs() {
                    // Halve the last step: from θ − lr·g_prev back to θ − lr/2·g_prev.
                    halved += 1;
                    let mut theta = self.parameters()?;
                    for (t, gp) in theta.iter_mut().zip(p) {
                        *t += 0.5 * lr * gp;
                    }
                    lr *= 0.5;
                    self.set_parameters(&theta)?;
                    self.reset_gradient()?;
                    continue;
                }
            }
            let norm = dot(&g, &g).sqrt();
            let first = *first.get_or_insert(norm);
            if norm < lowest {
                (lowest, lowest_step) = (norm, steps);
            }
            if norm <= RTOL * first || (norm <= ACCEPT * first && steps - lowest_step >= PATIENCE) {
                break norm / first.max(f64::MIN_POSITIVE);
            }
            lr = match &previous {
                None => 1.0 / g.iter().fold(1.0f64, |m, v| m.max(v.abs())),
                Some(p) => {
                    // s = θ_k − θ_{k−1} = −lr·g_prev, y = g_k − g_prev.
                    let s: Vec<f64> = p.iter().map(|v| -lr * v).collect();
                    let y: Vec<f64> = g.iter().zip(p).map(|(a, b)| a - b).collect();
                    let sy = dot(&s, &y);
                    iteration += 1;
                    let next = if sy <= 0.0 {
                        lr
                    } else if iteration % 2 == 1 {
                        dot(&s, &s) / sy
                    } else {
                        sy / dot(&y, &y)
                    };
                    next.clamp(LEARNING_RATES.0, LEARNING_RATES.1)
                }
            };
            if recent.len() == MEMORY {
                recent.remove(0);
            }
            recent.push(f);
            self.optimizer_step(lr)
                .map_err(|e| format!("step {steps}: {e}"))?;
            previous = Some(g);
        };
        let theta = self.parameters()?;
        Ok(Solved {
            logistic: Logistic {
                w: theta[..self.inputs].iter().map(|&v| v as f32).collect(),
                b: theta[ARTIFACT_WIDTH] as f32,
            },
            steps,
            halved,
            relative_gradient: relative,
        })
    }
}

/// A training session over the compiled-in artifacts.
fn open_session(env: &::ort::environment::Environment) -> std::result::Result<OrtSession, String> {
    let fail = |what: &str, e: ::ort::Error| format!("{what}: {e}");
    // One thread: the steps are small, and a fixed summation order keeps runs repeatable.
    let builder = Session::builder(env)
        .and_then(|b| b.with_intra_threads(1).map_err(Into::into))
        .and_then(|b| b.with_inter_threads(1).map_err(Into::into))
        .map_err(|e| fail("session options", e))?;
    let checkpoint = Checkpoint::load_from_buffer(CHECKPOINT).map_err(|e| fail("checkpoint", e))?;
    OrtSession::new_from_memory(
        builder,
        Allocator::default(),
        checkpoint,
        TRAINING_MODEL,
        EVAL_MODEL,
        OPTIMIZER_MODEL,
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
