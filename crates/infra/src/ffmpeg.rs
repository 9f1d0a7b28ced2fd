//! Debian's `ffmpeg` package, run as child processes: `ffprobe` reads what an upload holds,
//! `ffmpeg` takes pictures of it. Children are killed when their future is dropped (a job given
//! back, a timeout), so none outlives the work it was started for.

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::Command;
use videotube_domain::media::{Rendition, VideoProbe, VideoStreamInfo};
use videotube_domain::ports::{Progress, TranscodeJob, VideoToolError, VideoTools};

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

    /// One ffmpeg process decodes once and encodes every rendition, at the lowest CPU priority
    /// and on all cores but one, so that requests keep their latency while videos transcode.
    /// No time limit: a long video takes long; the worker's lease renewals and its stop signal
    /// bound it (the process is killed when the job is given up).
    #[tracing::instrument(name = "ffmpeg.transcode_hls", skip_all, fields(renditions = job.ladder.len()))]
    async fn transcode_hls(
        &self,
        video: &Path,
        job: &TranscodeJob,
        out_dir: &Path,
        progress: Progress<'_>,
    ) -> Result<Vec<PathBuf>, VideoToolError> {
        present(video).await?;
        let failed = |err: std::io::Error| VideoToolError::Failed(err.into());
        // What an interrupted attempt left is no part of this package.
        match tokio::fs::remove_dir_all(out_dir).await {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => return Err(failed(err)),
            _ => {}
        }
        for rendition in &job.ladder {
            tokio::fs::create_dir_all(out_dir.join(&rendition.name))
                .await
                .map_err(failed)?;
        }
        let input = file_url(video);
        let mut command = Command::new(&self.ffmpeg);
        command
            .args([
                "-v",
                "error",
                "-nostdin",
                "-y",
                "-nostats",
                "-progress",
                "pipe:1",
            ])
            .args(["-i", &input])
            .args(hls_arguments(&job.ladder, job.with_sound, out_dir))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        // SAFETY: between fork and exec the child only calls setpriority, which is
        // async-signal-safe, and allocates nothing.
        unsafe {
            command.pre_exec(|| {
                libc::setpriority(libc::PRIO_PROCESS, 0, 19);
                Ok(())
            });
        }
        // The whole command, so that it can be run again by hand (`scripts/bench-transcode`).
        tracing::info!(command = ?command.as_std(), "transcoding");
        let mut child = command.spawn().map_err(failed)?;
        let (Some(stdout), Some(mut stderr)) = (child.stdout.take(), child.stderr.take()) else {
            return Err(failed(std::io::Error::other(
                "ffmpeg's output is not piped",
            )));
        };
        let said = tokio::spawn(async move {
            let mut said = Vec::new();
            let _ = stderr.read_to_end(&mut said).await;
            said
        });
        let mut reports = ProgressLines::new(job.duration_seconds);
        let mut lines = BufReader::new(stdout).lines();
        while let Some(line) = lines.next_line().await.map_err(failed)? {
            if let Some(percent) = reports.percent_at(&line, Instant::now()) {
                progress(percent).await;
            }
        }
        let status = child.wait().await.map_err(failed)?;
        if !status.success() {
            let said = said.await.unwrap_or_default();
            let said = String::from_utf8_lossy(&said);
            return Err(VideoToolError::Unreadable(what_ffmpeg_found(&said, &input)));
        }
        package_files(out_dir, &job.ladder).await.map_err(failed)
    }
}

/// How often a transcode reports its progress at most.
const REPORT_EVERY: Duration = Duration::from_secs(1);

/// Reads ffmpeg's `-progress` lines (`out_time_us=...`, the position reached) into the
/// percentages worth reporting: a new one, at most every `REPORT_EVERY`.
struct ProgressLines {
    duration_us: Option<f64>,
    last: Option<(u8, Instant)>,
}

impl ProgressLines {
    fn new(duration_seconds: Option<f64>) -> Self {
        Self {
            duration_us: duration_seconds.filter(|d| *d > 0.0).map(|d| d * 1e6),
            last: None,
        }
    }

    fn percent_at(&mut self, line: &str, now: Instant) -> Option<u8> {
        let reached: f64 = line.strip_prefix("out_time_us=")?.trim().parse().ok()?;
        // Never 100 before the end: the package still has to be stored.
        let percent = (reached / self.duration_us? * 100.0).clamp(0.0, 99.0) as u8;
        match self.last {
            Some((last, at)) if last == percent || now.duration_since(at) < REPORT_EVERY => None,
            _ => {
                self.last = Some((percent, now));
                Some(percent)
            }
        }
    }
}

/// Encoder threads for a transcode: one core is left for the API.
fn transcode_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1))
}

/// The ffmpeg arguments after the input for `ladder`: one scaled H.264 output per rendition
/// (and AAC sound `with_sound`), muxed as HLS into `out_dir/<rendition>/` with a master
/// playlist.
fn hls_arguments(ladder: &[Rendition], with_sound: bool, out_dir: &Path) -> Vec<String> {
    let mut args: Vec<String> = Vec::new();
    let mut push = |items: &[&str]| args.extend(items.iter().map(|s| (*s).to_owned()));
    let n = ladder.len();
    let mut graph = format!(
        "[0:v]split={n}{}",
        (0..n).map(|i| format!("[s{i}]")).collect::<String>()
    );
    for (i, r) in ladder.iter().enumerate() {
        graph.push_str(&format!(";[s{i}]scale={}:{}[v{i}]", r.width, r.height));
    }
    push(&["-filter_complex", &graph]);
    for (i, r) in ladder.iter().enumerate() {
        let kbps = r.video_kbps;
        push(&["-map", &format!("[v{i}]")]);
        push(&[&format!("-b:v:{i}"), &format!("{kbps}k")]);
        push(&[
            &format!("-maxrate:v:{i}"),
            &format!("{}k", kbps * 107 / 100),
        ]);
        push(&[&format!("-bufsize:v:{i}"), &format!("{}k", kbps * 3 / 2)]);
    }
    if with_sound {
        for (i, r) in ladder.iter().enumerate() {
            push(&[
                "-map",
                "0:a:0",
                &format!("-b:a:{i}"),
                &format!("{}k", r.audio_kbps),
            ]);
        }
        push(&["-c:a", "aac", "-ac", "2"]);
    }
    push(&[
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-profile:v",
        "main",
    ]);
    push(&[
        "-pix_fmt",
        "yuv420p",
        "-threads",
        &transcode_threads().to_string(),
    ]);
    // A keyframe every 2 s, whatever the frame rate: segments cut at the same moments in every
    // rendition, so players can switch between them.
    push(&[
        "-force_key_frames",
        "expr:gte(t,n_forced*2)",
        "-sc_threshold",
        "0",
    ]);
    let streams: Vec<String> = ladder
        .iter()
        .enumerate()
        .map(|(i, r)| match with_sound {
            true => format!("v:{i},a:{i},name:{}", r.name),
            false => format!("v:{i},name:{}", r.name),
        })
        .collect();
    let out = out_dir.display();
    push(&["-f", "hls", "-hls_time", "4", "-hls_playlist_type", "vod"]);
    push(&[
        "-hls_flags",
        "independent_segments",
        "-master_pl_name",
        "master.m3u8",
    ]);
    push(&["-var_stream_map", &streams.join(" ")]);
    push(&[
        "-hls_segment_filename",
        &format!("{out}/%v/segment_%04d.ts"),
    ]);
    push(&[&format!("{out}/%v/index.m3u8")]);
    args
}

/// The package's files relative to `out_dir`: each rendition's playlist and segments, then
/// the master playlist.
async fn package_files(out_dir: &Path, ladder: &[Rendition]) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for rendition in ladder {
        let mut entries = tokio::fs::read_dir(out_dir.join(&rendition.name)).await?;
        let mut names = Vec::new();
        while let Some(entry) = entries.next_entry().await? {
            names.push(Path::new(&rendition.name).join(entry.file_name()));
        }
        names.sort();
        files.extend(names);
    }
    tokio::fs::metadata(out_dir.join(MASTER_PLAYLIST)).await?;
    files.push(PathBuf::from(MASTER_PLAYLIST));
    Ok(files)
}

const MASTER_PLAYLIST: &str = "master.m3u8";

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
    fn progress_is_reported_when_it_moves_and_at_most_every_second() {
        let mut lines = ProgressLines::new(Some(10.0));
        let start = Instant::now();
        let at = |s: f64| start + Duration::from_secs_f64(s);
        assert_eq!(lines.percent_at("out_time_us=N/A", at(0.0)), None);
        assert_eq!(lines.percent_at("frame=12", at(0.0)), None);
        assert_eq!(lines.percent_at("out_time_us=1000000", at(0.1)), Some(10));
        assert_eq!(
            lines.percent_at("out_time_us=2000000", at(0.5)),
            None,
            "too soon"
        );
        assert_eq!(lines.percent_at("out_time_us=2000000", at(1.2)), Some(20));
        assert_eq!(
            lines.percent_at("out_time_us=2000000", at(3.0)),
            None,
            "no change"
        );
        assert_eq!(lines.percent_at("out_time_us=99000000", at(5.0)), Some(99));
        let mut unknown = ProgressLines::new(None);
        assert_eq!(unknown.percent_at("out_time_us=1000000", at(0.0)), None);
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
