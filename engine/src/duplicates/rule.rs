//! When two photos are the same picture, or shots of one scene moments apart.
//!
//! Evidence per pair: the perceptual hashes' Hamming distance (robust to re-encoding, resizing
//! and exposure edits, not to crops or borders), the cosine of the embeddings in the gallery's
//! neighbour graph (robust to crops and edits, but also high for different moments of one
//! scene), and the capture times. The thresholds were chosen on the tuning sources of
//! `precious-bench duplicates` (BENCHMARKS.md, "Duplicates"), never on its held-out sources.

use serde::Serialize;

/// The two tiers of a duplicate group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// Copies of one picture: re-encodes, resizes, small crops, exposure and colour edits.
    Same,
    /// Different shots of one scene (bursts, series).
    Similar,
}

/// What is known about one pair.
#[derive(Clone, Copy, Debug)]
pub struct PairEvidence {
    pub hash_bits: u32,
    /// Cosine in the neighbour graph, when one is among the other's stored neighbours.
    pub cosine: Option<f32>,
    /// Seconds between the capture times, when both have one.
    pub seconds_apart: Option<i64>,
    /// How well one is a window of the other, pixel for pixel ([`super::verify`]), when it
    /// was checked.
    pub matched: Option<f32>,
}

/// Thresholds of the pair rule.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Rule {
    /// Same photo on the hash alone.
    pub same_bits: u32,
    /// Same photo on this cosine when the pixels match at `same_match` (crops, borders,
    /// screenshots); with `same_match` None, on the cosine alone.
    pub same_cosine: f32,
    pub same_match: Option<f32>,
    /// Similar shots: this cosine (or the hash within `similar_bits`), both taken within
    /// `similar_seconds`. Photos without a capture time are never similar shots: look-alike
    /// screenshots and scanned pages are different content, not a series.
    pub similar_cosine: f32,
    pub similar_bits: u32,
    pub similar_seconds: i64,
    /// Whether capture times count (off for the single-signal baselines of the benchmark).
    pub use_time: bool,
}

impl Rule {
    /// Chosen on the tuning half of `precious-bench duplicates --sweep`: the highest
    /// same-photo recall at pair precision >= 0.995 with no distinct pair grouped. Its burst
    /// frames (1-2 s apart, cosine >= 0.6) are all found at any similar threshold tried, so
    /// the similar thresholds are set from the demo gallery's series (exposure variants 3-9 s
    /// apart at cosines 0.46-0.6, or, much darker, hashes 6 bits apart at cosine 0) and kept as
    /// low as that needs.
    pub const DEFAULT: Rule = Rule {
        same_bits: 4,
        same_cosine: 0.8,
        same_match: Some(0.8),
        similar_cosine: 0.4,
        similar_bits: 6,
        similar_seconds: 60,
        use_time: true,
    };

    /// The widest hash distance any tier accepts: the radius of the hash index.
    pub fn hash_radius(&self) -> u32 {
        self.same_bits
            .max(if self.use_time { self.similar_bits } else { 0 })
    }

    /// The lowest cosine any tier accepts: neighbours below it need not be loaded.
    pub fn cosine_floor(&self) -> f32 {
        self.same_cosine.min(self.similar_cosine)
    }

    /// Copies keep the capture time (or lose it); two captures a second or more apart are
    /// different shots however alike they look (a burst).
    fn moments_apart(&self, e: &PairEvidence) -> bool {
        self.use_time && e.seconds_apart.is_some_and(|s| s >= 1)
    }

    /// Whether the tier depends on the pixel check.
    pub fn needs_match(&self, e: &PairEvidence) -> bool {
        self.same_match.is_some()
            && e.hash_bits > self.same_bits
            && !self.moments_apart(e)
            && e.cosine.is_some_and(|c| c >= self.same_cosine)
    }

    pub fn tier(&self, e: &PairEvidence) -> Option<Tier> {
        let close_hash = e.hash_bits <= self.same_bits;
        if !self.moments_apart(e) {
            let matched = match self.same_match {
                Some(t) => e.matched.is_some_and(|m| m >= t),
                None => true,
            };
            if close_hash || (matched && e.cosine.is_some_and(|c| c >= self.same_cosine)) {
                return Some(Tier::Same);
            }
        }
        let cos = e.cosine.unwrap_or(-1.0);
        let similar = e.seconds_apart.filter(|_| self.use_time).is_some_and(|s| {
            s <= self.similar_seconds
                && (e.hash_bits <= self.similar_bits || cos >= self.similar_cosine)
        });
        similar.then_some(Tier::Similar)
    }
}

/// Seconds since 1970 of an ISO-like `YYYY-MM-DDTHH:MM:SS` capture time (offset ignored:
/// pairs are compared on one camera's clock).
pub fn seconds(taken_at: &str) -> Option<i64> {
    let b = taken_at.as_bytes();
    if b.len() < 19 {
        return None;
    }
    let n = |r: std::ops::Range<usize>| taken_at.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
    let (hh, mm, ss) = (n(11..13)?, n(14..16)?, n(17..19)?);
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

/// Seconds since 1970 of a capture time in a file name, as phones and cameras write it
/// (`IMG_20240205_165724.jpg`, `PXL_20240205_165724123.jpg`, `Screenshot_20240218-084743.png`):
/// the first run of 8 digits, `_` or `-`, 6 digits. For photos whose EXIF lost the time.
pub fn seconds_in_name(name: &str) -> Option<i64> {
    let b = name.as_bytes();
    (0..b.len().saturating_sub(14)).find_map(|i| {
        let w = &b[i..i + 15];
        let digits = |r: std::ops::Range<usize>| w[r].iter().all(u8::is_ascii_digit);
        let starts = i == 0 || !b[i - 1].is_ascii_digit();
        if !(starts && digits(0..8) && matches!(w[8], b'_' | b'-') && digits(9..15)) {
            return None;
        }
        let d = std::str::from_utf8(w).ok()?;
        seconds(&format!(
            "{}-{}-{}T{}:{}:{}",
            &d[0..4],
            &d[4..6],
            &d[6..8],
            &d[9..11],
            &d[11..13],
            &d[13..15]
        ))
        .filter(|_| (1990..=2100).contains(&d[0..4].parse::<i32>().unwrap_or(0)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_count_from_1970() {
        assert_eq!(seconds("1970-01-01T00:00:00"), Some(0));
        assert_eq!(seconds("2024-03-01T00:00:01+02:00"), Some(1_709_251_201));
        assert_eq!(seconds("2024-03-01"), None);
    }

    #[test]
    fn capture_times_in_file_names() {
        let t = seconds("2024-02-05T16:57:24");
        assert_eq!(seconds_in_name("IMG_20240205_165724.jpg"), t);
        assert_eq!(seconds_in_name("PXL_20240205_165724123.MP.jpg"), t);
        assert_eq!(seconds_in_name("Screenshot_20240205-165724_Maps.png"), t);
        assert_eq!(seconds_in_name("IMG-20240511-WA0003.jpg"), None);
        assert_eq!(seconds_in_name("scan_0001.jpg"), None);
    }
}
