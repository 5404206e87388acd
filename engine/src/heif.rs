//! HEIF images (HEIC from iPhones and many Android phones, AVIF) through libheif, the field's
//! library (also behind GIMP, ImageMagick, darktable and digiKam), with its HEVC (libde265) and
//! AV1 (dav1d) decoders.
//!
//! Built only with the `heif` feature, which links the system libheif (Debian 12: `libheif-dev`
//! 1.15). Phones do not build it: their gallery source decodes HEIF through the platform
//! ([`crate::decode::PlatformDecoder`]; docs/mobile.md).
//!
//! libheif applies the file's own transformations (rotation, mirroring, crop) while decoding, so
//! the pixels come out upright and the EXIF orientation, which HEIF files also carry, must not be
//! applied again.

use std::sync::OnceLock;

use image::RgbImage;
use libheif_rs::{ColorSpace, HeifContext, HeifError, HeifErrorSubCode, LibHeif, RgbChroma};

use crate::decode::{check_pixels, from_message, FailReason, MAX_OTHER_PIXELS};

/// libheif's decoders are initialised once per process (and never torn down).
fn library() -> &'static LibHeif {
    static LIB: OnceLock<LibHeif> = OnceLock::new();
    LIB.get_or_init(LibHeif::new)
}

/// The primary image, upright, at full resolution, and its size.
///
/// One decoding thread per photo: the scan already decodes one photo per core, and libheif's
/// own tile threads on top of that only contend (measured on 2 cores: a 12 MP iPhone photo takes
/// 0.62 s on one thread, 0.39 s on two, so two photos at once are faster than one photo on two).
pub(crate) fn decode(bytes: &[u8]) -> Result<RgbImage, FailReason> {
    let mut ctx = HeifContext::read_from_bytes(bytes).map_err(reason)?;
    ctx.set_max_decoding_threads(1);
    let handle = ctx.primary_image_handle().map_err(reason)?;
    // The size after transformations, from the header: refused before any pixel is decoded.
    check_pixels(
        handle.width() as u64,
        handle.height() as u64,
        MAX_OTHER_PIXELS,
    )?;
    let image = library()
        .decode(&handle, ColorSpace::Rgb(RgbChroma::Rgb), None)
        .map_err(reason)?;
    let planes = image.planes();
    let plane = planes
        .interleaved
        .ok_or_else(|| FailReason::Corrupt("libheif returned no RGB plane".into()))?;
    let (w, h) = (plane.width, plane.height);
    let row = w as usize * 3;
    if plane.storage_bits_per_pixel != 24 || plane.stride < row {
        return Err(FailReason::Corrupt(format!(
            "libheif returned an unexpected RGB layout ({} bits per pixel)",
            plane.storage_bits_per_pixel
        )));
    }
    let mut rgb = Vec::with_capacity(row * h as usize);
    for y in 0..h as usize {
        rgb.extend_from_slice(&plane.data[y * plane.stride..y * plane.stride + row]);
    }
    RgbImage::from_raw(w, h, rgb)
        .ok_or_else(|| FailReason::Corrupt("libheif returned a short RGB plane".into()))
}

/// libheif's errors in the scan's words: a file cut short is truncated, the rest corrupt or, for
/// codecs this libheif lacks (e.g. JPEG-2000 inside HEIF), unsupported.
fn reason(e: HeifError) -> FailReason {
    use libheif_rs::HeifErrorCode::*;
    match (e.code, e.sub_code) {
        (_, HeifErrorSubCode::EndOfData) => FailReason::Truncated,
        (UnsupportedFeature | UnsupportedFileType, _) => {
            FailReason::Unsupported("HEIF with a codec or feature this libheif lacks")
        }
        _ => from_message(format!("HEIF: {}", e.message)),
    }
}
