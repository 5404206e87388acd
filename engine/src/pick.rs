//! The first labeling queue: the photos that best represent the gallery, so that a few labels
//! cover what the gallery holds. Near-duplicates count once, labeled photos (and their
//! near-duplicates) never come back, and the same seed gives the same queue.

use ndarray::Array2;
use rusqlite::Connection;
use serde::Serialize;

use crate::cluster::{self, KScore};
use crate::features::phash;
use crate::store::{decode_f16, decode_f32};
use crate::Result;

/// Dimensions kept by PCA before K-means (embeddings) and stored for HOG.
pub const PCA_DIMS: usize = 64;
const MAX_K: usize = 30;

/// The feature space clustered to pick photos.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Space {
    /// Backbone embeddings (cosine geometry, PCA to 64-d): what the photo shows.
    #[default]
    Embedding,
    /// HOG projected by the gallery's PCA: layout and edges (the seed project's choice).
    HogPca,
}

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

#[derive(Clone, Debug, Serialize)]
pub struct PickedPhoto {
    pub id: i64,
    pub path: String,
    pub cluster: usize,
    pub cluster_size: usize,
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

struct Candidate {
    id: i64,
    path: String,
    phash: u64,
    sharpness: f64,
    labeled: bool,
    vector: Vec<f32>,
}

fn load(conn: &Connection, space: Space) -> Result<Vec<Candidate>> {
    let sql = match space {
        Space::Embedding => {
            "SELECT p.id, p.display_path, f.phash, f.sharpness, l.photo_id IS NOT NULL, f.embedding
             FROM photos p JOIN features f ON f.photo_id = p.id LEFT JOIN labels l ON l.photo_id = p.id
             WHERE p.state = 'indexed' ORDER BY p.id"
        }
        Space::HogPca => {
            "SELECT p.id, p.display_path, f.phash, f.sharpness, l.photo_id IS NOT NULL, h.vector
             FROM photos p JOIN features f ON f.photo_id = p.id JOIN hog_pca h ON h.photo_id = p.id
             LEFT JOIN labels l ON l.photo_id = p.id
             WHERE p.state = 'indexed' ORDER BY p.id"
        }
    };
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map([], |r| {
        let blob: Vec<u8> = r.get(5)?;
        Ok(Candidate {
            id: r.get(0)?,
            path: r.get(1)?,
            phash: r.get::<_, i64>(2)? as u64,
            sharpness: r.get(3)?,
            labeled: r.get(4)?,
            vector: match space {
                Space::Embedding => decode_f16(&blob),
                Space::HogPca => decode_f32(&blob),
            },
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Groups of near-duplicates (perceptual hashes within [`phash::NEAR_DUPLICATE_BITS`]),
/// as a representative index per item (union-find; O(n^2) on 64-bit words, ~50 ms at 10k).
pub fn near_duplicate_groups(hashes: &[u64]) -> Vec<usize> {
    let mut parent: Vec<usize> = (0..hashes.len()).collect();
    fn root(p: &mut [usize], mut i: usize) -> usize {
        while p[i] != i {
            p[i] = p[p[i]];
            i = p[i];
        }
        i
    }
    for i in 0..hashes.len() {
        for j in i + 1..hashes.len() {
            if phash::distance(hashes[i], hashes[j]) <= phash::NEAR_DUPLICATE_BITS {
                let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                if a != b {
                    parent[a.max(b)] = a.min(b);
                }
            }
        }
    }
    (0..hashes.len()).map(|i| root(&mut parent, i)).collect()
}

pub fn pick(conn: &Connection, opts: &PickOptions) -> Result<Pick> {
    let all = load(conn, opts.space)?;
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
    let reps: Vec<&Candidate> = best
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
    let mut x = Array2::from_shape_fn((reps.len(), dim), |(i, j)| reps[i].vector[j] as f64);
    if opts.space == Space::Embedding {
        cluster::normalize_rows(&mut x);
        x = cluster::pca_project(&x, PCA_DIMS, opts.seed)?;
    }
    let photo = |i: usize, cluster: usize, cluster_size: usize| PickedPhoto {
        id: reps[i].id,
        path: reps[i].path.clone(),
        cluster,
        cluster_size,
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
    let tx = store.transaction()?;
    tx.execute("DELETE FROM hog_pca", [])?;
    if rows.len() >= 3 {
        let dim = rows[0].1.len();
        let x = Array2::from_shape_fn((rows.len(), dim), |(i, j)| rows[i].1[j] as f64 / 255.0);
        let proj = cluster::pca_project(&x, PCA_DIMS, seed)?;
        let mut ins = tx.prepare("INSERT INTO hog_pca (photo_id, vector) VALUES (?1, ?2)")?;
        for (i, (id, _)) in rows.iter().enumerate() {
            let v: Vec<f32> = proj.row(i).iter().map(|v| *v as f32).collect();
            ins.execute(rusqlite::params![id, crate::store::encode_f32(&v)])?;
        }
    }
    tx.commit()?;
    Ok(rows.len())
}
