//! libjpeg-turbo (the bundled 3.x of the `turbojpeg` crate) for the hot JPEG jobs of a scan:
//! decoding the main image at 1/2..1/8 scale in the DCT domain, the EXIF thumbnail and the
//! partial decode that checks it, the full-resolution window the blur is measured in (a cropped
//! decode of the luma alone), and encoding the UI thumbnail.
//!
//! Built only with the `turbojpeg` feature (cmake + nasm needed); without it the pure-Rust
//! paths in `decode` and `thumbs` do everything. The decoder talks to TurboJPEG's C API
//! directly (through `turbojpeg::raw`) because the safe wrapper reports libjpeg's warnings on
//! damaged data as errors, and the thumbnail check needs to tell the two apart.

use std::ffi::{c_int, CStr};

use image::{GrayImage, RgbImage};
use turbojpeg::raw;
use turbojpeg::{Compressor, Image, PixelFormat, Subsamp};

/// A decoded image, and libjpeg's warning if the data was damaged (the image is complete then,
/// the damaged part grey or garbled).
pub(crate) struct Decoded {
    pub image: RgbImage,
    pub warning: Option<String>,
}

/// An owned TurboJPEG decompressor instance.
struct Handle(raw::tjhandle);

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: the handle came from tj3Init, is not null and is destroyed once.
        unsafe { raw::tj3Destroy(self.0) }
    }
}

impl Handle {
    fn decompressor() -> Result<Handle, String> {
        // SAFETY: plain constructor; a null result is checked.
        let h = unsafe { raw::tj3Init(raw::TJINIT_TJINIT_DECOMPRESS as c_int) };
        if h.is_null() {
            return Err("cannot initialise libjpeg-turbo".into());
        }
        Ok(Handle(h))
    }

    fn message(&self) -> String {
        // SAFETY: tj3GetErrorStr returns a NUL-terminated string owned by the handle.
        unsafe { CStr::from_ptr(raw::tj3GetErrorStr(self.0)) }
            .to_string_lossy()
            .into_owned()
    }

    fn warned(&self) -> bool {
        // SAFETY: a valid handle.
        unsafe { raw::tj3GetErrorCode(self.0) == raw::TJERR_TJERR_WARNING as c_int }
    }

    /// A decompressor that has read `jpeg`'s header and found the size the caller expects, an
    /// 8-bit, non-CMYK image.
    fn open(jpeg: &[u8], expected: (u32, u32)) -> Result<Handle, String> {
        let d = Handle::decompressor()?;
        // SAFETY: `jpeg` is valid for its length for the duration of the call.
        if unsafe { raw::tj3DecompressHeader(d.0, jpeg.as_ptr(), jpeg.len() as raw::size_t) } != 0 {
            return Err(d.message());
        }
        let (w, h) = (
            d.get(raw::TJPARAM_TJPARAM_JPEGWIDTH),
            d.get(raw::TJPARAM_TJPARAM_JPEGHEIGHT),
        );
        if (w as i64, h as i64) != (expected.0 as i64, expected.1 as i64) {
            return Err(format!(
                "libjpeg reads {w}x{h}, not {}x{}",
                expected.0, expected.1
            ));
        }
        let cs = d.get(raw::TJPARAM_TJPARAM_COLORSPACE);
        if cs == raw::TJCS_TJCS_CMYK as c_int || cs == raw::TJCS_TJCS_YCCK as c_int {
            return Err("CMYK JPEG".into());
        }
        if d.get(raw::TJPARAM_TJPARAM_PRECISION) != 8 {
            return Err("not an 8-bit JPEG".into());
        }
        Ok(d)
    }

    /// Decompresses `jpeg` (whose header this handle read, with its scale or region set) into
    /// `w` x `h` pixels of `channels` bytes in `format`; libjpeg's warning, if any, comes back
    /// beside them.
    fn decompress(
        &self,
        jpeg: &[u8],
        w: u32,
        h: u32,
        channels: usize,
        format: raw::TJPF,
    ) -> Result<(Vec<u8>, Option<String>), String> {
        let pitch = w as usize * channels;
        let mut pixels = vec![0u8; pitch * h as usize];
        // SAFETY: the header read from these same bytes, with the scale or region the caller
        // set, makes libjpeg write `h` rows of `w` pixels of `channels` bytes, `pitch` bytes
        // apart: exactly `pixels`.
        let rc = unsafe {
            raw::tj3Decompress8(
                self.0,
                jpeg.as_ptr(),
                jpeg.len() as raw::size_t,
                pixels.as_mut_ptr(),
                pitch as c_int,
                format as c_int,
            )
        };
        match rc {
            0 => Ok((pixels, None)),
            _ if self.warned() => Ok((pixels, Some(self.message()))),
            _ => Err(self.message()),
        }
    }

    fn get(&self, param: raw::TJPARAM) -> c_int {
        // SAFETY: a valid handle; unknown parameters return -1.
        unsafe { raw::tj3Get(self.0, param as c_int) }
    }
}

/// Decodes `jpeg` to RGB at 1/`denom` scale (`denom` in 1, 2, 4, 8): each side becomes
/// `ceil(side / denom)`. `expected` is the full size the caller read from the header: a file
/// that libjpeg reads differently is refused, as are CMYK (libjpeg converts no CMYK to RGB),
/// 12/16-bit and scaled lossless JPEGs. Damaged data that libjpeg decodes anyway comes back with
/// its warning.
pub(crate) fn decode_rgb(jpeg: &[u8], denom: u32, expected: (u32, u32)) -> Result<Decoded, String> {
    if ![1, 2, 4, 8].contains(&denom) {
        return Err(format!("unsupported scale 1/{denom}"));
    }
    let d = Handle::open(jpeg, expected)?;
    if d.get(raw::TJPARAM_TJPARAM_LOSSLESS) != 0 && denom != 1 {
        return Err("lossless JPEGs cannot be DCT-scaled".into());
    }
    let factor = raw::tjscalingfactor {
        num: 1,
        denom: denom as c_int,
    };
    // SAFETY: a valid handle; 1/1..1/8 are always among libjpeg-turbo's scaling factors.
    if unsafe { raw::tj3SetScalingFactor(d.0, factor) } != 0 {
        return Err(d.message());
    }
    // TJSCALED, which is also libjpeg's output size for these factors.
    let (sw, sh) = (expected.0.div_ceil(denom), expected.1.div_ceil(denom));
    let (pixels, warning) = d.decompress(jpeg, sw, sh, 3, raw::TJPF_TJPF_RGB)?;
    let image = RgbImage::from_raw(sw, sh, pixels).ok_or("buffer size")?;
    Ok(Decoded { image, warning })
}

/// Left edges of a cropped decode must fall on an iMCU column: 8 pixels times the largest
/// horizontal sampling factor, at most 4 (4:1:1), so any multiple of 32 does.
pub(crate) const REGION_ALIGN: u32 = 32;

/// Decodes the luma (Y, the JPEG's own grayscale: no chroma is converted) of the region
/// `x, y, w, h` of `jpeg` at full resolution, through libjpeg-turbo's cropped decode: rows above
/// and below the region are entropy-decoded and skipped, columns outside it are not
/// transformed, so the cost is about that of reading the entropy-coded data, not of decoding
/// the image. `x` must be a multiple of [`REGION_ALIGN`]; the same refusals as [`decode_rgb`]
/// apply (lossless JPEGs cannot be cropped either). Damaged data comes back with its warning.
pub(crate) fn decode_region_luma(
    jpeg: &[u8],
    expected: (u32, u32),
    (x, y, w, h): (u32, u32, u32, u32),
) -> Result<(GrayImage, Option<String>), String> {
    if x % REGION_ALIGN != 0 || w == 0 || h == 0 || x + w > expected.0 || y + h > expected.1 {
        return Err(format!("bad region {w}x{h} at {x},{y}"));
    }
    let d = Handle::open(jpeg, expected)?;
    if d.get(raw::TJPARAM_TJPARAM_LOSSLESS) != 0 {
        return Err("lossless JPEGs cannot be cropped".into());
    }
    let region = raw::tjregion {
        x: x as c_int,
        y: y as c_int,
        w: w as c_int,
        h: h as c_int,
    };
    // SAFETY: a valid handle whose header was read; the region lies inside the image and its
    // left edge is iMCU-aligned, which libjpeg checks again (an error, not undefined behaviour).
    if unsafe { raw::tj3SetCroppingRegion(d.0, region) } != 0 {
        return Err(d.message());
    }
    let (pixels, warning) = d.decompress(jpeg, w, h, 1, raw::TJPF_TJPF_GRAY)?;
    let image = GrayImage::from_raw(w, h, pixels).ok_or("buffer size")?;
    Ok((image, warning))
}

/// Baseline JPEG with 4:4:4 chroma, as the `image` crate's encoder writes (the thumbnails are
/// shown enlarged on high-density screens, where 4:2:0 would smear coloured edges).
pub(crate) fn encode_rgb(img: &RgbImage, quality: u8) -> Result<Vec<u8>, turbojpeg::Error> {
    let mut enc = Compressor::new()?;
    enc.set_quality(quality as i32)?;
    enc.set_subsamp(Subsamp::None)?;
    let (w, h) = (img.width() as usize, img.height() as usize);
    enc.compress_to_vec(Image {
        pixels: img.as_raw().as_slice(),
        width: w,
        pitch: w * 3,
        height: h,
        format: PixelFormat::RGB,
    })
}
