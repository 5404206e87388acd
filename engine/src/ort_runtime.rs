//! The one ONNX Runtime of the process (`ort` feature), loaded at run time from a shared
//! library: for the backbone (`features::backbone`) and the head's trainer
//! (`learn::ort_training`).
//!
//! `ort`'s own loader panics when the library is missing or wrong (on first use of its API),
//! and loads one library per process for good. So a candidate file is first probed here (it
//! exists, `dlopen`s, exports `OrtGetApiBase`, is at least the runtime version `ort` needs
//! and serves its API version) and only then handed to `ort::init_from`. Any failure is a
//! one-line reason for people; callers fall back to their pure-Rust path.

use std::ffi::CStr;
use std::path::{Component, Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use ::ort::environment::Environment;

/// The library `ort` loaded in this process, and the one environment it allows.
#[derive(Clone)]
pub(crate) struct Runtime {
    pub(crate) library: PathBuf,
    pub(crate) version: String,
    pub(crate) env: Environment,
}

static RUNTIME: Mutex<Option<Runtime>> = Mutex::new(None);

/// Loads the first of `candidates` that exists (or is a bare name for the dynamic loader),
/// or returns the runtime already loaded, with the candidate that was then not loaded.
pub(crate) fn load(
    candidates: &[PathBuf],
) -> std::result::Result<(Runtime, Option<PathBuf>), String> {
    let path = candidates
        .iter()
        .find(|p| p.is_file() || is_bare_name(p))
        .ok_or_else(|| {
            let tried: Vec<String> = candidates.iter().map(|p| shown(p)).collect();
            format!("ONNX Runtime not found at {}", tried.join(", "))
        })?;
    // The loader would resolve a relative path against the executable's folder.
    let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
    let runtime = runtime(&path)?;
    let not_loaded = (runtime.library != path).then_some(path);
    Ok((runtime, not_loaded))
}

/// Runs `f`, turning a panic inside `ort` or ONNX Runtime's use into a reason.
pub(crate) fn unwind_to_reason<T>(
    f: impl FnOnce() -> std::result::Result<T, String>,
) -> std::result::Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        Err(format!(
            "ONNX Runtime failed: {}",
            panic_message(panic.as_ref())
        ))
    })
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
pub(crate) fn shown(p: &Path) -> String {
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
