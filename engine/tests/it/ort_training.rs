//! The logistic regression fitted by ONNX Runtime's training API (`ort-training`), executed:
//! on the reference problem against the same runtime driven from Python (`reference.json`) and
//! against the native solver, on the demo gallery's real rows through `Engine::train` at every
//! signal weight, and on a few hundred rows at the widest signal weight.
//!
//! The runtime: onnxruntime-training 1.19.2, the last training-enabled ONNX Runtime, whose C API
//! lives inside its Python extension. These tests embed Debian's CPython 3.11, import the wheel
//! (`tests/tools/fetch_onnxruntime_training` puts it in target/onnxruntime-training) and have it
//! register `tests/tools/ort_training_handoff.c` as a custom-op library, which learns where ONNX
//! Runtime's API base lies and serves it from a private copy of the runtime (the Python module's
//! copy holds the process's one default logging manager); the engine then loads that library by
//! path like any ONNX Runtime.
//!
//! A process loads one ONNX Runtime, and the other ONNX Runtime tests of this binary
//! (`ort_backend`, `backbone`, `ort_training_fallback`) load PyPI's, which has no training API:
//! so each test here runs in a process of its own (this binary again, filtered to the test).

use std::ffi::{c_char, c_int, CString};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

use crate::common::head_reference::{
    floats, max_abs_diff, number, problem, reference, P_TOLERANCE, W_TOLERANCE,
};
use precious_engine::learn::ensemble::{SIGNAL_WEIGHTS, STRENGTH};
use precious_engine::learn::logistic::{self, Logistic};
use precious_engine::learn::ort_training::{self, fit_logistic, ARTIFACT_WIDTH};
use precious_engine::learn::record::{Model, Scorer};
use precious_engine::{Method, TrainConfig, TrainOptions, TrainerChoice};

const LIBPYTHON: &str = "/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0";

fn fetched() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../target/onnxruntime-training"
    ))
}

/// Runs test `name` of this module in a child process and returns false; in that child,
/// returns true (the test's body then runs there).
fn in_own_process(name: &str) -> bool {
    const CHILD: &str = "PRECIOUS_ORT_TRAINING_TEST";
    let test = format!("ort_training::{name}");
    if std::env::var(CHILD).is_ok_and(|v| v == test) {
        return true;
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args([test.as_str(), "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, &test)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success() && stdout.contains("test result: ok. 1 passed"),
        "{test} in its own process:\n{stdout}"
    );
    false
}

/// The hand-off library, once the embedded Python's ONNX Runtime has handed it its API.
fn training_runtime() -> &'static Path {
    static HANDOFF: OnceLock<PathBuf> = OnceLock::new();
    HANDOFF.get_or_init(|| {
        let dir = std::fs::canonicalize(fetched()).unwrap_or_else(|_| fetched());
        let site = dir.join("site");
        let handoff = dir.join("libprecious_ort_handoff.so");
        assert!(
            site.join("onnxruntime").is_dir()
                && handoff.is_file()
                && dir.join("onnxruntime-training-c-api.so").is_file()
                && Path::new(LIBPYTHON).is_file(),
            "no training-enabled ONNX Runtime: run tests/tools/fetch_onnxruntime_training"
        );
        // Held open for the whole process, so that what ONNX Runtime hands it stays when
        // Python's session options (which also open it) are gone.
        // SAFETY: a C library with no initialisers.
        let held = unsafe { libloading::Library::new(&handoff) }.expect("the hand-off loads");
        std::mem::forget(held);
        // SAFETY: libpython's initialisers; RTLD_GLOBAL so that the extension module Python
        // loads next resolves its Py* symbols against it.
        let python = unsafe {
            libloading::os::unix::Library::open(
                Some(LIBPYTHON),
                libloading::os::unix::RTLD_NOW | libloading::os::unix::RTLD_GLOBAL,
            )
        }
        .expect("libpython3.11 loads");
        let script = format!(
            "import sys\n\
             sys.dont_write_bytecode = True\n\
             sys.path.insert(0, {site:?})\n\
             import onnxruntime.capi._pybind_state as C\n\
             C.SessionOptions().register_custom_ops_library({handoff:?})\n",
            site = site.display().to_string(),
            handoff = handoff.display().to_string(),
        );
        let script = CString::new(script).unwrap();
        // SAFETY: the CPython embedding API, called once, on one thread, in this order.
        unsafe {
            let init = python
                .get::<unsafe extern "C" fn(c_int)>(b"Py_InitializeEx")
                .unwrap();
            let run = python
                .get::<unsafe extern "C" fn(*const c_char) -> c_int>(b"PyRun_SimpleString")
                .unwrap();
            init(0);
            assert_eq!(
                run(script.as_ptr()),
                0,
                "the embedded Python failed (see stderr)"
            );
        }
        std::mem::forget(python);
        handoff
    })
}

/// Fits on ONNX Runtime (it must) and natively; (ONNX Runtime's fit, who made it, native
/// fit, milliseconds on ONNX Runtime).
fn both_fits(
    x: ndarray::ArrayView2<f32>,
    y: &[bool],
    strength: f64,
) -> (Logistic, String, Logistic, f64) {
    let c = logistic::balanced(y);
    let runtime = training_runtime();
    let start = Instant::now();
    let (ort, who) =
        fit_logistic(Some(runtime), x, y, &c, strength).unwrap_or_else(|why| panic!("{why}"));
    let ms = start.elapsed().as_secs_f64() * 1e3;
    let (native, _) = logistic::fit(x, y, &c, strength);
    (ort, who, native, ms)
}

/// (max |Δp| over the rows, max |Δw| over the weights and the bias).
fn differences(x: ndarray::ArrayView2<f32>, a: &Logistic, b: &Logistic) -> (f64, f64) {
    let f = |v: &f32| f64::from(*v);
    let dp = max_abs_diff(a.p_delete(x).iter().map(f), b.p_delete(x).iter().map(f));
    let dw = max_abs_diff(
        a.w.iter().chain([&a.b]).map(f),
        b.w.iter().chain([&b.b]).map(f),
    );
    (dp, dw)
}

/// The reference problem: the engine on ONNX Runtime finds what the same runtime driven from
/// Python found (`reference.json`), and what the native solver finds.
#[test]
fn finds_the_reference_optimum_as_python_and_the_native_solver_do() {
    if !in_own_process("finds_the_reference_optimum_as_python_and_the_native_solver_do") {
        return;
    }
    let r = reference();
    assert_eq!(number(&r, "width") as usize, ARTIFACT_WIDTH);
    assert_eq!(number(&r, "strength") as f32, STRENGTH);
    // The script's rule is the engine's.
    let rule = &r["rule"];
    assert_eq!(
        [
            number(rule, "rtol"),
            number(rule, "accept"),
            number(rule, "armijo"),
            number(rule, "slack")
        ],
        [
            ort_training::RTOL,
            ort_training::ACCEPT,
            ort_training::ARMIJO,
            ort_training::SLACK
        ]
    );
    assert_eq!(
        [
            number(rule, "patience"),
            number(rule, "max_steps"),
            number(rule, "memory")
        ],
        [
            ort_training::PATIENCE,
            ort_training::MAX_STEPS,
            ort_training::MEMORY
        ]
        .map(|v| v as f64)
    );
    let (x, y) = problem(&r);
    let (ort, who, native, ms) = both_fits(x.view(), &y, number(&r, "strength"));
    assert!(
        who.starts_with("ONNX Runtime 1.19.2 training API ("),
        "{who}"
    );
    let python = Logistic {
        w: floats(&r["w"]).iter().map(|&v| v as f32).collect(),
        b: number(&r, "b") as f32,
    };
    let (dp_python, dw_python) = differences(x.view(), &ort, &python);
    let (dp, dw) = differences(x.view(), &ort, &native);
    eprintln!(
        "reference problem ({} x {}): {who}; vs the Python run: max |dp| {dp_python:.1e}, max \
         |dw| {dw_python:.1e}; vs native: max |dp| {dp:.1e}, max |dw| {dw:.1e}; {ms:.0} ms",
        x.nrows(),
        x.ncols()
    );
    let steps = format!("({} steps of", number(&r, "steps"));
    assert!(who.contains(&steps), "{who} vs the Python run's {steps}");
    assert!(dp_python < 1e-6 && dw_python < 1e-5, "vs the Python run");
    assert!(dp < P_TOLERANCE && dw < W_TOLERANCE, "vs native");
}

/// `Engine::train` asked for ONNX Runtime fits on it, says so, and stores the fit the native
/// solver makes, at every signal weight (rows of 1,280 and of all the columns): real rows,
/// the demo gallery's.
#[test]
fn the_engine_fits_real_rows_on_onnx_runtime_as_natively() {
    if !in_own_process("the_engine_fits_real_rows_on_onnx_runtime_as_natively") {
        return;
    }
    // A first fit makes the training runtime the process's ONNX Runtime: the scan's backbone
    // would otherwise load PyPI's, the default one, which has no training API.
    let (x, y) = problem(&reference());
    both_fits(x.view(), &y, f64::from(STRENGTH));
    let tmp = tempfile::tempdir().unwrap();
    let mut engine = crate::common::labeled_demo(&tmp.path().join("p.sqlite"), 40);
    let logistic_of = |m: &Model| match &m.body.scorer {
        Scorer::Blend(f) => f.logistic.clone(),
        Scorer::Head { .. } => panic!("a logistic regression was asked for"),
    };
    for sw in SIGNAL_WEIGHTS {
        let opts = TrainOptions {
            config: TrainConfig {
                method: Method::Logistic,
                signal_weight: Some(sw),
                ..TrainConfig::default()
            },
            trainer: TrainerChoice::OrtTraining(Some(training_runtime().to_path_buf())),
            ..TrainOptions::default()
        };
        let on_ort = engine.train(&opts).unwrap().model;
        let on_ort_scores = engine.scores().unwrap();
        let who = &on_ort.metrics.train.trainer;
        assert!(
            who.starts_with("ONNX Runtime 1.19.2 training API ("),
            "{who}"
        );
        let native = crate::common::train_natively(&mut engine, opts);
        let native_scores = engine.scores().unwrap();
        let (a, b) = (logistic_of(&on_ort), logistic_of(&native));
        let dw = max_abs_diff(
            a.w.iter().chain([&a.b]).map(|&v| f64::from(v)),
            b.w.iter().chain([&b.b]).map(|&v| f64::from(v)),
        );
        assert_eq!(
            on_ort_scores.iter().map(|s| s.id).collect::<Vec<_>>(),
            native_scores.iter().map(|s| s.id).collect::<Vec<_>>()
        );
        let dp = max_abs_diff(
            on_ort_scores.iter().map(|s| f64::from(s.p_delete)),
            native_scores.iter().map(|s| f64::from(s.p_delete)),
        );
        eprintln!(
            "demo gallery, {} labels, signal weight {sw}, {} columns: P(delete) of {} photos \
             max |dp| {dp:.1e}, max |dw| {dw:.1e}; {who}",
            on_ort.training_set.keep.len() + on_ort.training_set.delete.len(),
            a.w.len(),
            on_ort_scores.len(),
        );
        assert!(dp < P_TOLERANCE && dw < W_TOLERANCE, "signal weight {sw}");
    }
}

/// The slowest case of the engine's rows: a few hundred labels at the largest signal weight
/// (long rows, ill-conditioned), by the reference problem's formulas at other sizes.
#[test]
fn fits_hundreds_of_rows_at_the_largest_signal_weight() {
    if !in_own_process("fits_hundreds_of_rows_at_the_largest_signal_weight") {
        return;
    }
    let widest = *SIGNAL_WEIGHTS.last().unwrap();
    for rows in [100, 300] {
        let sizes = serde_json::json!({
            "rows": rows,
            "embedding": 1280,
            "signals": 83,
            "signal_weight": widest,
        });
        let (x, y) = problem(&sizes);
        let (ort, who, native, ms) = both_fits(x.view(), &y, f64::from(STRENGTH));
        let (dp, dw) = differences(x.view(), &ort, &native);
        eprintln!(
            "{rows} rows x {} columns, signal weight {widest}: max |dp| {dp:.1e}, max |dw| \
             {dw:.1e}; {ms:.0} ms; {who}",
            x.ncols()
        );
        assert!(dp < P_TOLERANCE && dw < W_TOLERANCE, "{rows} rows");
    }
}
