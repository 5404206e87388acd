//! Finding close perceptual hashes without comparing every pair, and joining pairs into groups.
//!
//! Multi-index hashing (Norouzi et al. 2012): split the 64 bits into `r + 1` chunks; two hashes
//! within `r` bits agree exactly on at least one chunk (pigeonhole), so only hashes sharing a
//! chunk value are compared. At 100,000 photos that is a few million popcounts instead of five
//! billion.

use std::collections::HashMap;

/// Every pair `(i, j)`, `i < j`, of hashes within `radius` bits, each pair once.
pub fn close_pairs(hashes: &[u64], radius: u32) -> Vec<(u32, u32)> {
    let chunks = radius as usize + 1;
    let bounds: Vec<(u32, u32)> = (0..chunks)
        .map(|c| {
            let lo = 64 * c / chunks;
            let hi = 64 * (c + 1) / chunks;
            (lo as u32, (hi - lo) as u32)
        })
        .collect();
    let chunk = |h: u64, (lo, len): (u32, u32)| (h >> lo) & (u64::MAX >> (64 - len));
    let mut pairs = Vec::new();
    for (c, &b) in bounds.iter().enumerate() {
        let mut buckets: HashMap<u64, Vec<u32>> = HashMap::new();
        for (i, &h) in hashes.iter().enumerate() {
            buckets.entry(chunk(h, b)).or_default().push(i as u32);
        }
        for members in buckets.values() {
            for (x, &i) in members.iter().enumerate() {
                let hi = hashes[i as usize];
                for &j in &members[x + 1..] {
                    let hj = hashes[j as usize];
                    // Counted under the first chunk the two agree on, so once.
                    let first = bounds[..c].iter().all(|&e| chunk(hi, e) != chunk(hj, e));
                    if first && (hi ^ hj).count_ones() <= radius {
                        pairs.push((i.min(j), i.max(j)));
                    }
                }
            }
        }
    }
    pairs
}

fn root(p: &mut [usize], mut i: usize) -> usize {
    while p[i] != i {
        p[i] = p[p[i]];
        i = p[i];
    }
    i
}

/// Union-find over `n` items: each item's group as the smallest index in it.
pub fn components(n: usize, edges: impl IntoIterator<Item = (u32, u32)>) -> Vec<usize> {
    let mut parent: Vec<usize> = (0..n).collect();
    for (a, b) in edges {
        let (a, b) = (root(&mut parent, a as usize), root(&mut parent, b as usize));
        if a != b {
            parent[a.max(b)] = a.min(b);
        }
    }
    (0..n).map(|i| root(&mut parent, i)).collect()
}

/// Like [`components`], but a group holds one capture: an edge that would join items with
/// different known capture times (`times`, seconds) is refused, and returned. Give the edges
/// strongest first, so a copy without a time joins the capture it matches best.
pub fn one_capture_components(
    times: &[Option<i64>],
    edges: impl IntoIterator<Item = (u32, u32)>,
) -> (Vec<usize>, Vec<(u32, u32)>) {
    let mut parent: Vec<usize> = (0..times.len()).collect();
    let mut time = times.to_vec();
    let mut refused = vec![];
    for (a, b) in edges {
        let (ra, rb) = (root(&mut parent, a as usize), root(&mut parent, b as usize));
        if ra == rb {
            continue;
        }
        match (time[ra], time[rb]) {
            (Some(x), Some(y)) if x != y => refused.push((a, b)),
            (ta, tb) => {
                let (lo, hi) = (ra.min(rb), ra.max(rb));
                parent[hi] = lo;
                time[lo] = ta.or(tb);
            }
        }
    }
    (
        (0..times.len()).map(|i| root(&mut parent, i)).collect(),
        refused,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_exactly_the_pairs_brute_force_finds() {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut hashes: Vec<u64> = (0..300).map(|_| next()).collect();
        // Near copies: a few bits flipped.
        for i in 0..100 {
            let flips = (next() % 9) as u32;
            let mut h = hashes[i];
            for _ in 0..flips {
                h ^= 1 << (next() % 64);
            }
            hashes.push(h);
        }
        for radius in [0, 3, 6, 10] {
            let mut fast = close_pairs(&hashes, radius);
            fast.sort();
            let mut slow = vec![];
            for i in 0..hashes.len() {
                for j in i + 1..hashes.len() {
                    if (hashes[i] ^ hashes[j]).count_ones() <= radius {
                        slow.push((i as u32, j as u32));
                    }
                }
            }
            assert_eq!(fast, slow, "radius {radius}");
        }
    }

    #[test]
    fn a_copy_without_a_time_joins_one_capture_only() {
        // 0 and 2 are captures a second apart; 1 (no time) matches 0 better than 2.
        let times = [Some(10), None, Some(11)];
        let (groups, refused) = one_capture_components(&times, [(0, 1), (1, 2)]);
        assert_eq!(groups, vec![0, 0, 2]);
        assert_eq!(refused, vec![(1, 2)]);
    }

    #[test]
    fn components_join_chains() {
        assert_eq!(components(5, [(3, 4), (1, 3)]), vec![0, 1, 2, 1, 1]);
    }
}
