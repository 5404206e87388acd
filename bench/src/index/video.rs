//! `bench index`, part video: the gallery's first JPEGs made into the clips a phone records,
//! by `ffmpeg` (apt `ffmpeg`): 3 s of H.264 at 1920 px on the long side, 30 frames/s, a slow
//! zoom into the photo. A video is indexed from its container's headers and one poster frame
//! (`precious_engine::video`), which the `ffmpeg` program decodes at the working size.

use std::path::Path;
use std::process::Command;

use precious_engine::Result;

use super::side_by_side::Alternate;
use crate::tooling::{invalid, run_tool};

pub const VIDEO: Alternate = Alternate {
    name: "video",
    label: "Video",
    intro: "### Videos beside JPEG, same pictures\n\n\
         The first photos of the gallery above as they are (JPEG) and as 3 s H.264 MP4 clips \
         made by `ffmpeg` (1920 px on the long side, 30 frames/s, a slow zoom into the \
         photo), each cold-scanned in a child process. A video costs its hash (every byte), \
         its container's headers (the `mp4` crate) and one poster frame decoded by the \
         `ffmpeg` program at the 256-px working size (a process per video).",
    encode,
};

fn encode(dir: &Path, i: usize, src: &Path) -> Result<()> {
    let frames = 90;
    let filter = format!(
        "scale='if(gt(iw,ih),3840,-2)':'if(gt(iw,ih),-2,3840)',\
         zoompan=z='1+0.1*on/{frames}':d={frames}:x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2':\
         s=hd1080:fps=30,format=yuv420p"
    );
    run_tool(
        Command::new("ffmpeg")
            .args(["-nostdin", "-v", "error", "-y", "-i"])
            .arg(src)
            .args(["-vf", &filter, "-frames:v", &frames.to_string()])
            .args([
                "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-threads", "1",
            ])
            .arg(dir.join(format!("VID_{i:04}.mp4"))),
    )
    .map(drop)
    .map_err(|e| invalid(format!("ffmpeg (apt ffmpeg) failed: {e}")))
}
