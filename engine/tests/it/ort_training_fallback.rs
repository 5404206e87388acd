//! The `ort-training` backend where no training-enabled ONNX Runtime is at hand: every way of
//! not having one is a reason, never a crash, and the engine then trains natively and says so.
//! Uses PyPI's onnxruntime 1.32 (`tests/tools/fetch_onnxruntime`), which has no training API.
//! A process loads one ONNX Runtime, so this is its own test binary, apart from
//! `ort_training.rs`, and one test runs the cases in order.

use std::path::{Path, PathBuf};

use precious_engine::features::backbone::ORT_LIBRARY_FILE;
use precious_engine::learn::head::{Head, HeadConfig};
use precious_engine::learn::ort_training::OrtTrainer;
use precious_engine::{Method, TrainConfig, TrainOptions, TrainerChoice};

fn workspace_target() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target"))
}

fn refusal(library: &Path, head: &Head) -> String {
    match OrtTrainer::new(Some(library), head) {
        Ok(t) => panic!("{} trained: {}", library.display(), t.describe()),
        Err(why) => why,
    }
}

#[test]
fn without_a_training_api_the_reason_is_given_and_training_stays_native() {
    let head = Head::new(40, HeadConfig::default());
    let tmp = tempfile::tempdir().unwrap();

    let why = refusal(&tmp.path().join("libonnxruntime.so"), &head);
    assert!(why.contains("not found"), "{why}");

    let text = tmp.path().join("libonnxruntime.so.1.19.2");
    std::fs::write(&text, "not a library").unwrap();
    let why = refusal(&text, &head);
    assert!(why.contains("is not a loadable library"), "{why}");

    let handoff = workspace_target().join("onnxruntime-training/libprecious_ort_handoff.so");
    if handoff.is_file() {
        // The test hand-off library before a runtime handed it an API (ort_training.rs).
        let why = refusal(&handoff, &head);
        assert!(why.contains("0.0.0") && why.contains("too old"), "{why}");
    }

    let hidden = Head::new(
        40,
        HeadConfig {
            hidden: 8,
            ..HeadConfig::default()
        },
    );
    let pypi = workspace_target()
        .join("onnxruntime")
        .join(ORT_LIBRARY_FILE);
    assert!(
        pypi.is_file(),
        "{} missing: run tests/tools/fetch_onnxruntime",
        pypi.display()
    );
    let why = refusal(&pypi, &hidden);
    assert!(why.contains("logistic head"), "{why}");

    let why = refusal(&pypi, &head);
    assert!(
        why.contains("1.32") && why.contains("has no training API"),
        "{why}"
    );

    // The engine: asked for ONNX Runtime, it trains natively, and the model says why.
    let db = tmp.path().join("p.sqlite");
    let mut engine = crate::common::labeled_demo(&db, 30);
    let opts = TrainOptions {
        config: TrainConfig {
            method: Method::Supervised,
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
    assert_eq!(
        native.metrics.train.final_loss, model.metrics.train.final_loss,
        "the fallback is the native trainer"
    );
}
