//! Format sniffing and `metadata::read_exif` (kamadak-exif's container and TIFF/IFD parsers),
//! which the scan runs outside the decoder's `catch_unwind`: any panic here is a finding.
//!
//! Input: one selector byte, then bytes. Bits 0-2 pick the extension hint. Bit 7 set: the
//! bytes are a TIFF structure (what follows `Exif\0\0`), wrapped as the APP1 segment of a
//! minimal valid JPEG so the fuzzer reaches the IFD parser at once; clear: the bytes are a
//! whole file (JPEG, PNG, WebP, HEIF, TIFF... kamadak-exif sniffs the container itself).
#![no_main]

use std::borrow::Cow;

use libfuzzer_sys::fuzz_target;
use precious_engine::{format, metadata};
use precious_engine_fuzz::{exif_payload, extension, guard, tiny_jpeg, with_app1};

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let bytes: Cow<[u8]> = if sel & 0x80 != 0 {
        Cow::Owned(with_app1(tiny_jpeg(), &exif_payload(rest)))
    } else {
        Cow::Borrowed(rest)
    };
    guard("format::sniff + metadata::read_exif", || {
        // As `load_with` calls it: the first 64 bytes.
        format::sniff(&bytes[..bytes.len().min(64)], extension(sel));
        let exif = metadata::read_exif(&bytes);
        assert!((1..=8).contains(&exif.orientation.0));
        // `decode` slices the file with this range: it must lie inside and hold a JPEG start.
        if let Some(r) = &exif.thumbnail {
            assert!(
                r.start < r.end && r.end <= bytes.len(),
                "thumbnail {r:?} of {}",
                bytes.len()
            );
            assert!(bytes[r.clone()].starts_with(&[0xFF, 0xD8]));
        }
    });
});
