//! [`Engine::evaluate`]: the newest model measured on the test labels as they are now.

use super::{Evaluation, Prepared, MIN_TEST_LABELS};
use crate::learn::metrics;
use crate::{Engine, Result};

impl Engine {
    /// Measures the newest model on the current test labels (leaving out those whose
    /// near-duplicate is a train label), at its cut.
    pub fn evaluate(&self) -> Result<Evaluation> {
        let model = self.latest_model()?;
        let p = Prepared::load(self)?;
        let t = model.body.threshold.clone();
        let scores = p.scores(&model);
        let test = super::train::test_metrics(&p, &scores, t.value);
        let cv = model.metrics.cross_validation.clone();
        let note = match (&test, &cv) {
            (Some(m), _) if p.test_excluded > 0 => format!(
                "measured on {} held-out test labels the model never saw ({} more left out: \
                 near-duplicates of train labels would score their twins)",
                m.n, p.test_excluded
            ),
            (Some(m), _) => format!(
                "measured on {} held-out test labels the model never saw",
                m.n
            ),
            (None, Some(c)) => format!(
                "too few test labels ({}; at least {MIN_TEST_LABELS} with both kinds are needed): \
                 showing the cross-validated estimate from {} train labels instead",
                p.test.len(),
                c.n
            ),
            (None, None) => format!(
                "too few labels to estimate anything: {} train, {} test",
                p.train.len(),
                p.test.len()
            ),
        };
        let test_pr_curve = if test.is_some() {
            let s: Vec<f32> = p.test.iter().map(|l| scores[l.0]).collect();
            let y: Vec<bool> = p.test.iter().map(|l| l.1).collect();
            metrics::pr_curve(&s, &y)
        } else {
            vec![]
        };
        Ok(Evaluation {
            model_id: model.id,
            method: model.config.method,
            positive_class: "delete",
            threshold: t,
            test_pr_curve,
            test,
            test_labels: p.test.len(),
            test_labels_excluded: p.test_excluded,
            cross_validation: cv,
            folds: model.metrics.folds,
            note,
        })
    }
}
