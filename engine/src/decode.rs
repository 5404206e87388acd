//! From file bytes to the *working image*: upright RGB with its shorter side exactly
//! [`WORKING_SHORT_SIDE`] pixels. Everything derived (backbone input, HOG, quality signals,
//! perceptual hash, UI thumbnail) comes from this one image, so each photo is decoded once.
//!
//! Cheapest path first: a big-enough, consistent EXIF thumbnail; else a JPEG decoded at 1/2..1/8
//! scale in the DCT domain; full decode only where neither applies (PNG, WebP, GIF, HEIF, odd
//! JPEGs).
//!
//! HEIF (HEIC, AVIF) goes through the gallery source's [`PlatformDecoder`] when it has one (the
//! phones' system decoders), else through libheif (feature `heif`, desktop), else it is
//! reported as unsupported.
//!
//! JPEGs go through libjpeg-turbo when the `turbojpeg` feature is on (desktop), and through the
//! pure-Rust decoders (jpeg-decoder, the `image` crate) otherwise or when libjpeg-turbo fails or
//! warns on a file, so failure reasons stay those of the pure-Rust decoders: see [`JpegCodec`].

use std::fmt;
use std::io::Cursor;

use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};
use image::{ImageReader, RgbImage};
use serde::Serialize;

use crate::format::{self, Format, Sniffed};
use crate::metadata::{self, Exif, Orientation};

#[cfg(feature = "turbojpeg")]
#[path = "jpeg_turbo.rs"]
pub(crate) mod turbo;

#[cfg(feature = "heif")]
#[path = "heif.rs"]
mod heif;

/// Shorter side of the working image: the backbone's documented preprocessing resizes the
/// shorter side to 256 and centre-crops 224.
pub const WORKING_SHORT_SIDE: u32 = 256;
/// An EXIF thumbnail is used only if it needs no upscaling. Measured on the demo gallery: a
/// 320x240 thumbnail upscaled to 256 gave embeddings as far as cosine 0.87 from the full
/// decode's; 512x384 thumbnails stay above 0.9 (see `tests/decode.rs`).
pub const MIN_THUMBNAIL_SHORT_SIDE: u32 = WORKING_SHORT_SIDE;
/// Relative aspect-ratio difference above which a thumbnail is taken as stale (the photo was
/// cropped or rotated by an editor that kept the old thumbnail) or letterboxed.
const MAX_THUMBNAIL_ASPECT_DIFF: f64 = 0.02;
/// Larger EXIF thumbnails are not used (the main image is decoded instead): this path decodes
/// the thumbnail at full size, so its declared size needs a bound of its own. Real IFD1
/// thumbnails fit in the 64 KB APP1 segment, far below 1 MP. Found with the decode fuzz target
/// (`engine/fuzz`): a 600-byte JPEG whose thumbnail declared the main image's 200 MP had
/// jpeg-decoder allocate gigabytes and spend over 30 s (instrumented) on it.
const MAX_THUMBNAIL_PIXELS: u64 = 4_000_000;
/// Declared-size caps. Sequential JPEGs are decoded at up to 1/8 scale, so they may declare
/// more. Progressive (and arithmetic-coded progressive) JPEGs fall under the general cap: both
/// decoders keep every DCT coefficient of the whole image until the last scan, whatever the
/// output scale (2-6 bytes per pixel), so a 192 MP progressive header with a few KB of data
/// made a scan peak at 646 MB (`precious-bench reliability`, part hostile).
pub const MAX_JPEG_PIXELS: u64 = 200_000_000;
pub const MAX_OTHER_PIXELS: u64 = 40_000_000;
/// Bytes any single decode may allocate (guards formats whose header lies about the size).
/// The largest 8-bit image under [`MAX_OTHER_PIXELS`] (RGBA, 160 MB) fits; 16-bit images above
/// 21-28 MP do not: at 512 MiB a 40 MP 16-bit RGBA PNG (318 MB decoded, then its RGB copy)
/// peaked at 498 MB in one scan, beyond the hostile-input bound of 400 MB.
const MAX_DECODE_ALLOC: u64 = 160 << 20;
/// Aspect-ratio cap (longer side over shorter), checked with the declared sizes. The working
/// image keeps its shorter side at [`WORKING_SHORT_SIDE`], so its size grows with the aspect
/// ratio, whatever the pixel count: found by fuzzing (`engine/fuzz`, decode target), a
/// 4 KB 65535x1 JPEG or a 1 KB 1x65535 GIF asked for a 256x16.7M working image (12.9 GB), a
/// 300-byte 1x100000 PNG for 19.7 GB, and a 20000x2 JPEG spent seconds resizing to 2 GB. At
/// 64:1 the working image stays within 256x16384 (12 MB), and panoramas and long scrolling
/// screenshots (1080x69000) still index.
pub const MAX_ASPECT_RATIO: u64 = 64;

/// How the working image was obtained.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DecodePath {
    ExifThumbnail,
    DctScaled,
    Full,
}

impl DecodePath {
    pub fn as_str(self) -> &'static str {
        match self {
            DecodePath::ExifThumbnail => "exif_thumbnail",
            DecodePath::DctScaled => "dct_scaled",
            DecodePath::Full => "full",
        }
    }
}

/// Why a file could not be indexed, in words for the user.
#[derive(Clone, Debug, PartialEq)]
pub enum FailReason {
    Unsupported(&'static str),
    NotAnImage,
    Truncated,
    TooManyPixels {
        width: u64,
        height: u64,
        cap: u64,
    },
    TooElongated {
        width: u64,
        height: u64,
    },
    Corrupt(String),
    Io(String),
    /// A video whose container or frames cannot be read.
    CorruptVideo(String),
    /// A video that this build cannot take a frame of (no platform decoder, no ffmpeg), with
    /// what its container says.
    NoFrameDecoder(String),
}

impl FailReason {
    pub fn is_unsupported(&self) -> bool {
        matches!(
            self,
            FailReason::Unsupported(_) | FailReason::NoFrameDecoder(_)
        )
    }
}

impl fmt::Display for FailReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailReason::Unsupported(why) => write!(f, "unsupported format: {why}"),
            FailReason::NotAnImage => write!(f, "not an image (unrecognised content)"),
            FailReason::Truncated => write!(f, "truncated: the image data ends early"),
            FailReason::TooManyPixels { width, height, cap } => write!(
                f,
                "too many pixels: {width}x{height} ({} MP) exceeds the {} MP cap",
                width * height / 1_000_000,
                cap / 1_000_000
            ),
            FailReason::TooElongated { width, height } => write!(
                f,
                "too elongated: {width}x{height} exceeds the {MAX_ASPECT_RATIO}:1 aspect ratio cap"
            ),
            FailReason::Corrupt(why) => write!(f, "corrupt image: {why}"),
            FailReason::Io(why) => write!(f, "{why}"),
            FailReason::CorruptVideo(why) => write!(f, "corrupt video: {why}"),
            FailReason::NoFrameDecoder(what) => write!(
                f,
                "{what}: no video decoder here to take a frame of it (desktop: install ffmpeg)"
            ),
        }
    }
}

/// The decoded, upright, resized photo plus the facts learnt while decoding.
pub struct Decoded {
    pub image: RgbImage,
    pub path: DecodePath,
    /// Upright (orientation applied) size of the full image.
    pub width: u32,
    pub height: u32,
    /// The full-resolution image as stored (not yet upright), when this path decoded it anyway
    /// (PNG, WebP, GIF, JPEGs too small to scale, fallbacks): [`detail`] cuts the blur window
    /// from it instead of decoding again. Up to 160 MB: [`detail`] takes it, and it goes with
    /// the [`Loaded`] otherwise.
    pub full: Option<RgbImage>,
}

/// Which decode paths may be used. Scans use [`Strategy::Fastest`]; the others exist to
/// compare paths (tests, benchmarks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// EXIF thumbnail, else DCT-scaled JPEG, else full decode.
    Fastest,
    /// Never the EXIF thumbnail.
    NoThumbnail,
    /// Always the full-resolution decode.
    Full,
}

/// Which decoder reads JPEGs: the main image, the EXIF thumbnail and the partial decode that
/// checks the thumbnail. Scans use [`JpegCodec::DEFAULT`]; the choice exists to compare codecs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JpegCodec {
    /// libjpeg-turbo, with the pure-Rust decoders as the fallback for any file it fails or
    /// warns on (CMYK, 12-bit, damaged data). Without the `turbojpeg` feature, the same as
    /// [`JpegCodec::PureRust`].
    LibjpegTurbo,
    /// jpeg-decoder for DCT-scaled decodes, the `image` crate for full ones.
    PureRust,
}

impl JpegCodec {
    pub const DEFAULT: JpegCodec = if cfg!(feature = "turbojpeg") {
        JpegCodec::LibjpegTurbo
    } else {
        JpegCodec::PureRust
    };

    /// Whether this build has the codec (libjpeg-turbo needs the `turbojpeg` feature).
    pub fn available(self) -> bool {
        match self {
            JpegCodec::LibjpegTurbo => cfg!(feature = "turbojpeg"),
            JpegCodec::PureRust => true,
        }
    }
}

/// A file's bytes, understood: its format, EXIF and working image.
pub struct Loaded {
    pub format: Format,
    pub exif: Exif,
    pub decoded: Decoded,
}

/// Sniffs the format from the content, reads EXIF and decodes. `extension` only helps to name
/// formats that are recognised but unsupported (camera RAW).
pub fn load(
    bytes: &[u8],
    extension: Option<&str>,
    strategy: Strategy,
) -> Result<Loaded, FailReason> {
    load_with(bytes, extension, strategy, JpegCodec::DEFAULT)
}

/// [`load`] with a chosen JPEG codec.
pub fn load_with(
    bytes: &[u8],
    extension: Option<&str>,
    strategy: Strategy,
    codec: JpegCodec,
) -> Result<Loaded, FailReason> {
    load_using(bytes, extension, strategy, codec, None)
}

/// How the scan and the training views load a photo read from a gallery source: the source's
/// decoder where it has one, the locator's extension as the format hint.
pub fn load_from(
    source: &dyn crate::GallerySource,
    locator: &crate::Locator,
    bytes: &[u8],
    strategy: Strategy,
) -> Result<Loaded, FailReason> {
    let ext = locator
        .to_path()
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase());
    load_using(
        bytes,
        ext.as_deref(),
        strategy,
        JpegCodec::DEFAULT,
        source.decoder(),
    )
}

/// A decoder the platform provides for formats a build cannot decode itself: HEIF on phones,
/// where libheif is not built but Android's `ImageDecoder` (API 28+) and iOS's ImageIO decode
/// it in hardware. A gallery source hands it to the scan ([`crate::GallerySource::decoder`]);
/// the JPEG, PNG, WebP and GIF paths stay the engine's own on every platform, so features do
/// not depend on the phone's codecs. See docs/mobile.md.
pub trait PlatformDecoder: Sync {
    /// Whether it decodes `format`.
    fn decodes(&self, format: Format) -> bool;
    /// The image, upright (the file's own rotation applied), either at full resolution or
    /// subsampled (Android's `setTargetSize`, ImageIO's thumbnail at a maximum pixel size) with
    /// its shorter side still at least `min_short_side`; and the full image's upright size.
    fn decode(
        &self,
        bytes: &[u8],
        format: Format,
        min_short_side: u32,
    ) -> Result<(RgbImage, (u32, u32)), FailReason>;
    /// One frame of a video at `at_ms`, upright, with its shorter side at `short_side`
    /// (Android: `MediaMetadataRetriever.getScaledFrameAtTime`; iOS: `AVAssetImageGenerator`),
    /// or `None` if this decoder takes no video frames.
    fn video_frame(
        &self,
        _locator: &crate::Locator,
        _at_ms: u64,
        _short_side: u32,
    ) -> Option<Result<RgbImage, FailReason>> {
        None
    }
}

/// [`load_with`], with the gallery source's own decoder for what it decodes.
pub fn load_using(
    bytes: &[u8],
    extension: Option<&str>,
    strategy: Strategy,
    codec: JpegCodec,
    platform: Option<&dyn PlatformDecoder>,
) -> Result<Loaded, FailReason> {
    let format = match format::sniff(&bytes[..bytes.len().min(64)], extension) {
        Sniffed::Supported(f) => f,
        Sniffed::Unsupported(why) => return Err(FailReason::Unsupported(why)),
        Sniffed::Video(_) => return Err(FailReason::Unsupported("a video, not a still image")),
        Sniffed::Unknown if bytes.is_empty() => {
            return Err(FailReason::Corrupt("empty file".into()))
        }
        Sniffed::Unknown => return Err(FailReason::NotAnImage),
    };
    let mut exif = metadata::read_exif(bytes);
    if format == Format::Heif {
        // Decoders of HEIF apply the file's transformations: the pixels come upright.
        exif.orientation = Orientation::UPRIGHT;
    }
    let platform = platform.filter(|p| p.decodes(format));
    // Third-party decoders are not trusted to never panic on hostile input: a panic becomes
    // this file's failure, not the scan's.
    let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match platform {
        Some(p) => decode_platform(p, bytes, format),
        None => decode_with_codec(bytes, format, &exif, strategy, codec),
    }))
    .unwrap_or_else(|_| {
        Err(FailReason::Corrupt(
            "the decoder crashed on this file".into(),
        ))
    })?;
    Ok(Loaded {
        format,
        exif,
        decoded,
    })
}

/// A platform decode, resized to the working image; the full image is kept for the blur
/// window only when the platform gave it at full resolution.
fn decode_platform(
    p: &dyn PlatformDecoder,
    bytes: &[u8],
    format: Format,
) -> Result<Decoded, FailReason> {
    let (img, (width, height)) = p.decode(bytes, format, WORKING_SHORT_SIDE)?;
    check_pixels(img.width() as u64, img.height() as u64, MAX_OTHER_PIXELS)?;
    let full = img.dimensions() == (width, height);
    Ok(Decoded {
        image: resize_short_side(&img, WORKING_SHORT_SIDE),
        path: if full {
            DecodePath::Full
        } else {
            DecodePath::DctScaled
        },
        width,
        height,
        full: full.then_some(img),
    })
}

pub fn decode_with(
    bytes: &[u8],
    format: Format,
    exif: &Exif,
    strategy: Strategy,
) -> Result<Decoded, FailReason> {
    decode_with_codec(bytes, format, exif, strategy, JpegCodec::DEFAULT)
}

pub fn decode_with_codec(
    bytes: &[u8],
    format: Format,
    exif: &Exif,
    strategy: Strategy,
    codec: JpegCodec,
) -> Result<Decoded, FailReason> {
    let (stored, path) = match format {
        Format::Jpeg => decode_jpeg(bytes, exif, strategy, codec)?,
        Format::Heif => {
            let img = decode_heif(bytes)?;
            let dims = img.dimensions();
            ((img, dims), DecodePath::Full)
        }
        _ => {
            let img = decode_full(bytes, MAX_OTHER_PIXELS).map_err(|e| riff_cut(bytes, e))?;
            let dims = img.dimensions();
            ((img, dims), DecodePath::Full)
        }
    };
    let (img, (w, h)) = stored;
    let o = match format {
        Format::Heif => Orientation::UPRIGHT,
        _ => exif.orientation,
    };
    let (width, height) = if o.swaps_axes() { (h, w) } else { (w, h) };
    let image = o.apply(resize_short_side(&img, WORKING_SHORT_SIDE));
    let full = (img.dimensions() == (w, h)).then_some(img);
    Ok(Decoded {
        image,
        path,
        width,
        height,
        full,
    })
}

/// HEIF through libheif, upright and at full resolution (libheif cannot decode at a reduced
/// scale).
#[cfg(feature = "heif")]
fn decode_heif(bytes: &[u8]) -> Result<RgbImage, FailReason> {
    heif::decode(bytes)
}

#[cfg(not(feature = "heif"))]
fn decode_heif(_: &[u8]) -> Result<RgbImage, FailReason> {
    Err(FailReason::Unsupported(
        "HEIC/HEIF: this build has no HEIF decoder (desktop builds use libheif)",
    ))
}

/// An image as stored (not yet oriented) and the full image's stored size.
type Stored = (RgbImage, (u32, u32));

fn decode_jpeg(
    bytes: &[u8],
    exif: &Exif,
    strategy: Strategy,
    codec: JpegCodec,
) -> Result<(Stored, DecodePath), FailReason> {
    let mut dec = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    if let Err(e) = dec.read_info() {
        // jpeg-decoder reads no arithmetic-coded JPEG; libjpeg-turbo does.
        if codec == JpegCodec::LibjpegTurbo
            && matches!(
                e,
                jpeg_decoder::Error::Unsupported(
                    jpeg_decoder::UnsupportedFeature::ArithmeticEntropyCoding
                )
            )
        {
            return decode_arithmetic(bytes, strategy).unwrap_or_else(|| Err(jpeg_reason(e)));
        }
        return Err(jpeg_reason(e));
    }
    let info = dec.info().ok_or(FailReason::Truncated)?;
    let (w, h) = (info.width as u32, info.height as u32);
    let cap = match info.coding_process {
        jpeg_decoder::CodingProcess::DctProgressive => MAX_OTHER_PIXELS,
        _ => MAX_JPEG_PIXELS,
    };
    check_pixels(w as u64, h as u64, cap)?;
    // Decoders pad a cut-off scan with grey and report success: check for the end marker.
    if !has_end_of_image(bytes) {
        return Err(FailReason::Truncated);
    }

    let thumb = exif
        .thumbnail
        .clone()
        .filter(|_| strategy == Strategy::Fastest);
    let thumb = thumb.and_then(|r| usable_thumbnail(&bytes[r], w, h, codec));
    if let Some(thumb) = thumb.filter(|t| thumbnail_matches(bytes, t, w, h, codec)) {
        return Ok(((thumb, (w, h)), DecodePath::ExifThumbnail));
    }
    if codec == JpegCodec::LibjpegTurbo {
        let denom = dct_denominator(strategy, w, h);
        if let Some(img) = decode_turbo(bytes, denom, (w, h), false) {
            let path = if denom > 1 {
                DecodePath::DctScaled
            } else {
                DecodePath::Full
            };
            return Ok(((img, (w, h)), path));
        }
    }
    if strategy == Strategy::Full {
        return Ok((
            (decode_full(bytes, MAX_JPEG_PIXELS)?, (w, h)),
            DecodePath::Full,
        ));
    }
    // jpeg-decoder picks the smallest 1/8..1 scale reaching the request in one axis; asking
    // for the proportional size makes both axes reach the working size.
    let short = w.min(h).max(1);
    let req = |side: u32| {
        (side as u64 * WORKING_SHORT_SIDE as u64)
            .div_ceil(short as u64)
            .min(u16::MAX as u64) as u16
    };
    match info.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 | jpeg_decoder::PixelFormat::L8 => {
            let (sw, sh) = dec.scale(req(w), req(h)).map_err(jpeg_reason)?;
            match dec.decode() {
                Ok(px) => {
                    let img = to_rgb(px, sw as u32, sh as u32, info.pixel_format)?;
                    let path = if (sw as u32) < w {
                        DecodePath::DctScaled
                    } else {
                        DecodePath::Full
                    };
                    Ok(((img, (w, h)), path))
                }
                Err(jpeg_decoder::Error::Unsupported(_)) => Ok((
                    (decode_full(bytes, MAX_JPEG_PIXELS)?, (w, h)),
                    DecodePath::Full,
                )),
                Err(e) => Err(jpeg_reason(e)),
            }
        }
        // CMYK and 16-bit JPEGs are rare: the general decoder converts them to RGB.
        _ => Ok((
            (decode_full(bytes, MAX_JPEG_PIXELS)?, (w, h)),
            DecodePath::Full,
        )),
    }
}

/// The libjpeg-turbo DCT scale (1/denominator) for a `w`x`h` JPEG: the smallest of 1/8..1
/// keeping the shorter side at least the working size, as jpeg-decoder picks; 1 for `Full`.
fn dct_denominator(strategy: Strategy, w: u32, h: u32) -> u32 {
    match strategy {
        Strategy::Full => 1,
        _ => [8, 4, 2]
            .into_iter()
            .find(|d| w.min(h).div_ceil(*d) >= WORKING_SHORT_SIDE)
            .unwrap_or(1),
    }
}

/// An arithmetic-coded JPEG (SOF9 sequential, SOF10 progressive), which only libjpeg-turbo
/// decodes: the same caps and end-marker check as [`decode_jpeg`], then libjpeg-turbo at the
/// DCT scale it would use. `Some(Err)` is a refusal with a reason; `None` means libjpeg-turbo
/// could not decode it either (the caller then gives jpeg-decoder's reason: unsupported).
fn decode_arithmetic(
    bytes: &[u8],
    strategy: Strategy,
) -> Option<Result<(Stored, DecodePath), FailReason>> {
    let (marker, w, h) = frame_header(bytes)?;
    let cap = if marker == 0xCA {
        MAX_OTHER_PIXELS
    } else {
        MAX_JPEG_PIXELS
    };
    if let Err(e) = check_pixels(w as u64, h as u64, cap) {
        return Some(Err(e));
    }
    if !has_end_of_image(bytes) {
        return Some(Err(FailReason::Truncated));
    }
    let denom = dct_denominator(strategy, w, h);
    let img = decode_turbo(bytes, denom, (w, h), false)?;
    let path = if denom > 1 {
        DecodePath::DctScaled
    } else {
        DecodePath::Full
    };
    Some(Ok(((img, (w, h)), path)))
}

/// The main image's frame header: its SOFn marker byte, width and height. Segments are
/// skipped by their lengths, like [`first_scan`].
fn frame_header(bytes: &[u8]) -> Option<(u8, u32, u32)> {
    let mut i = 2; // after SOI
    while i + 4 <= bytes.len() {
        if bytes[i] != 0xFF {
            return None;
        }
        match bytes[i + 1] {
            0xFF => i += 1,
            0xDA => return None,
            m @ (0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF) => {
                let f = bytes.get(i + 5..i + 9)?;
                let h = u16::from_be_bytes([f[0], f[1]]) as u32;
                let w = u16::from_be_bytes([f[2], f[3]]) as u32;
                return Some((m, w, h));
            }
            _ => i += 2 + u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]) as usize,
        }
    }
    None
}

/// libjpeg-turbo's decode at 1/`denom` scale, or `None` to leave the file to the pure-Rust
/// decoders: not built in, a failure, a warning on damaged data (unless `damage_ok`), or an
/// output above the allocation bound (the `image` crate then refuses the file with the usual
/// reason).
#[allow(unused_variables)]
fn decode_turbo(bytes: &[u8], denom: u32, size: (u32, u32), damage_ok: bool) -> Option<RgbImage> {
    #[cfg(feature = "turbojpeg")]
    {
        let out = (size.0.div_ceil(denom) as u64) * (size.1.div_ceil(denom) as u64) * 3;
        if out <= MAX_DECODE_ALLOC {
            return turbo::decode_rgb(bytes, denom, size)
                .ok()
                .filter(|d| damage_ok || d.warning.is_none())
                .map(|d| d.image);
        }
    }
    None
}

/// Offset of the main image's first scan (SOS marker). Segments before it are skipped by
/// their lengths, so markers inside APP1 (an EXIF thumbnail's own SOS/EOI) do not count.
fn first_scan(bytes: &[u8]) -> Option<usize> {
    let mut i = 2; // after SOI
    while i + 4 <= bytes.len() {
        if bytes[i] != 0xFF {
            return None;
        }
        match bytes[i + 1] {
            0xFF => i += 1, // fill byte
            0xDA => return Some(i),
            _ => i += 2 + u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]) as usize,
        }
    }
    None
}

/// Whether the main image is complete: an EOI marker follows its first scan. Entropy-coded
/// data never holds FF D9 (0xFF is stuffed as FF 00), so any FF D9 after the scan start is the
/// image's end or lies in data appended after it (motion photos), which is fine.
fn has_end_of_image(bytes: &[u8]) -> bool {
    first_scan(bytes).is_some_and(|sos| bytes[sos..].windows(2).rev().any(|w| w == [0xFF, 0xD9]))
}

/// Share of the main image's scan data decoded to check a thumbnail against it.
const CHECK_PREFIX: usize = 6;
/// Mean absolute difference (0..=255 levels) above which a thumbnail is stale.
const MAX_THUMBNAIL_DIFF: f64 = 12.0;

/// Checks a thumbnail against the main image without decoding all of it: the first 1/6 of the
/// scan data decoded at 1/8 scale gives the top rows of the image (the decoder pads the rest), and
/// the top 5% of rows must match the thumbnail's. Catches edits that kept the old thumbnail
/// (exposure, colour, content changes); blur-only edits are invisible at this scale.
fn thumbnail_matches(bytes: &[u8], thumb: &RgbImage, w: u32, h: u32, codec: JpegCodec) -> bool {
    let Some(sos) = first_scan(bytes) else {
        return false;
    };
    // An EOI right after the cut makes the decoder pad the rest instead of failing (libjpeg
    // warns about the early end: expected here).
    let mut prefix = bytes[..sos + (bytes.len() - sos) / CHECK_PREFIX].to_vec();
    prefix.extend([0xFF, 0xD9]);
    let turbo = match codec {
        JpegCodec::LibjpegTurbo => decode_turbo(&prefix, 8, (w, h), true),
        JpegCodec::PureRust => None,
    };
    let main = match turbo {
        Some(main) => main,
        None => match partial_eighth(prefix, w, h) {
            Some(main) => main,
            None => return false,
        },
    };
    let (sw, sh) = main.dimensions();
    let small = resize_exact(thumb, sw, sh);
    let rows = (sh as usize / 20).max(2).min(sh as usize);
    let n = rows * sw as usize * 3;
    let diff: u64 = main.as_raw()[..n]
        .iter()
        .zip(&small.as_raw()[..n])
        .map(|(a, b)| (*a as i32 - *b as i32).unsigned_abs() as u64)
        .sum();
    (diff as f64 / n as f64) <= MAX_THUMBNAIL_DIFF
}

/// jpeg-decoder's 1/8-scale decode of a cut-off main image.
fn partial_eighth(prefix: Vec<u8>, w: u32, h: u32) -> Option<RgbImage> {
    let mut dec = jpeg_decoder::Decoder::new(Cursor::new(prefix));
    let (sw, sh) = dec
        .scale((w / 8).max(1) as u16, (h / 8).max(1) as u16)
        .ok()?;
    let fmt = dec.info()?.pixel_format;
    let px = dec.decode().ok()?;
    to_rgb(px, sw as u32, sh as u32, fmt).ok()
}

/// Decodes an EXIF thumbnail if it is big enough and has the main image's aspect ratio.
fn usable_thumbnail(jpeg: &[u8], main_w: u32, main_h: u32, codec: JpegCodec) -> Option<RgbImage> {
    let mut dec = jpeg_decoder::Decoder::new(Cursor::new(jpeg));
    dec.read_info().ok()?;
    let info = dec.info()?;
    let (tw, th) = (info.width as u32, info.height as u32);
    if tw.min(th) < MIN_THUMBNAIL_SHORT_SIDE
        || tw > main_w
        || th > main_h
        || tw as u64 * th as u64 > MAX_THUMBNAIL_PIXELS
    {
        return None;
    }
    let (ta, ma) = (tw as f64 / th as f64, main_w as f64 / main_h as f64);
    if ((ta - ma) / ma).abs() > MAX_THUMBNAIL_ASPECT_DIFF {
        return None;
    }
    if !matches!(
        info.pixel_format,
        jpeg_decoder::PixelFormat::RGB24 | jpeg_decoder::PixelFormat::L8
    ) {
        return None;
    }
    if codec == JpegCodec::LibjpegTurbo {
        if let Some(img) = decode_turbo(jpeg, 1, (tw, th), false) {
            return Some(img);
        }
    }
    let px = dec.decode().ok()?;
    to_rgb(px, tw, th, info.pixel_format).ok()
}

fn to_rgb(
    px: Vec<u8>,
    w: u32,
    h: u32,
    fmt: jpeg_decoder::PixelFormat,
) -> Result<RgbImage, FailReason> {
    let short = || FailReason::Corrupt("decoder returned too few pixels".into());
    match fmt {
        jpeg_decoder::PixelFormat::RGB24 => RgbImage::from_raw(w, h, px).ok_or_else(short),
        jpeg_decoder::PixelFormat::L8 => {
            let gray = image::GrayImage::from_raw(w, h, px).ok_or_else(short)?;
            Ok(image::DynamicImage::ImageLuma8(gray).to_rgb8())
        }
        _ => Err(FailReason::Corrupt("unexpected pixel format".into())),
    }
}

/// A WebP whose RIFF header declares more bytes than the file holds was cut short; the decoder
/// calls that a corrupt bitstream, which hides the plain cause.
fn riff_cut(bytes: &[u8], e: FailReason) -> FailReason {
    let declared = bytes
        .get(4..8)
        .filter(|_| bytes.starts_with(b"RIFF"))
        .map(|n| u32::from_le_bytes([n[0], n[1], n[2], n[3]]) as usize + 8);
    match e {
        FailReason::Corrupt(_) if declared.is_some_and(|d| d > bytes.len()) => {
            FailReason::Truncated
        }
        e => e,
    }
}

/// Full decode with the general decoders (first frame of animations), bounded in size.
fn decode_full(bytes: &[u8], cap: u64) -> Result<RgbImage, FailReason> {
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| FailReason::Io(e.to_string()))?;
    let (w, h) = reader.into_dimensions().map_err(image_reason)?;
    check_pixels(w as u64, h as u64, cap)?;
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| FailReason::Io(e.to_string()))?;
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_DECODE_ALLOC);
    reader.limits(limits);
    Ok(reader.decode().map_err(image_reason)?.into_rgb8())
}

pub(crate) fn check_pixels(w: u64, h: u64, cap: u64) -> Result<(), FailReason> {
    if w == 0 || h == 0 {
        return Err(FailReason::Corrupt(format!(
            "declares an empty {w}x{h} image"
        )));
    }
    if w * h > cap {
        return Err(FailReason::TooManyPixels {
            width: w,
            height: h,
            cap,
        });
    }
    if w.max(h) > MAX_ASPECT_RATIO * w.min(h) {
        return Err(FailReason::TooElongated {
            width: w,
            height: h,
        });
    }
    Ok(())
}

fn is_eof(msg: &str) -> bool {
    let m = msg.to_ascii_lowercase();
    m.contains("eof")
        || m.contains("end of file")
        || m.contains("unexpected end")
        || m.contains("truncat")
        || m.contains("not enough data")
        || m.contains("no more bytes")
}

/// Decoders report a cut-off file in many wordings; anything else is corruption.
pub(crate) fn from_message(msg: String) -> FailReason {
    if is_eof(&msg) {
        FailReason::Truncated
    } else {
        FailReason::Corrupt(msg)
    }
}

fn jpeg_reason(e: jpeg_decoder::Error) -> FailReason {
    match e {
        jpeg_decoder::Error::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            FailReason::Truncated
        }
        // Valid files this decoder cannot read are unsupported, not corrupt.
        jpeg_decoder::Error::Unsupported(f) => {
            use jpeg_decoder::UnsupportedFeature as U;
            FailReason::Unsupported(match f {
                U::ArithmeticEntropyCoding => "arithmetic-coded JPEG",
                U::Hierarchical => "hierarchical JPEG",
                U::SamplePrecision(_) => "JPEG with more than 8 bits per sample",
                U::ComponentCount(_) => "JPEG with an unusual number of colour components",
                U::DNL => "JPEG whose height is given after the image data (DNL)",
                U::SubsamplingRatio | U::NonIntegerSubsamplingRatio => {
                    "JPEG with an unusual chroma subsampling"
                }
                U::ColorTransform(_) => "JPEG with an unusual colour transform",
            })
        }
        other => from_message(other.to_string()),
    }
}

fn image_reason(e: image::ImageError) -> FailReason {
    match e {
        image::ImageError::Limits(_) => {
            FailReason::Corrupt("needs more memory than allowed to decode".into())
        }
        image::ImageError::Unsupported(u) => {
            FailReason::Corrupt(format!("unsupported feature: {u}"))
        }
        image::ImageError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            FailReason::Truncated
        }
        other => from_message(other.to_string()),
    }
}

/// A rectangle of the upright full-resolution image, in its pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

impl Region {
    /// The part of `self` inside a `width` x `height` image, or `None` if nothing is.
    fn within(self, width: u32, height: u32) -> Option<Region> {
        let (x1, y1) = (
            self.x.saturating_add(self.w).min(width),
            self.y.saturating_add(self.h).min(height),
        );
        (self.x < x1 && self.y < y1).then(|| Region {
            x: self.x,
            y: self.y,
            w: x1 - self.x,
            h: y1 - self.y,
        })
    }

    /// Where this upright region lies in the stored pixels (`stored` = their size), which
    /// `o` turns upright.
    fn stored(self, o: Orientation, (sw, sh): (u32, u32)) -> Region {
        // Each corner, upright (u, v) -> stored (x, y): the inverse of `Orientation::apply`.
        let map = |u: u32, v: u32| match o.0 {
            2 => (sw - 1 - u, v),
            3 => (sw - 1 - u, sh - 1 - v),
            4 => (u, sh - 1 - v),
            5 => (v, u),
            6 => (v, sh - 1 - u),
            7 => (sw - 1 - v, sh - 1 - u),
            8 => (sw - 1 - v, u),
            _ => (u, v),
        };
        let (a, b) = (
            map(self.x, self.y),
            map(self.x + self.w - 1, self.y + self.h - 1),
        );
        Region {
            x: a.0.min(b.0),
            y: a.1.min(b.1),
            w: a.0.abs_diff(b.0) + 1,
            h: a.1.abs_diff(b.1) + 1,
        }
    }
}

/// Where a [`Detail`] came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DetailSource {
    /// Cut from the full-resolution image the working image was made from.
    FullImage,
    /// libjpeg-turbo's cropped decode of the region alone, at full resolution.
    JpegRegion,
}

/// A window of the photo at full resolution, as luma (the JPEG's Y, or Rec. 601 luma): where
/// blur of a few pixels is visible, unlike in the 256-px working image (see
/// [`crate::features::quality::blur`]).
pub struct Detail {
    /// Upright.
    pub luma: image::GrayImage,
    pub source: DetailSource,
}

/// The full-resolution luma of `region` (upright coordinates) of a loaded photo, for the blur
/// measure; `None` when it cannot be had cheaply or at all. The one place that reads pixels at
/// full resolution, so that a gallery source with a region decoder of its own (Android's
/// BitmapRegionDecoder, iOS ImageIO) can stand in for it later.
///
/// Costs, per 12 MP phone JPEG: the full image at hand (PNG, WebP, GIF, fallbacks) gives it for
/// a copy; a JPEG goes through libjpeg-turbo's cropped decode, which entropy-decodes the whole
/// file but transforms only the region (see BENCHMARKS.md, section blur). Without libjpeg-turbo
/// (phone builds), or when it fails or warns on the file, there is no detail: see
/// [`JpegCodec::PureRust`].
pub fn detail(bytes: &[u8], loaded: &mut Loaded, region: Region) -> Option<Detail> {
    detail_with(bytes, loaded, region, JpegCodec::DEFAULT)
}

/// [`detail`] with a chosen JPEG codec.
pub fn detail_with(
    bytes: &[u8],
    loaded: &mut Loaded,
    region: Region,
    codec: JpegCodec,
) -> Option<Detail> {
    let d = &mut loaded.decoded;
    let o = loaded.exif.orientation;
    let full = d.full.take();
    let r = region.within(d.width, d.height)?;
    let stored = if o.swaps_axes() {
        (d.height, d.width)
    } else {
        (d.width, d.height)
    };
    let s = r.stored(o, stored);
    let format = loaded.format;
    // Decoders are not trusted to never panic (see `load_with`): no detail then.
    let (luma, source) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        if let Some(full) = &full {
            return Some((luma_of(full, s), DetailSource::FullImage));
        }
        match (format, codec) {
            (Format::Jpeg, JpegCodec::LibjpegTurbo) => {
                jpeg_region(bytes, stored, s).map(|l| (l, DetailSource::JpegRegion))
            }
            _ => None,
        }
    }))
    .ok()
    .flatten()?;
    Some(Detail {
        luma: o.apply(luma),
        source,
    })
}

/// Rec. 601 luma (the JPEG's Y) of `r` in `img`.
fn luma_of(img: &RgbImage, r: Region) -> image::GrayImage {
    image::GrayImage::from_fn(r.w, r.h, |x, y| {
        let [red, g, b] = img.get_pixel(r.x + x, r.y + y).0;
        let y = 0.299 * red as f32 + 0.587 * g as f32 + 0.114 * b as f32;
        image::Luma([y.round() as u8])
    })
}

/// libjpeg-turbo's decode of stored region `r` of a `size` JPEG, its left edge moved left onto
/// an iMCU column; `None` on any error or warning.
///
/// A sequential JPEG is coded top to bottom, and libjpeg entropy-decodes every row above and
/// below the region to get through it, which is most of the cost. So the data is first cut at
/// an estimate of where the region's last row ends (as much of the scan as the rows down to
/// it, plus [`REGION_MARGIN`] of it) and ended with EOI: libjpeg pads what is missing with
/// uniform grey (and warns, as expected here). If the estimate fell short, the region's last
/// row holds that grey, and the whole file is decoded instead. On the blur benchmark this reads
/// about two thirds of the data (see BENCHMARKS.md, section blur).
#[allow(unused_variables)]
fn jpeg_region(bytes: &[u8], size: (u32, u32), r: Region) -> Option<image::GrayImage> {
    #[cfg(feature = "turbojpeg")]
    {
        let region = (r.x - r.x % turbo::REGION_ALIGN, r.y, r.w, r.h);
        if let Some(prefix) = region_prefix(bytes, size.1, r.y + r.h) {
            if let Ok((img, _)) = turbo::decode_region_luma(&prefix, size, region) {
                if !ends_in_padding(&img) {
                    return Some(img);
                }
            }
        }
        return match turbo::decode_region_luma(bytes, size, region) {
            Ok((img, None)) => Some(img),
            _ => None,
        };
    }
    #[allow(unreachable_code)]
    None
}

/// Share of a sequential JPEG's scan data read beyond the estimate of where a region ends.
#[cfg(feature = "turbojpeg")]
const REGION_MARGIN: f64 = 0.1;

/// The start of a sequential, Huffman-coded JPEG (SOF0, SOF1) up to the estimated end of stored
/// row `bottom` of `height` plus [`REGION_MARGIN`], then EOI; `None` when that would not save
/// anything or the file is of another kind (progressive: every row is refined by later scans).
#[cfg(feature = "turbojpeg")]
fn region_prefix(bytes: &[u8], height: u32, bottom: u32) -> Option<Vec<u8>> {
    let (marker, _, _) = frame_header(bytes)?;
    if !matches!(marker, 0xC0 | 0xC1) {
        return None;
    }
    let sos = first_scan(bytes)?;
    let share = bottom as f64 / height.max(1) as f64 + REGION_MARGIN;
    let cut = sos + ((bytes.len() - sos) as f64 * share) as usize;
    if cut + (bytes.len() - sos) / 20 >= bytes.len() {
        return None;
    }
    let mut prefix = Vec::with_capacity(cut + 2);
    prefix.extend_from_slice(&bytes[..cut]);
    prefix.extend([0xFF, 0xD9]);
    Some(prefix)
}

/// Whether a region decoded from a cut JPEG ran out of data: libjpeg fills the blocks it had no
/// data for with uniform grey (128), so the last row then holds a run of them at least two
/// blocks long (real photos hardly ever hold 16 pixels of exactly that value).
#[cfg(feature = "turbojpeg")]
fn ends_in_padding(img: &image::GrayImage) -> bool {
    let (w, h) = img.dimensions();
    let last = &img.as_raw()[(h as usize - 1) * w as usize..];
    let mut run = 0;
    last.iter().any(|&v| {
        run = if v == 128 { run + 1 } else { 0 };
        run >= 16
    })
}

/// Bilinear (area-aware when shrinking, like Pillow's) resize so the shorter side is `short`.
pub fn resize_short_side(img: &RgbImage, short: u32) -> RgbImage {
    let (w, h) = img.dimensions();
    let s = w.min(h).max(1);
    let scale = |v: u32| ((v as u64 * short as u64 + s as u64 / 2) / s as u64).max(1) as u32;
    resize_exact(img, scale(w), scale(h))
}

pub fn resize_exact(img: &RgbImage, w: u32, h: u32) -> RgbImage {
    if img.dimensions() == (w, h) {
        return img.clone();
    }
    let mut dst = RgbImage::new(w, h);
    let opts = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Bilinear));
    Resizer::new()
        .resize(img, &mut dst, &opts)
        .expect("RGB8 to RGB8 resize cannot fail");
    dst
}
