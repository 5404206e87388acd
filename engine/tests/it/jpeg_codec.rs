//! The JPEG codecs agree: libjpeg-turbo (the `turbojpeg` feature, on by default) and the
//! pure-Rust decoders and encoder give equivalent working images and thumbnails, and the same
//! reasons for files they cannot read. Without the feature both sides are the pure-Rust path,
//! so these tests still pass (trivially) in `--no-default-features` builds.
//!
//! The ignored test measures both codecs on a generated phone gallery:
//! `cargo test -p precious-engine --test it jpeg_codec -- --ignored --nocapture`.

use std::time::Instant;

use crate::common::*;
use precious_engine::decode::{
    decode_with_codec, load_with, FailReason, JpegCodec, Loaded, Strategy,
};
use precious_engine::format::Format;
use precious_engine::metadata::read_exif;
use precious_engine::thumbs::encode_jpeg as thumbnail_jpeg;

const TURBO: JpegCodec = JpegCodec::LibjpegTurbo;
const PURE: JpegCodec = JpegCodec::PureRust;

/// A 40x30 CMYK JPEG (Adobe APP14, inverted), as Pillow writes it.
const CMYK_JPEG_HEX: &[&str] = &[
    "ffd8ffee000e41646f626500640000000000ffdb0043000302020302020303030304030304050805050404050a070706",
    "080c0a0c0c0b0a0b0b0d0e12100d0e110e0b0b1016101113141515150c0f171816141812141514ffc0001408001e0028",
    "044311004d11005911004b1100ffc4001f0000010501010101010100000000000000000102030405060708090a0bffc4",
    "00b5100002010303020403050504040000017d01020300041105122131410613516107227114328191a1082342b1c115",
    "52d1f02433627282090a161718191a25262728292a3435363738393a434445464748494a535455565758595a63646566",
    "6768696a737475767778797a838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2",
    "c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9faffda000e0443004d005900",
    "4b00003f00fce4f02ffcb3afacbfe14d7827fbb07e95fa07ff000b3bfe9b7eb5faa75f447817fe59d1ff000a6bc13fdd",
    "83f4a3fe1677fd36fd68afa23c0bff002ce8ff008535e09feec1fa51ff000b3bfe9b7eb457d11e05ff0096747fc29af0",
    "4ff760fd28ff00859dff004dbf5a2be88f02ff00cb3a3fe14d7827fbb07e947fc2ceff00a6dfad15fceff817fe59d7e6",
    "7ffc362f89bfe7acbfad7c93ff000b3bfe9b7eb457d11e05ff0096747fc362f89bfe7acbfad1ff000b3bfe9b7eb457d1",
    "1e05ff0096747fc362f89bfe7acbfad1ff000b3bfe9b7eb457d11e05ff0096747fc362f89bfe7acbfad1ff000b3bfe9b",
    "7eb457d11e05ff0096747fc362f89bfe7acbfad1ff000b3bfe9b7eb457f3bfe05ff9675f53ff00c302d97fcf15fcabe4",
    "aff859dff4dbf5a2be88f02ffcb3a3fe1816cbfe78afe547fc2ceffa6dfad15f447817fe59d1ff000c0b65ff003c57f2",
    "a3fe1677fd36fd68afa23c0bff002ce8ff008605b2ff009e2bf951ff000b3bfe9b7eb457d11e05ff0096747fc302d97f",
    "cf15fca8ff00859dff004dbf5a2bf9dff02ffcb3ae93fe1afefbfe7ca4fcc7f8d7ca3ff09e5cfa37e7457d11e05ff967",
    "47fc35fdf7fcf949f98ff1a3fe13cb9f46fce8afa23c0bff002ce8ff0086bfbeff009f293f31fe347fc27973e8df9d15",
    "f447817fe59d1ff0d7f7dff3e527e63fc68ff84f2e7d1bf3a2be88f02ffcb3a3fe1afefbfe7ca4fcc7f8d1ff0009e5cf",
    "a37e7457ffd9",
];

fn unhex(lines: &[&str]) -> Vec<u8> {
    let s: String = lines.concat();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn both(
    bytes: &[u8],
    strategy: Strategy,
) -> (Result<Loaded, FailReason>, Result<Loaded, FailReason>) {
    (
        load_with(bytes, Some("jpg"), strategy, TURBO),
        load_with(bytes, Some("jpg"), strategy, PURE),
    )
}

/// Both codecs succeed with working images at most `max_diff` levels apart, or fail alike.
fn assert_agree(what: &str, bytes: &[u8], strategy: Strategy, max_diff: f64) {
    match both(bytes, strategy) {
        (Ok(t), Ok(p)) => {
            let (a, b) = (&t.decoded, &p.decoded);
            assert_eq!(a.path, b.path, "{what}: decode path");
            assert_eq!((a.width, a.height), (b.width, b.height), "{what}: size");
            let diff = mean_abs_diff(&a.image, &b.image);
            assert!(diff <= max_diff, "{what}: mean abs diff {diff:.2}");
        }
        (Err(t), Err(p)) => assert_eq!(t, p, "{what}: reasons"),
        (t, p) => panic!(
            "{what}: libjpeg-turbo {:?} vs pure Rust {:?}",
            t.map(|l| l.decoded.path),
            p.map(|l| l.decoded.path)
        ),
    }
}

#[test]
fn codecs_agree_on_colour_grey_and_cmyk_jpegs() {
    for strategy in [Strategy::NoThumbnail, Strategy::Full] {
        for (w, h) in [
            (2000, 1500),
            (1500, 2000),
            (1100, 700),
            (640, 480),
            (300, 200),
        ] {
            let jpeg = encode_jpeg(&scene(w, h), 90);
            assert_agree(&format!("{w}x{h} {strategy:?}"), &jpeg, strategy, 2.0);
            let grey = image::DynamicImage::ImageRgb8(scene(w, h)).to_luma8();
            let mut grey_jpeg = Vec::new();
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut grey_jpeg, 90)
                .encode_image(&grey)
                .unwrap();
            assert_agree(&format!("grey {w}x{h}"), &grey_jpeg, strategy, 2.0);
        }
        // libjpeg converts no CMYK to RGB: the pure-Rust path decodes it, with either codec.
        let cmyk = unhex(CMYK_JPEG_HEX);
        assert_agree("CMYK", &cmyk, strategy, 0.0);
    }
    let jpeg = encode_jpeg(&scene(2000, 1500), 90);
    let (t, p) = both(&jpeg, Strategy::NoThumbnail);
    let (t, p) = (t.unwrap().decoded.image, p.unwrap().decoded.image);
    assert_eq!(t.dimensions(), (341, 256));
    // Different IDCTs: identical pixels would mean libjpeg-turbo silently fell back.
    assert_eq!(TURBO.available(), t != p);
}

#[test]
fn codecs_fail_alike_on_damaged_jpegs() {
    let jpeg = encode_jpeg(&scene(1600, 1200), 90);
    // Cut in the middle but ending with an EOI: libjpeg warns ("premature end of data"), so
    // the file goes to jpeg-decoder, which pads it as before.
    let mut cut = jpeg[..jpeg.len() / 2].to_vec();
    cut.extend([0xFF, 0xD9]);
    assert_agree("cut with EOI", &cut, Strategy::NoThumbnail, 0.0);
    // Junk before the EOI (libjpeg: "extraneous bytes before marker").
    let mut junk = jpeg[..jpeg.len() - 2].to_vec();
    junk.extend([0x12, 0x34, 0x56, 0xFF, 0xD9]);
    assert_agree("junk before EOI", &junk, Strategy::NoThumbnail, 2.0);
    // Flipped bits in the middle of the scan.
    let mut flipped = jpeg.clone();
    for i in (jpeg.len() / 2..jpeg.len() / 2 + 64).step_by(7) {
        flipped[i] ^= 0x5A;
    }
    assert_agree("flipped bits", &flipped, Strategy::NoThumbnail, 0.0);
    for strategy in [Strategy::Fastest, Strategy::Full] {
        let (t, p) = both(&jpeg[..jpeg.len() / 2], strategy);
        assert_eq!(t.err(), Some(FailReason::Truncated));
        assert_eq!(p.err(), Some(FailReason::Truncated));
    }
    let invalid = shared_data().join("exif-samples/invalid");
    for e in std::fs::read_dir(&invalid).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "jpg") {
            let bytes = std::fs::read(&p).unwrap();
            for strategy in [Strategy::Fastest, Strategy::NoThumbnail, Strategy::Full] {
                assert_agree(&p.display().to_string(), &bytes, strategy, 3.0);
            }
        }
    }
}

#[test]
fn thumbnail_encoders_agree() {
    let img = precious_engine::decode::resize_exact(&scene(2000, 1500), 341, 256);
    let mut sizes = Vec::new();
    for codec in [TURBO, PURE] {
        let jpeg = thumbnail_jpeg(&img, codec).unwrap();
        let back = image::load_from_memory(&jpeg).unwrap().to_rgb8();
        assert_eq!(back.dimensions(), img.dimensions());
        let diff = mean_abs_diff(&back, &img);
        assert!(diff < 2.5, "{codec:?}: mean abs diff {diff:.2}");
        sizes.push(jpeg.len());
    }
    let ratio = sizes[0] as f64 / sizes[1] as f64;
    assert!((0.7..1.3).contains(&ratio), "sizes {sizes:?}");
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Per-photo figures of one codec.
#[derive(Default)]
struct Runs {
    /// ms per DCT-scaled decode to the working image (no EXIF thumbnail).
    dct: Vec<f64>,
    /// ms per scan decode (EXIF thumbnail allowed), by the path taken.
    fastest: std::collections::BTreeMap<&'static str, Vec<f64>>,
    /// ms per thumbnail encode.
    encode: Vec<f64>,
    encoded_bytes: usize,
}

#[test]
#[ignore = "measures; needs target/bench/phone-1000-s1 (tests/tools/make_phone_gallery)"]
fn libjpeg_turbo_vs_pure_rust_on_phone_photos() {
    let dir = std::env::var_os("PRECIOUS_PHONE_GALLERY")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            concat!(env!("CARGO_MANIFEST_DIR"), "/../target/bench/phone-1000-s1").into()
        });
    let n: usize = std::env::var("PRECIOUS_CODEC_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    assert!(TURBO.available(), "built without the turbojpeg feature");
    let files: Vec<Vec<u8>> = walkdir::WalkDir::new(&dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "jpg"))
        .take(n)
        .map(|e| std::fs::read(e.path()).unwrap())
        .collect();
    assert!(!files.is_empty(), "no JPEG under {}", dir.display());
    // One thread, as each scan worker has (jpeg-decoder would otherwise spread its colour
    // conversion over the global rayon pool).
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    pool.install(|| {
        let (mut turbo, mut pure) = (Runs::default(), Runs::default());
        let (mut dct_diffs, mut fast_diffs, mut path_mismatches) = (vec![], vec![], 0);
        for (i, bytes) in files.iter().enumerate() {
            let exif = read_exif(bytes);
            let run = |codec, strategy| {
                let t = Instant::now();
                let d = decode_with_codec(bytes, Format::Jpeg, &exif, strategy, codec).unwrap();
                (d, t.elapsed().as_secs_f64() * 1e3)
            };
            // Alternate the order so neither codec always runs second on a warm cache.
            let order = if i % 2 == 0 {
                [TURBO, PURE]
            } else {
                [PURE, TURBO]
            };
            let mut dct = vec![];
            let mut fast = vec![];
            for codec in order {
                dct.push((codec, run(codec, Strategy::NoThumbnail)));
                fast.push((codec, run(codec, Strategy::Fastest)));
            }
            dct.sort_by_key(|(c, _)| *c != TURBO);
            fast.sort_by_key(|(c, _)| *c != TURBO);
            let [(_, (dt, tdt)), (_, (dp, tdp))] = &dct[..] else {
                unreachable!()
            };
            let [(_, (ft, tft)), (_, (fp, tfp))] = &fast[..] else {
                unreachable!()
            };
            turbo.dct.push(*tdt);
            pure.dct.push(*tdp);
            dct_diffs.push(mean_abs_diff(&dt.image, &dp.image));
            turbo
                .fastest
                .entry(ft.path.as_str())
                .or_default()
                .push(*tft);
            pure.fastest.entry(fp.path.as_str()).or_default().push(*tfp);
            if ft.path == fp.path {
                fast_diffs.push(mean_abs_diff(&ft.image, &fp.image));
            } else {
                path_mismatches += 1;
            }
            for (codec, runs) in [(TURBO, &mut turbo), (PURE, &mut pure)] {
                let t = Instant::now();
                let jpeg = thumbnail_jpeg(&dt.image, codec).unwrap();
                runs.encode.push(t.elapsed().as_secs_f64() * 1e3);
                runs.encoded_bytes += jpeg.len();
            }
        }
        let k = files.len();
        let stats = |v: &[f64]| {
            let max = v.iter().cloned().fold(0.0, f64::max);
            let mean = v.iter().sum::<f64>() / v.len().max(1) as f64;
            format!("mean {mean:.3}, median {:.3}, max {max:.3}", median(v))
        };
        println!("{k} photos from {}, one thread", dir.display());
        println!(
            "DCT-scaled decode to the working image, median ms/photo: libjpeg-turbo {:.2}, \
             pure Rust {:.2}",
            median(&turbo.dct),
            median(&pure.dct)
        );
        println!(
            "  working images, mean abs diff (levels): {}",
            stats(&dct_diffs)
        );
        for (name, runs) in [("libjpeg-turbo", &turbo), ("pure Rust", &pure)] {
            let by_path: Vec<String> = runs
                .fastest
                .iter()
                .map(|(p, v)| format!("{p} {} x {:.2}", v.len(), median(v)))
                .collect();
            let total: f64 = runs.fastest.values().flatten().sum();
            println!(
                "scan decode (EXIF thumbnail allowed), {name}: mean {:.2} ms/photo; by path \
                 (photos x median ms): {}",
                total / k as f64,
                by_path.join(", ")
            );
        }
        println!(
            "  same path chosen for {} of {k}; their working images: {}",
            k - path_mismatches,
            stats(&fast_diffs)
        );
        println!(
            "thumbnail encode, median ms/photo: libjpeg-turbo {:.2}, image crate {:.2}; mean \
             bytes {} vs {}",
            median(&turbo.encode),
            median(&pure.encode),
            turbo.encoded_bytes / k,
            pure.encoded_bytes / k
        );
        let max = dct_diffs.iter().cloned().fold(0.0, f64::max);
        assert!(max < 3.0, "working images differ by up to {max:.2} levels");
    });
}
