//! Debian's `ffmpeg` package, run as child processes: `ffprobe` reads what an upload holds,
//! `ffmpeg` takes pictures of it. Children are killed when their future is dropped (a job given
//! back, a timeout), so none outlives the work it was started for.

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use tokio::process::Command;
use videotube_domain::media::{VideoProbe, VideoStreamInfo};
use videotube_domain::ports::{VideoToolError, VideoTools};

/// Probing reads headers and a few packets, and a frame is one seek and one decode; a file
/// that takes longer is fed slowly by a failing disk, or built to stall the demuxer.
const QUICK_WORK: Duration = Duration::from_secs(60);

/// `ffmpeg` and the `ffprobe` beside it, found when the server starts.
#[derive(Debug, Clone)]
pub struct Ffmpeg {
    ffmpeg: PathBuf,
    ffprobe: PathBuf,
}

impl Ffmpeg {
    /// `ffmpeg` (a name looked up in `PATH`, or a path) and `ffprobe` from the same place, when
    /// both run; otherwise the program that does not.
    pub async fn find(ffmpeg: &Path) -> Result<Self, PathBuf> {
        let ffprobe = match ffmpeg.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.join("ffprobe"),
            _ => PathBuf::from("ffprobe"),
        };
        for program in [ffmpeg, &ffprobe] {
            let ran = Command::new(program)
                .arg("-version")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .kill_on_drop(true)
                .status()
                .await;
            if !ran.is_ok_and(|status| status.success()) {
                return Err(program.to_owned());
            }
        }
        Ok(Self {
            ffmpeg: ffmpeg.to_owned(),
            ffprobe,
        })
    }
}

/// `file:` keeps ffmpeg from reading a protocol or an option out of a path.
fn file_url(path: &Path) -> String {
    format!("file:{}", path.display())
}

/// Runs `command` within `QUICK_WORK`; an input ffmpeg refused is `Unreadable`, with what it
/// said about `input`.
async fn run(mut command: Command, input: &str) -> Result<Output, VideoToolError> {
    let output = command.stdin(Stdio::null()).kill_on_drop(true).output();
    let output = tokio::time::timeout(QUICK_WORK, output)
        .await
        .map_err(|elapsed| VideoToolError::Failed(elapsed.into()))?
        .map_err(|err| VideoToolError::Failed(err.into()))?;
    if !output.status.success() {
        let said = String::from_utf8_lossy(&output.stderr);
        return Err(VideoToolError::Unreadable(what_ffmpeg_found(&said, input)));
    }
    Ok(output)
}

/// A file that is not there is this machine's problem, not the upload's.
async fn present(file: &Path) -> Result<(), VideoToolError> {
    tokio::fs::metadata(file)
        .await
        .map(|_| ())
        .map_err(|err| VideoToolError::Failed(err.into()))
}

#[async_trait]
impl VideoTools for Ffmpeg {
    #[tracing::instrument(name = "ffprobe", skip_all)]
    async fn probe(&self, file: &Path) -> Result<VideoProbe, VideoToolError> {
        present(file).await?;
        let input = file_url(file);
        let mut command = Command::new(&self.ffprobe);
        command
            .args(["-v", "error", "-print_format", "json"])
            .args(["-show_format", "-show_streams", &input]);
        let output = run(command, &input).await?;
        let report: Report = serde_json::from_slice(&output.stdout)
            .map_err(|err| VideoToolError::Failed(err.into()))?;
        Ok(report.into())
    }

    #[tracing::instrument(name = "ffmpeg.grab_frame", skip_all)]
    async fn grab_frame(
        &self,
        video: &Path,
        at_seconds: f64,
        out: &Path,
    ) -> Result<u64, VideoToolError> {
        present(video).await?;
        let input = file_url(video);
        let mut command = Command::new(&self.ffmpeg);
        command
            .args(["-v", "error", "-nostdin", "-y"])
            // Before `-i`: a seek to the nearest keyframe, then decoding up to the moment.
            .args(["-ss", &format!("{at_seconds:.3}"), "-i", &input])
            // At most 1280 wide (a thumbnail, not a still), rotation applied.
            .args(["-frames:v", "1", "-vf", "scale='min(1280,iw)':-2"])
            .args(["-q:v", "3", "-f", "image2", "-c:v", "mjpeg"])
            .arg(file_url(out));
        run(command, &input).await?;
        // ffmpeg succeeds without writing a frame when the moment is past the last one.
        match tokio::fs::metadata(out).await {
            Ok(written) if written.len() > 0 => Ok(written.len()),
            _ => Err(VideoToolError::Unreadable(format!(
                "no picture at {at_seconds:.1} s"
            ))),
        }
    }
}

/// What ffmpeg said about an input, for its owner: without the component tags
/// (`[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55d0c8]`) and the input's path, at most a few lines.
fn what_ffmpeg_found(stderr: &str, input: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(|line| match line.strip_prefix('[') {
            Some(tagged) => tagged.split_once("] ").map_or(line, |(_, said)| said),
            None => line,
        })
        .map(|line| {
            line.strip_prefix(input)
                .map_or(line, |rest| rest.trim_start_matches(": "))
        })
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .take(3)
        .collect();
    if lines.is_empty() {
        "ffprobe could not read it".to_owned()
    } else {
        lines.join("; ")
    }
}

/// The part of `ffprobe -print_format json -show_format -show_streams` we read.
#[derive(Debug, Deserialize)]
struct Report {
    #[serde(default)]
    streams: Vec<Stream>,
    format: Option<Format>,
}

#[derive(Debug, Deserialize)]
struct Stream {
    codec_type: Option<String>,
    codec_name: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
    #[serde(default)]
    disposition: Disposition,
    #[serde(default)]
    side_data_list: Vec<SideData>,
    #[serde(default)]
    tags: Tags,
}

#[derive(Debug, Default, Deserialize)]
struct Disposition {
    #[serde(default)]
    attached_pic: u8,
}

#[derive(Debug, Deserialize)]
struct SideData {
    rotation: Option<f64>,
}

/// Before ffmpeg 5 the rotation was a tag.
#[derive(Debug, Default, Deserialize)]
struct Tags {
    rotate: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Format {
    /// Seconds, as a decimal string.
    duration: Option<String>,
}

impl From<Report> for VideoProbe {
    fn from(report: Report) -> Self {
        fn of_type<'a>(streams: &'a [Stream], kind: &'a str) -> impl Iterator<Item = &'a Stream> {
            streams
                .iter()
                .filter(move |s| s.codec_type.as_deref() == Some(kind))
        }
        let video = of_type(&report.streams, "video")
            // A cover picture in a music file is a one-frame "video" stream.
            .find(|s| s.disposition.attached_pic == 0)
            .and_then(|s| {
                let rotation = s
                    .side_data_list
                    .iter()
                    .find_map(|d| d.rotation)
                    .or_else(|| s.tags.rotate.as_deref()?.parse().ok())
                    .unwrap_or(0.0);
                Some(VideoStreamInfo {
                    codec: s.codec_name.clone().unwrap_or_default(),
                    width: s.width?,
                    height: s.height?,
                    rotation: rotation.round() as i32,
                })
            });
        VideoProbe {
            duration_seconds: report
                .format
                .as_ref()
                .and_then(|f| f.duration.as_deref()?.parse().ok()),
            audio_codec: of_type(&report.streams, "audio").find_map(|s| s.codec_name.clone()),
            video,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(json: &str) -> VideoProbe {
        serde_json::from_str::<Report>(json).unwrap().into()
    }

    #[test]
    fn a_phone_video_is_read_with_its_rotation_and_sound() {
        let probed = probe(
            r#"{"streams": [
                {"codec_type": "video", "codec_name": "h264", "width": 1920, "height": 1080,
                 "disposition": {"attached_pic": 0},
                 "side_data_list": [{"side_data_type": "Display Matrix", "rotation": -90}]},
                {"codec_type": "audio", "codec_name": "aac"}],
               "format": {"duration": "12.480000"}}"#,
        );
        assert_eq!(probed.duration_seconds, Some(12.48));
        assert_eq!(probed.audio_codec.as_deref(), Some("aac"));
        let video = probed.video.unwrap();
        assert_eq!((video.codec.as_str(), video.rotation), ("h264", -90));
        assert_eq!(video.displayed_size(), (1080, 1920));
    }

    #[test]
    fn what_ffprobe_found_is_told_without_paths_or_tags() {
        let said = "[mov,mp4,m4a,3gp,3g2,mj2 @ 0x564d8c9641c0] moov atom not found\n\
                    file:/srv/spool/x.mp4: Invalid data found when processing input\n";
        assert_eq!(
            what_ffmpeg_found(said, "file:/srv/spool/x.mp4"),
            "moov atom not found; Invalid data found when processing input"
        );
        assert_eq!(
            what_ffmpeg_found("", "file:/x"),
            "ffprobe could not read it"
        );
    }

    #[test]
    fn a_rotation_tag_of_older_files_counts() {
        let probed = probe(
            r#"{"streams": [{"codec_type": "video", "codec_name": "mpeg4", "width": 640,
                "height": 480, "tags": {"rotate": "90"}}], "format": {}}"#,
        );
        assert_eq!(probed.video.unwrap().rotation, 90);
    }

    #[test]
    fn a_cover_picture_is_not_a_video_stream() {
        let probed = probe(
            r#"{"streams": [
                {"codec_type": "audio", "codec_name": "mp3"},
                {"codec_type": "video", "codec_name": "mjpeg", "width": 500, "height": 500,
                 "disposition": {"attached_pic": 1}}],
               "format": {"duration": "180.0"}}"#,
        );
        assert_eq!(probed.video, None);
        assert_eq!(probed.audio_codec.as_deref(), Some("mp3"));
    }
}
