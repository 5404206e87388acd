//! Does the product learn? The default learner, through `Engine::train` and `Engine::evaluate`,
//! on real photos (fixed subsets of CIFAR-10 test and Imagenette val from `../shared/data`,
//! scanned here by the real backbone) for simulated users who delete whole classes, at the 40
//! labels the K-means labeling queue asked for. It must be within 0.02 F1 (and AUROC) of a
//! textbook logistic regression on the same labels, computed once by
//! `tests/tools/make_learning_fixture` (sklearn, class-balanced, C = 1) and committed as
//! `engine/tests/fixtures/learning/reference.json`, and far above what it makes of the same
//! photos with their labels shuffled. A learner that learns nothing, predicts one class, or
//! scores its own training rows cannot pass.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::common::shared_data;
use precious_engine::learn::head::Rng;
use precious_engine::{Engine, Evaluation, Label, ScanOptions, Split, TrainOptions};
use serde_json::Value;

/// How far below the reference the learner may fall (the bar).
const SLACK: f64 = 0.02;
/// How far the real labels' test AUROC must stay above the shuffled labels'.
const ABOVE_SHUFFLED: f64 = 0.15;

fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/learning/reference.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// F1 at P(delete) >= 0.5 on the test labels (the reference's cut; the model's own cut is
/// 0.5 too while it is not yet sure), from the evaluation's PR curve.
fn f1_at_half(e: &Evaluation) -> f64 {
    let p = e
        .test_pr_curve
        .iter()
        .rfind(|p| p.threshold >= 0.5)
        .expect("a point at or above 0.5");
    let (pr, re) = (f64::from(p.precision), f64::from(p.recall));
    if pr + re > 0.0 {
        2.0 * pr * re / (pr + re)
    } else {
        0.0
    }
}

fn label(delete: bool) -> Label {
    if delete {
        Label::Delete
    } else {
        Label::Keep
    }
}

/// The data set's subset copied into `dir` (paths as in the fixture), scanned into a database
/// there. Returns the engine and each fixture path's photo id.
fn scanned(data: &Value, dir: &Path) -> (Engine, HashMap<String, i64>) {
    let shared = shared_data();
    let gallery = dir.join("gallery");
    let mut all = strings(&data["pool"]);
    all.extend(strings(&data["test"]));
    for rel in &all {
        let to = gallery.join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(shared.join(rel), &to).unwrap();
    }
    let mut engine = Engine::open(&dir.join("p.sqlite")).unwrap();
    let r = engine
        .scan_folders(
            std::slice::from_ref(&gallery),
            &ScanOptions::default(),
            &mut |_| {},
        )
        .unwrap();
    assert_eq!(r.indexed, all.len(), "{r:?}");
    let canonical = gallery.canonicalize().unwrap();
    let ids = crate::common::photos_by_path(&engine)
        .into_iter()
        .map(|(id, p)| {
            let rel = p
                .strip_prefix(&gallery)
                .or_else(|_| p.strip_prefix(&canonical))
                .unwrap();
            (rel.to_string_lossy().into_owned(), id)
        })
        .collect();
    (engine, ids)
}

/// Trains the default learner on `train` and returns its test F1 at 0.5 and test AUROC.
fn train_and_measure(engine: &mut Engine, train: &[(i64, Label)]) -> (f64, f64) {
    engine.set_labels(train, Split::Train).unwrap();
    engine.train(&TrainOptions::default()).unwrap();
    let e = engine.evaluate().unwrap();
    let auroc = e.test.as_ref().and_then(|m| m.auroc).expect("test AUROC");
    (f1_at_half(&e), f64::from(auroc))
}

fn learns(name: &str) {
    let fixture = fixture();
    let data = fixture["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == name)
        .unwrap();
    let tmp = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let (mut engine, ids) = scanned(data, tmp.path());
    let class = |rel: &str| rel.split('/').nth(1).unwrap().to_string();
    let test = strings(&data["test"]);
    let picks = strings(&data["picks"]);
    let mut report = Vec::new();
    let mut failures = Vec::new();
    for (n, user) in data["users"].as_array().unwrap().iter().enumerate() {
        let deletes = strings(&user["deletes"]);
        let truth = |rel: &str| label(deletes.contains(&class(rel)));
        let held: Vec<(i64, Label)> = test.iter().map(|r| (ids[r], truth(r))).collect();
        engine.set_labels(&held, Split::Test).unwrap();
        if n == 0 {
            // The queue still asks for (mostly) the photos the reference was computed on: a
            // changed backbone, scan or queue means the fixture is out of date.
            let queue: Vec<i64> = engine
                .label_queue(Split::Train, picks.len(), fixture["seed"].as_u64().unwrap())
                .unwrap()
                .iter()
                .map(|p| p.id)
                .collect();
            let same = picks.iter().filter(|r| queue.contains(&ids[*r])).count();
            assert!(
                same * 4 >= picks.len() * 3,
                "{name}: the labeling queue asks for only {same} of the fixture's {} photos: \
                 regenerate it with tests/tools/make_learning_fixture",
                picks.len()
            );
        }
        let train: Vec<(i64, Label)> = picks.iter().map(|r| (ids[r], truth(r))).collect();
        let (f1, auroc) = train_and_measure(&mut engine, &train);
        let mut shuffled: Vec<Label> = train.iter().map(|t| t.1).collect();
        Rng::new(7).shuffle(&mut shuffled);
        let shuffled: Vec<(i64, Label)> = train.iter().map(|t| t.0).zip(shuffled).collect();
        let (_, shuffled_auroc) = train_and_measure(&mut engine, &shuffled);
        let reference = &user["reference"];
        let (rf1, rauroc) = (
            reference["f1"].as_f64().unwrap(),
            reference["auroc"].as_f64().unwrap(),
        );
        let who = format!("{name} {}", user["name"].as_str().unwrap());
        report.push(format!(
            "{who}: F1 {f1:.3} (reference {rf1:.3}), AUROC {auroc:.3} (reference {rauroc:.3}, \
             shuffled labels {shuffled_auroc:.3})"
        ));
        if f1 < rf1 - SLACK {
            failures.push(format!("{who}: F1 {f1:.3} < reference {rf1:.3} - {SLACK}"));
        }
        if auroc < rauroc - SLACK {
            failures.push(format!(
                "{who}: AUROC {auroc:.3} < reference {rauroc:.3} - {SLACK}"
            ));
        }
        if auroc - shuffled_auroc < ABOVE_SHUFFLED {
            failures.push(format!(
                "{who}: AUROC {auroc:.3} is not {ABOVE_SHUFFLED} above shuffled labels' \
                 {shuffled_auroc:.3}"
            ));
        }
    }
    eprintln!("{}", report.join("\n"));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn learns_cifar10_users_at_least_as_well_as_logistic_regression() {
    learns("cifar10-test");
}

#[test]
fn learns_imagenette_users_at_least_as_well_as_logistic_regression() {
    learns("imagenette-val");
}

/// The fixture's subsets are real files of the shared data, and its test photos never overlap
/// the pool the queue picks from.
#[test]
fn the_fixture_names_real_disjoint_photos() {
    let fixture = fixture();
    for data in fixture["datasets"].as_array().unwrap() {
        let pool = strings(&data["pool"]);
        let test = strings(&data["test"]);
        for rel in pool.iter().chain(&test) {
            assert!(shared_data().join(rel).is_file(), "{rel}");
        }
        assert!(test.iter().all(|t| !pool.contains(t)));
        let picks: Vec<PathBuf> = strings(&data["picks"]).iter().map(PathBuf::from).collect();
        assert_eq!(picks.len(), fixture["budget"].as_u64().unwrap() as usize);
        assert!(picks
            .iter()
            .all(|p| pool.contains(&p.to_string_lossy().into_owned())));
    }
}
