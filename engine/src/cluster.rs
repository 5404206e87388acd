//! Clustering maths on plain matrices (rows = photos): PCA, K-means with k chosen by
//! silhouette, Davies-Bouldin, and representative selection. Knows nothing about photos,
//! paths or the store.

use linfa::prelude::*;
use linfa_clustering::KMeans;
use linfa_linalg::eigh::Eigh;
use linfa_linalg::qr::QRInto;
use ndarray::{Array1, Array2, ArrayView1, Axis};
use rand_xoshiro::rand_core::SeedableRng;
use rand_xoshiro::Xoshiro256Plus;
use serde::Serialize;

use crate::{Error, Result};

/// Rows used to fit PCA and to choose k: bounds the cost on large galleries.
const FIT_SAMPLE: usize = 2000;
const SILHOUETTE_SAMPLE: usize = 1000;

/// Deterministic sample of `n` row indices out of `total` (all of them when `total <= n`).
pub fn sample_indices(total: usize, n: usize, seed: u64) -> Vec<usize> {
    if total <= n {
        return (0..total).collect();
    }
    // Partial Fisher-Yates with a splitmix64 stream: stable across platforms and versions.
    let mut idx: Vec<usize> = (0..total).collect();
    let mut state = seed ^ 0x9E37_79B9_7F4A_7C15;
    for i in 0..n {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        let j = i + (z % (total - i) as u64) as usize;
        idx.swap(i, j);
    }
    idx.truncate(n);
    idx.sort_unstable();
    idx
}

/// Projects `n` rows of width `d` onto their first `dims` principal components, fitted on a
/// sample. Rows are produced on demand by `fill(i, out)`, so memory stays O(sample * d +
/// n * dims) rather than O(n * d) (10,000 embeddings as f64 would be 100 MB).
pub fn pca_reduce(
    n: usize,
    d: usize,
    dims: usize,
    seed: u64,
    fill: impl Fn(usize, &mut [f64]),
) -> Result<Array2<f64>> {
    let rows = |idx: &[usize]| {
        let mut m = Array2::zeros((idx.len(), d));
        for (r, &i) in idx.iter().enumerate() {
            fill(
                i,
                m.row_mut(r)
                    .as_slice_mut()
                    .expect("rows of a new array are contiguous"),
            );
        }
        m
    };
    if n < 3 {
        return Ok(rows(&(0..n).collect::<Vec<_>>()));
    }
    let dims = dims.min(d).min(n - 1).max(1);
    let mut sample = rows(&sample_indices(n, FIT_SAMPLE, seed));
    let mean = sample.mean_axis(Axis(0)).expect("the sample has rows");
    sample -= &mean;
    let axes = principal_axes(&sample, dims, seed)?;
    let mut out = Array2::zeros((n, axes.nrows()));
    for start in (0..n).step_by(1024) {
        let idx: Vec<usize> = (start..(start + 1024).min(n)).collect();
        let chunk = rows(&idx) - &mean;
        out.slice_mut(ndarray::s![start..start + idx.len(), ..])
            .assign(&chunk.dot(&axes.t()));
    }
    Ok(out)
}

/// The first `k` principal axes (rows, unit length, largest variance first) of centred data,
/// by randomized SVD with subspace iteration (Halko et al. 2011): a few matrix products with
/// the data, one thin QR per step and an eigendecomposition of a small (k+10)^2 matrix. Unlike
/// LOBPCG it does not break down on rank-deficient data; axes with no variance are dropped.
fn principal_axes(x: &Array2<f64>, k: usize, seed: u64) -> Result<Array2<f64>> {
    let (m, d) = x.dim();
    let l = (k + 10).min(m).min(d);
    let mut state = seed ^ 0xD1B5_4A32_D192_ED03;
    let omega = Array2::from_shape_fn((d, l), |_| {
        // xorshift64*: uniform in [-1, 1); any full-rank random test matrix works.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    });
    let orthonormal = |y: Array2<f64>| -> Result<Array2<f64>> {
        Ok(y.qr_into()
            .map_err(|e| Error::Invalid(format!("PCA: {e}")))?
            .generate_q())
    };
    let mut q = orthonormal(x.dot(&omega))?;
    for _ in 0..3 {
        let z = orthonormal(x.t().dot(&q))?;
        q = orthonormal(x.dot(&z))?;
    }
    let b = q.t().dot(x); // l x d, same row space as x
    let gram = b.dot(&b.t());
    if gram.iter().any(|v| !v.is_finite()) {
        return Err(Error::Invalid("PCA: non-finite values in the data".into()));
    }
    let (vals, vecs) = gram
        .eigh()
        .map_err(|e| Error::Invalid(format!("PCA: {e}")))?;
    let mut order: Vec<usize> = (0..vals.len()).collect();
    order.sort_by(|&i, &j| vals[j].total_cmp(&vals[i]));
    let top = vals.iter().cloned().fold(0.0, f64::max);
    let keep: Vec<usize> = order
        .into_iter()
        .filter(|&i| vals[i] > top * 1e-12 && vals[i] > 0.0)
        .take(k)
        .collect();
    let mut axes = Array2::zeros((keep.len().max(1), d));
    for (r, &i) in keep.iter().enumerate() {
        // Right singular vector: B^T u / sigma.
        let v = b.t().dot(&vecs.column(i)) / vals[i].sqrt();
        axes.row_mut(r).assign(&v);
    }
    Ok(axes)
}

#[derive(Clone, Debug)]
pub struct Clustering {
    pub centroids: Array2<f64>,
    pub labels: Vec<usize>,
}

pub fn kmeans(x: &Array2<f64>, k: usize, seed: u64) -> Result<Clustering> {
    let k = k.clamp(1, x.nrows().max(1));
    let data = DatasetBase::from(x.clone());
    let model = KMeans::params_with_rng(k, Xoshiro256Plus::seed_from_u64(seed))
        .n_runs(3)
        .max_n_iterations(100)
        .tolerance(1e-5)
        .fit(&data)
        .map_err(|e| Error::Invalid(format!("K-means: {e}")))?;
    let labels = model.predict(x).to_vec();
    Ok(Clustering {
        centroids: model.centroids().clone(),
        labels,
    })
}

fn dist(a: ArrayView1<f64>, b: ArrayView1<f64>) -> f64 {
    a.iter()
        .zip(b.iter())
        .map(|(p, q)| (p - q) * (p - q))
        .sum::<f64>()
        .sqrt()
}

/// Pairwise Euclidean distances (for silhouettes on a sample).
pub fn pairwise(x: &Array2<f64>) -> Array2<f64> {
    let n = x.nrows();
    let mut d = Array2::zeros((n, n));
    for i in 0..n {
        for j in i + 1..n {
            let v = dist(x.row(i), x.row(j));
            d[[i, j]] = v;
            d[[j, i]] = v;
        }
    }
    d
}

/// Mean silhouette coefficient (-1..=1, higher = better separated clusters).
pub fn silhouette(d: &Array2<f64>, labels: &[usize], k: usize) -> f64 {
    let n = labels.len();
    let mut total = 0.0;
    for i in 0..n {
        let mut sums = vec![0.0; k];
        let mut counts = vec![0usize; k];
        for j in 0..n {
            if i != j {
                sums[labels[j]] += d[[i, j]];
                counts[labels[j]] += 1;
            }
        }
        let own = labels[i];
        if counts[own] == 0 {
            continue; // singleton clusters score 0 by convention
        }
        let a = sums[own] / counts[own] as f64;
        let b = (0..k)
            .filter(|&c| c != own && counts[c] > 0)
            .map(|c| sums[c] / counts[c] as f64)
            .fold(f64::INFINITY, f64::min);
        if b.is_finite() {
            total += (b - a) / a.max(b);
        }
    }
    total / n.max(1) as f64
}

/// Davies-Bouldin index (>= 0, lower = better separated clusters).
pub fn davies_bouldin(x: &Array2<f64>, c: &Clustering) -> f64 {
    let k = c.centroids.nrows();
    let mut scatter = vec![0.0; k];
    let mut counts = vec![0usize; k];
    for (i, &l) in c.labels.iter().enumerate() {
        scatter[l] += dist(x.row(i), c.centroids.row(l));
        counts[l] += 1;
    }
    for (s, n) in scatter.iter_mut().zip(&counts) {
        *s /= (*n).max(1) as f64;
    }
    let used: Vec<usize> = (0..k).filter(|&i| counts[i] > 0).collect();
    if used.len() < 2 {
        return 0.0;
    }
    let worst: f64 = used
        .iter()
        .map(|&i| {
            used.iter()
                .filter(|&&j| j != i)
                .map(|&j| {
                    (scatter[i] + scatter[j])
                        / dist(c.centroids.row(i), c.centroids.row(j)).max(1e-12)
                })
                .fold(0.0, f64::max)
        })
        .sum();
    worst / used.len() as f64
}

#[derive(Clone, Debug, Serialize)]
pub struct KScore {
    pub k: usize,
    pub silhouette: f64,
    pub davies_bouldin: f64,
}

/// Tries every k in `range` on a sample and returns the scores, best silhouette first.
pub fn score_ks(
    x: &Array2<f64>,
    range: std::ops::RangeInclusive<usize>,
    seed: u64,
) -> Result<Vec<KScore>> {
    let sample = x.select(Axis(0), &sample_indices(x.nrows(), SILHOUETTE_SAMPLE, seed));
    let d = pairwise(&sample);
    let mut scores = Vec::new();
    for k in range.filter(|&k| k >= 2 && k < sample.nrows()) {
        let c = kmeans(&sample, k, seed)?;
        scores.push(KScore {
            k,
            silhouette: silhouette(&d, &c.labels, k),
            davies_bouldin: davies_bouldin(&sample, &c),
        });
    }
    scores.sort_by(|a, b| b.silhouette.total_cmp(&a.silhouette).then(a.k.cmp(&b.k)));
    Ok(scores)
}

/// Splits `n` picks over clusters in proportion to their sizes (largest remainder), at least one
/// per cluster while picks last, larger clusters first.
pub fn allocate(sizes: &[usize], n: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..sizes.len()).filter(|&c| sizes[c] > 0).collect();
    order.sort_by(|&a, &b| sizes[b].cmp(&sizes[a]).then(a.cmp(&b)));
    let total: usize = sizes.iter().sum();
    let mut out = vec![0; sizes.len()];
    let n = n.min(total);
    let mut left = n;
    for &c in order.iter().take(n) {
        out[c] = 1;
        left -= 1;
    }
    if left > 0 {
        // Proportional share of what is left, capped by cluster size; remainders decide ties.
        let rest: usize = order.iter().map(|&c| sizes[c] - out[c]).sum();
        let mut rems = Vec::new();
        for &c in &order {
            let exact = (sizes[c] - out[c]) as f64 * left as f64 / rest as f64;
            out[c] += exact.floor() as usize;
            rems.push((exact - exact.floor(), c));
        }
        let mut given: usize = out.iter().sum();
        rems.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        for (_, c) in rems.iter().cycle().take(rems.len() * 2) {
            if given >= n {
                break;
            }
            if out[*c] < sizes[*c] {
                out[*c] += 1;
                given += 1;
            }
        }
    }
    out
}

/// Index (into `members`) of the row nearest to `centre`.
pub fn nearest(x: &Array2<f64>, members: &[usize], centre: ArrayView1<f64>) -> usize {
    let mut best = (f64::INFINITY, 0);
    for (i, &m) in members.iter().enumerate() {
        let d = dist(x.row(m), centre);
        if d < best.0 {
            best = (d, i);
        }
    }
    best.1
}

pub fn mean_row(x: &Array2<f64>, rows: &[usize]) -> Array1<f64> {
    x.select(Axis(0), rows)
        .mean_axis(Axis(0))
        .unwrap_or_else(|| Array1::zeros(x.ncols()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blobs(seed: u64) -> Array2<f64> {
        // Three well separated blobs in 5-D, 30 points each.
        let mut s = seed;
        let mut rnd = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 33) as f64 / (1u64 << 31) as f64) - 0.5
        };
        Array2::from_shape_fn((90, 5), |(i, j)| {
            (i / 30) as f64 * 10.0 * ((j == i / 30) as u8 as f64) + rnd()
        })
    }

    #[test]
    fn silhouette_finds_three_blobs_deterministically() {
        let x = blobs(1);
        let scores = score_ks(&x, 2..=6, 7).unwrap();
        assert_eq!(scores[0].k, 3);
        assert!(scores[0].silhouette > 0.7);
        let db3 = scores.iter().find(|s| s.k == 3).unwrap().davies_bouldin;
        assert!(
            scores.iter().all(|s| s.davies_bouldin >= db3 - 1e-9),
            "DB agrees on k=3"
        );
        let a = kmeans(&x, 3, 42).unwrap();
        let b = kmeans(&x, 3, 42).unwrap();
        assert_eq!(a.labels, b.labels);
        assert_eq!(a.centroids, b.centroids);
    }

    #[test]
    fn pca_handles_rank_deficient_data_and_keeps_structure() {
        // 59 points on a 2-D plane inside 40-D (the demo gallery once made the solver return
        // fewer axes than asked for).
        let x = pca_reduce(59, 40, 58, 3, |i, out| {
            let (a, b) = ((i % 7) as f64, (i / 7) as f64);
            for (j, o) in out.iter_mut().enumerate() {
                *o = a * (j as f64).sin() + b * (j as f64).cos();
            }
        })
        .unwrap();
        assert_eq!(x.nrows(), 59);
        assert!(x.ncols() >= 2 && x.ncols() <= 58);
        // Distances are preserved (the data lies in the kept subspace).
        let d = |m: &Array2<f64>, i: usize, j: usize| dist(m.row(i), m.row(j));
        let orig = |i: usize| {
            Array1::from_shape_fn(40, |j| {
                ((i % 7) as f64) * (j as f64).sin() + ((i / 7) as f64) * (j as f64).cos()
            })
        };
        let (o0, o1) = (orig(0), orig(20));
        assert!((d(&x, 0, 20) - dist(o0.view(), o1.view())).abs() < 1e-6);
    }

    #[test]
    fn allocation_is_proportional_and_complete() {
        assert_eq!(allocate(&[50, 30, 20], 10), vec![5, 3, 2]);
        assert_eq!(allocate(&[50, 30, 20], 2), vec![1, 1, 0]);
        assert_eq!(allocate(&[1, 1, 100], 10).iter().sum::<usize>(), 10);
        assert_eq!(allocate(&[2, 1], 10), vec![2, 1]);
    }

    #[test]
    fn samples_are_deterministic_and_distinct() {
        let a = sample_indices(10_000, 100, 3);
        assert_eq!(a, sample_indices(10_000, 100, 3));
        assert_ne!(a, sample_indices(10_000, 100, 4));
        let mut d = a.clone();
        d.dedup();
        assert_eq!(d.len(), 100);
    }
}
