//! Videos: what a phone's camera roll holds besides photos, and what takes most of its space.
//!
//! A video is indexed like a photo, from one frame of it (its *poster*): the same working
//! image, features, thumbnail and suggestions, plus what its container says (duration,
//! dimensions, codec, creation time). The container is read by demuxer crates, headers only
//! ([`container`]): `mp4` for MP4, QuickTime and 3GP, `matroska-demuxer` for Matroska and WebM.
//! The poster frame needs a video decoder: the gallery source's own (phones:
//! [`crate::decode::PlatformDecoder::video_frame`]), else the `ffmpeg` program on desktop
//! ([`ffmpeg`], feature `ffmpeg`); without either, the video is recorded as unsupported with
//! its duration and size in the reason.
//!
//! A video is never read into memory whole: it is hashed as a stream, and the demuxers seek
//! over the media data.

pub mod container;
#[cfg(feature = "ffmpeg")]
pub mod ffmpeg;

use std::io::{Read, Seek};

use image::RgbImage;
use serde::Serialize;

use crate::decode::{FailReason, MAX_ASPECT_RATIO, WORKING_SHORT_SIDE};
use crate::source::{GallerySource, Locator};

/// Extensions of the video files a gallery holds (phones: MP4, MOV, 3GP; downloads and
/// messengers: WebM, MKV, M4V). The content decides what a file is.
pub const EXTENSIONS: &[&str] = &["mp4", "m4v", "mov", "qt", "3gp", "3g2", "webm", "mkv"];

/// Whether the file name says video (the scan then reads only its head to check).
pub fn has_video_extension(path: &std::path::Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

/// Container formats, as sniffed from the first bytes ([`crate::format::sniff`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Container {
    /// ISO base media (`isom`, `mp41`, `mp42`, ...): Android cameras, most downloads.
    Mp4,
    /// Apple QuickTime (`qt  `): iPhone videos and Live Photo clips.
    QuickTime,
    /// 3GPP: older phones, MMS.
    ThreeGp,
    /// Matroska and its WebM profile (the doc type decides which after probing).
    Matroska,
    WebM,
}

impl Container {
    pub fn name(self) -> &'static str {
        match self {
            Container::Mp4 => "mp4",
            Container::QuickTime => "mov",
            Container::ThreeGp => "3gp",
            Container::Matroska => "mkv",
            Container::WebM => "webm",
        }
    }
}

/// What a video's container says about it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VideoInfo {
    pub container: Container,
    /// Duration in milliseconds (0 when the container does not say).
    pub duration_ms: u64,
    /// Displayed size: the track's rotation applied (a portrait phone video is taller than
    /// wide although its frames are coded landscape).
    pub width: u32,
    pub height: u32,
    /// The video codec as the container names it (`avc1`, `hvc1`, `V_VP9`, ...).
    pub codec: String,
    /// Creation time from the container, `YYYY-MM-DDTHH:MM:SS` in UTC, when it is set.
    pub created_at: Option<String>,
}

impl VideoInfo {
    /// A short human description, for reasons: "MP4 video, 0:12, 1920x1080, avc1".
    pub fn describe(&self) -> String {
        let s = self.duration_ms / 1000;
        format!(
            "{} video, {}:{:02}, {}x{}, {}",
            self.container.name().to_uppercase(),
            s / 60,
            s % 60,
            self.width,
            self.height,
            self.codec
        )
    }
}

/// A seekable stream of a gallery entry's bytes.
pub trait ReadSeek: Read + Seek + Send {}
impl<T: Read + Seek + Send> ReadSeek for T {}

/// Where the poster frame is taken: a quarter in, at most 3 s (past a fade-in or the shake of
/// pressing record, but early enough that the seek decodes little), for a 1.5 s Live Photo clip
/// 0.375 s.
pub fn poster_time_ms(info: &VideoInfo) -> u64 {
    (info.duration_ms / 4).min(3000)
}

/// The poster frame, upright, with its shorter side at [`WORKING_SHORT_SIDE`]: from the gallery
/// source's decoder, else from ffmpeg (desktop), else why not.
pub fn poster(
    source: &dyn GallerySource,
    locator: &Locator,
    info: &VideoInfo,
) -> Result<RgbImage, FailReason> {
    let (w, h) = (info.width as u64, info.height as u64);
    if w > 0 && h > 0 && w.max(h) > MAX_ASPECT_RATIO * w.min(h) {
        return Err(FailReason::TooElongated {
            width: w,
            height: h,
        });
    }
    let at = poster_time_ms(info);
    if let Some(frame) = source
        .decoder()
        .and_then(|d| d.video_frame(locator, at, WORKING_SHORT_SIDE))
    {
        return frame;
    }
    #[cfg(feature = "ffmpeg")]
    if let Some(path) = source.local_path(locator) {
        return ffmpeg::frame(&path, at, WORKING_SHORT_SIDE).map_err(|e| match e {
            FailReason::NoFrameDecoder(why) => {
                FailReason::NoFrameDecoder(format!("{} ({why})", info.describe()))
            }
            e => e,
        });
    }
    Err(FailReason::NoFrameDecoder(info.describe()))
}

/// The poster frame of an indexed video at the working size, after checking that its bytes
/// are still `expected` (what the training views are made from).
pub fn poster_of(
    source: &dyn GallerySource,
    locator: &Locator,
    container: Container,
    expected: &[u8; 32],
) -> Result<RgbImage, FailReason> {
    let io = |e: std::io::Error| FailReason::Io(crate::source::io_reason(&e));
    let mut reader = source.open(locator).map_err(io)?;
    let (hash, len) = crate::source::hash_stream(&mut reader).map_err(io)?;
    if &hash != expected {
        return Err(FailReason::Io("changed since it was indexed".into()));
    }
    Ok(probe_and_poster(source, locator, &mut *reader, len, container)?.1)
}

/// What the container says and the poster frame at the working size, from an opened video of
/// `len` bytes.
pub fn probe_and_poster(
    source: &dyn GallerySource,
    locator: &Locator,
    reader: &mut dyn ReadSeek,
    len: u64,
    container: Container,
) -> Result<(VideoInfo, RgbImage), FailReason> {
    let info = container::probe(reader, len, container)?;
    let frame = poster(source, locator, &info)?;
    Ok((
        info,
        crate::decode::resize_short_side(&frame, WORKING_SHORT_SIDE),
    ))
}
