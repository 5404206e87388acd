//! The gallery as a graph of look-alike photos, and the two ways the learner uses it.
//!
//! A user labels tens of photos in a gallery of thousands; the unlabeled rest says where the
//! classes lie. Each photo's nearest neighbours (cosine of its centred embedding reduced to
//! [`GRAPH_DIMS`] by PCA) are derived state, computed after a scan ([`neighbour_lists`]) and
//! stored. From them:
//!
//! - **smoothed features** ([`Gallery::smoothed`]): each embedding averaged with its
//!   [`SMOOTH_NEIGHBOURS`] nearest neighbours' over [`SMOOTH_HOPS`] hops (as in simplified graph
//!   convolution), so a linear head sees where a photo's neighbourhood lies, not only the photo;
//! - **label spreading** ([`Gallery::spread`], Zhou et al. 2004) over the symmetric
//!   [`NEIGHBOURS`]-nearest-neighbour graph: the labels flow along the graph to the photos
//!   around them.
//!
//! Photos whose labels are held out for testing are never nodes: they take no part in the
//! spreading and smooth only over nodes, so nothing about them reaches training; they are
//! scored from their neighbours like a photo added after training. Constants were fixed once
//! on the dev splits of design seeds (BENCHMARKS.md, "Learning"), never per user.

use ndarray::{s, Array2, ArrayView2, Axis};
use rayon::prelude::*;

use crate::cluster;
use crate::Result;

/// Dimensions of the space the neighbours are found in.
pub const GRAPH_DIMS: usize = 128;
/// Neighbours stored per photo: more than any use needs, so that leaving out held-out photos
/// still leaves enough.
pub const STORED: usize = 64;
/// Neighbours of the label-spreading graph.
pub const NEIGHBOURS: usize = 20;
/// Neighbours averaged per hop, and hops, of the smoothed features.
pub const SMOOTH_NEIGHBOURS: usize = 10;
pub const SMOOTH_HOPS: usize = 2;
/// How much a photo's spread score comes from its neighbours (vs its own label).
pub const SPREAD_ALPHA: f32 = 0.5;
const SPREAD_ITERATIONS: usize = 40;

fn unit(mut row: ndarray::ArrayViewMut1<f32>) {
    let n = row.dot(&row).sqrt().max(1e-12);
    row /= n;
}

/// Rows minus their mean, each scaled to unit length.
pub fn centred_unit(x: ArrayView2<f32>) -> Array2<f32> {
    let mean = x
        .mean_axis(Axis(0))
        .unwrap_or_else(|| ndarray::Array1::zeros(x.ncols()));
    let mut out = &x - &mean;
    out.axis_iter_mut(Axis(0)).for_each(unit);
    out
}

/// Each row's [`STORED`] nearest other rows (index, cosine), most similar first, in the space
/// of [`GRAPH_DIMS`] principal components of the centred unit rows. Brute force in blocks
/// over all cores: O(n²) (about a second at 10,000 photos).
pub fn neighbour_lists(u: ArrayView2<f32>, seed: u64) -> Result<Vec<Vec<(u32, f32)>>> {
    let n = u.nrows();
    if n < 2 {
        return Ok(vec![vec![]; n]);
    }
    let x = centred_unit(u);
    let z64 = cluster::pca_reduce(n, x.ncols(), GRAPH_DIMS, seed, |i, out| {
        for (o, v) in out.iter_mut().zip(x.row(i)) {
            *o = f64::from(*v);
        }
    })?;
    let mut z = z64.mapv(|v| v as f32);
    z.axis_iter_mut(Axis(0)).for_each(unit);
    let k = STORED.min(n - 1);
    const BLOCK: usize = 256;
    let lists: Vec<Vec<(u32, f32)>> = (0..n.div_ceil(BLOCK))
        .into_par_iter()
        .flat_map_iter(|b| {
            let (lo, hi) = (b * BLOCK, ((b + 1) * BLOCK).min(n));
            let sims = z.slice(s![lo..hi, ..]).dot(&z.t());
            (lo..hi)
                .map(|i| {
                    let row = sims.row(i - lo);
                    let mut c: Vec<(u32, f32)> = row
                        .iter()
                        .enumerate()
                        .filter(|&(j, _)| j != i)
                        .map(|(j, &s)| (j as u32, s))
                        .collect();
                    let by_sim =
                        |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
                    if c.len() > k {
                        c.select_nth_unstable_by(k - 1, by_sim);
                        c.truncate(k);
                    }
                    c.sort_by(by_sim);
                    // Hand back k entries, not the n-long allocation (10k rows x n floats
                    // held 0.8 GB at 10,000 photos).
                    c.shrink_to_fit();
                    c
                })
                .collect::<Vec<_>>()
        })
        .collect();
    Ok(lists)
}

/// The gallery as the learner sees it for one training: which rows are nodes, each row's
/// neighbours among the nodes, and the smoothed features.
pub struct Gallery {
    pub nodes: Vec<bool>,
    /// Per row, its nearest nodes (row index, cosine), most similar first.
    pub neighbours: Vec<Vec<(u32, f32)>>,
    /// Centred, unit-length, graph-smoothed embeddings (one row per dataset row).
    pub smoothed: Array2<f32>,
    /// The gallery's mean unit embedding, and the features before each hop (for smoothing a
    /// vector that is not a row: an augmented view).
    mean: ndarray::Array1<f32>,
    levels: Vec<Array2<f32>>,
    adjacency: Vec<Vec<u32>>,
    inv_sqrt_degree: Vec<f32>,
}

impl Gallery {
    /// `u`: the rows' unit embeddings; `lists`: their stored neighbour lists (row indices);
    /// `nodes`: which rows may take part (not held out).
    pub fn new(u: ArrayView2<f32>, lists: &[Vec<(u32, f32)>], nodes: Vec<bool>) -> Gallery {
        let neighbours: Vec<Vec<(u32, f32)>> = lists
            .iter()
            .map(|l| {
                l.iter()
                    .filter(|(j, _)| nodes[*j as usize])
                    .take(NEIGHBOURS)
                    .copied()
                    .collect()
            })
            .collect();
        let mean = u
            .mean_axis(Axis(0))
            .unwrap_or_else(|| ndarray::Array1::zeros(u.ncols()));
        let mut x = centred_unit(u);
        let mut levels = Vec::with_capacity(SMOOTH_HOPS);
        for _ in 0..SMOOTH_HOPS {
            let mut next = x.clone();
            next.axis_iter_mut(Axis(0))
                .into_par_iter()
                .enumerate()
                .for_each(|(i, mut row)| {
                    for &(j, _) in neighbours[i].iter().take(SMOOTH_NEIGHBOURS) {
                        row += &x.row(j as usize);
                    }
                    unit(row);
                });
            levels.push(std::mem::replace(&mut x, next));
        }
        // Symmetric adjacency of the nodes for label spreading: i ~ j if either is among the
        // other's neighbours. Built once: cross-validation spreads tens of times per training.
        let n = nodes.len();
        let mut adjacency: Vec<Vec<u32>> = vec![Vec::new(); n];
        for i in (0..n).filter(|&i| nodes[i]) {
            for &(j, _) in &neighbours[i] {
                adjacency[i].push(j);
                adjacency[j as usize].push(i as u32);
            }
        }
        for a in adjacency.iter_mut() {
            a.sort_unstable();
            a.dedup();
        }
        let inv_sqrt_degree = adjacency
            .iter()
            .map(|a| {
                if a.is_empty() {
                    0.0
                } else {
                    1.0 / (a.len() as f32).sqrt()
                }
            })
            .collect();
        Gallery {
            nodes,
            neighbours,
            smoothed: x,
            mean,
            levels,
            adjacency,
            inv_sqrt_degree,
        }
    }

    /// `v` (another embedding of row `i`'s photo, e.g. an augmented view) smoothed as row `i`
    /// is: centred, unit length, then averaged over row `i`'s neighbours hop by hop.
    pub fn smooth_view(&self, i: usize, v: &[f32]) -> Vec<f32> {
        let mut x = ndarray::Array1::from(v.to_vec());
        let n = x.dot(&x).sqrt().max(1e-12);
        x /= n;
        x -= &self.mean;
        unit(x.view_mut());
        for level in &self.levels {
            for &(j, _) in self.neighbours[i].iter().take(SMOOTH_NEIGHBOURS) {
                x += &level.row(j as usize);
            }
            unit(x.view_mut());
        }
        x.to_vec()
    }

    /// Label spreading: each row's share of "delete" after the labels `(row, delete)` spread
    /// over the symmetric neighbour graph of the nodes (`F = (1 − α)(I − αS)⁻¹Y`, each class's
    /// labels weighing 1 in total). Rows that are not nodes take their neighbours' mean,
    /// weighted by similarity. 0.5 where no label reaches.
    pub fn spread(&self, labels: &[(usize, bool)]) -> Vec<f32> {
        let n = self.nodes.len();
        let (adj, inv_sqrt_deg) = (&self.adjacency, &self.inv_sqrt_degree);
        let counts = [false, true].map(|d| labels.iter().filter(|l| l.1 == d).count());
        let mut y = vec![[0.0f32; 2]; n];
        for &(i, d) in labels {
            if self.nodes[i] {
                y[i][d as usize] += 1.0 / counts[d as usize].max(1) as f32;
            }
        }
        let mut f = y.clone();
        for _ in 0..SPREAD_ITERATIONS {
            f = (0..n)
                .into_par_iter()
                .map(|i| {
                    let mut acc = [0.0f32; 2];
                    for &j in &adj[i] {
                        let w = inv_sqrt_deg[i] * inv_sqrt_deg[j as usize];
                        acc[0] += w * f[j as usize][0];
                        acc[1] += w * f[j as usize][1];
                    }
                    [0, 1].map(|c| SPREAD_ALPHA * acc[c] + (1.0 - SPREAD_ALPHA) * y[i][c])
                })
                .collect();
        }
        let share = |v: [f32; 2]| {
            let t = v[0] + v[1];
            if t > 0.0 {
                v[1] / t
            } else {
                0.5
            }
        };
        (0..n)
            .map(|i| {
                if self.nodes[i] {
                    return share(f[i]);
                }
                let (mut num, mut den) = (0.0f32, 0.0f32);
                for &(j, s) in &self.neighbours[i] {
                    let w = s.max(1e-6);
                    num += w * share(f[j as usize]);
                    den += w;
                }
                if den > 0.0 {
                    num / den
                } else {
                    0.5
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learn::head::Rng;

    /// Two tight clusters of unit vectors in 16-D.
    fn clusters(n: usize, seed: u64) -> (Array2<f32>, Vec<bool>) {
        let mut rng = Rng::new(seed);
        let truth: Vec<bool> = (0..n).map(|i| i % 2 == 0).collect();
        let mut u = Array2::from_shape_fn((n, 16), |(i, j)| {
            let centre = if truth[i] { j == 0 } else { j == 1 } as u8 as f32;
            centre * 3.0 + rng.normal() * 0.3
        });
        u.axis_iter_mut(Axis(0)).for_each(unit);
        (u, truth)
    }

    #[test]
    fn neighbours_are_the_most_similar_rows() {
        let (u, truth) = clusters(80, 1);
        let lists = neighbour_lists(u.view(), 0).unwrap();
        assert_eq!(lists.len(), 80);
        for (i, l) in lists.iter().enumerate() {
            assert_eq!(l.len(), STORED.min(79));
            assert!(l.iter().all(|&(j, _)| j as usize != i));
            assert!(l.windows(2).all(|w| w[0].1 >= w[1].1), "sorted");
            // The nearest 20 are all from the row's own cluster.
            assert!(l[..20].iter().all(|&(j, _)| truth[j as usize] == truth[i]));
        }
    }

    #[test]
    fn labels_spread_to_their_cluster_and_held_out_rows_are_scored_from_nodes() {
        let (u, truth) = clusters(120, 2);
        let lists = neighbour_lists(u.view(), 0).unwrap();
        // The last 20 rows are held out.
        let nodes: Vec<bool> = (0..120).map(|i| i < 100).collect();
        let g = Gallery::new(u.view(), &lists, nodes);
        for i in 0..120 {
            assert!(g.neighbours[i].iter().all(|&(j, _)| j < 100));
        }
        let labels = [(0, truth[0]), (1, truth[1]), (2, truth[2])];
        let q = g.spread(&labels);
        let right = (0..120).filter(|&i| (q[i] > 0.5) == truth[i]).count();
        assert_eq!(right, 120, "{q:?}");
        // No labels: nothing is known.
        assert!(g.spread(&[]).iter().all(|&v| v == 0.5));
        assert_eq!(g.smoothed.nrows(), 120);
    }
}
