//! Trained models as stored records: every model keeps its version, what it was trained on,
//! how (hyperparameters) and how well it did, so any suggestion can be traced to a model and
//! models can be compared over time.

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::dataset::Standardizer;
use super::ensemble::{self, Blend};
use super::head::Head;
use super::metrics::Metrics;
use super::train::{TrainConfig, TrainLog};
use crate::Result;

/// Version of the stored `body` layout; a model of another format is retrained, not read.
/// 2: the ensemble scorer (logistic regression on smoothed features + label spreading).
pub const MODEL_FORMAT: i64 = 2;

/// Where suggestions are cut, and how much is known about the precision there.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Threshold {
    /// Suggest a photo when P(delete) >= value.
    pub value: f32,
    pub target_precision: f32,
    /// Whether cross-validation showed, with 95% confidence, that the cut reaches the target.
    /// When not, suggestions are a ranking ("most likely first, not yet sure") from
    /// P(delete) >= 0.5.
    pub known: bool,
    /// In words: how the value was chosen, and what would make it known.
    pub basis: String,
    /// Cross-validated precision and recall at the cut, with the precision's one-sided 95%
    /// lower bound.
    pub precision: Option<f32>,
    pub precision_lower_bound: Option<f32>,
    pub recall: Option<f32>,
    /// Share of the user's keepers scored at or above the cut, out of fold: how often it would
    /// suggest a photo the user keeps.
    #[serde(default)]
    pub keeper_share: Option<f32>,
    /// When the cut is not known: about how many more delete labels it would take.
    #[serde(default)]
    pub more_deletes_needed: Option<usize>,
}

/// The photos a model learnt from.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct TrainingSet {
    pub keep: Vec<i64>,
    pub delete: Vec<i64>,
    /// Unlabeled photos whose augmented views took part (FixMatch).
    pub view_photos: usize,
    pub gallery_photos: usize,
    /// The model this one was warm-started from (an incremental retrain), if any.
    pub warm_start_from: Option<i64>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ModelMetrics {
    /// Out-of-fold metrics on the train labels at the chosen threshold.
    pub cross_validation: Option<Metrics>,
    pub folds: usize,
    /// Metrics on the held-out test labels at the chosen threshold (never used for choosing).
    pub test: Option<Metrics>,
    pub train: TrainLog,
    /// Each blend tried, with its cross-validated log-loss (lower is better).
    #[serde(default)]
    pub blends_tried: Vec<ensemble::Tried>,
    /// What this model took from the model it refreshed instead of measuring it itself.
    #[serde(default)]
    pub inherited: Vec<String>,
    pub seconds: f64,
}

/// What turns a photo's row into P(delete).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scorer {
    /// Logistic regression and label spreading ([`ensemble`]); spreading restarts from the
    /// model's training labels each time it scores.
    Blend(ensemble::Fitted),
    /// The AdamW-trained head (FixMatch) over the same rows at this signal weight.
    Head { head: Box<Head>, signal_weight: f32 },
}

impl Scorer {
    /// The blend's hyperparameters (a head has no spreading).
    pub fn blend(&self) -> Blend {
        match self {
            Scorer::Blend(f) => f.blend,
            Scorer::Head { signal_weight, .. } => Blend {
                signal_weight: *signal_weight,
                spread_share: 0.0,
                strength: 0.0,
            },
        }
    }
}

/// What is needed to score photos.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Body {
    pub scorer: Scorer,
    /// The signal columns' means and spreads at training (embedding columns: 0 and 1).
    pub standardizer: Standardizer,
    pub threshold: Threshold,
    pub embedding_dims: usize,
    pub signal_names: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Model {
    pub id: i64,
    pub created_at: i64,
    pub config: TrainConfig,
    pub training_set: TrainingSet,
    pub metrics: ModelMetrics,
    #[serde(skip_serializing)]
    pub body: Body,
}

fn json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("plain data serialises")
}

fn parse<T: for<'de> Deserialize<'de>>(s: &str) -> rusqlite::Result<T> {
    serde_json::from_str(s).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

/// Stores `model`, returning its new id.
pub fn save(conn: &Connection, model: &Model) -> Result<i64> {
    conn.execute(
        "INSERT INTO models (created_at, format, method, config, training_set, metrics, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            model.created_at,
            MODEL_FORMAT,
            model.config.method.as_str(),
            json(&model.config),
            json(&model.training_set),
            json(&model.metrics),
            json(&model.body)
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

const COLUMNS: &str = "id, created_at, config, training_set, metrics, body";

fn from_row(r: &rusqlite::Row) -> rusqlite::Result<Model> {
    Ok(Model {
        id: r.get(0)?,
        created_at: r.get(1)?,
        config: parse(&r.get::<_, String>(2)?)?,
        training_set: parse(&r.get::<_, String>(3)?)?,
        metrics: parse(&r.get::<_, String>(4)?)?,
        body: parse(&r.get::<_, String>(5)?)?,
    })
}

/// The newest model of the current format.
pub fn latest(conn: &Connection) -> Result<Option<Model>> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM models WHERE format = ?1 ORDER BY id DESC LIMIT 1"),
            [MODEL_FORMAT],
            from_row,
        )
        .optional()?)
}

/// Every model of the current format, newest first.
pub fn all(conn: &Connection) -> Result<Vec<Model>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM models WHERE format = ?1 ORDER BY id DESC"
    ))?;
    let rows = stmt.query_map([MODEL_FORMAT], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
