//! FixMatch's augmented views: for every train-labeled photo and a bounded sample of the
//! unlabeled rest, the backbone embeddings and quality signals of a few weak and strong
//! augmentations of the working image (see [`crate::features::augment`]). Several of each are
//! cached per photo so that training draws a different one from step to step, and each view
//! carries its own quality (a strong view may be blurred or darkened: its row must say so).
//!
//! This is the one stage besides the scan that touches pixels, so it lives beside it: it
//! reads each photo again, checks its bytes are the ones indexed, decodes, augments and
//! embeds, and stores vectors. The learner then only ever sees vectors. Views are computed
//! once and cached by content hash; the sample is bounded (default 1,000 photos) so the cost
//! stays bounded on a phone (6 backbone runs per photo).

use rayon::prelude::*;
use rusqlite::{params, Connection};
use serde::Serialize;

use crate::decode::{self, Strategy};
use crate::features::{augment, quality, Backbone};
use crate::format::Sniffed;
use crate::source::{GallerySource, Locator};
use crate::store::{decode_f16, decode_f32, encode_f16, encode_f32, Store};
use crate::Result;

pub const WEAK_VIEWS: usize = 2;
pub const STRONG_VIEWS: usize = 4;
/// Default number of unlabeled photos that get views (train-labeled ones always do).
pub const DEFAULT_SAMPLE: usize = 1000;

/// What a views refresh did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ViewsReport {
    /// Photos in the sample.
    pub sample: usize,
    /// Photos whose views were computed now (the rest were cached).
    pub computed: usize,
    /// Photos skipped because they could not be read or changed since indexing.
    pub skipped: usize,
    pub seconds: f64,
}

/// The cached views of one photo, as embeddings.
#[derive(Clone, Debug, Default)]
pub struct PhotoViews {
    pub weak: Vec<Vec<f32>>,
    pub strong: Vec<Vec<f32>>,
    /// Each view's quality signals (sharpness, brightness, dark share, bright share,
    /// colorfulness), in the same order.
    pub weak_quality: Vec<[f32; 5]>,
    pub strong_quality: Vec<[f32; 5]>,
}

struct Job {
    id: i64,
    locator: Locator,
    hash: [u8; 32],
}

/// A stable pseudo-random rank of a photo by content and seed: the sample is the `n` photos of
/// lowest rank, so it changes little as the gallery grows and is the same in any database.
fn rank(hash: &[u8], seed: u64) -> [u8; 32] {
    let mut h = blake3::Hasher::new();
    h.update(&seed.to_le_bytes());
    h.update(hash);
    *h.finalize().as_bytes()
}

/// The photos that should have views: every train-labeled photo, plus a seeded sample of `n`
/// of the rest (labels never take the unlabeled photos' places).
fn sample(conn: &Connection, n: usize, seed: u64) -> Result<Vec<Job>> {
    let mut stmt = conn.prepare(
        "SELECT p.id, p.locator, p.content_hash, l.split = 'train'
         FROM photos p JOIN features f ON f.photo_id = p.id LEFT JOIN labels l ON l.photo_id = p.id
         WHERE p.state = 'indexed' AND p.content_hash IS NOT NULL
           AND (l.split IS NULL OR l.split = 'train')",
    )?;
    let mut all: Vec<(bool, [u8; 32], Job)> = stmt
        .query_map([], |r| {
            let hash: Vec<u8> = r.get(2)?;
            Ok((r.get(0)?, r.get(1)?, hash, r.get::<_, Option<bool>>(3)?))
        })?
        .filter_map(|r| r.ok())
        .filter_map(|(id, loc, hash, train)| {
            let hash: [u8; 32] = hash.try_into().ok()?;
            Some((
                !train.unwrap_or(false),
                rank(&hash, seed),
                Job {
                    id,
                    locator: Locator(loc),
                    hash,
                },
            ))
        })
        .collect();
    all.sort_by_key(|a| (a.0, a.1));
    let labeled = all.iter().take_while(|a| !a.0).count();
    Ok(all
        .into_iter()
        .take(labeled + n)
        .map(|(_, _, j)| j)
        .collect())
}

const CHANGED: &str = "changed since it was indexed";

/// Embeds the views of one photo (of a video: of its poster frame), or says why not.
fn compute(
    source: &dyn GallerySource,
    job: &Job,
    backbone: &Backbone,
) -> Result<PhotoViews, String> {
    let head = source
        .read_head(&job.locator, 64)
        .map_err(|e| e.to_string())?;
    let img = if let Sniffed::Video(container) = crate::format::sniff(&head, None) {
        crate::video::poster_of(source, &job.locator, container, &job.hash)
            .map_err(|e| e.to_string())?
    } else {
        let bytes = source.read(&job.locator).map_err(|e| e.to_string())?;
        if crate::source::content_hash(&bytes) != job.hash {
            return Err(CHANGED.into());
        }
        decode::load_from(source, &job.locator, &bytes, Strategy::Fastest)
            .map_err(|e| e.to_string())?
            .decoded
            .image
        // The file's bytes are freed here, before the backbone runs, as the scan does: holding
        // megabytes across three embeddings fragmented glibc's heap (peak RSS 3.5 GB after 500
        // phone photos).
    };
    let img = &img;
    // Seeds derive from the content so a photo's views are the same in any database.
    let base = u64::from_le_bytes(job.hash[..8].try_into().expect("8 bytes"));
    let embed = |v: image::RgbImage| {
        let gray = image::DynamicImage::ImageRgb8(v.clone()).into_luma8();
        let q = quality::measure(&v, &gray);
        let e = backbone.embed(&v).map_err(|e| e.to_string())?;
        let q = [
            q.sharpness,
            q.brightness,
            q.dark_share,
            q.bright_share,
            q.colorfulness,
        ];
        Ok::<_, String>((e, q))
    };
    let weak: Vec<(Vec<f32>, [f32; 5])> = (0..WEAK_VIEWS)
        .map(|i| embed(augment::weak(img, base ^ i as u64)))
        .collect::<Result<_, _>>()?;
    let strong: Vec<(Vec<f32>, [f32; 5])> = (0..STRONG_VIEWS)
        .map(|i| embed(augment::strong(img, base.rotate_left(17) ^ i as u64)))
        .collect::<Result<_, _>>()?;
    Ok(PhotoViews {
        weak_quality: weak.iter().map(|w| w.1).collect(),
        strong_quality: strong.iter().map(|s| s.1).collect(),
        weak: weak.into_iter().map(|w| w.0).collect(),
        strong: strong.into_iter().map(|s| s.0).collect(),
    })
}

/// Makes sure the sample of `n` photos has current views, computing the missing ones on all
/// cores, and drops views of photos that left the sample or changed.
pub fn refresh(
    store: &mut Store,
    source: &dyn GallerySource,
    n: usize,
    seed: u64,
) -> Result<ViewsReport> {
    let start = std::time::Instant::now();
    let jobs = sample(store.conn(), n, seed)?;
    let have: std::collections::HashSet<(i64, Vec<u8>)> = {
        let mut stmt = store.conn().prepare(&format!(
            "SELECT photo_id, content_hash FROM views WHERE quality IS NOT NULL
                 GROUP BY photo_id, content_hash HAVING COUNT(*) = {}",
            WEAK_VIEWS + STRONG_VIEWS
        ))?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let todo: Vec<&Job> = jobs
        .iter()
        .filter(|j| !have.contains(&(j.id, j.hash.to_vec())))
        .collect();
    let backbone = if todo.is_empty() {
        None
    } else {
        Some(Backbone::shared()?)
    };
    let results: Vec<(&Job, Result<PhotoViews, String>)> = todo
        .par_iter()
        .map(|j| {
            (
                *j,
                compute(source, j, backbone.expect("loaded when there is work")),
            )
        })
        .collect();
    let tx = store.transaction()?;
    // Keep only views of the current sample at its current content.
    tx.execute(
        "CREATE TEMP TABLE IF NOT EXISTS keep_views (photo_id INTEGER, content_hash BLOB)",
        [],
    )?;
    tx.execute("DELETE FROM keep_views", [])?;
    for j in &jobs {
        tx.execute(
            "INSERT INTO keep_views VALUES (?1, ?2)",
            params![j.id, &j.hash[..]],
        )?;
    }
    tx.execute(
        "DELETE FROM views WHERE NOT EXISTS (SELECT 1 FROM keep_views k
           WHERE k.photo_id = views.photo_id AND k.content_hash = views.content_hash)",
        [],
    )?;
    let mut skipped = 0;
    for (j, r) in &results {
        let Ok(v) = r else {
            skipped += 1;
            continue;
        };
        let kinds = [
            ("weak", &v.weak, &v.weak_quality),
            ("strong", &v.strong, &v.strong_quality),
        ];
        for (kind, list, quality) in kinds {
            for (i, (e, q)) in list.iter().zip(quality).enumerate() {
                tx.execute(
                    "INSERT OR REPLACE INTO views
                       (photo_id, content_hash, kind, idx, embedding, quality)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![
                        j.id,
                        &j.hash[..],
                        kind,
                        i as i64,
                        encode_f16(e),
                        encode_f32(q)
                    ],
                )?;
            }
        }
    }
    tx.commit()?;
    Ok(ViewsReport {
        sample: jobs.len(),
        computed: results.len() - skipped,
        skipped,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// Every cached view whose photo is still indexed with the same content, by photo id.
pub fn load(conn: &Connection) -> Result<std::collections::HashMap<i64, PhotoViews>> {
    let mut stmt = conn.prepare(
        "SELECT v.photo_id, v.kind, v.embedding, v.quality FROM views v
         JOIN photos p ON p.id = v.photo_id AND p.content_hash = v.content_hash
         WHERE p.state = 'indexed' AND v.quality IS NOT NULL ORDER BY v.photo_id, v.kind, v.idx",
    )?;
    let mut out: std::collections::HashMap<i64, PhotoViews> = Default::default();
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Vec<u8>>(2)?,
            r.get::<_, Vec<u8>>(3)?,
        ))
    })?;
    for row in rows {
        let (id, kind, blob, q) = row?;
        let v = out.entry(id).or_default();
        let q = decode_f32(&q);
        let q: [f32; 5] = q.try_into().unwrap_or_default();
        match kind.as_str() {
            "weak" => {
                v.weak.push(decode_f16(&blob));
                v.weak_quality.push(q);
            }
            _ => {
                v.strong.push(decode_f16(&blob));
                v.strong_quality.push(q);
            }
        }
    }
    Ok(out)
}
