//! The EXIF-thumbnail path: a valid 512x384 JPEG whose APP1 carries fuzzer bytes, decoded by
//! `decode::load_with` with `Strategy::Fastest` (the scan's: EXIF thumbnail first, checked
//! against a partial 1/8-scale decode of the main image), then the UI thumbnail's encode
//! (`thumbs::encode_jpeg`) of the working image, with the same codec.
//!
//! Input: one selector byte, then bytes. Bit 0: the JPEG codec (set: pure Rust). Bit 1 clear:
//! the bytes are the IFD1 thumbnail (a JPEG) in a well-formed TIFF whose Orientation is bits
//! 2-4 plus one (1..=8); set: the bytes are the whole TIFF structure (IFDs and thumbnail)
//! after `Exif\0\0`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use precious_engine::decode::{self, JpegCodec, Strategy};
use precious_engine::thumbs;
use precious_engine_fuzz::{
    check_loaded, exif_payload, guard, main_jpeg, tiff_with_thumbnail, with_app1,
};

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let codec = if sel & 1 == 0 {
        JpegCodec::LibjpegTurbo
    } else {
        JpegCodec::PureRust
    };
    let tiff = if sel & 2 == 0 {
        tiff_with_thumbnail(((sel >> 2) & 7) as u16 + 1, rest)
    } else {
        rest.to_vec()
    };
    let file = with_app1(main_jpeg(), &exif_payload(&tiff));
    guard(
        "decode::load_with (EXIF thumbnail) + thumbs::encode_jpeg",
        || {
            let r = decode::load_with(&file, Some("jpg"), Strategy::Fastest, codec);
            check_loaded(&r);
            if let Ok(loaded) = r {
                // The scan writes it for every indexed photo: a working image always encodes.
                let jpeg =
                    thumbs::encode_jpeg(&loaded.decoded.image, codec).expect("thumbnail encode");
                assert!(jpeg.starts_with(&[0xFF, 0xD8]) && jpeg.ends_with(&[0xFF, 0xD9]));
            }
        },
    );
});
