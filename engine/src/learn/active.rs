//! Active labeling: once a model exists, ask about the photos it is least sure of, spread
//! over the gallery. Uncertainty alone keeps asking about one confusing corner (many
//! near-identical borderline photos); diversity alone is the K-means cold start again. So:
//! shortlist the `SHORTLIST x n` most uncertain photos, then greedily take the one with the
//! highest uncertainty x distance to everything labeled or already chosen.

use ndarray::ArrayView2;

const SHORTLIST: usize = 10;

/// 1 at P(delete) = 0.5, 0 at 0 or 1.
fn uncertainty(p: f32) -> f32 {
    1.0 - (2.0 * p - 1.0).abs()
}

/// Chooses `n` of the candidate rows. `p[i]` is candidate i's P(delete), `emb` the candidates'
/// L2-normalised embeddings, `labeled` those of the already labeled photos. Returns candidate
/// indices in asking order.
pub fn select(p: &[f32], emb: ArrayView2<f32>, labeled: ArrayView2<f32>, n: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..p.len()).collect();
    order.sort_by(|&a, &b| {
        uncertainty(p[b])
            .total_cmp(&uncertainty(p[a]))
            .then(a.cmp(&b))
    });
    order.truncate((SHORTLIST * n).max(n));
    // Cosine distance from each shortlisted photo to its nearest labeled or chosen photo.
    let mut dist: Vec<f32> = order
        .iter()
        .map(|&i| {
            labeled
                .rows()
                .into_iter()
                .map(|l| 1.0 - emb.row(i).dot(&l))
                .fold(2.0, f32::min)
        })
        .collect();
    let mut chosen = Vec::with_capacity(n);
    let mut taken = vec![false; order.len()];
    for _ in 0..n.min(order.len()) {
        let best = (0..order.len())
            .filter(|&k| !taken[k])
            .max_by(|&a, &b| {
                let score = |k: usize| uncertainty(p[order[k]]) * dist[k].max(1e-6);
                score(a).total_cmp(&score(b)).then(b.cmp(&a))
            })
            .expect("a candidate is left");
        taken[best] = true;
        let c = order[best];
        chosen.push(c);
        for (k, d) in dist.iter_mut().enumerate() {
            *d = d.min(1.0 - emb.row(order[k]).dot(&emb.row(c)));
        }
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array2};

    #[test]
    fn prefers_uncertain_photos_but_not_twins() {
        // Candidates 0 and 1 are identical and the most uncertain; 2 is slightly less
        // uncertain but elsewhere; 3 is confident.
        let emb = array![[1.0f32, 0.0], [1.0, 0.0], [0.0, 1.0], [0.6, 0.8]];
        let p = [0.5, 0.5, 0.4, 0.99];
        let labeled = Array2::<f32>::zeros((0, 2));
        let picked = select(&p, emb.view(), labeled.view(), 2);
        assert_eq!(picked[0], 0);
        assert_eq!(picked[1], 2, "the twin of a chosen photo adds nothing");
    }

    #[test]
    fn avoids_what_is_already_labeled() {
        let emb = array![[1.0f32, 0.0], [0.0, 1.0]];
        let labeled = array![[1.0f32, 0.0]];
        assert_eq!(select(&[0.5, 0.45], emb.view(), labeled.view(), 1), vec![1]);
    }
}
