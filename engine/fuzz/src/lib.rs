//! Shared by the fuzz targets: the panic policy, how the first input byte picks the options,
//! and the small JPEG/TIFF builders that put fuzzer bytes where the EXIF parser and the
//! thumbnail path look first.
//!
//! Panic policy. The engine catches decoder panics itself (`decode::load_with` wraps the decode
//! in `catch_unwind` and turns a panic into a `FailReason`); anything else that panics (format
//! sniffing, `metadata::read_exif`, or a panic escaping `load_with`) would take a scan's worker
//! down. So the targets run the same entry points the scan runs inside [`guard`]: a panic the
//! engine catches is quiet, a panic that reaches [`guard`] aborts with its message, which
//! libFuzzer records as a crash. (libfuzzer-sys's own hook aborts on *every* panic, caught or
//! not, so [`guard`] replaces it.)

use std::cell::RefCell;
use std::io::Cursor;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Once, OnceLock};

use image::RgbImage;
use precious_engine::decode::{FailReason, JpegCodec, Loaded, Strategy, WORKING_SHORT_SIDE};

thread_local! {
    /// The last panic's message and location, for the report when it was not caught.
    static LAST_PANIC: RefCell<String> = const { RefCell::new(String::new()) };
}

/// `PRECIOUS_FUZZ_VERBOSE` set: print each input's outcome and every panic, caught or not
/// (to see what a seed or an artifact reaches: run the target binary on the file).
pub fn verbose() -> bool {
    static VERBOSE: OnceLock<bool> = OnceLock::new();
    *VERBOSE.get_or_init(|| std::env::var_os("PRECIOUS_FUZZ_VERBOSE").is_some())
}

fn install_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        panic::set_hook(Box::new(move |info| {
            let msg = info.to_string();
            if verbose() {
                eprintln!("(panic, maybe caught by the engine) {msg}");
            }
            LAST_PANIC.with(|p| *p.borrow_mut() = msg);
        }));
    });
}

/// Runs `f`, one of the engine's entry points; a panic escaping it is a finding (abort).
pub fn guard<R>(what: &str, f: impl FnOnce() -> R) -> R {
    install_hook();
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(_) => {
            let msg = LAST_PANIC.with(|p| p.borrow().clone());
            eprintln!("==precious-fuzz== panic not caught by the engine, in {what}: {msg}");
            std::process::abort();
        }
    }
}

/// Extension hints: the ones the scan passes, none, a RAW one (sniffing checks the RAW list
/// before the TIFF magic) and an upper-case one.
pub const EXTENSIONS: [Option<&str>; 8] = [
    Some("jpg"),
    Some("png"),
    Some("gif"),
    Some("webp"),
    None,
    Some("dng"),
    Some("heic"),
    Some("JPEG"),
];

/// Selector bits 0-2: the extension hint.
pub fn extension(sel: u8) -> Option<&'static str> {
    EXTENSIONS[(sel & 7) as usize]
}

/// Selector bits 3-4: the strategy (the scan's, `Fastest`, twice as often).
pub fn strategy(sel: u8) -> Strategy {
    match (sel >> 3) & 3 {
        1 => Strategy::NoThumbnail,
        2 => Strategy::Full,
        _ => Strategy::Fastest,
    }
}

/// Selector bit 5: the JPEG codec.
pub fn codec(sel: u8) -> JpegCodec {
    if sel & 0x20 == 0 {
        JpegCodec::LibjpegTurbo
    } else {
        JpegCodec::PureRust
    }
}

/// What the scan relies on from `load`: a working image with its shorter side exactly
/// [`WORKING_SHORT_SIDE`] and a non-empty full size, or a reason that says something.
pub fn check_loaded(r: &Result<Loaded, FailReason>) {
    if verbose() {
        match r {
            Ok(l) => eprintln!(
                "loaded: {} {}x{} by {}, working image {:?}, EXIF {:?}",
                l.format.name(),
                l.decoded.width,
                l.decoded.height,
                l.decoded.path.as_str(),
                l.decoded.image.dimensions(),
                l.exif
            ),
            Err(reason) => eprintln!("failed: {reason}"),
        }
    }
    match r {
        Ok(l) => {
            let (w, h) = l.decoded.image.dimensions();
            assert_eq!(
                w.min(h),
                WORKING_SHORT_SIDE,
                "working image is {w}x{h} (full size {}x{})",
                l.decoded.width,
                l.decoded.height
            );
            assert!(l.decoded.width > 0 && l.decoded.height > 0);
        }
        Err(reason) => assert!(!reason.to_string().trim().is_empty(), "empty reason"),
    }
}

/// The smooth test scene the thumbnail seeds are drawn from (`engine/fuzz/gen_seeds.py` draws
/// the same one with 8x8 flat blocks): pixel centres, linear in x and y.
pub fn gradient(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        let (u, v) = ((x as f32 + 0.5) / w as f32, (y as f32 + 0.5) / h as f32);
        image::Rgb([
            (40.0 + 170.0 * u) as u8,
            (40.0 + 170.0 * v) as u8,
            (200.0 - 60.0 * (u + v)) as u8,
        ])
    })
}

fn encode(img: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(Cursor::new(&mut out), quality)
        .encode_image(img)
        .expect("encoding a small RGB image cannot fail");
    out
}

/// A minimal valid JPEG (16x16), to wrap fuzzer bytes in.
pub fn tiny_jpeg() -> &'static [u8] {
    static JPEG: OnceLock<Vec<u8>> = OnceLock::new();
    JPEG.get_or_init(|| encode(&gradient(16, 16), 75))
}

/// The main image of the thumbnail target: 512x384, so a 344x258 IFD1 thumbnail of the same
/// scene is big enough, has its aspect ratio and matches its top rows.
pub const MAIN_SIZE: (u32, u32) = (512, 384);

pub fn main_jpeg() -> &'static [u8] {
    static JPEG: OnceLock<Vec<u8>> = OnceLock::new();
    JPEG.get_or_init(|| encode(&gradient(MAIN_SIZE.0, MAIN_SIZE.1), 85))
}

/// Largest APP1 payload (the segment length is 16 bits and counts itself).
pub const MAX_APP1_PAYLOAD: usize = 65533;

/// `jpeg` with an APP1 segment holding `payload` (cut to fit) right after SOI.
pub fn with_app1(jpeg: &[u8], payload: &[u8]) -> Vec<u8> {
    let payload = &payload[..payload.len().min(MAX_APP1_PAYLOAD)];
    let mut out = Vec::with_capacity(jpeg.len() + payload.len() + 4);
    out.extend_from_slice(&jpeg[..2]);
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// An APP1 Exif payload: `Exif\0\0` and the TIFF structure.
pub fn exif_payload(tiff: &[u8]) -> Vec<u8> {
    let mut p = b"Exif\0\0".to_vec();
    p.extend_from_slice(tiff);
    p
}

/// A little-endian TIFF: IFD0 with Orientation, IFD1 pointing at `thumbnail` (appended).
pub fn tiff_with_thumbnail(orientation: u16, thumbnail: &[u8]) -> Vec<u8> {
    let ifd0_at = 8u32;
    let ifd1_at = ifd0_at + 2 + 12 + 4;
    let thumb_at = ifd1_at + 2 + 3 * 12 + 4;
    let mut t = b"II*\0".to_vec();
    t.extend(ifd0_at.to_le_bytes());
    let entry = |t: &mut Vec<u8>, tag: u16, typ: u16, value: u32| {
        t.extend(tag.to_le_bytes());
        t.extend(typ.to_le_bytes());
        t.extend(1u32.to_le_bytes());
        t.extend(value.to_le_bytes());
    };
    t.extend(1u16.to_le_bytes());
    entry(&mut t, 0x0112, 3, orientation as u32);
    t.extend(ifd1_at.to_le_bytes());
    t.extend(3u16.to_le_bytes());
    entry(&mut t, 0x0103, 3, 6); // Compression: JPEG
    entry(&mut t, 0x0201, 4, thumb_at);
    entry(&mut t, 0x0202, 4, thumbnail.len() as u32);
    t.extend(0u32.to_le_bytes());
    debug_assert_eq!(t.len(), thumb_at as usize);
    t.extend_from_slice(thumbnail);
    t
}
