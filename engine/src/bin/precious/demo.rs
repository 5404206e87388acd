//! `precious demo`: the whole job on a gallery with a `manifest.json` (the built-in one by
//! default), with a simulated user standing in for the swipes: it deletes the junk categories
//! the manifest names and keeps the rest. Test labels are a random sample labeled first, so
//! the evaluation is on photos the model never trained on.

use std::path::PathBuf;

use precious_engine::simulated::{ManifestUser, DELETED_CATEGORIES};
use precious_engine::{
    Engine, Evaluation, Label, Pick, PickOptions, ScanReport, Split, Status, Suggestions,
    TrainOptions, TrainReport,
};
use serde::Serialize;

use crate::{model, print_json, print_pick, print_scan, scan};

const TEST_LABELS: usize = 20;
const TRAIN_LABELS: usize = 24;

#[derive(Serialize)]
struct SimulatedLabel {
    id: i64,
    path: String,
    category: String,
    label: Label,
    split: Split,
}

#[derive(Serialize)]
struct Demo<'a> {
    gallery: String,
    db: String,
    scan: &'a ScanReport,
    status: &'a Status,
    pick: &'a Pick,
    labels: Vec<SimulatedLabel>,
    model: Option<TrainReport>,
    /// `precious eval` of the trained model ("delete" is the positive class).
    metrics: Option<Evaluation>,
    suggestions: Option<Suggestions>,
}

/// Labels the queue of `split` as the simulated user would.
fn label(
    engine: &mut Engine,
    user: &ManifestUser,
    split: Split,
    n: usize,
) -> precious_engine::Result<Vec<SimulatedLabel>> {
    let mut out = Vec::new();
    for p in engine.label_queue(split, n, 0)? {
        let (Some(category), Some(label)) = (user.category(&p.path), user.label(&p.path)) else {
            continue;
        };
        engine.set_label(p.id, label, split)?;
        out.push(SimulatedLabel {
            id: p.id,
            path: p.path.clone(),
            category: category.to_string(),
            label,
            split,
        });
    }
    Ok(out)
}

pub fn run(
    db: Option<PathBuf>,
    gallery: Option<PathBuf>,
    json: bool,
) -> precious_engine::Result<()> {
    let gallery = gallery
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/demo/gallery")));
    // A fresh database each run unless one is given: the demo must not touch the user's own.
    let db = db.unwrap_or_else(|| {
        std::env::temp_dir()
            .join(format!("precious-demo-{}", std::process::id()))
            .join("demo.sqlite")
    });
    let mut engine = Engine::open(&db)?;
    let report = scan(&mut engine, std::slice::from_ref(&gallery), json)?;
    let status = engine.status()?;
    let pick = engine.pick(&PickOptions {
        n: 12,
        ..PickOptions::default()
    })?;
    let (mut labels, mut model, mut metrics, mut suggestions) = (vec![], None, None, None);
    if let Some(user) = ManifestUser::load(&gallery) {
        labels = label(&mut engine, &user, Split::Test, TEST_LABELS)?;
        labels.extend(label(&mut engine, &user, Split::Train, TRAIN_LABELS)?);
        model = Some(engine.train(&TrainOptions::default())?);
        metrics = Some(engine.evaluate()?);
        suggestions = Some(engine.suggest()?);
    }
    if json {
        return print_json(&Demo {
            gallery: gallery.display().to_string(),
            db: db.display().to_string(),
            scan: &report,
            status: &status,
            pick: &pick,
            labels,
            model,
            metrics,
            suggestions,
        });
    }
    println!("Demo gallery: {}", gallery.display());
    println!("Database:     {}\n", db.display());
    print_scan(&report, &status);
    println!();
    print_pick(&pick);
    let (Some(m), Some(e), Some(s)) = (&model, &metrics, &suggestions) else {
        println!("\n(No manifest.json in the gallery: no simulated user, so the demo stops here.)");
        return Ok(());
    };
    let count = |split: Split, l: Label| {
        labels
            .iter()
            .filter(|x| x.split == split && x.label == l)
            .count()
    };
    println!(
        "\nA simulated user (deletes: {}) labeled {} random photos for testing ({} delete) and the first {} of the queue for training ({} delete).\n",
        DELETED_CATEGORIES.join(", "),
        count(Split::Test, Label::Keep) + count(Split::Test, Label::Delete),
        count(Split::Test, Label::Delete),
        count(Split::Train, Label::Keep) + count(Split::Train, Label::Delete),
        count(Split::Train, Label::Delete),
    );
    model::print_train(m, false);
    println!();
    model::print_eval(e);
    println!();
    model::print_suggestions(s, 10);
    println!(
        "\nNothing was moved: `precious --db {} trash ID...` would.",
        db.display()
    );
    Ok(())
}
