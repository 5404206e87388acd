//! `bench index`, other formats beside JPEG: the same pictures as JPEG and as another format
//! (HEIC: [`super::heif`]; video: [`super::video`]), encoded once into `target/bench/` and
//! cold-scanned side by side, so each rate reads as a ratio against the JPEG path on the same
//! content.

use std::path::{Path, PathBuf};

use precious_engine::{Error, Result};

use super::report::ScanRun;

/// A format measured beside JPEG.
pub struct Alternate {
    /// Folder and gallery-name part: `heic`, `video`.
    pub name: &'static str,
    /// As the table names it: `HEIC`, `Video`.
    pub label: &'static str,
    /// The table's heading and how the files were made.
    pub intro: &'static str,
    /// Writes photo `i` (`src`) in this format into `dir`.
    pub encode: fn(dir: &Path, i: usize, src: &Path) -> Result<()>,
}

impl Alternate {
    /// The gallery names of the two cold scans: (JPEG, this format).
    pub fn galleries(&self) -> (String, String) {
        (
            format!("{}-set-jpeg", self.name),
            format!("{}-set-{}", self.name, self.name),
        )
    }
}

/// `DIR/jpeg` and `DIR/<name>`: the first `n` of `files` as they are and in `alt`'s format,
/// encoded once (one encoder per core).
pub fn set(
    work: &Path,
    gallery: &Path,
    files: &[PathBuf],
    n: usize,
    alt: &Alternate,
) -> Result<PathBuf> {
    let name = gallery
        .file_name()
        .map(|s| s.to_string_lossy().into_owned());
    let dir = work.join(format!("{}-{n}-of-{}", alt.name, name.unwrap_or_default()));
    let done = dir.join("done");
    if done.exists() {
        return Ok(dir);
    }
    eprintln!(
        "bench: encoding {n} photos as {} into {} (once) ...",
        alt.label,
        dir.display()
    );
    for sub in ["jpeg", alt.name] {
        std::fs::create_dir_all(dir.join(sub)).map_err(|e| Error::io(&dir, e))?;
    }
    let jobs: Vec<(usize, &PathBuf)> = files.iter().take(n).enumerate().collect();
    let cores = crate::tooling::cores().max(1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = jobs
            .chunks(jobs.len().div_ceil(cores).max(1))
            .map(|chunk| {
                scope.spawn(|| {
                    chunk.iter().try_for_each(|&(i, src)| {
                        let jpeg = dir.join("jpeg").join(format!("IMG_{i:04}.jpg"));
                        std::fs::copy(src, &jpeg).map_err(|e| Error::io(src, e))?;
                        (alt.encode)(&dir.join(alt.name), i, src)
                    })
                })
            })
            .collect();
        workers
            .into_iter()
            .try_for_each(|w| w.join().expect("an encoding thread panicked"))
    })?;
    std::fs::write(&done, b"").map_err(|e| Error::io(&done, e))?;
    Ok(dir)
}

/// The comparison table: each cold scan, and the format's rate as a share of JPEG's.
pub fn table(runs: &[ScanRun], alt: &Alternate) -> String {
    let (jpeg_name, alt_name) = alt.galleries();
    let cold = |g: &str| runs.iter().find(|r| r.gallery == g && r.kind == "cold");
    let (Some(jpeg), Some(other)) = (cold(&jpeg_name), cold(&alt_name)) else {
        return String::new();
    };
    let mut s = format!(
        "{}\n\n\
         | files | indexed | wall | per s | decode per file (summed over threads) | peak RSS |\n\
         |---|---|---|---|---|---|\n",
        alt.intro
    );
    for (what, r) in [("JPEG", jpeg), (alt.label, other)] {
        let per = r.report.stage_seconds.decode / r.report.indexed.max(1) as f64;
        s += &format!(
            "| {what} | {} | {:.1} s | {:.1} | {:.0} ms | {:.0} MB |\n",
            r.report.indexed,
            r.wall_s,
            r.photos_per_s(),
            per * 1000.0,
            r.peak_rss_mb
        );
    }
    s += &format!(
        "\n{} indexes at {:.2}x the JPEG rate on the same pictures.\n\n",
        alt.label,
        other.photos_per_s() / jpeg.photos_per_s().max(1e-9)
    );
    s
}
