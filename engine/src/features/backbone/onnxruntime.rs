//! The backbone on ONNX Runtime (`ort` feature), loaded at run time from a shared library.
//!
//! `ort`'s own loader panics when the library is missing or wrong (on first use of its API),
//! and loads one library per process for good. So a candidate file is first probed here (it
//! exists, `dlopen`s, exports `OrtGetApiBase`, is at least the runtime version `ort` needs
//! and serves its API version) and only then handed to `ort::init_from`; everything after
//! runs under `catch_unwind`. Any failure is a one-line reason, and the caller uses tract.
//!
//! Threads: the scan embeds from a rayon worker per core, so each run uses one intra-op
//! thread ([`THREADS_ENV`] overrides) and no inter-op parallelism. `Session::run` needs
//! `&mut`, so the runner keeps a pool of sessions (one per concurrent caller, made on demand)
//! that share their prepacked weights.

use std::ffi::CStr;
use std::path::{Component, Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use ::ort::environment::Environment;
use ::ort::session::builder::{GraphOptimizationLevel, PrepackedWeights};
use ::ort::session::Session;
use ::ort::value::TensorRef;

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

/// The library `ort` loaded in this process, and the one environment it allows.
#[derive(Clone)]
struct Runtime {
    library: PathBuf,
    version: String,
    env: Environment,
}

static RUNTIME: Mutex<Option<Runtime>> = Mutex::new(None);

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
        std::panic::catch_unwind(|| OrtRunner::load_from(model, &candidates)).unwrap_or_else(
            |panic| {
                Err(format!(
                    "ONNX Runtime failed while loading: {}",
                    panic_message(panic.as_ref())
                ))
            },
        )
    }

    fn load_from(
        model: &'static [u8],
        candidates: &[PathBuf],
    ) -> std::result::Result<OrtRunner, String> {
        let path = candidates
            .iter()
            .find(|p| p.is_file() || is_bare_name(p))
            .ok_or_else(|| {
                let tried: Vec<String> = candidates.iter().map(|p| shown(p)).collect();
                format!("ONNX Runtime not found at {}", tried.join(", "))
            })?;
        // The loader would resolve a relative path against the executable's folder.
        let path = &std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
        let runtime = runtime(path)?;
        let threads = std::env::var(THREADS_ENV)
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|&n| n >= 1)
            .unwrap_or(1);
        let not_loaded = (runtime.library != *path).then(|| path.clone());
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

/// The process's runtime: loads `path` the first time one loads, else the one already there.
fn runtime(path: &Path) -> std::result::Result<Runtime, String> {
    // Probe every time, so that each request gets the reason its own file is unusable.
    let probe = probe(path)?;
    let mut loaded = RUNTIME.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(r) = loaded.as_ref() {
        return Ok(r.clone());
    }
    let env = ::ort::init_from(path)
        .map_err(|e| e.to_string())?
        .with_name("precious")
        // An offline app: ONNX Runtime's telemetry (Windows ETW) stays off.
        .with_telemetry(false)
        .build()
        .map_err(|e| format!("ONNX Runtime could not start: {e}"))?;
    let runtime = Runtime {
        library: path.to_path_buf(),
        version: probe.version,
        env,
    };
    *loaded = Some(runtime.clone());
    // `ort` holds its own handle now; ours can go.
    drop(probe.library);
    Ok(runtime)
}

struct Probe {
    library: libloading::Library,
    version: String,
}

type GetApiBase = unsafe extern "system" fn() -> *const ::ort::sys::OrtApiBase;

/// Checks that `path` is an ONNX Runtime `ort` can use, without touching `ort`'s global state.
fn probe(path: &Path) -> std::result::Result<Probe, String> {
    let at = shown(path);
    if !is_bare_name(path) && !path.is_file() {
        return Err(format!("ONNX Runtime not found at {at}"));
    }
    // SAFETY: loading a library runs its initialisers; the file is one the user pointed at
    // (ORT_DYLIB_PATH) or put in a known place.
    let library = unsafe { libloading::Library::new(path) }
        .map_err(|e| format!("{at} is not a loadable library ({})", with_source(&e)))?;
    // SAFETY: ONNX Runtime's entry point has this signature (onnxruntime_c_api.h).
    let get_base = unsafe { library.get::<GetApiBase>(b"OrtGetApiBase") }
        .map_err(|_| format!("{at} is not ONNX Runtime (no OrtGetApiBase)"))?;
    // SAFETY: `OrtGetApiBase` returns a pointer to a static struct, or null.
    let base = unsafe { get_base() };
    if base.is_null() {
        return Err(format!("{at}: OrtGetApiBase returned null"));
    }
    // SAFETY: `base` is non-null and points at the library's static `OrtApiBase`, whose
    // version string is a static NUL-terminated string.
    let version = unsafe {
        let s = ((*base).GetVersionString)();
        if s.is_null() {
            return Err(format!("{at}: ONNX Runtime gave no version"));
        }
        CStr::from_ptr(s).to_string_lossy().into_owned()
    };
    let minor = version
        .split('.')
        .nth(1)
        .and_then(|m| m.parse::<u32>().ok());
    match minor {
        Some(m) if m >= ::ort::MINOR_VERSION => {}
        _ => {
            return Err(format!(
                "ONNX Runtime {version} at {at} is too old (1.{} or later needed)",
                ::ort::MINOR_VERSION
            ))
        }
    }
    // SAFETY: as above; `GetApi` returns null for API versions the library does not serve.
    let api = unsafe { ((*base).GetApi)(::ort::sys::ORT_API_VERSION) };
    if api.is_null() {
        return Err(format!(
            "ONNX Runtime {version} at {at} does not serve API version {}",
            ::ort::sys::ORT_API_VERSION
        ));
    }
    Ok(Probe { library, version })
}

/// A bare file name (`libonnxruntime.so`) is searched by the dynamic loader, not on disk here.
fn is_bare_name(p: &Path) -> bool {
    let mut c = p.components();
    matches!((c.next(), c.next()), (Some(Component::Normal(_)), None))
}

/// A path for messages: without `..` segments where the file exists.
fn shown(p: &Path) -> String {
    std::fs::canonicalize(p)
        .unwrap_or_else(|_| p.to_path_buf())
        .display()
        .to_string()
}

/// An error and its causes, for one line ("dlopen failed: ...: invalid ELF header").
fn with_source(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        s.push_str(&format!(": {c}"));
        cause = c.source();
    }
    s
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic".into()
    }
}
