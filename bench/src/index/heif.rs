//! `bench index`, part HEIC: the same pictures as JPEG and as HEIC, cold-scanned side by side,
//! so the HEIC rate reads as a ratio against the JPEG path on the same content.
//!
//! The HEIC files are encoded once into `target/bench/` by libheif's `heif-enc` (apt
//! `libheif-examples`) from the phone-like gallery's first JPEGs: x265 at quality 50 with a
//! 320-px HEIF thumbnail, as iPhones store photos, and the JPEG's EXIF.

use std::path::{Path, PathBuf};
use std::process::Command;

use precious_engine::{Error, Result};

use super::report::ScanRun;
use crate::tooling::{invalid, run_tool};

/// `DIR/jpeg` and `DIR/heic`: the first `n` of `files` as they are and as HEIC.
pub fn heic_set(work: &Path, gallery: &Path, files: &[PathBuf], n: usize) -> Result<PathBuf> {
    let name = gallery
        .file_name()
        .map(|s| s.to_string_lossy().into_owned());
    let dir = work.join(format!("heic-{n}-of-{}", name.unwrap_or_default()));
    let done = dir.join("done");
    if done.exists() {
        return Ok(dir);
    }
    eprintln!(
        "bench: encoding {n} photos as HEIC into {} (once) ...",
        dir.display()
    );
    for sub in ["jpeg", "heic"] {
        std::fs::create_dir_all(dir.join(sub)).map_err(|e| Error::io(&dir, e))?;
    }
    // One heif-enc per core (x265 takes seconds per photo).
    let jobs: Vec<(usize, &PathBuf)> = files.iter().take(n).enumerate().collect();
    let cores = crate::tooling::cores().max(1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = jobs
            .chunks(jobs.len().div_ceil(cores).max(1))
            .map(|chunk| {
                scope.spawn(|| chunk.iter().try_for_each(|&(i, src)| encode(&dir, i, src)))
            })
            .collect();
        workers
            .into_iter()
            .try_for_each(|w| w.join().expect("an encoding thread panicked"))
    })?;
    std::fs::write(&done, b"").map_err(|e| Error::io(&done, e))?;
    Ok(dir)
}

/// Copies photo `i` into `dir/jpeg` and encodes it into `dir/heic`.
fn encode(dir: &Path, i: usize, src: &Path) -> Result<()> {
    let jpeg = dir.join("jpeg").join(format!("IMG_{i:04}.jpg"));
    std::fs::copy(src, &jpeg).map_err(|e| Error::io(src, e))?;
    let heic = dir.join("heic").join(format!("IMG_{i:04}.HEIC"));
    run_tool(
        Command::new("heif-enc")
            .args(["-q", "50", "-t", "320", "-o"])
            .arg(&heic)
            .arg(src),
    )
    .map(drop)
    .map_err(|e| invalid(format!("heif-enc (apt libheif-examples) failed: {e}")))
}

/// The comparison table: each format's cold scan, and HEIC's rate as a share of JPEG's.
pub fn table(runs: &[ScanRun]) -> String {
    let cold = |g: &str| runs.iter().find(|r| r.gallery == g && r.kind == "cold");
    let (Some(jpeg), Some(heic)) = (cold("heic-set-jpeg"), cold("heic-set-heic")) else {
        return String::new();
    };
    let mut s = String::from(
        "### HEIC beside JPEG, same pictures\n\n\
         The first photos of the gallery above as they are (JPEG) and encoded by `heif-enc` \
         (x265 q50, 320-px HEIF thumbnail, the JPEG's EXIF), each cold-scanned in a child \
         process. libheif has no reduced-scale decode, so every HEIC is decoded at full \
         resolution (the iPhone-style 320x240 thumbnail would need upscaling to the 256-px \
         working image, which the JPEG path refuses too).\n\n\
         | files | photos | wall | photos/s | decode per photo (summed over threads) | peak RSS |\n\
         |---|---|---|---|---|---|\n",
    );
    for (what, r) in [("JPEG", jpeg), ("HEIC", heic)] {
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
        "\nHEIC indexes at {:.2}x the JPEG rate on the same pictures.\n\n",
        heic.photos_per_s() / jpeg.photos_per_s().max(1e-9)
    );
    s
}
