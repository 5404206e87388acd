//! A simulated user, for the demo and the tests: labels photos from the categories a gallery's
//! `manifest.json` gives them (`{"files": [{"path", "category"}]}`, paths relative to the
//! gallery). It deletes the junk categories and keeps everything else.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::Label;

/// Manifest categories the simulated user deletes; every other category is kept.
pub const DELETED_CATEGORIES: &[&str] = &[
    "blurred",
    "dark",
    "overexposed",
    "screenshot",
    "download",
    "near_duplicate",
];

pub struct ManifestUser {
    roots: Vec<PathBuf>,
    categories: HashMap<String, String>,
}

impl ManifestUser {
    /// The user of `gallery`, if it has a readable manifest.
    pub fn load(gallery: &Path) -> Option<ManifestUser> {
        let text = std::fs::read_to_string(gallery.join("manifest.json")).ok()?;
        let v: serde_json::Value = serde_json::from_str(&text).ok()?;
        let categories = v["files"]
            .as_array()?
            .iter()
            .filter_map(|f| Some((f["path"].as_str()?.into(), f["category"].as_str()?.into())))
            .collect();
        let mut roots = vec![gallery.to_path_buf()];
        roots.extend(std::fs::canonicalize(gallery).ok());
        Some(ManifestUser { roots, categories })
    }

    /// The category of the photo at `path` (a display path, as the engine reports it).
    pub fn category(&self, path: &str) -> Option<&str> {
        let p = Path::new(path);
        let rel = self.roots.iter().find_map(|r| p.strip_prefix(r).ok())?;
        self.categories
            .get(rel.to_string_lossy().as_ref())
            .map(String::as_str)
    }

    /// The label this user gives the photo at `path`, if the manifest knows it.
    pub fn label(&self, path: &str) -> Option<Label> {
        let c = self.category(path)?;
        Some(if DELETED_CATEGORIES.contains(&c) {
            Label::Delete
        } else {
            Label::Keep
        })
    }

    /// Every photo the manifest knows.
    pub fn len(&self) -> usize {
        self.categories.len()
    }

    pub fn is_empty(&self) -> bool {
        self.categories.is_empty()
    }
}
