//! The `ort-training` backend where no training-enabled ONNX Runtime is at hand: every way of
//! not having one is a reason, never a crash, and the engine then fits natively and says so.
//! Uses PyPI's onnxruntime 1.32 (`tests/tools/fetch_onnxruntime`), which has no training API:
//! the process's one ONNX Runtime here, as for `ort_backend` and `backbone` (`ort_training`
//! runs its tests in processes of their own). One test runs the cases in order.

use std::path::{Path, PathBuf};

use ndarray::Array2;
use precious_engine::features::backbone::ORT_LIBRARY_FILE;
use precious_engine::learn::ensemble::STRENGTH;
use precious_engine::learn::logistic;
use precious_engine::learn::ort_training::{fit_logistic, ARTIFACT_WIDTH};
use precious_engine::learn::record::Scorer;
use precious_engine::{Method, TrainConfig, TrainOptions, TrainerChoice};

fn workspace_target() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target"))
}

/// Why `library` did not fit rows of `width` columns.
fn refusal(library: &Path, width: usize) -> String {
    let y: Vec<bool> = (0..8).map(|i| i % 3 == 0).collect();
    let x = Array2::from_shape_fn((8, width), |(i, j)| ((i * 7 + j) % 5) as f32 * 0.1);
    let c = logistic::balanced(&y);
    match fit_logistic(Some(library), x.view(), &y, &c, f64::from(STRENGTH)) {
        Ok((_, who)) => panic!("{} fitted: {who}", library.display()),
        Err(why) => why,
    }
}

#[test]
fn without_a_training_api_the_reason_is_given_and_the_fit_stays_native() {
    let tmp = tempfile::tempdir().unwrap();
    let width = 1363;

    let why = refusal(&tmp.path().join("libonnxruntime.so"), width);
    assert!(why.contains("not found"), "{why}");

    let text = tmp.path().join("libonnxruntime.so.1.19.2");
    std::fs::write(&text, "not a library").unwrap();
    let why = refusal(&text, width);
    assert!(why.contains("is not a loadable library"), "{why}");

    let handoff = workspace_target().join("onnxruntime-training/libprecious_ort_handoff.so");
    if handoff.is_file() {
        // The test hand-off library before a runtime handed it an API (ort_training.rs).
        let why = refusal(&handoff, width);
        assert!(why.contains("0.0.0") && why.contains("too old"), "{why}");
    }

    let pypi = workspace_target()
        .join("onnxruntime")
        .join(ORT_LIBRARY_FILE);
    assert!(
        pypi.is_file(),
        "{} missing: run tests/tools/fetch_onnxruntime",
        pypi.display()
    );
    // Rows wider than the artifacts are refused before any runtime is asked.
    let why = refusal(&pypi, ARTIFACT_WIDTH + 1);
    assert!(
        why.contains(&format!(
            "rows of {} columns are wider than the training artifacts' {ARTIFACT_WIDTH}",
            ARTIFACT_WIDTH + 1
        )),
        "{why}"
    );

    let why = refusal(&pypi, width);
    assert!(
        why.contains("1.32") && why.contains("has no training API"),
        "{why}"
    );

    // The engine: asked for ONNX Runtime, it fits natively, and the model says why.
    let db = tmp.path().join("p.sqlite");
    let mut engine = crate::common::labeled_demo(&db, 30);
    let opts = TrainOptions {
        config: TrainConfig {
            method: Method::Logistic,
            ..TrainConfig::default()
        },
        trainer: TrainerChoice::OrtTraining(Some(pypi.clone())),
        ..TrainOptions::default()
    };
    let model = engine.train(&opts).unwrap().model;
    let trainer = &model.metrics.train.trainer;
    assert!(
        trainer.starts_with("native (ONNX Runtime training asked for, not used: ")
            && trainer.contains("has no training API"),
        "{trainer}"
    );
    let native = crate::common::train_natively(&mut engine, opts);
    let fitted = |s: &Scorer| match s {
        Scorer::Blend(f) => f.logistic.clone(),
        Scorer::Head { .. } => panic!("a logistic regression was asked for"),
    };
    assert_eq!(
        fitted(&native.body.scorer),
        fitted(&model.body.scorer),
        "the fallback is the native fit"
    );
}
