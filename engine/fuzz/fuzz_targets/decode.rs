//! The scan's decode entry point, `decode::load_with`, on arbitrary bytes: format sniffing,
//! EXIF, and every decode path (EXIF thumbnail, DCT-scaled, full; libjpeg-turbo and the
//! pure-Rust decoders). Errors are fine; a panic the engine does not catch, a crash in C, a
//! hang or unbounded memory are findings.
//!
//! Input: one selector byte (bits 0-2 extension hint, 3-4 strategy, 5 JPEG codec; see
//! `precious_engine_fuzz`), then the file's bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use precious_engine::decode;
use precious_engine_fuzz::{check_loaded, codec, extension, guard, strategy};

fuzz_target!(|data: &[u8]| {
    let Some((&sel, bytes)) = data.split_first() else {
        return;
    };
    guard("decode::load_with", || {
        let r = decode::load_with(bytes, extension(sel), strategy(sel), codec(sel));
        check_loaded(&r);
    });
});
