//! Every file in `tests/fixtures/fuzz/` through the scan's entry point (`decode::load_with`, with
//! each strategy and JPEG codec) and the EXIF reader: each must come back, as a working image
//! or as a failure with a reason, never as a panic, abort or hang.
//!
//! The folder holds inputs the fuzz targets (`engine/fuzz`, run by `tests/tools/fuzz`) found
//! problems with, once fixed (`finding-*`: a working image of gigabytes for an elongated image,
//! a 200 MP EXIF thumbnail decoded at full size, an EXIF thumbnail range pointing elsewhere),
//! and the seeds that reach the deep paths
//! (`engine/fuzz/gen_seeds.py --files`): the EXIF thumbnail, DCT-scaled and full decodes, EXIF
//! with sub-IFDs in both byte orders, progressive, restart-interval and truncated JPEGs, PNG,
//! GIF and lossless WebP. The extension in a file's name is the hint `load_with` gets.

use std::path::PathBuf;

use precious_engine::decode::{
    load_with, DecodePath, JpegCodec, Strategy, MAX_ASPECT_RATIO, WORKING_SHORT_SIDE,
};
use precious_engine::metadata::read_exif;

fn fixtures() -> Vec<PathBuf> {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/fuzz"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n != "README.md"))
        .collect();
    files.sort();
    files
}

#[test]
fn fuzz_fixtures_load_or_fail_with_a_reason() {
    let files = fixtures();
    assert!(files.len() >= 10, "only {} fixtures", files.len());
    let codecs: Vec<JpegCodec> = [JpegCodec::LibjpegTurbo, JpegCodec::PureRust]
        .into_iter()
        .filter(|c| c.available())
        .collect();
    let mut paths = Vec::new();
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        let name = file.file_name().unwrap().to_string_lossy();
        let ext = file.extension().map(|e| e.to_string_lossy().into_owned());
        let exif = read_exif(&bytes);
        // `decode` slices the file with it: inside, and a JPEG (finding-exif-thumbnail-*).
        if let Some(r) = &exif.thumbnail {
            assert!(r.end <= bytes.len(), "{name}: {r:?} outside the file");
            assert!(
                bytes[r.clone()].starts_with(&[0xFF, 0xD8]),
                "{name}: {r:?} is no JPEG"
            );
        }
        for strategy in [Strategy::Fastest, Strategy::NoThumbnail, Strategy::Full] {
            for &codec in &codecs {
                match load_with(&bytes, ext.as_deref(), strategy, codec) {
                    Ok(l) => {
                        let (w, h) = l.decoded.image.dimensions();
                        assert_eq!(
                            w.min(h),
                            WORKING_SHORT_SIDE,
                            "{name} {strategy:?} {codec:?}"
                        );
                        // Bounded whatever the file declares (finding-oom-elongated-*).
                        assert!(w.max(h) as u64 <= WORKING_SHORT_SIDE as u64 * MAX_ASPECT_RATIO);
                        if strategy == Strategy::Fastest && codec == JpegCodec::DEFAULT {
                            paths.push(l.decoded.path);
                        }
                    }
                    Err(reason) => {
                        assert!(
                            !reason.to_string().trim().is_empty(),
                            "{name} {strategy:?} {codec:?}: empty reason"
                        );
                    }
                }
            }
        }
    }
    // Not vacuous: the seeds reach every decode path the scan takes.
    for path in [
        DecodePath::ExifThumbnail,
        DecodePath::DctScaled,
        DecodePath::Full,
    ] {
        assert!(paths.contains(&path), "no fixture decodes by {path:?}");
    }
}
