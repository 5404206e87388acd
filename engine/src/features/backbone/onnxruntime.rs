//! The backbone on ONNX Runtime (`ort` feature), loaded at run time from a shared library.
//!
//! The library is loaded (and probed first) by `crate::ort_runtime`, one per process;
//! everything here runs under `catch_unwind`. Any failure is a one-line reason, and the
//! caller uses tract.
//!
//! Threads: the scan embeds from a rayon worker per core, so each run uses one intra-op
//! thread ([`THREADS_ENV`] overrides) and no inter-op parallelism. `Session::run` needs
//! `&mut`, so the runner keeps a pool of sessions (one per concurrent caller, made on demand)
//! that share their prepacked weights.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use ::ort::session::builder::{GraphOptimizationLevel, PrepackedWeights};
use ::ort::session::Session;
use ::ort::value::TensorRef;

use crate::ort_runtime::{self, shown, Runtime};
use crate::{Error, Result};

/// Intra-op threads per run (default 1: the callers already run one per core).
pub const THREADS_ENV: &str = "PRECIOUS_ORT_THREADS";

pub(crate) struct OrtRunner {
    model: &'static [u8],
    threads: usize,
    runtime: Runtime,
    /// The file asked for, when `ort` had already loaded another one in this process.
    not_loaded: Option<PathBuf>,
    prepacked: PrepackedWeights,
    idle: Mutex<Vec<Session>>,
}

impl OrtRunner {
    /// Loads ONNX Runtime from `library` (else the first existing of
    /// [`super::ort_library_candidates`]) and makes a first session. `Err` is a reason for
    /// people ("ONNX Runtime not found at ...").
    pub(crate) fn load(
        model: &'static [u8],
        library: Option<&Path>,
    ) -> std::result::Result<OrtRunner, String> {
        let candidates = match library {
            Some(p) => vec![p.to_path_buf()],
            None => super::ort_library_candidates(),
        };
        ort_runtime::unwind_to_reason(|| OrtRunner::load_from(model, &candidates))
    }

    fn load_from(
        model: &'static [u8],
        candidates: &[PathBuf],
    ) -> std::result::Result<OrtRunner, String> {
        let (runtime, not_loaded) = ort_runtime::load(candidates)?;
        let threads = std::env::var(THREADS_ENV)
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|&n| n >= 1)
            .unwrap_or(1);
        let runner = OrtRunner {
            model,
            threads,
            runtime,
            not_loaded,
            prepacked: PrepackedWeights::new(),
            idle: Mutex::new(Vec::new()),
        };
        let first = runner
            .session()
            .map_err(|e| format!("ONNX Runtime could not load the backbone: {e}"))?;
        runner.give_back(first);
        Ok(runner)
    }

    /// "ONNX Runtime 1.32.0 (/path/libonnxruntime.so.1.32.0, 1 thread per run)".
    pub(crate) fn describe(&self) -> String {
        let plural = if self.threads == 1 { "" } else { "s" };
        let mut s = format!(
            "ONNX Runtime {} ({}, {} thread{plural} per run)",
            self.runtime.version,
            shown(&self.runtime.library),
            self.threads
        );
        if let Some(p) = &self.not_loaded {
            s.push_str(&format!(
                "; {} not loaded: a process loads one ONNX Runtime",
                shown(p)
            ));
        }
        s
    }

    fn session(&self) -> std::result::Result<Session, String> {
        let e = |e: ::ort::Error<_>| e.to_string();
        let mut builder = Session::builder(&self.runtime.env)
            .map_err(|e| e.to_string())?
            .with_optimization_level(GraphOptimizationLevel::Level3)
            .map_err(e)?
            .with_intra_threads(self.threads)
            .map_err(e)?
            .with_inter_threads(1)
            .map_err(e)?
            .with_parallel_execution(false)
            .map_err(e)?
            .with_prepacked_weights(&self.prepacked)
            .map_err(e)?;
        builder
            .commit_from_memory(self.model)
            .map_err(|e| e.to_string())
    }

    fn give_back(&self, session: Session) {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(session);
    }

    /// Runs the model on `data` (row-major, `shape`); the first output, flattened.
    pub(crate) fn run(&self, data: &[f32], shape: [i64; 4]) -> Result<Vec<f32>> {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let mut session = match idle {
            Some(s) => s,
            None => self.session().map_err(Error::Model)?,
        };
        let out = run_one(&mut session, data, shape);
        self.give_back(session);
        out
    }
}

fn run_one(session: &mut Session, data: &[f32], shape: [i64; 4]) -> Result<Vec<f32>> {
    let err = |e: ::ort::Error| Error::Model(format!("ONNX Runtime: {e}"));
    let input = TensorRef::from_array_view((shape, data)).map_err(err)?;
    let outputs = session.run(::ort::inputs![input]).map_err(err)?;
    if outputs.len() == 0 {
        return Err(Error::Model(
            "ONNX Runtime: the model gave no output".into(),
        ));
    }
    let (_, values) = outputs[0].try_extract_tensor::<f32>().map_err(err)?;
    Ok(values.to_vec())
}
