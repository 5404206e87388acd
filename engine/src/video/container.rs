//! A video's duration, size, codec and creation time, from its container's headers: the `mp4`
//! crate for ISO media (MP4, QuickTime, 3GP), which seeks over the media data, and
//! `matroska-demuxer` for Matroska and WebM. Neither reads the frames.

use std::io::{Read, Seek, SeekFrom};

use super::{Container, ReadSeek, VideoInfo};
use crate::decode::FailReason;

/// Reads `container`'s headers from `reader` (`size` bytes long). A file the demuxer cannot
/// follow gets a reason: truncated when it ends early, else corrupt.
pub fn probe(
    reader: &mut dyn ReadSeek,
    size: u64,
    container: Container,
) -> Result<VideoInfo, FailReason> {
    reader
        .seek(SeekFrom::Start(0))
        .map_err(|e| FailReason::Io(e.to_string()))?;
    // The demuxers are third-party parsers of hostile input: a panic is this file's failure.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match container {
        Container::Matroska | Container::WebM => matroska(reader),
        _ => iso(reader, size, container),
    }))
    .unwrap_or_else(|_| {
        Err(FailReason::CorruptVideo(
            "the demuxer crashed on this file".into(),
        ))
    })
}

fn iso(
    reader: &mut dyn ReadSeek,
    size: u64,
    container: Container,
) -> Result<VideoInfo, FailReason> {
    let mp4 = mp4::Mp4Reader::read_header(reader, size).map_err(|e| match e {
        mp4::Error::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => truncated(),
        // A box that claims more bytes than the file has left: the file was cut short.
        mp4::Error::InvalidData(why) if why.contains("larger size than it") => truncated(),
        e => FailReason::CorruptVideo(e.to_string()),
    })?;
    let track = mp4
        .tracks()
        .values()
        .filter(|t| t.trak.mdia.hdlr.handler_type == (*b"vide").into())
        .min_by_key(|t| t.track_id())
        .ok_or_else(|| FailReason::CorruptVideo("no video track".into()))?;
    let (mut width, mut height) = (track.width() as u32, track.height() as u32);
    // A rotation by 90 or 270 degrees in the track's matrix (phones filming upright).
    let m = &track.trak.tkhd.matrix;
    if m.a == 0 && m.d == 0 && m.b != 0 {
        std::mem::swap(&mut width, &mut height);
    }
    let codec = track
        .box_type()
        .map(|b| b.to_string())
        .unwrap_or_else(|_| "other".into());
    let mvhd = &mp4.moov.mvhd;
    let duration_ms = if mvhd.timescale > 0 {
        (mvhd.duration as u128 * 1000 / mvhd.timescale as u128) as u64
    } else {
        0
    };
    // Seconds since 1904-01-01 (QuickTime's epoch); 0 means unset.
    const FROM_1904: i64 = 2_082_844_800;
    let created_at = (mvhd.creation_time > FROM_1904 as u64)
        .then(|| crate::metadata::utc_datetime(mvhd.creation_time as i64 - FROM_1904));
    Ok(VideoInfo {
        container,
        duration_ms,
        width,
        height,
        codec,
        created_at,
    })
}

fn matroska(reader: &mut dyn ReadSeek) -> Result<VideoInfo, FailReason> {
    let mkv = matroska_demuxer::MatroskaFile::open(Reader(reader)).map_err(|e| match e {
        matroska_demuxer::DemuxError::IoError(io)
            if io.kind() == std::io::ErrorKind::UnexpectedEof =>
        {
            truncated()
        }
        e => FailReason::CorruptVideo(e.to_string()),
    })?;
    let container = if mkv.ebml_header().doc_type() == "webm" {
        Container::WebM
    } else {
        Container::Matroska
    };
    let track = mkv
        .tracks()
        .iter()
        .find(|t| t.track_type() == matroska_demuxer::TrackType::Video)
        .ok_or_else(|| FailReason::CorruptVideo("no video track".into()))?;
    let video = track
        .video()
        .ok_or_else(|| FailReason::CorruptVideo("no video settings".into()))?;
    let info = mkv.info();
    // Duration is in timestamp-scale units (nanoseconds each by default).
    let duration_ms = info.duration().map_or(0, |d| {
        (d * info.timestamp_scale().get() as f64 / 1e6) as u64
    });
    // Nanoseconds since 2001-01-01 UTC.
    const FROM_2001: i64 = 978_307_200;
    let created_at = info
        .date_utc()
        .map(|ns| crate::metadata::utc_datetime(ns.div_euclid(1_000_000_000) + FROM_2001));
    Ok(VideoInfo {
        container,
        duration_ms,
        width: video.display_width().unwrap_or(video.pixel_width()).get() as u32,
        height: video.display_height().unwrap_or(video.pixel_height()).get() as u32,
        codec: track.codec_id().to_string(),
        created_at,
    })
}

fn truncated() -> FailReason {
    FailReason::CorruptVideo("truncated: the file ends early".into())
}

/// `matroska-demuxer` takes its reader by value.
struct Reader<'a>(&'a mut dyn ReadSeek);

impl Read for Reader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}

impl Seek for Reader<'_> {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.0.seek(pos)
    }
}
