//! [`Engine::suggest`]: photos to delete, most likely first, with their reasons; the model is
//! first refreshed when the train labels changed since it was trained (`refresh.rs`).

use super::{Prepared, Suggestions};
use crate::learn::suggest;
use crate::{Engine, Result};

impl Engine {
    /// Photos to suggest for deletion, best first, with reasons (see
    /// [`crate::learn::suggest`]). If train labels changed since the newest model, it is first
    /// refreshed (a new model of its own, measured by its own cross-validation).
    pub fn suggest(&mut self) -> Result<Suggestions> {
        self.refresh_neighbours_if_stale()?;
        let mut model = self.latest_model()?;
        let p = Prepared::load(self)?;
        let (refreshed, scores) = match self.refresh_model(&mut model, &p)? {
            Some((r, scores)) => (Some(r), scores),
            None => (None, p.scores(&model)),
        };
        let scores = ndarray::Array1::from(scores);
        let t = &model.body.threshold;
        let ranked = suggest::rank(&p.data, &scores, p.data.embeddings(), t.value);
        let note = if t.known {
            format!(
                "suggested at P(delete) >= {:.2}, where cross-validation shows at least {:.0}% of \
                 suggestions are photos you delete",
                t.value,
                t.precision_lower_bound.unwrap_or(0.0) * 100.0
            )
        } else {
            format!(
                "most likely first, not yet sure: the model cannot yet show {:.0}% precision. \
                 Label about {} more photos you would delete (and keep labeling the keepers next \
                 to them) to make it sure",
                t.target_precision * 100.0,
                t.more_deletes_needed.unwrap_or(1)
            )
        };
        Ok(Suggestions {
            model_id: model.id,
            refreshed,
            threshold: t.clone(),
            note,
            bytes: ranked.photos.iter().map(|s| s.bytes).sum(),
            photos: ranked.photos,
            near_duplicate_groups: ranked.groups,
        })
    }
}
