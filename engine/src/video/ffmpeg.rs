//! Poster frames on desktop through the `ffmpeg` program, as Immich and Czkawka take theirs:
//! one short-lived process per video, reading the local file only (`-protocol_whitelist
//! file`, no network protocol), seeking to the poster time, decoding one frame, rotating it
//! upright (ffmpeg's default autorotation) and scaling it to the working size; the frame comes
//! back as a PPM on stdout.
//!
//! A program rather than linked libraries: libav*'s C API changes with every major release, its
//! Rust bindings need libclang and the libav* headers to build, and the codecs (HEVC, VP9, AV1)
//! are those of the ffmpeg the user has. `PRECIOUS_FFMPEG` names the program when it is not
//! `ffmpeg` on the `PATH`; without one, videos get a reason instead of a poster.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use image::RgbImage;

use crate::decode::FailReason;

/// A frame that takes longer is refused (a hostile file must not stall the scan).
const TIMEOUT: Duration = Duration::from_secs(60);

fn program() -> std::ffi::OsString {
    std::env::var_os("PRECIOUS_FFMPEG").unwrap_or_else(|| "ffmpeg".into())
}

/// One frame at `at_ms`, upright, scaled so its shorter side is `short_side`.
pub fn frame(path: &Path, at_ms: u64, short_side: u32) -> Result<RgbImage, FailReason> {
    let scale = format!(
        "scale=w='if(lt(iw,ih),{short_side},-2)':h='if(lt(iw,ih),-2,{short_side})':flags=area"
    );
    let mut child = Command::new(program())
        .args(["-nostdin", "-hide_banner", "-loglevel", "error"])
        .args(["-protocol_whitelist", "file", "-ss"])
        .arg(format!("{}.{:03}", at_ms / 1000, at_ms % 1000))
        .arg("-i")
        .arg(path)
        .args(["-map", "0:v:0", "-frames:v", "1", "-vf", &scale])
        .args(["-f", "image2pipe", "-c:v", "ppm", "-pix_fmt", "rgb24", "-"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            FailReason::NoFrameDecoder(format!("the ffmpeg program cannot be run: {e}"))
        })?;
    // Both pipes are drained on their own threads so that neither can fill and block ffmpeg.
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let out = std::thread::spawn(move || {
        let mut buf = Vec::new();
        // A 256-px-high frame of a 64:1 video is 12 MB; nothing legitimate is larger.
        (&mut stdout)
            .take(64 << 20)
            .read_to_end(&mut buf)
            .map(|_| buf)
    });
    let err = std::thread::spawn(move || {
        let mut buf = String::new();
        let _ = (&mut stderr).take(16 << 10).read_to_string(&mut buf);
        buf
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(FailReason::CorruptVideo(format!(
                    "no frame decoded within {} s",
                    TIMEOUT.as_secs()
                )));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(FailReason::Io(e.to_string())),
        }
    };
    let ppm = out
        .join()
        .map_err(|_| FailReason::Io("reading ffmpeg's output failed".into()))?
        .map_err(|e| FailReason::Io(e.to_string()))?;
    let stderr = err.join().unwrap_or_default();
    if !status.success() || ppm.is_empty() {
        let why = stderr
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("no frame at the poster time (the video stream may be empty or cut short)");
        // ffmpeg prefixes its decoders' messages with "[h264 @ 0x55...] ": an address that
        // differs on every run, so not part of the reason.
        let why = why.trim();
        let why = match why.split_once("] ") {
            Some((prefix, rest)) if prefix.starts_with('[') && prefix.contains(" @ ") => rest,
            _ => why,
        };
        return Err(FailReason::CorruptVideo(why.to_string()));
    }
    image::load_from_memory_with_format(&ppm, image::ImageFormat::Pnm)
        .map(|f| f.into_rgb8())
        .map_err(|e| FailReason::CorruptVideo(format!("ffmpeg returned no frame ({e})")))
}
