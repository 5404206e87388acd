//! The first labeling queue: the photos that best represent the gallery, so that a few labels
//! cover what the gallery holds. Near-duplicates count once, labeled photos (and their
//! near-duplicates) never come back, and the same seed gives the same queue.

use rusqlite::Connection;
use serde::Serialize;

use crate::cluster::{self, KScore};
use crate::features::phash;
pub use crate::features::Space;
use crate::store::{photo_vectors, PhotoVector};
use crate::Result;

/// Dimensions kept by PCA before K-means (embeddings) and stored for HOG.
pub const PCA_DIMS: usize = 64;
const MAX_K: usize = 30;

#[derive(Clone, Debug)]
pub struct PickOptions {
    pub n: usize,
    pub seed: u64,
    pub space: Space,
}

impl Default for PickOptions {
    fn default() -> Self {
        PickOptions {
            n: 45,
            seed: 0,
            space: Space::Embedding,
        }
    }
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct PickedPhoto {
    pub id: i64,
    pub path: String,
    pub cluster: usize,
    pub cluster_size: usize,
    /// Why it is asked: `representative` (K-means), `uncertain` (active labeling, see
    /// [`crate::learn::active`]) or `random` (test labels).
    pub asked_because: &'static str,
    /// What the card says besides the picture, set by [`crate::Engine::label_queue`]: a
    /// video's duration, and the kinds of the asset's other files (`raw`, `live_video`,
    /// `edited`) that a delete label would take along.
    pub duration_ms: Option<u64>,
    pub companions: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Pick {
    pub space: Space,
    /// Unlabeled indexed photos after folding near-duplicates.
    pub candidates: usize,
    pub near_duplicates_folded: usize,
    /// Chosen number of clusters, with its scores; `k_scores` has every k tried, best first.
    pub k: usize,
    pub silhouette: Option<f64>,
    pub davies_bouldin: Option<f64>,
    pub k_scores: Vec<KScore>,
    /// In asking order: one per cluster (largest first) before any cluster gets a second.
    pub photos: Vec<PickedPhoto>,
}

/// Groups of near-duplicates (perceptual hashes within [`phash::NEAR_DUPLICATE_BITS`]),
/// as a representative index per item.
pub fn near_duplicate_groups(hashes: &[u64]) -> Vec<usize> {
    let pairs = crate::duplicates::index::close_pairs(hashes, phash::NEAR_DUPLICATE_BITS);
    crate::duplicates::index::components(hashes.len(), pairs)
}

pub fn pick(conn: &Connection, opts: &PickOptions) -> Result<Pick> {
    let all = photo_vectors(conn, opts.space)?;
    // Fold near-duplicates: a group is skipped if any member is labeled, else represented by
    // its sharpest member.
    let group = near_duplicate_groups(&all.iter().map(|c| c.phash).collect::<Vec<_>>());
    let mut best: std::collections::BTreeMap<usize, usize> = Default::default();
    let mut labeled_groups = std::collections::HashSet::new();
    for (i, c) in all.iter().enumerate() {
        if c.labeled {
            labeled_groups.insert(group[i]);
        }
        let e = best.entry(group[i]).or_insert(i);
        if c.sharpness > all[*e].sharpness {
            *e = i;
        }
    }
    let reps: Vec<&PhotoVector> = best
        .iter()
        .filter(|(g, _)| !labeled_groups.contains(g))
        .map(|(_, &i)| &all[i])
        .collect();
    let unlabeled = all.iter().filter(|c| !c.labeled).count();
    let mut out = Pick {
        space: opts.space,
        candidates: reps.len(),
        near_duplicates_folded: unlabeled.saturating_sub(reps.len()),
        k: 0,
        silhouette: None,
        davies_bouldin: None,
        k_scores: vec![],
        photos: vec![],
    };
    if reps.is_empty() || opts.n == 0 {
        return Ok(out);
    }
    let dim = reps[0].vector.len();
    let normalize = opts.space == Space::Embedding;
    let x = cluster::pca_reduce(reps.len(), dim, PCA_DIMS, opts.seed, |i, out| {
        let v = &reps[i].vector;
        // Unit length first, so Euclidean K-means follows cosine similarity.
        let norm = if normalize {
            v.iter().map(|a| a * a).sum::<f32>().sqrt().max(1e-12)
        } else {
            1.0
        };
        for (o, a) in out.iter_mut().zip(v) {
            *o = (*a / norm) as f64;
        }
    })?;
    let photo = |i: usize, cluster: usize, cluster_size: usize| PickedPhoto {
        id: reps[i].id,
        path: reps[i].path.clone(),
        cluster,
        cluster_size,
        asked_because: "representative",
        ..PickedPhoto::default()
    };
    if reps.len() <= opts.n || reps.len() < 4 {
        out.k = reps.len();
        out.photos = (0..reps.len())
            .take(opts.n)
            .map(|i| photo(i, i, 1))
            .collect();
        return Ok(out);
    }

    out.k_scores = cluster::score_ks(&x, 2..=MAX_K.min(reps.len() / 2), opts.seed)?;
    let k = out.k_scores.first().map_or(1, |s| s.k);
    let clustering = cluster::kmeans(&x, k, opts.seed)?;
    out.k = clustering.centroids.nrows();
    out.silhouette = out.k_scores.first().map(|s| s.silhouette);
    out.davies_bouldin = Some(cluster::davies_bouldin(&x, &clustering));

    let members: Vec<Vec<usize>> = (0..out.k)
        .map(|c| {
            (0..reps.len())
                .filter(|&i| clustering.labels[i] == c)
                .collect()
        })
        .collect();
    let quota = cluster::allocate(&members.iter().map(Vec::len).collect::<Vec<_>>(), opts.n);
    // Within a cluster given m picks, split it in m by K-means and take the member nearest each
    // sub-centre: spread over the cluster, not m near-identical photos around its centre.
    let mut per_cluster: Vec<Vec<usize>> = Vec::new();
    for (c, m) in members.iter().enumerate() {
        let mut chosen: Vec<usize> = Vec::new();
        if quota[c] == 1 {
            chosen.push(m[cluster::nearest(&x, m, clustering.centroids.row(c))]);
        } else if quota[c] > 1 {
            let sub_x = x.select(ndarray::Axis(0), m);
            let sub = cluster::kmeans(&sub_x, quota[c], opts.seed)?;
            for s in 0..sub.centroids.nrows() {
                let inner: Vec<usize> = (0..m.len())
                    .filter(|&i| sub.labels[i] == s)
                    .map(|i| m[i])
                    .collect();
                if !inner.is_empty() {
                    chosen.push(inner[cluster::nearest(&x, &inner, sub.centroids.row(s))]);
                }
            }
        }
        per_cluster.push(chosen);
    }
    // Ask in rounds, largest clusters first, so stopping early still covers the gallery.
    let mut order: Vec<usize> = (0..out.k).collect();
    order.sort_by(|&a, &b| members[b].len().cmp(&members[a].len()).then(a.cmp(&b)));
    for round in 0.. {
        let before = out.photos.len();
        for &c in &order {
            if let Some(&i) = per_cluster[c].get(round) {
                out.photos.push(photo(i, c, members[c].len()));
            }
        }
        if out.photos.len() == before {
            break;
        }
    }
    out.photos.truncate(opts.n);
    Ok(out)
}

/// A seeded random sample of unlabeled indexed photos (for held-out test labels).
pub fn random_unlabeled(conn: &Connection, n: usize, seed: u64) -> Result<Vec<PickedPhoto>> {
    let mut stmt = conn.prepare(
        "SELECT p.id, p.display_path FROM photos p LEFT JOIN labels l ON l.photo_id = p.id
         WHERE p.state = 'indexed' AND l.photo_id IS NULL ORDER BY p.content_hash, p.id",
    )?;
    let all: Vec<(i64, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut picked: Vec<PickedPhoto> = cluster::sample_indices(all.len(), n, seed)
        .into_iter()
        .map(|i| PickedPhoto {
            id: all[i].0,
            path: all[i].1.clone(),
            cluster: 0,
            cluster_size: all.len(),
            asked_because: "random",
            ..PickedPhoto::default()
        })
        .collect();
    // Content order, not id order (ids follow the order a parallel scan finished files), so
    // the same gallery gives the same sample in any database; sample_indices returns sorted
    // indices, so the asking order is shuffled deterministically too.
    let mut rng = crate::learn::head::Rng::new(seed);
    rng.shuffle(&mut picked);
    Ok(picked)
}

/// Recomputes the gallery's HOG-PCA projection (derived state) after the index changed.
pub fn refresh_hog_pca(store: &mut crate::store::Store, seed: u64) -> Result<usize> {
    let rows: Vec<(i64, Vec<u8>)> = {
        let mut stmt = store.conn().prepare(
            "SELECT p.id, f.hog FROM photos p JOIN features f ON f.photo_id = p.id
             WHERE p.state = 'indexed' ORDER BY p.id",
        )?;
        let r = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        r.collect::<rusqlite::Result<_>>()?
    };
    // The projection is computed before the write transaction opens: the write lock is held
    // only for the rows' replacement, never for the maths (seconds on a large gallery, while
    // the app labels and the CLI scans the same database).
    let proj = if rows.len() >= 3 {
        Some(cluster::pca_reduce(
            rows.len(),
            rows[0].1.len(),
            PCA_DIMS,
            seed,
            |i, out| {
                for (o, v) in out.iter_mut().zip(&rows[i].1) {
                    *o = *v as f64 / 255.0;
                }
            },
        )?)
    } else {
        None
    };
    let tx = store.transaction()?;
    tx.execute("DELETE FROM hog_pca", [])?;
    if let Some(proj) = proj {
        let mut ins = tx.prepare("INSERT INTO hog_pca (photo_id, vector) VALUES (?1, ?2)")?;
        for (i, (id, _)) in rows.iter().enumerate() {
            let v: Vec<f32> = proj.row(i).iter().map(|v| *v as f32).collect();
            ins.execute(rusqlite::params![id, crate::store::encode_f32(&v)])?;
        }
    }
    tx.commit()?;
    Ok(rows.len())
}
