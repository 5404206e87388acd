//! Decode paths, orientation and metadata on real and constructed photos.

use crate::common::*;
use precious_engine::decode::{
    load, resize_exact, DecodePath, FailReason, Strategy, WORKING_SHORT_SIDE,
};
use precious_engine::features::Backbone;
use precious_engine::format::Format;

fn load_file(
    p: &std::path::Path,
    s: Strategy,
) -> Result<precious_engine::decode::Loaded, FailReason> {
    let ext = p.extension().map(|e| e.to_string_lossy().into_owned());
    load(&std::fs::read(p).unwrap(), ext.as_deref(), s)
}

/// Compares at 48 px wide. The samples differ by more than re-encoding (each shows its own
/// orientation number), 13-16 levels even there, but a wrong rotation or flip costs 33-60.
fn coarse_diff(a: &image::RgbImage, b: &image::RgbImage) -> f64 {
    let (w, h) = (48, 48 * b.height() / b.width());
    mean_abs_diff(&resize_exact(a, w, h), &resize_exact(b, w, h))
}

#[test]
fn orientation_tags_are_applied_to_the_working_image() {
    let dir = shared_data().join("exif-samples/orientation");
    for kind in ["landscape", "portrait"] {
        let upright = load_file(&dir.join(format!("{kind}_1.jpg")), Strategy::Fastest).unwrap();
        let (w, h) = upright.decoded.image.dimensions();
        assert_eq!(kind == "landscape", w > h, "{kind}_1 shape");
        for n in 2..=8 {
            let l = load_file(&dir.join(format!("{kind}_{n}.jpg")), Strategy::Fastest).unwrap();
            assert_eq!(l.exif.orientation.0, n as u8);
            assert_eq!(
                (l.decoded.width, l.decoded.height),
                (upright.decoded.width, upright.decoded.height),
                "{kind}_{n} upright size"
            );
            let good = coarse_diff(&l.decoded.image, &upright.decoded.image);
            let mirrored = coarse_diff(
                &image::imageops::flip_horizontal(&l.decoded.image),
                &upright.decoded.image,
            );
            let turned = coarse_diff(
                &image::imageops::rotate180(&l.decoded.image),
                &upright.decoded.image,
            );
            assert!(
                good < 20.0 && good * 2.0 < mirrored.min(turned),
                "{kind}_{n}: {good:.1} vs wrong {mirrored:.1}/{turned:.1}"
            );
        }
    }
}

#[test]
fn constructed_orientations_match_rotated_pixels() {
    // Stored pixels rotated 90 degrees clockwise from upright need orientation 8 to show upright.
    let upright = scene(600, 400);
    let stored = image::imageops::rotate90(&upright);
    let bytes = jpeg_with_exif(&stored, 8, true, None);
    let l = load(&bytes, Some("jpg"), Strategy::Fastest).unwrap();
    assert_eq!((l.decoded.width, l.decoded.height), (600, 400));
    let reference = resize_exact(&upright, l.decoded.image.width(), l.decoded.image.height());
    assert!(mean_abs_diff(&l.decoded.image, &reference) < 4.0);
    assert!(l.exif.has_camera_exif && l.exif.make.as_deref() == Some("TestCam"));
}

#[test]
fn exif_thumbnail_path_agrees_with_full_decode() {
    let backbone = Backbone::shared().unwrap();
    let main = scene(2000, 1500);
    let thumb = resize_exact(&main, 512, 384);
    let bytes = jpeg_with_exif(&main, 1, true, Some(&thumb));
    let fast = load(&bytes, Some("jpg"), Strategy::Fastest).unwrap();
    let dct = load(&bytes, Some("jpg"), Strategy::NoThumbnail).unwrap();
    let full = load(&bytes, Some("jpg"), Strategy::Full).unwrap();
    assert_eq!(fast.decoded.path, DecodePath::ExifThumbnail);
    assert_eq!(dct.decoded.path, DecodePath::DctScaled);
    assert_eq!(full.decoded.path, DecodePath::Full);
    for l in [&fast, &dct, &full] {
        assert_eq!(l.decoded.image.height(), WORKING_SHORT_SIDE);
        assert_eq!((l.decoded.width, l.decoded.height), (2000, 1500));
    }
    let (a, b, c) = (&fast.decoded.image, &dct.decoded.image, &full.decoded.image);
    assert!(
        mean_abs_diff(a, c) < 3.0,
        "thumbnail vs full: {}",
        mean_abs_diff(a, c)
    );
    assert!(
        mean_abs_diff(b, c) < 3.0,
        "DCT-scaled vs full: {}",
        mean_abs_diff(b, c)
    );
    let (ea, ec) = (backbone.embed(a).unwrap(), backbone.embed(c).unwrap());
    assert!(
        cosine(&ea, &ec) > 0.95,
        "embedding cosine {}",
        cosine(&ea, &ec)
    );
}

#[test]
fn real_photos_decode_paths_agree() {
    // The demo gallery's camera photos carry real-world EXIF thumbnails of several sizes.
    let backbone = Backbone::shared().unwrap();
    let mut thumbs_used = 0;
    for e in walkdir::WalkDir::new(demo_gallery().join("DCIM/Camera")).sort_by_file_name() {
        let p = e.unwrap().into_path();
        if !p.is_file() {
            continue;
        }
        let Ok(fast) = load_file(&p, Strategy::Fastest) else {
            continue;
        };
        if fast.decoded.path != DecodePath::ExifThumbnail {
            continue;
        }
        thumbs_used += 1;
        let full = load_file(&p, Strategy::Full).unwrap();
        let (a, c) = (&fast.decoded.image, &full.decoded.image);
        let diff = mean_abs_diff(a, &resize_exact(c, a.width(), a.height()));
        assert!(
            diff < 6.0,
            "{}: thumbnail vs full mean abs diff {diff:.2}",
            p.display()
        );
        let cos = cosine(&backbone.embed(a).unwrap(), &backbone.embed(c).unwrap());
        eprintln!(
            "{}: thumbnail vs full: mean abs diff {diff:.2}, embedding cosine {cos:.3}",
            p.display()
        );
        assert!(cos > 0.9, "{}: embedding cosine {cos:.3}", p.display());
    }
    assert!(
        thumbs_used >= 5,
        "only {thumbs_used} demo photos used their EXIF thumbnail"
    );
}

#[test]
fn small_or_inconsistent_thumbnails_are_not_used() {
    let main = scene(2000, 1500);
    let small = jpeg_with_exif(&main, 1, true, Some(&resize_exact(&main, 160, 120)));
    assert_eq!(
        load(&small, None, Strategy::Fastest).unwrap().decoded.path,
        DecodePath::DctScaled
    );
    // A stale thumbnail (the photo was cropped to 3:2 after the 4:3 thumbnail was written).
    let cropped = image::imageops::crop_imm(&main, 0, 0, 2000, 1333).to_image();
    let stale = jpeg_with_exif(&cropped, 1, true, Some(&resize_exact(&main, 512, 384)));
    assert_eq!(
        load(&stale, None, Strategy::Fastest).unwrap().decoded.path,
        DecodePath::DctScaled
    );
    // Same shape, but the photo was darkened after the thumbnail was written.
    let dark = image::RgbImage::from_fn(2000, 1500, |x, y| {
        let p = main.get_pixel(x, y).0;
        image::Rgb(p.map(|v| v / 3))
    });
    let stale = jpeg_with_exif(&dark, 1, true, Some(&resize_exact(&main, 512, 384)));
    assert_eq!(
        load(&stale, None, Strategy::Fastest).unwrap().decoded.path,
        DecodePath::DctScaled
    );
}

#[test]
fn metadata_from_real_phones_and_cameras() {
    let d = shared_data().join("exif-samples");
    let l = load_file(&d.join("gps/DSCN0010.jpg"), Strategy::Fastest).unwrap();
    assert!(l.exif.has_gps && l.exif.has_camera_exif);
    assert_eq!(l.exif.make.as_deref(), Some("NIKON"));
    assert!(
        l.exif
            .taken_at
            .as_deref()
            .is_some_and(|t| t.starts_with("2008-")),
        "{:?}",
        l.exif.taken_at
    );
    let l = load_file(&d.join("cameras/Canon_40D.jpg"), Strategy::Fastest).unwrap();
    assert_eq!(l.exif.make.as_deref(), Some("Canon"));
    assert!(l.exif.thumbnail.is_some());
    // A generated screenshot has no camera EXIF.
    let shot = walkdir::WalkDir::new(demo_gallery().join("Pictures/Screenshots"))
        .into_iter()
        .filter_map(|e| e.ok())
        .find(|e| e.file_type().is_file())
        .unwrap();
    let l = load_file(shot.path(), Strategy::Fastest).unwrap();
    assert!(!l.exif.has_camera_exif);
}

#[test]
fn bad_and_unsupported_files_get_reasons() {
    let d = shared_data().join("exif-samples");
    for e in std::fs::read_dir(d.join("heic"))
        .unwrap()
        .chain(std::fs::read_dir(d.join("heic/mobile")).unwrap())
    {
        let p = e.unwrap().path();
        if p.is_file() {
            // Decoded where libheif is built in (tests/it/heif.rs), else a reason.
            match load_file(&p, Strategy::Fastest) {
                Ok(l) if cfg!(feature = "heif") => assert_eq!(l.format, Format::Heif),
                Err(FailReason::Unsupported(why)) if !cfg!(feature = "heif") => {
                    assert!(why.contains("HEIC"), "{why}")
                }
                other => panic!("{}: {:?}", p.display(), other.err()),
            }
        }
    }
    // Every invalid sample either decodes or fails with a reason; none may panic or hang.
    for e in std::fs::read_dir(d.join("invalid")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "jpg") {
            if let Err(r) = load_file(&p, Strategy::Fastest) {
                assert!(!r.to_string().is_empty());
            }
        }
    }
    let jpeg = encode_jpeg(&scene(640, 480), 90);
    assert_eq!(
        load(&jpeg[..jpeg.len() / 2], Some("jpg"), Strategy::Full).err(),
        Some(FailReason::Truncated)
    );
    assert_eq!(
        load(&jpeg[..jpeg.len() / 2], Some("jpg"), Strategy::Fastest).err(),
        Some(FailReason::Truncated)
    );
    assert_eq!(
        load(b"", Some("jpg"), Strategy::Fastest).err(),
        Some(FailReason::Corrupt("empty file".into()))
    );
    assert_eq!(
        load(b"definitely not an image", Some("jpg"), Strategy::Fastest).err(),
        Some(FailReason::NotAnImage)
    );
}

#[test]
fn decompression_bombs_are_refused_before_decoding() {
    // A PNG declaring 60000x60000 RGBA (14 GB decoded) with almost no data.
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend(60000u32.to_be_bytes());
    ihdr.extend(60000u32.to_be_bytes());
    ihdr.extend([8, 6, 0, 0, 0]);
    png.extend(13u32.to_be_bytes());
    png.extend(&ihdr);
    png.extend(crc32(&ihdr).to_be_bytes());
    for (kind, data) in [
        (
            &b"IDAT"[..],
            &[0x78u8, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01][..],
        ),
        (b"IEND", &[]),
    ] {
        let mut chunk = kind.to_vec();
        chunk.extend(data);
        png.extend((data.len() as u32).to_be_bytes());
        png.extend(&chunk);
        png.extend(crc32(&chunk).to_be_bytes());
    }
    match load(&png, Some("png"), Strategy::Fastest) {
        Err(FailReason::TooManyPixels {
            width: 60000,
            height: 60000,
            ..
        }) => {}
        other => panic!("{:?}", other.err()),
    }
    // A JPEG whose SOF0 claims 60000x60000.
    let mut jpeg = encode_jpeg(&scene(64, 64), 90);
    let sof = jpeg.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    jpeg[sof + 5..sof + 7].copy_from_slice(&60000u16.to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&60000u16.to_be_bytes());
    match load(&jpeg, Some("jpg"), Strategy::Fastest) {
        Err(FailReason::TooManyPixels { .. }) => {}
        other => panic!("{:?}", other.err()),
    }
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for b in data {
        crc ^= *b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A JPEG from libjpeg-turbo's encoder, which writes the codings the `image` crate's does not.
#[cfg(feature = "turbojpeg")]
fn turbo_jpeg(img: &image::RgbImage, progressive: bool, arithmetic: bool) -> Vec<u8> {
    let mut c = turbojpeg::Compressor::new().unwrap();
    c.set_quality(90).unwrap();
    c.set_progressive(progressive).unwrap();
    c.set_arithmetic(arithmetic).unwrap();
    let (w, h) = (img.width() as usize, img.height() as usize);
    c.compress_to_vec(turbojpeg::Image {
        pixels: img.as_raw().as_slice(),
        width: w,
        pitch: w * 3,
        height: h,
        format: turbojpeg::PixelFormat::RGB,
    })
    .unwrap()
}

/// Sets the width and height in the first frame header (SOF0..SOF15 but DHT/JPG/DAC).
fn patch_frame_size(jpeg: &mut [u8], w: u16, h: u16) {
    let sof = jpeg
        .windows(2)
        .position(|m| m[0] == 0xFF && matches!(m[1], 0xC0..=0xC3 | 0xC9..=0xCB))
        .unwrap();
    jpeg[sof + 5..sof + 7].copy_from_slice(&h.to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&w.to_be_bytes());
}

#[test]
#[cfg(feature = "turbojpeg")]
fn progressive_jpegs_fall_under_the_general_pixel_cap() {
    // Hostile corpus: a 192 MP progressive header with a few KB of data made a scan peak at
    // 646 MB (both decoders keep every coefficient); a sequential one is DCT-scaled.
    let mut progressive = turbo_jpeg(&scene(256, 256), true, false);
    patch_frame_size(&mut progressive, 16000, 12000);
    match load(&progressive, Some("jpg"), Strategy::Fastest) {
        Err(FailReason::TooManyPixels { cap, .. }) => assert_eq!(cap, 40_000_000),
        other => panic!("{:?}", other.err()),
    }
    let mut sequential = turbo_jpeg(&scene(256, 256), false, false);
    patch_frame_size(&mut sequential, 16000, 12000);
    assert!(!matches!(
        load(&sequential, Some("jpg"), Strategy::Fastest),
        Err(FailReason::TooManyPixels { .. })
    ));
}

#[test]
#[cfg(feature = "turbojpeg")]
fn arithmetic_coded_jpegs_decode_through_libjpeg_turbo() {
    use precious_engine::decode::{load_with, JpegCodec};
    let img = scene(640, 480);
    let huffman = load(&turbo_jpeg(&img, false, false), None, Strategy::Fastest).unwrap();
    for progressive in [false, true] {
        let arith = turbo_jpeg(&img, progressive, true);
        let l = load(&arith, Some("jpg"), Strategy::Fastest).unwrap();
        assert_eq!((l.decoded.width, l.decoded.height), (640, 480));
        let diff = mean_abs_diff(&l.decoded.image, &huffman.decoded.image);
        assert!(diff < 1.0, "progressive {progressive}: {diff}");
        // The pure-Rust decoder cannot read them: unsupported, not corrupt.
        match load_with(&arith, None, Strategy::Fastest, JpegCodec::PureRust) {
            Err(FailReason::Unsupported(why)) => assert!(why.contains("arithmetic"), "{why}"),
            other => panic!("{:?}", other.err()),
        }
        // Cut short: truncated, as for Huffman-coded JPEGs.
        assert_eq!(
            load(&arith[..arith.len() / 2], None, Strategy::Fastest).err(),
            Some(FailReason::Truncated)
        );
    }
}

#[test]
fn sixteen_bit_pngs_beyond_the_decode_allocation_are_refused_before_decoding() {
    // Hostile corpus: a 40 MP 16-bit RGBA PNG (318 MB decoded, then its RGB copy) peaked at
    // 498 MB; 8-bit images up to the 40 MP cap still fit.
    let png = |w: u32, h: u32, depth: u8, colour: u8| {
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut ihdr = b"IHDR".to_vec();
        ihdr.extend(w.to_be_bytes());
        ihdr.extend(h.to_be_bytes());
        ihdr.extend([depth, colour, 0, 0, 0]);
        png.extend(13u32.to_be_bytes());
        png.extend(&ihdr);
        png.extend(crc32(&ihdr).to_be_bytes());
        let idat = b"IDAT\x78\x9c\x03\x00\x00\x00\x00\x01";
        png.extend(8u32.to_be_bytes());
        png.extend(idat);
        png.extend(crc32(idat).to_be_bytes());
        png.extend(0u32.to_be_bytes());
        png.extend(b"IEND");
        png.extend(crc32(b"IEND").to_be_bytes());
        png
    };
    match load(&png(6300, 6300, 16, 6), Some("png"), Strategy::Fastest) {
        Err(FailReason::Corrupt(why)) => assert!(why.contains("memory"), "{why}"),
        other => panic!("{:?}", other.err()),
    }
    // The same size in 8-bit RGBA is allowed past the allocation check (then fails on its
    // missing data, not on memory).
    match load(&png(6300, 6300, 8, 6), Some("png"), Strategy::Fastest) {
        Err(FailReason::Corrupt(why)) => assert!(!why.contains("memory"), "{why}"),
        Err(_) => {}
        Ok(_) => panic!("decoded an image without data"),
    }
}

#[test]
fn a_cut_webp_is_truncated() {
    let mut webp = Vec::new();
    image::codecs::webp::WebPEncoder::new_lossless(&mut webp)
        .encode(
            scene(320, 240).as_raw(),
            320,
            240,
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    assert!(load(&webp, Some("webp"), Strategy::Fastest).is_ok());
    assert_eq!(
        load(&webp[..webp.len() / 2], Some("webp"), Strategy::Fastest).err(),
        Some(FailReason::Truncated)
    );
}
