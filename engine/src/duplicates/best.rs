//! Which photo of a group to keep. Among copies of one picture, provenance decides (the
//! camera's original over re-saved, shrunk or edited copies): camera EXIF, pixel count, bytes
//! per pixel, the earlier date; sharpness and exposure only break ties. Among shots of one
//! scene, the best-looking shot wins (sharper, better exposed, larger). A photo the user
//! labeled delete is never the best while another member is not; the user's own choice
//! overrides everything.

use std::cmp::Ordering;

use serde::Serialize;

use super::Candidate;
use crate::Label;

/// Why the best shot was chosen over the others.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Why {
    /// The user chose it.
    YourChoice,
    /// The others are labeled delete.
    OthersLabeledDelete,
    /// It has the camera's EXIF; copies lost it.
    CameraOriginal,
    /// More pixels: the others are shrunk or cropped.
    Larger,
    /// More bytes per pixel: the others were re-compressed.
    LessCompressed,
    /// Taken or saved earlier: the others are later copies.
    Earlier,
    Sharper,
    BetterExposed,
}

impl Why {
    pub fn text(self) -> &'static str {
        match self {
            Why::YourChoice => "your choice",
            Why::OthersLabeledDelete => "the others are labeled delete",
            Why::CameraOriginal => "original (camera EXIF)",
            Why::Larger => "larger",
            Why::LessCompressed => "less compressed",
            Why::Earlier => "earlier",
            Why::Sharper => "sharper",
            Why::BetterExposed => "better exposed",
        }
    }
}

fn pixels(c: &Candidate) -> f64 {
    (c.width as f64 * c.height as f64).max(1.0)
}

/// `Greater` when `a` is the better copy of one picture, with the deciding criterion.
fn provenance(a: &Candidate, b: &Candidate) -> Option<(Ordering, Why)> {
    let exif = a.has_camera_exif.cmp(&b.has_camera_exif);
    if exif != Ordering::Equal {
        return Some((exif, Why::CameraOriginal));
    }
    let (pa, pb) = (pixels(a), pixels(b));
    if pa > pb * 1.02 || pb > pa * 1.02 {
        return Some((pa.total_cmp(&pb), Why::Larger));
    }
    let (ba, bb) = (a.bytes as f64 / pa, b.bytes as f64 / pb);
    if ba > bb * 1.15 || bb > ba * 1.15 {
        return Some((ba.total_cmp(&bb), Why::LessCompressed));
    }
    let earlier = match (a.taken_s, b.taken_s) {
        (Some(x), Some(y)) if x != y => Some(y.cmp(&x)),
        _ => {
            let (x, y) = (a.mtime_ns / 1_000_000_000, b.mtime_ns / 1_000_000_000);
            (x != y).then(|| y.cmp(&x))
        }
    };
    earlier.map(|o| (o, Why::Earlier))
}

/// `Greater` when `a` looks better (sharper, then better exposed).
fn looks(a: &Candidate, b: &Candidate) -> Option<(Ordering, Why)> {
    match (a.blur, b.blur) {
        (Some(x), Some(y)) if x < y * 0.9 || y < x * 0.9 => {
            return Some((y.total_cmp(&x), Why::Sharper));
        }
        (None, None) if a.sharpness > b.sharpness * 1.2 || b.sharpness > a.sharpness * 1.2 => {
            return Some((a.sharpness.total_cmp(&b.sharpness), Why::Sharper));
        }
        _ => {}
    }
    let (ea, eb) = (a.clipped, b.clipped);
    ((ea - eb).abs() > 0.02).then(|| (eb.total_cmp(&ea), Why::BetterExposed))
}

/// Compares two members: copies of one picture on provenance first, different shots on looks
/// first. Ties fall to the lower id, so the choice is stable.
fn compare(a: &Candidate, b: &Candidate, same_picture: bool) -> (Ordering, Option<Why>) {
    let first = if same_picture {
        provenance(a, b).or_else(|| looks(a, b))
    } else {
        looks(a, b).or_else(|| {
            let (pa, pb) = (pixels(a), pixels(b));
            (pa > pb * 1.02 || pb > pa * 1.02).then(|| (pa.total_cmp(&pb), Why::Larger))
        })
    };
    match first {
        Some((o, why)) => (o, Some(why)),
        None => (b.id.cmp(&a.id), None),
    }
}

/// The best member (an index into `members`) and why it beat the others. `same` tells which
/// members are copies of one picture (equal values); `chosen` is the user's choice, if any.
pub fn choose(members: &[&Candidate], same: &[usize], chosen: Option<usize>) -> (usize, Vec<Why>) {
    let deletable = |c: &Candidate| c.label == Some(Label::Delete);
    let all_delete = members.iter().all(|c| deletable(c));
    let eligible: Vec<usize> = (0..members.len())
        .filter(|&i| all_delete || !deletable(members[i]))
        .collect();
    if let Some(i) = chosen.filter(|i| eligible.contains(i)) {
        return (i, vec![Why::YourChoice]);
    }
    // Each picture's best copy by provenance first, then the best-looking of those: looks
    // across copies would favour a shrunk copy (its edges are fewer pixels wide).
    let better = |i: usize, j: usize| compare(members[i], members[j], same[i] == same[j]).0;
    let mut per_picture: Vec<usize> = vec![];
    for &i in &eligible {
        match per_picture.iter_mut().find(|b| same[**b] == same[i]) {
            Some(b) if better(i, *b) == Ordering::Greater => *b = i,
            Some(_) => {}
            None => per_picture.push(i),
        }
    }
    let mut best = per_picture[0];
    for &i in &per_picture[1..] {
        if better(i, best) == Ordering::Greater {
            best = i;
        }
    }
    let mut why: Vec<Why> = (0..members.len())
        .filter(|&i| i != best)
        .filter_map(|i| {
            if !eligible.contains(&i) {
                return Some(Why::OthersLabeledDelete);
            }
            compare(members[best], members[i], same[i] == same[best]).1
        })
        .collect();
    why.sort();
    why.dedup();
    (best, why)
}
