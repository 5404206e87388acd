//! The measuring tools' tests, one binary: the crash-consistency kill test (the product's
//! `precious` binary SIGKILLed mid-operation, checked by the same rig as
//! `precious-bench reliability --only kills`).

use std::path::{Path, PathBuf};

mod kills;

/// Points the OS trash of this test process at a fresh folder (set once, before any trash
/// call: `XDG_DATA_HOME`), under the target folder so the galleries made beside it share its
/// mount, and returns it.
pub fn sandbox_os_trash() -> &'static Path {
    static DATA_HOME: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DATA_HOME.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("os-trash-")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .unwrap()
            .keep();
        std::env::set_var("XDG_DATA_HOME", &dir);
        dir
    })
}

/// Files in `dir` (not recursive), sorted by name.
pub fn sorted_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}
