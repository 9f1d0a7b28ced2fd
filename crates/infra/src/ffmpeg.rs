//! Debian's `ffmpeg` package, run as child processes: `ffprobe` reads what an upload holds.
//! Children are killed when their future is dropped (a job given back, a timeout), so none
//! outlives the work it was started for.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use tokio::process::Command;
use videotube_domain::media::{VideoProbe, VideoStreamInfo};
use videotube_domain::ports::{MediaProbe, ProbeError};

/// Probing reads headers and a few packets; a file that takes longer is being fed slowly by a
/// failing disk, or is built to stall the demuxer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(60);

/// `ffprobe`, found when the server starts.
#[derive(Debug, Clone)]
pub struct Ffprobe {
    program: PathBuf,
}

impl Ffprobe {
    /// `program` (a name looked up in `PATH`, or a path) when it runs; `None` when it is not
    /// installed.
    pub async fn find(program: &Path) -> Option<Self> {
        let ran = Command::new(program)
            .arg("-version")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .status()
            .await;
        match ran {
            Ok(status) if status.success() => Some(Self {
                program: program.to_owned(),
            }),
            _ => None,
        }
    }
}

#[async_trait]
impl MediaProbe for Ffprobe {
    #[tracing::instrument(name = "ffprobe", skip_all)]
    async fn probe(&self, file: &Path) -> Result<VideoProbe, ProbeError> {
        // A file that is not there is this machine's problem, not the upload's.
        tokio::fs::metadata(file)
            .await
            .map_err(|err| ProbeError::Failed(err.into()))?;
        // `file:` keeps ffmpeg from reading a protocol or an option out of the path.
        let input = format!("file:{}", file.display());
        let run = Command::new(&self.program)
            .args(["-v", "error", "-print_format", "json"])
            .args(["-show_format", "-show_streams", &input])
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output();
        let output = tokio::time::timeout(PROBE_TIMEOUT, run)
            .await
            .map_err(|elapsed| ProbeError::Failed(elapsed.into()))?
            .map_err(|err| ProbeError::Failed(err.into()))?;
        if !output.status.success() {
            let said = String::from_utf8_lossy(&output.stderr);
            return Err(ProbeError::Unreadable(what_ffmpeg_found(&said, &input)));
        }
        let report: Report =
            serde_json::from_slice(&output.stdout).map_err(|err| ProbeError::Failed(err.into()))?;
        Ok(report.into())
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
