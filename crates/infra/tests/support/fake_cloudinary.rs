//! A fake Cloudinary for wiremock that checks what the real API checks: the api key, the
//! signature over the sorted parameters, the multipart fields and the chunk headers. Shared by
//! the infra and http test suites (`#[path]`-included); each uses a part of it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use sha1::{Digest, Sha1};
use wiremock::{Request, Respond, ResponseTemplate};

pub const SECRET: &str = "fake-secret";
pub const API_KEY: &str = "123456789";

/// Multipart fields by name (files included), as the fake receives them.
pub fn multipart_fields(req: &Request) -> BTreeMap<String, Vec<u8>> {
    let content_type = req.headers.get("content-type").unwrap().to_str().unwrap();
    let boundary = content_type
        .split("boundary=")
        .nth(1)
        .unwrap()
        .trim_matches('"');
    let delimiter = format!("--{boundary}").into_bytes();
    let mut fields = BTreeMap::new();
    for part in split(&req.body, &delimiter).into_iter().skip(1) {
        if part.starts_with(b"--") {
            break;
        }
        let part = &part[2..part.len() - 2]; // the CRLF after the delimiter and before the next
        let head_end = find(part, b"\r\n\r\n").unwrap();
        let head = String::from_utf8_lossy(&part[..head_end]);
        let name = head
            .split("name=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_owned();
        fields.insert(name, part[head_end + 4..].to_vec());
    }
    fields
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn split<'a>(mut body: &'a [u8], delimiter: &[u8]) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    while let Some(at) = find(body, delimiter) {
        parts.push(&body[..at]);
        body = &body[at + delimiter.len()..];
    }
    parts.push(body);
    parts
}

/// The signature as Cloudinary computes it, written independently of the store's own code.
pub fn expected_signature(params: &BTreeMap<String, String>) -> String {
    let signed: Vec<String> = params
        .iter()
        .filter(|(k, _)| {
            ![
                "file",
                "api_key",
                "signature",
                "cloud_name",
                "resource_type",
            ]
            .contains(&k.as_str())
        })
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    hex::encode(Sha1::digest(
        format!("{}{SECRET}", signed.join("&")).as_bytes(),
    ))
}

fn refused(message: &str) -> ResponseTemplate {
    ResponseTemplate::new(401).set_body_json(serde_json::json!({ "error": { "message": message } }))
}

#[derive(Debug, Clone)]
pub struct Chunk {
    pub upload_id: String,
    pub range: String,
    pub bytes: Vec<u8>,
}

/// One upload request: its text fields and its file part.
pub type Received = (BTreeMap<String, String>, Chunk);

/// Answers uploads like Cloudinary: 401 on a bad key or signature, chunks acknowledged, the
/// asset described once the whole file is there.
#[derive(Clone, Default)]
pub struct FakeUpload {
    pub received: Arc<Mutex<Vec<Received>>>,
    /// How long the answer describing a whole asset takes.
    pub delay: std::time::Duration,
}

impl Respond for FakeUpload {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut fields = multipart_fields(req);
        let file = fields.remove("file").unwrap_or_default();
        let text: BTreeMap<String, String> = fields
            .into_iter()
            .map(|(k, v)| (k, String::from_utf8(v).unwrap()))
            .collect();
        if text.get("api_key").map(String::as_str) != Some(API_KEY) {
            return refused("Unknown API key");
        }
        if text.get("signature") != Some(&expected_signature(&text)) {
            return refused("Invalid Signature");
        }
        let header = |name: &str| {
            req.headers
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        let file_head: Vec<u8> = file.iter().copied().take(8).collect();
        let chunk = Chunk {
            upload_id: header("x-unique-upload-id").unwrap_or_default(),
            range: header("content-range").unwrap_or_default(),
            bytes: file,
        };
        let last = match chunk.range.strip_prefix("bytes ") {
            None => true,
            Some(range) => {
                let (span, total) = range.split_once('/').unwrap();
                let end: u64 = span.split_once('-').unwrap().1.parse().unwrap();
                end + 1 == total.parse::<u64>().unwrap()
            }
        };
        let public_id = text["public_id"].clone();
        let eager = text.get("eager").cloned();
        self.received.lock().unwrap().push((text, chunk));
        if !last {
            return ResponseTemplate::new(200).set_body_json(serde_json::json!({ "done": false }));
        }
        // `/v1_1/<cloud>/<resource type>/upload`
        let resource_type = req
            .url
            .path()
            .split('/')
            .nth(3)
            .unwrap_or("image")
            .to_owned();
        let mut answer = if resource_type == "raw" {
            // A raw file has no format: its public id is its whole name.
            serde_json::json!({
                "public_id": public_id,
                "version": 1700000000,
                "resource_type": resource_type,
                "type": "upload",
                "secure_url": format!("https://res.cloudinary.com/demo/raw/upload/v1700000000/{public_id}"),
            })
        } else {
            let format = format_of(&resource_type, &file_head);
            serde_json::json!({
                "public_id": public_id,
                "version": 1700000000,
                "format": format,
                "resource_type": resource_type,
                "type": "upload",
                "secure_url": format!("https://res.cloudinary.com/demo/{resource_type}/upload/v1700000000/{public_id}.{format}"),
            })
        };
        if resource_type == "video" {
            answer["duration"] = serde_json::json!(12.5);
        }
        if let Some(eager) = eager {
            // With `eager_async` the derived assets are only promised: see `FakeAdmin`.
            answer["eager"] =
                serde_json::json!([{ "transformation": eager, "status": "processing" }]);
        }
        ResponseTemplate::new(200)
            .set_body_json(answer)
            .set_delay(self.delay)
    }
}

/// The format Cloudinary would detect (the first chunk of a chunked upload decides it).
fn format_of(resource_type: &str, head: &[u8]) -> &'static str {
    match (resource_type, head) {
        ("video", _) => "mp4",
        (_, [0x89, b'P', b'N', b'G', ..]) => "png",
        _ => "jpg",
    }
}

/// Destroy requests are form-encoded and signed too; their parameters are kept.
#[derive(Clone)]
pub struct FakeDestroy {
    pub answer: &'static str,
    pub received: Arc<Mutex<Vec<BTreeMap<String, String>>>>,
}

impl FakeDestroy {
    pub fn answering(answer: &'static str) -> Self {
        Self {
            answer,
            received: Arc::default(),
        }
    }
}

impl Respond for FakeDestroy {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let params: BTreeMap<String, String> = url_decoded(&req.body);
        if params.get("signature") != Some(&expected_signature(&params)) {
            return refused("Invalid Signature");
        }
        if !params["public_id"].starts_with("videotube/") {
            return ResponseTemplate::new(400);
        }
        self.received.lock().unwrap().push(params);
        ResponseTemplate::new(200).set_body_json(serde_json::json!({ "result": self.answer }))
    }
}

/// Renames (`/<resource type>/rename`) as Cloudinary answers them: signed, and refused with 404
/// when the asset is not where `type` says (every asset starts as `upload`). Remembers where
/// each asset went and every request's parameters. Images are taken to be PNG.
#[derive(Clone, Default)]
pub struct FakeRename {
    pub delivery: Arc<Mutex<BTreeMap<String, String>>>,
    pub received: Arc<Mutex<Vec<BTreeMap<String, String>>>>,
}

impl Respond for FakeRename {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let params: BTreeMap<String, String> = url_decoded(&req.body);
        if params.get("api_key").map(String::as_str) != Some(API_KEY) {
            return refused("Unknown API key");
        }
        if params.get("signature") != Some(&expected_signature(&params)) {
            return refused("Invalid Signature");
        }
        self.received.lock().unwrap().push(params.clone());
        let (from, to) = (&params["from_public_id"], &params["to_public_id"]);
        let from_type = params.get("type").map_or("upload", String::as_str);
        let to_type = params.get("to_type").map_or(from_type, String::as_str);
        let mut delivery = self.delivery.lock().unwrap();
        let now = delivery.get(from).map_or("upload", String::as_str);
        if now != from_type {
            return ResponseTemplate::new(404).set_body_json(
                serde_json::json!({ "error": { "message": format!("Resource not found - {from}") } }),
            );
        }
        delivery.remove(from);
        delivery.insert(to.clone(), to_type.to_owned());
        let resource_type = req.url.path().split('/').nth(3).unwrap_or("image");
        let format = match resource_type {
            "video" => "mp4",
            // A raw file has no format: its public id is its whole name.
            "raw" => "",
            _ => "png",
        };
        let name = match format {
            "" => to.clone(),
            format => format!("{to}.{format}"),
        };
        let mut answer = serde_json::json!({
            "public_id": to,
            "version": 1700000001,
            "resource_type": resource_type,
            "type": to_type,
            "secure_url": format!("https://res.cloudinary.com/demo/{resource_type}/{to_type}/v1700000001/{name}"),
        });
        if !format.is_empty() {
            answer["format"] = serde_json::json!(format);
        }
        ResponseTemplate::new(200).set_body_json(answer)
    }
}

/// The Admin API's asset details (`GET /v1_1/<cloud>/resources/<resource type>/<type>/<id>`)
/// as Cloudinary answers them: 401 without the api key and secret as basic auth, 404 outside the
/// project's folder, and the `eager` stream among the derived assets only from the
/// `ready_after`-th request for an asset on (it is made in the background).
#[derive(Clone)]
pub struct FakeAdmin {
    pub ready_after: usize,
    /// The asset of every authorised request, in order.
    pub asked: Arc<Mutex<Vec<String>>>,
}

/// The transformation the store asks for with the default streaming profile.
pub const STREAM_TRANSFORMATION: &str = "sp_auto/m3u8";

impl FakeAdmin {
    pub fn ready_after(polls: usize) -> Self {
        Self {
            ready_after: polls,
            asked: Arc::default(),
        }
    }
}

impl Respond for FakeAdmin {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        use base64::Engine as _;
        let expected = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{API_KEY}:{SECRET}"))
        );
        let authorization = req
            .headers
            .get("authorization")
            .map(|v| v.to_str().unwrap());
        if authorization != Some(expected.as_str()) {
            return refused("Invalid credentials");
        }
        // `/v1_1/<cloud>/resources/<resource type>/<type>/<public id>`
        let segments: Vec<&str> = req.url.path().splitn(7, '/').collect();
        let [_, _, _, _, resource_type, delivery, public_id] = segments[..] else {
            return ResponseTemplate::new(404);
        };
        if !public_id.starts_with("videotube/") {
            return ResponseTemplate::new(404).set_body_json(
                serde_json::json!({ "error": { "message": format!("Resource not found - {public_id}") } }),
            );
        }
        let polls = {
            let mut asked = self.asked.lock().unwrap();
            asked.push(public_id.to_owned());
            asked.iter().filter(|id| *id == public_id).count()
        };
        // A transformation ending in `/<format>` names the format, which the URL carries as
        // its extension.
        let derived_url = |transformation: &str, format: &str| {
            let transformation = transformation.trim_end_matches(&format!("/{format}"));
            format!("https://res.cloudinary.com/demo/{resource_type}/{delivery}/{transformation}/v1700000000/{public_id}.{format}")
        };
        // A thumbnail someone derived is there from the start; the stream comes later.
        let mut derived = vec![serde_json::json!({
            "transformation": "c_scale,w_320",
            "format": "jpg",
            "secure_url": derived_url("c_scale,w_320", "jpg"),
        })];
        if polls >= self.ready_after {
            derived.push(serde_json::json!({
                "transformation": STREAM_TRANSFORMATION,
                "format": "m3u8",
                "secure_url": derived_url(STREAM_TRANSFORMATION, "m3u8"),
            }));
        }
        ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "public_id": public_id,
            "resource_type": resource_type,
            "type": delivery,
            "format": "mp4",
            "derived": derived,
        }))
    }
}

/// The signature part of an `authenticated` delivery URL, as Cloudinary checks it, written
/// independently of the store's own code: `s--` + 8 characters of the URL-safe base64 SHA-1 of
/// the rest of the path after the version, with the secret appended, + `--`.
pub fn delivery_signature_holds(url: &str) -> bool {
    use base64::Engine as _;
    let Some((_, rest)) = url.split_once("/authenticated/s--") else {
        return false;
    };
    let Some((signature, path)) = rest.split_once("--/") else {
        return false;
    };
    let signed = match path.split_once('/') {
        Some((version, rest))
            if version.starts_with('v') && version[1..].chars().all(|c| c.is_ascii_digit()) =>
        {
            rest
        }
        _ => path,
    };
    let digest = Sha1::digest(format!("{signed}{SECRET}").as_bytes());
    base64::engine::general_purpose::URL_SAFE.encode(digest)[..8] == *signature
}

fn url_decoded(body: &[u8]) -> BTreeMap<String, String> {
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_owned(), percent_decode(v)))
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}
