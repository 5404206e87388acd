//! Assets, not files: what a camera writes as several files of one shot. A Live Photo is an
//! image and a short video with the same name (`IMG_1234.HEIC` + `IMG_1234.MOV`); a RAW+JPEG
//! pair is the RAW and the camera's JPEG (`DSC_0001.NEF` + `DSC_0001.JPG`); an iPhone's edited
//! copy sits beside its original with an `E` after `IMG_` (`IMG_E1234.JPG`, and
//! `IMG_E1234.MOV` for an edited Live Photo). The original image is the photo (indexed,
//! labeled, suggested); the other files are its *companions*: counted with it, trashed and
//! restored with it (`act`), never listed on their own.
//!
//! Pairing is by folder and file stem, case-insensitively, as Apple's and the cameras' naming
//! does. A RAW or a video without an image beside it is no companion: a lone RAW is a file
//! like any other (reported as unsupported), a lone video is indexed as a video
//! ([`crate::video`]).

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;

use crate::source::{Entry, Locator};

/// What a companion file is to its photo.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CompanionKind {
    /// The camera's RAW beside its JPEG or HEIC.
    Raw,
    /// The video half of a Live Photo (or a motion photo's separate clip).
    LiveVideo,
    /// An edited copy the phone keeps beside the original (`IMG_E1234.JPG`).
    Edited,
}

impl CompanionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CompanionKind::Raw => "raw",
            CompanionKind::LiveVideo => "live_video",
            CompanionKind::Edited => "edited",
        }
    }

    pub fn parse(s: &str) -> Option<CompanionKind> {
        match s {
            "raw" => Some(CompanionKind::Raw),
            "live_video" => Some(CompanionKind::LiveVideo),
            "edited" => Some(CompanionKind::Edited),
            _ => None,
        }
    }
}

/// A companion file and the photo it belongs to.
#[derive(Clone, Debug)]
pub struct Companion {
    pub entry: Entry,
    pub photo: Locator,
    pub kind: CompanionKind,
}

/// Video containers a Live Photo's clip comes in (Apple writes QuickTime `.MOV`; Android
/// exports of motion photos `.MP4`).
pub const LIVE_VIDEO_EXTENSIONS: &[&str] = &["mov", "mp4"];

/// Camera RAW formats (the same list `format` names as unsupported).
pub const RAW_EXTENSIONS: &[&str] = &[
    "dng", "cr2", "cr3", "crw", "nef", "nrw", "arw", "srf", "sr2", "raf", "orf", "rw2", "pef",
    "srw", "x3f", "raw", "rwl", "3fr", "iiq",
];

/// What a camera writes beside a RAW or a Live Photo's video: the image the pair is shown as.
const PAIRED_IMAGE_EXTENSIONS: &[&str] = &["jpg", "jpeg", "heic", "heif", "hif"];

fn extension(path: &Path) -> Option<String> {
    Some(path.extension()?.to_str()?.to_ascii_lowercase())
}

/// The original's stem of an iPhone edited copy: `IMG_E1234` -> `img_1234` (lowercased).
fn edited_original(stem: &str) -> Option<String> {
    let stem = stem.to_lowercase();
    let digits = stem.strip_prefix("img_e")?;
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| format!("img_{digits}"))
}

fn kind_of(path: &Path) -> Option<CompanionKind> {
    let ext = extension(path)?;
    if RAW_EXTENSIONS.contains(&ext.as_str()) {
        Some(CompanionKind::Raw)
    } else if LIVE_VIDEO_EXTENSIONS.contains(&ext.as_str()) {
        Some(CompanionKind::LiveVideo)
    } else {
        None
    }
}

/// Splits a listing into photo candidates and companions. Unpaired videos and RAWs stay
/// candidates. When a folder holds two images of one stem
/// (`IMG_1.JPG` and `IMG_1.HEIC`), the companion goes with the first in listing order.
/// `decodable` says whether a would-be companion's content is in fact an image the engine
/// decodes (a JPEG named `.NEF`): content decides, so such a file stays a photo candidate.
pub fn pair(
    entries: Vec<Entry>,
    decodable: impl Fn(&Entry) -> bool,
) -> (Vec<Entry>, Vec<Companion>) {
    // (folder, lowercased stem) of every image a companion can belong to.
    let key = |p: &Path| -> Option<(std::path::PathBuf, String)> {
        let stem = p.file_stem()?.to_str()?.to_lowercase();
        Some((p.parent()?.to_path_buf(), stem))
    };
    let mut images: HashMap<(std::path::PathBuf, String), Locator> = HashMap::new();
    for e in &entries {
        let path = e.locator.to_path();
        let is_image =
            extension(&path).is_some_and(|x| PAIRED_IMAGE_EXTENSIONS.contains(&x.as_str()));
        if let (true, Some(k)) = (is_image, key(&path)) {
            images.entry(k).or_insert_with(|| e.locator.clone());
        }
    }
    let mut photos = Vec::with_capacity(entries.len());
    let mut companions = Vec::new();
    for e in entries {
        let path = e.locator.to_path();
        // An edited copy goes with its original whatever it holds (it is an image by design).
        let edited = path
            .file_stem()
            .and_then(|s| s.to_str())
            .and_then(edited_original)
            .zip(path.parent())
            .and_then(|(stem, dir)| images.get(&(dir.to_path_buf(), stem)));
        if let Some(original) = edited {
            companions.push(Companion {
                photo: original.clone(),
                kind: CompanionKind::Edited,
                entry: e,
            });
            continue;
        }
        let Some(kind) = kind_of(&path) else {
            photos.push(e);
            continue;
        };
        match key(&path).and_then(|k| images.get(&k)) {
            Some(_) if decodable(&e) => photos.push(e),
            Some(photo) => companions.push(Companion {
                photo: photo.clone(),
                kind,
                entry: e,
            }),
            None => photos.push(e),
        }
    }
    (photos, companions)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str) -> Entry {
        Entry {
            locator: Locator(path.as_bytes().to_vec()),
            size: 1,
            mtime_ns: 0,
        }
    }

    fn names(v: &[Entry]) -> Vec<String> {
        v.iter().map(|e| e.locator.display()).collect()
    }

    #[test]
    fn live_photos_and_raw_pairs_become_companions() {
        let (photos, companions) = pair(
            vec![
                entry("/g/IMG_0001.HEIC"),
                entry("/g/IMG_0001.MOV"),
                entry("/g/DSC_0002.JPG"),
                entry("/g/dsc_0002.nef"),
                entry("/g/DSC_0003.NEF"),
                entry("/g/clip.mp4"),
                entry("/other/IMG_0001.MOV"),
                entry("/g/IMG_0004.png"),
                entry("/g/IMG_0004.mov"),
                entry("/g/IMG_0005.jpg"),
                entry("/g/IMG_0005.dng"),
                entry("/g/IMG_0006.HEIC"),
                entry("/g/IMG_E0006.JPG"),
                entry("/g/IMG_E0006.MOV"),
                entry("/g/IMG_E0007.JPG"),
            ],
            // The last DNG is a JPEG in disguise: it stays a photo candidate.
            |e| e.locator.display() == "/g/IMG_0005.dng",
        );
        assert_eq!(
            names(&photos),
            [
                "/g/IMG_0001.HEIC",
                "/g/DSC_0002.JPG",
                "/g/DSC_0003.NEF",
                "/g/clip.mp4",
                "/other/IMG_0001.MOV",
                "/g/IMG_0004.png",
                "/g/IMG_0004.mov",
                "/g/IMG_0005.jpg",
                "/g/IMG_0005.dng",
                "/g/IMG_0006.HEIC",
                "/g/IMG_E0007.JPG"
            ],
            "lone RAWs, videos and edited copies stay candidates, and so does a video beside a PNG"
        );
        let got: Vec<(String, String, CompanionKind)> = companions
            .iter()
            .map(|c| (c.entry.locator.display(), c.photo.display(), c.kind))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "/g/IMG_0001.MOV".into(),
                    "/g/IMG_0001.HEIC".into(),
                    CompanionKind::LiveVideo
                ),
                (
                    "/g/dsc_0002.nef".into(),
                    "/g/DSC_0002.JPG".into(),
                    CompanionKind::Raw
                ),
                (
                    "/g/IMG_E0006.JPG".into(),
                    "/g/IMG_0006.HEIC".into(),
                    CompanionKind::Edited
                ),
                (
                    "/g/IMG_E0006.MOV".into(),
                    "/g/IMG_0006.HEIC".into(),
                    CompanionKind::Edited
                ),
            ]
        );
    }
}
