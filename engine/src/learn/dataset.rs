//! The head's input: one row per indexed photo, assembled from the store.
//!
//! Row = [L2-normalised embedding (1280) | HOG-PCA (<= 64) | quality (5) | blur | metadata
//! signals].
//! Metadata signals are what tells junk from keepers beyond content: camera EXIF present,
//! screenshot-like shape, PNG, messenger/download/screenshot folder names, how many
//! near-duplicates a photo has, bytes per pixel (heavy re-compression). Non-embedding columns
//! are standardised with the gallery's own mean and spread, kept with the model.

use std::collections::HashMap;

use ndarray::{Array1, Array2};
use rusqlite::Connection;
use serde::Serialize;

use crate::features::phash;
use crate::pick::near_duplicate_groups;
use crate::store::{decode_f16, decode_f32};
use crate::{Label, Result, Split};

/// Folder-name tokens that mark where junk accumulates (matched case-insensitively anywhere in
/// the path).
pub const FOLDER_TOKENS: &[&str] = &[
    "screenshot",
    "whatsapp",
    "download",
    "telegram",
    "messenger",
    "scan",
];

/// Names of the non-embedding columns, in order (for explanations and the model record).
pub fn signal_names(hog_dims: usize) -> Vec<String> {
    let mut v: Vec<String> = (0..hog_dims).map(|i| format!("hog_pca_{i}")).collect();
    v.extend(
        [
            "sharpness_log",
            "brightness",
            "dark_share",
            "bright_share",
            "colorfulness",
            BLUR_SIGNAL,
        ]
        .map(String::from),
    );
    v.extend(
        [
            "camera_exif",
            "has_date",
            "png",
            "tall_aspect",
            "near_duplicates_log",
            "bytes_per_pixel_log",
        ]
        .map(String::from),
    );
    v.extend(FOLDER_TOKENS.iter().map(|t| format!("folder_{t}")));
    v.extend(TWIN_SIGNALS.map(String::from));
    v
}

/// The full-resolution blur measure's column ([`crate::features::quality::blur`]), as
/// `ln(1 + blur)`; a photo without one (nothing to judge, no full-resolution window, indexed
/// before it existed) gets the gallery's median, so it says nothing either way. Augmented views
/// ([`crate::views`]) cannot measure it again (they are made from the 256-px working image):
/// their rows keep the photo's value, since only the five [`quality_columns`] are replaced.
pub const BLUR_SIGNAL: &str = "blur";

/// Signals from the photo's nearest look-alike in the gallery graph (filled by
/// [`set_twin_signals`] once the graph is known): how alike the two are, and how much better
/// a shot the look-alike is. Together they tell a burst's extra frames and re-saved copies
/// from the shot kept, which the embedding alone cannot (the frames sit next to each other).
pub const TWIN_SIGNALS: [&str; 2] = ["twin_similarity", "twin_quality_gap"];

/// How good a shot is (sharper, fewer crushed or blown pixels): which of near-duplicates to
/// keep, and the twin signals.
pub fn shot_quality(q: &[f32; 5]) -> f32 {
    (1.0 + q[0].max(0.0)).ln() - 4.0 * (q[2] + q[3])
}

/// Fills the twin signals of every row from its nearest neighbour (`neighbours[i][0]`).
pub fn set_twin_signals(data: &mut Dataset, neighbours: &[Vec<(u32, f32)>]) {
    let first = data.x.ncols() - TWIN_SIGNALS.len();
    for (i, nb) in neighbours.iter().enumerate() {
        let (sim, gap) = nb.first().map_or((0.0, 0.0), |&(j, s)| {
            let gap = shot_quality(&data.quality[j as usize]) - shot_quality(&data.quality[i]);
            (s, s.max(0.0) * gap)
        });
        data.x[[i, first]] = sim;
        data.x[[i, first + 1]] = gap;
    }
}

pub struct Dataset {
    pub ids: Vec<i64>,
    /// Raw (unstandardised) rows.
    pub x: Array2<f32>,
    /// Columns before this index are the embedding (left as is); the rest are signals.
    pub embedding_dims: usize,
    pub labels: Vec<Option<(Label, Split)>>,
    pub near_duplicates: Vec<usize>,
    /// Near-duplicate group of each row (the index of a representative row).
    pub groups: Vec<usize>,
    /// Shown, never learnt from beyond the folder tokens.
    pub paths: Vec<String>,
    pub bytes: Vec<u64>,
    /// sharpness, brightness, dark share, bright share, colorfulness.
    pub quality: Vec<[f32; 5]>,
    /// The full-resolution blur measure, where there is one.
    pub blur: Vec<Option<f32>>,
    /// PNG at a screen-like tall aspect, or in a screenshot folder.
    pub screenshot_like: Vec<bool>,
    /// A video's duration (its row is its poster frame's); `None` for photos.
    pub duration_ms: Vec<Option<u64>>,
    /// The kinds of the asset's other files (`raw`, `live_video`, `edited`).
    pub companions: Vec<Vec<String>>,
}

impl Dataset {
    /// First column of the quality and metadata signals (after the embedding and HOG-PCA).
    pub fn signals_start(&self) -> usize {
        self.x.ncols() - signal_names(0).len()
    }

    /// The signal columns (HOG-PCA, quality, metadata), raw.
    pub fn signals(&self) -> ndarray::ArrayView2<'_, f32> {
        self.x.slice(ndarray::s![.., self.embedding_dims..])
    }

    /// The unit embeddings.
    pub fn embeddings(&self) -> ndarray::ArrayView2<'_, f32> {
        self.x.slice(ndarray::s![.., ..self.embedding_dims])
    }
}

fn l2(v: &[f32]) -> f32 {
    v.iter().map(|a| a * a).sum::<f32>().sqrt().max(1e-12)
}

struct Row {
    id: i64,
    path: String,
    format: Option<String>,
    width: Option<f64>,
    height: Option<f64>,
    bytes: f64,
    /// The asset's other files (Live Photo video, RAW): freed with the photo.
    companion_bytes: u64,
    camera: bool,
    has_date: bool,
    embedding: Vec<f32>,
    hog: Option<Vec<f32>>,
    quality: [f32; 5],
    blur: Option<f32>,
    phash: u64,
    label: Option<(Label, Split)>,
    duration_ms: Option<u64>,
    companions: Vec<String>,
}

pub fn load(conn: &Connection) -> Result<Dataset> {
    let mut stmt = conn.prepare(
        "SELECT p.id, p.display_path, p.format, p.width, p.height, p.size, p.has_camera_exif,
                p.taken_at IS NOT NULL, f.embedding, h.vector, f.sharpness, f.brightness,
                f.dark_share, f.bright_share, f.colorfulness, f.phash, l.label, l.split, f.blur,
                COALESCE(c.bytes, 0), p.duration_ms, c.kinds
         FROM photos p JOIN features f ON f.photo_id = p.id
         LEFT JOIN (SELECT photo, SUM(size) AS bytes, group_concat(kind) AS kinds
                    FROM companions GROUP BY photo) c ON c.photo = p.locator
         LEFT JOIN hog_pca h ON h.photo_id = p.id LEFT JOIN labels l ON l.photo_id = p.id
         WHERE p.state = 'indexed' ORDER BY p.content_hash, p.id",
    )?;
    let rows: Vec<Row> = stmt
        .query_map([], |r| {
            let label: Option<String> = r.get(16)?;
            let split: Option<String> = r.get(17)?;
            Ok(Row {
                id: r.get(0)?,
                path: r.get(1)?,
                format: r.get(2)?,
                width: r.get(3)?,
                height: r.get(4)?,
                bytes: r.get::<_, i64>(5)? as f64,
                companion_bytes: r.get::<_, i64>(19)? as u64,
                camera: r.get::<_, Option<bool>>(6)?.unwrap_or(false),
                has_date: r.get(7)?,
                embedding: decode_f16(&r.get::<_, Vec<u8>>(8)?),
                hog: r.get::<_, Option<Vec<u8>>>(9)?.map(|b| decode_f32(&b)),
                quality: [r.get(10)?, r.get(11)?, r.get(12)?, r.get(13)?, r.get(14)?],
                blur: r.get(18)?,
                phash: r.get::<_, i64>(15)? as u64,
                label: crate::engine::parse_labeled(label.as_deref(), split.as_deref()),
                duration_ms: r.get::<_, Option<i64>>(20)?.map(|d| d.max(0) as u64),
                companions: crate::store::companions::kinds(r.get(21)?),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;

    let groups = near_duplicate_groups(&rows.iter().map(|r| r.phash).collect::<Vec<_>>());
    let mut group_size: HashMap<usize, usize> = HashMap::new();
    for g in &groups {
        *group_size.entry(*g).or_default() += 1;
    }
    let near_duplicates: Vec<usize> = groups.iter().map(|g| group_size[g] - 1).collect();

    let emb_dims = rows.first().map_or(0, |r| r.embedding.len());
    let hog_dims = rows
        .iter()
        .filter_map(|r| r.hog.as_ref())
        .map(Vec::len)
        .max()
        .unwrap_or(0);
    let width = emb_dims + signal_names(hog_dims).len();
    let blur_column = |b: f32| (1.0 + b.max(0.0)).ln();
    let mut measured: Vec<f32> = rows
        .iter()
        .filter_map(|r| r.blur.map(blur_column))
        .collect();
    measured.sort_by(f32::total_cmp);
    let blur_unknown = measured.get(measured.len() / 2).copied().unwrap_or(0.0);
    let mut x = Array2::zeros((rows.len(), width));
    for (i, r) in rows.iter().enumerate() {
        let mut v: Vec<f32> = Vec::with_capacity(width);
        let norm = l2(&r.embedding);
        v.extend(r.embedding.iter().map(|a| a / norm));
        let mut hog = r.hog.clone().unwrap_or_default();
        hog.resize(hog_dims, 0.0);
        v.extend(hog);
        v.extend(quality_columns(&r.quality));
        v.push(r.blur.map_or(blur_unknown, blur_column));
        let (w, h) = (
            r.width.unwrap_or(1.0).max(1.0),
            r.height.unwrap_or(1.0).max(1.0),
        );
        let lower = r.path.to_lowercase();
        v.extend([
            r.camera as u8 as f32,
            r.has_date as u8 as f32,
            (r.format.as_deref() == Some("png")) as u8 as f32,
            (w.max(h) / w.min(h) >= 1.9) as u8 as f32,
            (1.0 + near_duplicates[i] as f32).ln(),
            (r.bytes / (w * h)).max(1e-6).ln() as f32,
        ]);
        v.extend(FOLDER_TOKENS.iter().map(|t| lower.contains(t) as u8 as f32));
        v.extend([0.0; TWIN_SIGNALS.len()]);
        x.row_mut(i).assign(&Array1::from(v));
    }
    neutral_for_videos(&mut x, &rows, emb_dims, hog_dims);
    let screenshot_like = rows
        .iter()
        .map(|r| {
            let (w, h) = (r.width.unwrap_or(1.0), r.height.unwrap_or(1.0));
            let tall = w.max(h) / w.min(h).max(1.0) >= 1.9;
            (r.format.as_deref() == Some("png") && tall)
                || r.path.to_lowercase().contains("screenshot")
        })
        .collect();
    Ok(Dataset {
        ids: rows.iter().map(|r| r.id).collect(),
        groups,
        paths: rows.iter().map(|r| r.path.clone()).collect(),
        bytes: rows
            .iter()
            .map(|r| r.bytes as u64 + r.companion_bytes)
            .collect(),
        quality: rows.iter().map(|r| r.quality).collect(),
        blur: rows.iter().map(|r| r.blur).collect(),
        screenshot_like,
        x,
        embedding_dims: emb_dims,
        labels: rows.iter().map(|r| r.label).collect(),
        duration_ms: rows.iter().map(|r| r.duration_ms).collect(),
        companions: rows.iter().map(|r| r.companions.clone()).collect(),
        near_duplicates,
    })
}

/// Two metadata signals mean something else for a video: no container carries camera EXIF
/// (so "camera_exif" would read as a screenshot's or a download's 0), and its bytes per pixel
/// count every frame. A video's row gets the photos' mean in both, so that it is judged by
/// what its poster shows and the other signals, not by being a video.
fn neutral_for_videos(x: &mut Array2<f32>, rows: &[Row], emb_dims: usize, hog_dims: usize) {
    let names = signal_names(hog_dims);
    let column = |name: &str| emb_dims + names.iter().position(|n| n == name).expect(name);
    let (camera, bytes_per_pixel) = (column("camera_exif"), column("bytes_per_pixel_log"));
    let photos: Vec<usize> = (0..rows.len())
        .filter(|&i| rows[i].duration_ms.is_none())
        .collect();
    for col in [camera, bytes_per_pixel] {
        let mean = photos.iter().map(|&i| x[[i, col]]).sum::<f32>() / photos.len().max(1) as f32;
        for (i, r) in rows.iter().enumerate() {
            if r.duration_ms.is_some() {
                x[[i, col]] = mean;
            }
        }
    }
}

/// The quality signals as the row holds them (sharpness on a log scale).
pub fn quality_columns(q: &[f32; 5]) -> [f32; 5] {
    let [sharp, bright, dark, blown, colour] = *q;
    [(1.0 + sharp.max(0.0)).ln(), bright, dark, blown, colour]
}

/// The row column of the first quality signal (after the embedding and HOG-PCA).
pub fn quality_column(data: &Dataset) -> usize {
    let names = signal_names(data.x.ncols() - data.embedding_dims - signal_names(0).len());
    data.embedding_dims
        + names
            .iter()
            .position(|n| n == "sharpness_log")
            .expect("a quality column")
}

/// Column means and spreads of the signal columns (embedding columns get mean 0, scale 1):
/// the signals as z-scores of the gallery, kept with the model so that it scores later rows
/// as it was trained.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct Standardizer {
    pub mean: Vec<f32>,
    pub scale: Vec<f32>,
}

impl Standardizer {
    pub fn fit(x: &Array2<f32>, embedding_dims: usize) -> Standardizer {
        let (n, d) = x.dim();
        let mut mean = vec![0.0; d];
        let mut scale = vec![1.0; d];
        for j in embedding_dims..d {
            let col = x.column(j);
            let m = col.sum() / n.max(1) as f32;
            let var = col.iter().map(|v| (v - m) * (v - m)).sum::<f32>() / n.max(1) as f32;
            mean[j] = m;
            scale[j] = if var > 1e-12 { var.sqrt() } else { 1.0 };
        }
        Standardizer { mean, scale }
    }

    pub fn apply(&self, x: &Array2<f32>) -> Array2<f32> {
        let mut out = x.clone();
        for mut row in out.rows_mut() {
            for (j, v) in row.iter_mut().enumerate() {
                *v = (*v - self.mean[j]) / self.scale[j];
            }
        }
        out
    }
}

/// A photo's near-duplicate count, exposed for reasons ("near-duplicate of a better shot").
pub fn is_near_duplicate(a: u64, b: u64) -> bool {
    phash::distance(a, b) <= phash::NEAR_DUPLICATE_BITS
}
