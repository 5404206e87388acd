//! `train`, `eval`, `suggest` and `models`: the learning commands' output for people.

use precious_engine::learn::metrics::Metrics;
use precious_engine::learn::record::{Model, Scorer, Threshold};
use precious_engine::learn::suggest::Reason;
use precious_engine::{Evaluation, Suggestions, TrainReport};

fn pct(v: Option<f32>) -> String {
    v.map_or("n/a".into(), |v| format!("{:.1}%", 100.0 * v))
}

pub fn print_metrics(title: &str, m: &Metrics) {
    let c = &m.confusion;
    println!(
        "{title}: {} photos ({} delete), cut at P(delete) >= {:.3}",
        m.n, m.positives, m.threshold
    );
    println!(
        "  precision {} (of photos suggested, share the user deletes)   recall {} (of photos the user deletes, share suggested)",
        pct(m.precision),
        pct(m.recall)
    );
    println!(
        "  F1 {}   accuracy {}   balanced accuracy {}   AUROC {}",
        m.f1.map_or("n/a".into(), |v| format!("{v:.3}")),
        pct(m.accuracy),
        pct(m.balanced_accuracy),
        m.auroc.map_or("n/a".into(), |v| format!("{v:.3}"))
    );
    println!("  confusion (rows: truth; columns: prediction)");
    println!("                  predicted delete   predicted keep");
    println!("    user deletes  {:>16}   {:>14}", c.tp, c.fn_);
    println!("    user keeps    {:>16}   {:>14}", c.fp, c.tn);
}

pub fn print_threshold(t: &Threshold) {
    println!(
        "Suggestion cut: P(delete) >= {:.3}, aiming at precision {:.0}%: {}",
        t.value,
        100.0 * t.target_precision,
        t.basis
    );
    if let (Some(p), Some(lb), Some(r)) = (t.precision, t.precision_lower_bound, t.recall) {
        println!(
            "  cross-validated there: precision {} (at least {} with 95% confidence), recall {}",
            pct(Some(p)),
            pct(Some(lb)),
            pct(Some(r))
        );
    }
    if let Some(k) = t.keeper_share {
        println!(
            "  photos you keep that it would suggest (cross-validated): {}",
            pct(Some(k))
        );
    }
}

/// What training did; with `metrics`, also the cut and the cross-validated and test metrics
/// (left out where `eval` follows).
pub fn print_train(r: &TrainReport, metrics: bool) {
    let m = &r.model;
    if let Some(v) = &r.views {
        println!(
            "Augmented views: {} photos in the sample, {} computed now, {} skipped ({:.1} s)",
            v.sample, v.computed, v.skipped, v.seconds
        );
    }
    let b = m.body.scorer.blend();
    match &m.body.scorer {
        Scorer::Blend(f) => println!(
            "Model {} ({}): trained on {} keep + {} delete labels of a {}-photo gallery in {:.1} s; \
             signal weight {}, label spreading share {}, C {} (solved in {} Newton steps)",
            m.id,
            m.config.method.as_str(),
            m.training_set.keep.len(),
            m.training_set.delete.len(),
            m.training_set.gallery_photos,
            m.metrics.seconds,
            b.signal_weight,
            b.spread_share,
            b.strength,
            f.solve.iterations
        ),
        Scorer::Head { .. } => println!(
            "Model {} ({}, {} hidden units): trained on {} keep + {} delete labels and {} unlabeled photos' views in {:.1} s; signal weight {}; loss {:.3} -> {:.3}, {:.0}% of unlabeled views confident",
            m.id,
            m.config.method.as_str(),
            m.config.head.hidden,
            m.training_set.keep.len(),
            m.training_set.delete.len(),
            m.training_set.view_photos,
            m.metrics.seconds,
            b.signal_weight,
            m.metrics.train.first_loss,
            m.metrics.train.final_loss,
            100.0 * m.metrics.train.mask_rate
        ),
    }
    for i in &m.metrics.inherited {
        println!("Inherited: {i}");
    }
    if !m.metrics.train.trainer.is_empty() {
        println!("Trainer: {}", m.metrics.train.trainer);
    }
    if metrics {
        print_model_metrics(m);
    }
}

fn print_model_metrics(m: &Model) {
    print_threshold(&m.body.threshold);
    if let Some(cv) = &m.metrics.cross_validation {
        print_metrics(
            &format!("{}-fold cross-validation on train labels", m.metrics.folds),
            cv,
        );
    }
    if let Some(t) = &m.metrics.test {
        print_metrics("Held-out test labels", t);
    }
}

pub fn print_eval(e: &Evaluation) {
    println!(
        "Model {} ({}). \"Delete\" is the positive class. {}.",
        e.model_id,
        e.method.as_str(),
        e.note
    );
    print_threshold(&e.threshold);
    if let Some(t) = &e.test {
        print_metrics("Held-out test labels", t);
    }
    if let Some(cv) = &e.cross_validation {
        print_metrics(
            &format!("{}-fold cross-validation on train labels", e.folds),
            cv,
        );
    }
}

fn reason(r: &Reason) -> String {
    match r {
        Reason::LabeledDelete => "you labeled it delete".into(),
        Reason::Resembles { photo, similarity } => {
            format!("like #{photo}, which you deleted ({similarity:.2})")
        }
        Reason::Blurry => "blurry".into(),
        Reason::Dark => "dark".into(),
        Reason::Overexposed => "overexposed".into(),
        Reason::ScreenshotLike => "screenshot-like".into(),
        Reason::ShortVideo { seconds } => format!("a {seconds:.1} s video"),
        Reason::NearDuplicate { best } => format!("near-duplicate of better shot #{best}"),
    }
}

pub fn print_suggestions(s: &Suggestions, limit: usize) {
    if let Some(r) = &s.refreshed {
        println!(
            "Labels changed: model {} refreshed from model {} in {:.0} ms.",
            s.model_id,
            r.from_model,
            1000.0 * r.seconds
        );
    }
    println!("Suggestions: {}.", s.note);
    if let Some(k) = s.threshold.keeper_share {
        println!(
            "  photos you keep that it would suggest (cross-validated): {}",
            pct(Some(k))
        );
    }
    println!(
        "{} photos suggested ({:.1} MB would be freed); {} near-duplicate groups, best shot of each kept.",
        s.photos.len(),
        s.bytes as f64 / 1e6,
        s.near_duplicate_groups.len()
    );
    for p in s.photos.iter().take(limit) {
        let why: Vec<String> = p.reasons.iter().map(reason).collect();
        // A video, and the other files of an asset, which the bytes include.
        let mut with: Vec<String> = p
            .duration_ms
            .map(|ms| format!("video {}:{:02}", ms / 60_000, ms / 1000 % 60))
            .into_iter()
            .collect();
        with.extend(
            p.companions
                .iter()
                .map(|k| format!("+ {}", k.replace('_', " "))),
        );
        let with = if with.is_empty() {
            String::new()
        } else {
            format!("  ({})", with.join(", "))
        };
        println!(
            "  [{:>5}] {:.2}  {:>7.1} KB  {}{with}\n          {}",
            p.id,
            p.p_delete,
            p.bytes as f64 / 1e3,
            p.path,
            why.join("; ")
        );
    }
    if s.photos.len() > limit {
        println!("  ... and {} more (--json for all)", s.photos.len() - limit);
    }
}

pub fn print_models(models: &[Model]) {
    if models.is_empty() {
        println!("No models yet.");
    }
    for m in models {
        println!(
            "Model {} ({}; {} keep + {} delete labels{}): cut {:.3}{}, CV F1 {}{}, test F1 {}",
            m.id,
            m.config.method.as_str(),
            m.training_set.keep.len(),
            m.training_set.delete.len(),
            m.training_set
                .warm_start_from
                .map_or(String::new(), |f| format!(", refreshed from {f}")),
            m.body.threshold.value,
            if m.body.threshold.known {
                " (known)"
            } else {
                " (ranking, not yet sure)"
            },
            m.metrics
                .cross_validation
                .as_ref()
                .and_then(|c| c.f1)
                .map_or("n/a".into(), |v| format!("{v:.3}")),
            if m.metrics.inherited.is_empty() {
                ""
            } else {
                " (partly inherited)"
            },
            m.metrics
                .test
                .as_ref()
                .and_then(|c| c.f1)
                .map_or("n/a".into(), |v| format!("{v:.3}")),
        );
    }
}
