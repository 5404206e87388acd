//! From scores to suggestions: which photos to propose for deletion, and why.
//!
//! Rules, in order: a photo the user labeled keep is never suggested; in a near-duplicate
//! group the best shot (a kept one, else the sharpest well-exposed one not labeled delete)
//! is never suggested; a photo the user labeled delete always is (unless the whole group was
//! labeled delete, where the best of them is still kept); the rest are suggested when P(delete) reaches
//! the model's threshold. Every suggestion carries its reasons: the labeled photos it most
//! resembles among those the user deleted, quality flags, and the better shot it duplicates.

use std::collections::HashMap;

use ndarray::{Array1, ArrayView2};
use serde::Serialize;

use super::dataset::{shot_quality, Dataset};
use crate::features::quality::BLURRY;
use crate::Label;

/// Why a photo is suggested.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// The user labeled it delete.
    LabeledDelete,
    /// A photo the user labeled delete that it resembles (cosine similarity of embeddings).
    Resembles {
        photo: i64,
        similarity: f32,
    },
    Blurry,
    Dark,
    Overexposed,
    ScreenshotLike,
    /// A video shorter than [`SHORT_VIDEO_MS`]: most are started by accident.
    ShortVideo {
        seconds: f32,
    },
    /// A near-duplicate of `best`, the group's shot that is kept.
    NearDuplicate {
        best: i64,
    },
}

#[derive(Clone, Debug, Serialize)]
pub struct Suggestion {
    pub id: i64,
    pub path: String,
    pub p_delete: f32,
    pub bytes: u64,
    /// A video's duration (the UI marks videos); `None` for photos.
    pub duration_ms: Option<u64>,
    /// The kinds of the other files trashed with it (`raw`, `live_video`, `edited`), which
    /// `bytes` includes.
    pub companions: Vec<String>,
    pub reasons: Vec<Reason>,
}

/// A near-duplicate group with its kept shot.
#[derive(Clone, Debug, Serialize)]
pub struct Group {
    pub best: i64,
    pub members: Vec<i64>,
}

pub struct Ranked {
    pub photos: Vec<Suggestion>,
    pub groups: Vec<Group>,
}

/// Videos shorter than this are flagged: a pocket recording or a tap on the wrong button.
/// Live Photo clips (1.5-3 s) are not videos of their own ([`crate::assets`]).
pub const SHORT_VIDEO_MS: u64 = 2000;

/// Quality cut-offs. Blurry: the full-resolution blur measure at or above the fixed cut
/// [`BLURRY`], chosen on `precious-bench blur` (no sharp photo there reached it; a fixed cut
/// works because the measure is an edge width, not a texture amount). A photo without that
/// measure (a build without a region decoder, or indexed before it existed; not a plain photo,
/// which measures 0) falls back to the working image's Laplacian variance judged against the
/// gallery's own spread, which depends on content as much as on focus.
struct Flags {
    blur_below: f32,
}

impl Flags {
    fn new(data: &Dataset) -> Flags {
        let mut s: Vec<f32> = data.quality.iter().map(|q| q[0]).collect();
        s.sort_by(f32::total_cmp);
        // The 10th percentile, and never above an absolute level that is visibly blurred.
        let p10 = s.get(s.len() / 10).copied().unwrap_or(0.0);
        Flags {
            blur_below: p10.min(60.0),
        }
    }

    fn of(&self, data: &Dataset, i: usize) -> Vec<Reason> {
        let [sharp, bright, dark, blown, _] = data.quality[i];
        let mut r = Vec::new();
        let blurry = match data.blur[i] {
            Some(blur) => blur >= BLURRY,
            None => sharp < self.blur_below,
        };
        if blurry {
            r.push(Reason::Blurry);
        }
        if bright < 40.0 || dark > 0.5 {
            r.push(Reason::Dark);
        }
        if bright > 220.0 || blown > 0.4 {
            r.push(Reason::Overexposed);
        }
        if data.screenshot_like[i] {
            r.push(Reason::ScreenshotLike);
        }
        if let Some(ms) = data.duration_ms[i].filter(|&ms| ms < SHORT_VIDEO_MS) {
            r.push(Reason::ShortVideo {
                seconds: ms as f32 / 1000.0,
            });
        }
        r
    }
}

/// Ranks suggestions. `p` is P(delete) per dataset row; `emb` the rows' normalised
/// embeddings (for "resembles").
pub fn rank(data: &Dataset, p: &Array1<f32>, emb: ArrayView2<f32>, threshold: f32) -> Ranked {
    let label = |i: usize| data.labels[i].map(|(l, _)| l);
    // Near-duplicate groups and their best shots.
    let mut members: HashMap<usize, Vec<usize>> = HashMap::new();
    for (i, g) in data.groups.iter().enumerate() {
        members.entry(*g).or_default().push(i);
    }
    let mut best_of: HashMap<usize, usize> = HashMap::new();
    let mut groups = Vec::new();
    for (g, m) in &members {
        if m.len() < 2 {
            continue;
        }
        let best = *m
            .iter()
            .max_by(|&&a, &&b| {
                // A kept photo first, a deleted one last, else the better shot.
                let key = |i: usize| {
                    let rank = match label(i) {
                        Some(Label::Keep) => 2,
                        Some(Label::Delete) => 0,
                        _ => 1,
                    };
                    (rank, shot_quality(&data.quality[i]))
                };
                let (ka, kb) = (key(a), key(b));
                ka.0.cmp(&kb.0).then(ka.1.total_cmp(&kb.1)).then(b.cmp(&a))
            })
            .expect("non-empty group");
        best_of.insert(*g, best);
        let mut ids: Vec<i64> = m.iter().map(|&i| data.ids[i]).collect();
        ids.sort();
        groups.push(Group {
            best: data.ids[best],
            members: ids,
        });
    }
    groups.sort_by_key(|g| g.best);

    let deleted: Vec<usize> = (0..data.ids.len())
        .filter(|&i| label(i) == Some(Label::Delete))
        .collect();
    let flags = Flags::new(data);
    let mut photos = Vec::new();
    for i in 0..data.ids.len() {
        let best = best_of.get(&data.groups[i]).copied();
        let user = label(i);
        if user == Some(Label::Keep) || best == Some(i) {
            continue;
        }
        let by_user = user == Some(Label::Delete);
        if !by_user && p[i] < threshold {
            continue;
        }
        let mut reasons = Vec::new();
        if by_user {
            reasons.push(Reason::LabeledDelete);
        }
        let mut near: Vec<(f32, usize)> = deleted
            .iter()
            .filter(|&&j| j != i)
            .map(|&j| (emb.row(i).dot(&emb.row(j)), j))
            .collect();
        near.sort_by(|a, b| b.0.total_cmp(&a.0));
        reasons.extend(near.iter().take(2).map(|&(s, j)| Reason::Resembles {
            photo: data.ids[j],
            similarity: s,
        }));
        reasons.extend(flags.of(data, i));
        if let Some(b) = best {
            reasons.push(Reason::NearDuplicate { best: data.ids[b] });
        }
        photos.push(Suggestion {
            id: data.ids[i],
            path: data.paths[i].clone(),
            p_delete: if by_user { 1.0 } else { p[i] },
            bytes: data.bytes[i],
            duration_ms: data.duration_ms[i],
            companions: data.companions[i].clone(),
            reasons,
        });
    }
    photos.sort_by(|a, b| b.p_delete.total_cmp(&a.p_delete).then(a.id.cmp(&b.id)));
    Ranked { photos, groups }
}
