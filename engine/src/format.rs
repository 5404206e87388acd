//! What kind of image a file holds, decided from its first bytes (the extension only decides
//! whether the scan looks at a file at all).

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Jpeg,
    Png,
    Webp,
    Gif,
    /// HEIC, HEIF and AVIF (ISO base media files holding still images): decoded by libheif
    /// (feature `heif`) or by the platform's decoder ([`crate::decode::PlatformDecoder`]).
    Heif,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Jpeg => "jpeg",
            Format::Png => "png",
            Format::Webp => "webp",
            Format::Gif => "gif",
            Format::Heif => "heif",
        }
    }
}

/// The outcome of sniffing: a format we decode, one we recognise but do not support, or noise.
#[derive(Debug, PartialEq, Eq)]
pub enum Sniffed {
    Supported(Format),
    Unsupported(&'static str),
    /// A video container ([`crate::video`]).
    Video(Container),
    Unknown,
}

use crate::assets::RAW_EXTENSIONS;
use crate::video::Container;

/// Major brands of HEIF still images: HEVC-coded (`heic`, `heix`, Apple's and Samsung's
/// photos; `hevc`/`hevx` image sequences), AV1-coded (`avif`, `avis`), and the generic `mif1`
/// and `msf1` that Nokia and other phones write as the major brand.
const HEIF_BRANDS: &[&[u8]] = &[
    b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1",
    b"avif", b"avis",
];

pub fn sniff(head: &[u8], extension: Option<&str>) -> Sniffed {
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Sniffed::Supported(Format::Jpeg);
    }
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Sniffed::Supported(Format::Png);
    }
    if head.len() >= 12 && &head[0..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        return Sniffed::Supported(Format::Webp);
    }
    if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        return Sniffed::Supported(Format::Gif);
    }
    if head.len() >= 12 && &head[4..8] == b"ftyp" {
        return match &head[8..12] {
            b if HEIF_BRANDS.contains(&b) => Sniffed::Supported(Format::Heif),
            b"crx " => Sniffed::Unsupported("camera RAW (CR3) is not supported"),
            b"qt  " => Sniffed::Video(Container::QuickTime),
            b if b.starts_with(b"3g") => Sniffed::Video(Container::ThreeGp),
            _ => Sniffed::Video(Container::Mp4),
        };
    }
    if head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        return Sniffed::Video(Container::Matroska);
    }
    let ext = extension.unwrap_or("").to_ascii_lowercase();
    // RAW files are mostly TIFF containers: check the extension before calling them TIFF.
    if RAW_EXTENSIONS.contains(&ext.as_str()) {
        return Sniffed::Unsupported("camera RAW is not supported (its JPEG export is)");
    }
    if head.starts_with(b"II*\0") || head.starts_with(b"MM\0*") {
        return Sniffed::Unsupported("TIFF is not supported");
    }
    if head.starts_with(b"BM") {
        return Sniffed::Unsupported("BMP is not supported");
    }
    Sniffed::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_decides_not_extension() {
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\n....", Some("jpg")),
            Sniffed::Supported(Format::Png)
        );
        assert_eq!(
            sniff(&[0xFF, 0xD8, 0xFF, 0xE1], Some("png")),
            Sniffed::Supported(Format::Jpeg)
        );
        assert_eq!(
            sniff(b"\0\0\0\x18ftypheic\0\0", Some("jpg")),
            Sniffed::Supported(Format::Heif)
        );
        assert_eq!(
            sniff(b"\0\0\0\x18ftypmif1\0\0", Some("heif")),
            Sniffed::Supported(Format::Heif)
        );
        assert!(
            matches!(sniff(b"\0\0\0\x18ftypcrx \0\0", Some("cr3")), Sniffed::Unsupported(r) if r.contains("CR3"))
        );
        assert_eq!(
            sniff(b"\0\0\0\x18ftypmp42\0\0", Some("heic")),
            Sniffed::Video(Container::Mp4)
        );
        assert_eq!(
            sniff(b"\0\0\0\x14ftypqt  \0\0", Some("mp4")),
            Sniffed::Video(Container::QuickTime)
        );
        assert_eq!(
            sniff(b"\x1a\x45\xdf\xa3\x9f\x42", Some("webm")),
            Sniffed::Video(Container::Matroska)
        );
        assert!(
            matches!(sniff(b"II*\0\x08\0\0\0", Some("NEF")), Sniffed::Unsupported(r) if r.contains("RAW"))
        );
        assert_eq!(sniff(b"hello world!", Some("jpg")), Sniffed::Unknown);
        assert_eq!(sniff(b"", Some("jpg")), Sniffed::Unknown);
    }
}
