//! `bench index`, part HEIC: the gallery's first JPEGs encoded by libheif's `heif-enc` (apt
//! `libheif-examples`): x265 at quality 50 with a 320-px HEIF thumbnail, as iPhones store
//! photos, and the JPEG's EXIF.

use std::path::Path;
use std::process::Command;

use precious_engine::Result;

use super::side_by_side::Alternate;
use crate::tooling::{invalid, run_tool};

pub const HEIC: Alternate = Alternate {
    name: "heic",
    label: "HEIC",
    intro: "### HEIC beside JPEG, same pictures\n\n\
         The first photos of the gallery above as they are (JPEG) and encoded by `heif-enc` \
         (x265 q50, 320-px HEIF thumbnail, the JPEG's EXIF), each cold-scanned in a child \
         process. libheif has no reduced-scale decode, so every HEIC is decoded at full \
         resolution (the iPhone-style 320x240 thumbnail would need upscaling to the 256-px \
         working image, which the JPEG path refuses too).",
    encode,
};

fn encode(dir: &Path, i: usize, src: &Path) -> Result<()> {
    run_tool(
        Command::new("heif-enc")
            .args(["-q", "50", "-t", "320", "-o"])
            .arg(dir.join(format!("IMG_{i:04}.HEIC")))
            .arg(src),
    )
    .map(drop)
    .map_err(|e| invalid(format!("heif-enc (apt libheif-examples) failed: {e}")))
}
