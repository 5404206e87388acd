//! Videos (`video`): real clips in every container a gallery holds, written by ffmpeg from a
//! demo photo, are indexed with what their container says and a poster frame that embeds like
//! the photo they were made from; damaged ones get a reason; a build that cannot take a frame
//! says so; and a video is trashed and restored like a photo.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;
use precious_engine::decode::{load, resize_short_side, Strategy, WORKING_SHORT_SIDE};
use precious_engine::features::backbone::{Backbone, Choice};
use precious_engine::source::{FsSource, Locator};
use precious_engine::video::{self, container::probe, Container};
use precious_engine::{Engine, ScanOptions};

/// The demo photo the clips show.
fn source_photo() -> PathBuf {
    demo_gallery().join("DCIM/Camera/IMG_20020101_020506.jpg")
}

fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg (apt ffmpeg) is needed by this test");
    assert!(out.status.success(), "ffmpeg {args:?}: {out:?}");
}

/// Clips of the source photo: (file name, container, seconds, displayed width x height).
const CLIPS: &[(&str, Container, u64, (u32, u32))] = &[
    ("VID_20240714_183012.mp4", Container::Mp4, 3, (480, 320)),
    ("IMG_0420.MOV", Container::QuickTime, 2, (480, 320)),
    ("portrait.mp4", Container::Mp4, 2, (320, 480)),
    ("clip.webm", Container::WebM, 2, (480, 320)),
    ("clip.mkv", Container::Matroska, 2, (480, 320)),
    ("MMS_0001.3gp", Container::ThreeGp, 2, (176, 144)),
];

/// Writes [`CLIPS`] into `dir`: H.264 MP4 and QuickTime (as phones record), one tagged as
/// filmed upright (a 90-degree display rotation), VP9 WebM, H.264 Matroska, H.263 3GP.
fn write_clips(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let photo = source_photo();
    let photo = photo.to_str().unwrap();
    let p = |name: &str| dir.join(name).to_str().unwrap().to_string();
    let still = |secs: &str, vf: &str, codec: &[&str], out: &str| {
        let mut args = vec!["-loop", "1", "-i", photo, "-t", secs, "-r", "15", "-vf", vf];
        args.extend(codec);
        args.push(out);
        ffmpeg(&args);
    };
    let h264 = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "30"];
    let landscape = "scale=480:320,format=yuv420p";
    still("3", landscape, &h264, &p(CLIPS[0].0));
    let mut mov = h264.to_vec();
    mov.extend(["-f", "mov"]);
    still("2", landscape, &mov, &p(CLIPS[1].0));
    // Coded landscape, tagged as turned 90 degrees clockwise for display: how a phone stores
    // a video filmed upright (displayed 320x480). The tag is set on a stream copy, since
    // ffmpeg drops it when encoding.
    let coded = p("coded.mp4");
    still("2", landscape, &h264, &coded);
    ffmpeg(&[
        "-i",
        &coded,
        "-c",
        "copy",
        "-metadata:s:v:0",
        "rotate=90",
        &p(CLIPS[2].0),
    ]);
    std::fs::remove_file(&coded).unwrap();
    still(
        "2",
        landscape,
        &[
            "-c:v",
            "libvpx-vp9",
            "-b:v",
            "200k",
            "-deadline",
            "realtime",
        ],
        &p(CLIPS[3].0),
    );
    still("2", landscape, &h264, &p(CLIPS[4].0));
    still(
        "2",
        "scale=176:144",
        &["-c:v", "h263", "-f", "3gp"],
        &p(CLIPS[5].0),
    );
}

fn scan(engine: &mut Engine, dir: &Path) -> precious_engine::ScanReport {
    engine
        .scan_folders(&[dir.to_path_buf()], &ScanOptions::default(), &mut |_| {})
        .unwrap()
}

#[test]
fn videos_are_indexed_with_container_facts_and_a_poster_of_their_picture() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("g");
    write_clips(&dir);
    let mut engine = Engine::open(&tmp.path().join("p.sqlite")).unwrap();
    let report = scan(&mut engine, &dir);
    assert_eq!(
        (report.indexed, report.failed, report.unsupported),
        (CLIPS.len(), 0, 0),
        "{report:?}"
    );
    let photos = photos_by_path(&engine);
    assert_eq!(photos.len(), CLIPS.len());
    for (id, path) in photos {
        let p = engine.photo(id).unwrap();
        let name = path.file_name().unwrap().to_str().unwrap();
        let &(_, container, secs, (w, h)) = CLIPS.iter().find(|c| c.0 == name).unwrap();
        assert_eq!(p.state, "indexed", "{name}");
        assert_eq!(p.format.as_deref(), Some(container.name()), "{name}");
        assert_eq!((p.width, p.height), (Some(w), Some(h)), "{name}");
        let ms = p.duration_ms.expect("a duration");
        assert!(ms.abs_diff(secs * 1000) <= 100, "{name}: {ms} ms");
        assert!(p.codec.is_some() && p.thumbnail.is_some(), "{p:?}");
        // The thumbnail is the poster: upright, the displayed shape.
        let thumb = image::open(p.thumbnail.unwrap()).unwrap();
        assert_eq!(
            thumb.width() > thumb.height(),
            w > h,
            "{name}: thumbnail {}x{}",
            thumb.width(),
            thumb.height()
        );
    }
    // A no-change rescan reads nothing and indexes nothing.
    let again = scan(&mut engine, &dir);
    assert_eq!((again.unchanged, again.indexed), (CLIPS.len(), 0));
}

/// The poster frame is the picture the clip shows: its embedding is close to the source
/// photo's at the same size (a black, garbled, sideways or wrong-channel frame is not).
#[test]
fn a_poster_frame_embeds_like_the_photo_it_shows() {
    let tmp = tempfile::tempdir().unwrap();
    write_clips(tmp.path());
    let backbone = Backbone::load_with(Choice::Tract, None).unwrap();
    // At full resolution (the file is upright: orientation 1), as ffmpeg read it.
    let photo = image::open(source_photo()).unwrap().to_rgb8();
    let other = load(
        &std::fs::read(demo_gallery().join("DCIM/Camera/IMG_20080419_134316.jpg")).unwrap(),
        None,
        Strategy::Fastest,
    )
    .unwrap()
    .decoded
    .image;
    let fs = FsSource::new(&[tmp.path().to_path_buf()]);
    let mut worst = f32::MAX;
    for &(name, container, ..) in CLIPS {
        let path = tmp.path().join(name);
        let locator = Locator::from_path(&path);
        let mut file = std::fs::File::open(&path).unwrap();
        let len = file.metadata().unwrap().len();
        let info = probe(&mut file, len, container).unwrap();
        let frame = video::poster(&fs, &locator, &info).unwrap();
        assert_eq!(frame.width().min(frame.height()), WORKING_SHORT_SIDE);
        // The clip squeezes the photo to its own frame: compare at the clip's shape.
        let (fw, fh) = frame.dimensions();
        let reference = if name == "portrait.mp4" {
            // Shown as its rotation tag says: the photo turned 90 degrees clockwise.
            image::imageops::rotate270(&photo)
        } else {
            photo.clone()
        };
        let reference = precious_engine::decode::resize_exact(&reference, fw, fh);
        let c = cosine(
            &backbone.embed(&frame).unwrap(),
            &backbone
                .embed(&resize_short_side(&reference, WORKING_SHORT_SIDE))
                .unwrap(),
        );
        let unlike = cosine(
            &backbone.embed(&frame).unwrap(),
            &backbone.embed(&other).unwrap(),
        );
        eprintln!("{name}: cosine {c:.4} (another photo: {unlike:.4})");
        worst = worst.min(c);
        if name == "portrait.mp4" {
            // Turned the other way, the same picture is clearly less alike.
            let wrong =
                precious_engine::decode::resize_exact(&image::imageops::rotate90(&photo), fw, fh);
            let w = cosine(
                &backbone.embed(&frame).unwrap(),
                &backbone.embed(&wrong).unwrap(),
            );
            eprintln!("{name}: turned the wrong way: cosine {w:.4}");
            assert!(
                c > w + 0.05,
                "the portrait poster is not upright: {c} vs {w}"
            );
        }
    }
    // Measured 2026-12-07: 0.84 (H.263 at 176x144) to 0.97 (VP9); another photo 0.07-0.12.
    assert!(worst > 0.8, "a poster frame is not its picture: {worst}");
}

/// Cut, emptied and mislabelled videos are refused with a reason, and the scan goes on.
#[test]
fn damaged_videos_get_a_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let made = tmp.path().join("made");
    write_clips(&made);
    let dir = tmp.path().join("g");
    std::fs::create_dir_all(&dir).unwrap();
    let good = std::fs::read(made.join(CLIPS[0].0)).unwrap();
    std::fs::write(dir.join("good.mp4"), &good).unwrap();
    // ffmpeg writes the index (moov) last: the first half of the file has media data only.
    std::fs::write(dir.join("half.mp4"), &good[..good.len() / 2]).unwrap();
    std::fs::write(dir.join("header.mp4"), &good[..40]).unwrap();
    let webm = std::fs::read(made.join("clip.webm")).unwrap();
    std::fs::write(dir.join("header.webm"), &webm[..60]).unwrap();
    std::fs::write(dir.join("empty.mov"), b"").unwrap();
    std::fs::write(dir.join("text.mov"), b"not a video, a note").unwrap();
    // Audio only: a container with no video track.
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:duration=1",
        "-c:a",
        "aac",
        dir.join("voice.mp4").to_str().unwrap(),
    ]);
    let mut engine = Engine::open(&tmp.path().join("p.sqlite")).unwrap();
    let report = scan(&mut engine, &dir);
    assert_eq!((report.indexed, report.failed), (1, 6), "{report:?}");
    let status = engine.status().unwrap();
    let reason = |name: &str| {
        status
            .errors
            .iter()
            .find(|e| e.path.ends_with(name))
            .map(|e| e.reason.clone())
            .unwrap_or_else(|| panic!("{name}: no reason in {:?}", status.errors))
    };
    for e in &status.errors {
        eprintln!("{}: {}", e.path, e.reason);
        assert!(!e.reason.contains("crashed"), "{e:?}");
    }
    assert!(reason("half.mp4").contains("truncated"));
    assert!(reason("header.mp4").starts_with("corrupt video"));
    assert!(reason("header.webm").starts_with("corrupt video"));
    assert!(reason("voice.mp4").contains("no video track"));
    assert!(reason("empty.mov").contains("empty"));
    assert!(reason("text.mov").contains("not an image"));
}

/// Without a frame decoder (here: no ffmpeg program), a video is listed as unsupported with
/// what its container says, not silently skipped.
#[test]
fn without_a_frame_decoder_a_video_is_unsupported_with_its_facts() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("g");
    write_clips(&dir);
    let db = tmp.path().join("p.sqlite");
    let out = Command::new(env!("CARGO_BIN_EXE_precious"))
        .env("PRECIOUS_FFMPEG", tmp.path().join("no-such-ffmpeg"))
        .arg("--db")
        .arg(&db)
        .arg("scan")
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let engine = Engine::open(&db).unwrap();
    let status = engine.status().unwrap();
    assert_eq!(status.errors.len(), CLIPS.len(), "{:?}", status.errors);
    let mp4 = status
        .errors
        .iter()
        .find(|e| e.path.ends_with(CLIPS[0].0))
        .unwrap();
    assert!(
        mp4.reason.starts_with("MP4 video, 0:03, 480x320, avc1")
            && mp4.reason.contains("install ffmpeg"),
        "{mp4:?}"
    );
}

/// A video goes to the OS trash and comes back byte for byte (its hash is taken as a stream).
#[test]
fn a_video_is_trashed_and_restored() {
    let _trash = os_trash_exclusive();
    let tmp = tempfile::tempdir_in(sandbox_os_trash()).unwrap();
    let dir = tmp.path().canonicalize().unwrap().join("g");
    std::fs::create_dir_all(&dir).unwrap();
    let made = tmp.path().join("made");
    write_clips(&made);
    let clip = dir.join(CLIPS[0].0);
    std::fs::copy(made.join(CLIPS[0].0), &clip).unwrap();
    let bytes = std::fs::read(&clip).unwrap();
    let mut engine = Engine::open(&tmp.path().join("p.sqlite")).unwrap();
    scan(&mut engine, &dir);
    let r = engine.trash(&[1]).unwrap();
    assert_eq!((r.done, r.bytes), (1, bytes.len() as u64), "{r:?}");
    assert!(!clip.exists());
    let r = engine.restore(&[1]).unwrap();
    assert_eq!(r.done, 1, "{r:?}");
    assert_eq!(std::fs::read(&clip).unwrap(), bytes);
}
