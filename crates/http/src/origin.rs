//! Where a client reaches this server: the origin that absolute URLs in answers (local media,
//! `Link` headers) are built from, per request, so that a server reached as `localhost:8021`, or
//! moved to another host or port, hands out URLs that work for whoever asked.

use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;

use actix_web::http::header::{self, HeaderMap};
use actix_web::HttpRequest;
use ipnet::IpNet;
use serde::{Serialize, Serializer};
use videotube_domain::video::Video;
use videotube_domain::Id;
use videotube_infra::media_links::MediaLinks;

/// The query parameter of a video file's URL that names its video.
pub const VIDEO_PARAMETER: &str = "video";

/// `PUBLIC_URL` when set; else the request's own scheme and host. `Forwarded` and
/// `X-Forwarded-Proto`/`-Host` are believed only from a peer in `trusted_proxies`: from anyone
/// else they are a client's say-so.
#[derive(Debug, Clone)]
pub struct PublicOrigin {
    configured: Option<String>,
    trusted_proxies: Vec<IpNet>,
    /// When a request names no host (HTTP/1.0): the address the server listens on.
    fallback: String,
}

impl PublicOrigin {
    pub fn new(public_url: &str, trusted_proxies: Vec<IpNet>, fallback: String) -> Self {
        let configured = public_url.trim_end_matches('/');
        PublicOrigin {
            configured: (!configured.is_empty()).then(|| configured.to_owned()),
            trusted_proxies,
            fallback,
        }
    }

    pub fn is_trusted(&self, peer: Option<IpAddr>) -> bool {
        peer.is_some_and(|ip| self.trusted_proxies.iter().any(|net| net.contains(&ip)))
    }

    pub fn of(&self, req: &HttpRequest) -> String {
        if let Some(configured) = &self.configured {
            return configured.clone();
        }
        let headers = req.headers();
        let forwarded = if self.is_trusted(req.peer_addr().map(|a| a.ip())) {
            Forwarded::read(headers)
        } else {
            Forwarded::default()
        };
        // This server speaks plain HTTP; TLS ends at a proxy, which says so.
        let scheme = forwarded
            .proto
            .filter(|p| matches!(p.as_str(), "http" | "https"))
            .unwrap_or_else(|| "http".to_owned());
        let host = forwarded
            .host
            .or_else(|| header_value(headers, header::HOST.as_str()))
            .or_else(|| req.uri().authority().map(|a| a.to_string()))
            .filter(|h| is_authority(h));
        match host {
            Some(host) => format!("{scheme}://{host}"),
            None => self.fallback.clone(),
        }
    }
}

impl PublicOrigin {
    /// The client's address: the TCP peer, or, when the peer is a trusted proxy, the address
    /// the proxies say they forwarded for. The chain (`Forwarded: for=`, else
    /// `X-Forwarded-For`) is read from the right, the nearest hop first, skipping trusted
    /// proxies: the first address that is not one is the client. Anything to its left was
    /// written by the client and is not believed. A hop that names no address (`unknown`, an
    /// obfuscated name) ends the walk at the proxy that wrote it.
    pub fn client_ip(&self, req: &HttpRequest) -> Option<IpAddr> {
        let peer = req.peer_addr()?.ip();
        if !self.is_trusted(Some(peer)) {
            return Some(peer);
        }
        let mut client = peer;
        for hop in forwarded_for(req.headers()).iter().rev() {
            match parse_hop(hop) {
                Some(ip) if self.is_trusted(Some(ip)) => client = ip,
                Some(ip) => return Some(ip),
                None => break,
            }
        }
        Some(client)
    }
}

/// The `for` of each element of `Forwarded`, else the entries of `X-Forwarded-For`, in order
/// (several headers of one name count as one list).
fn forwarded_for(headers: &HeaderMap) -> Vec<String> {
    let values = |name| {
        headers
            .get_all(name)
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect::<Vec<_>>()
    };
    let forwarded = values("forwarded");
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.trim().split_once('='))
                    .find(|(name, _)| name.eq_ignore_ascii_case("for"))
                    .map_or_else(String::new, |(_, value)| value.trim_matches('"').to_owned())
            })
            .collect();
    }
    values("x-forwarded-for")
        .into_iter()
        .map(str::to_owned)
        .collect()
}

/// An address as proxies write it: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`,
/// `[2001:db8::1]:4711`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse() {
        return Some(ip);
    }
    if let Some(rest) = hop.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    hop.parse::<std::net::SocketAddr>().ok().map(|a| a.ip())
}

/// The client's address for the request (see `PublicOrigin::client_ip`); the TCP peer in an app
/// without a `PublicOrigin`.
pub fn client_ip(req: &HttpRequest) -> Option<IpAddr> {
    match req.app_data::<actix_web::web::Data<PublicOrigin>>() {
        Some(origin) => origin.client_ip(req),
        None => req.peer_addr().map(|a| a.ip()),
    }
}

/// What the nearest proxy said about the client's request: the last element of `Forwarded`,
/// else the last values of `X-Forwarded-Proto` and `X-Forwarded-Host`.
#[derive(Default)]
struct Forwarded {
    proto: Option<String>,
    host: Option<String>,
}

impl Forwarded {
    fn read(headers: &HeaderMap) -> Self {
        if let Some(last) =
            header_value(headers, "forwarded").and_then(|v| v.rsplit(',').next().map(str::to_owned))
        {
            let mut found = Forwarded::default();
            for pair in last.split(';') {
                if let Some((name, value)) = pair.trim().split_once('=') {
                    let value = value.trim_matches('"').to_owned();
                    match name.to_ascii_lowercase().as_str() {
                        "proto" => found.proto = Some(value.to_ascii_lowercase()),
                        "host" => found.host = Some(value),
                        _ => {}
                    }
                }
            }
            return found;
        }
        let last = |name| {
            header_value(headers, name).and_then(|v| v.rsplit(',').next().map(|s| s.trim().into()))
        };
        Forwarded {
            proto: last("x-forwarded-proto").map(|p: String| p.to_ascii_lowercase()),
            host: last("x-forwarded-host"),
        }
    }
}

fn header_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// A host with an optional port, and nothing that could end or escape a URL's authority.
fn is_authority(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
}

/// What answers are built against, for the request being answered.
#[derive(Clone)]
pub struct Answering {
    pub origin: String,
    /// Signs links to files only their owner may fetch (see `MediaUrl`).
    pub links: Arc<MediaLinks>,
}

tokio::task_local! {
    static ANSWERING: Answering;
}

/// Runs `handler` answering as `answering` says (set around each handler by a middleware).
pub fn scoped<F: Future>(answering: Answering, handler: F) -> impl Future<Output = F::Output> {
    ANSWERING.scope(answering, handler)
}

/// The origin of the request being answered, inside `scoped`.
pub fn current() -> Option<String> {
    ANSWERING.try_with(|a| a.origin.clone()).ok()
}

/// Serializes a stored media URL for the client: the local store stores paths
/// (`/media/<name>`), made absolute here against the request's origin; absolute URLs
/// (Cloudinary's) are shown as stored. Views mark their media fields with it, so no handler
/// has to remember to.
pub fn media_url<S: Serializer>(url: &&str, serializer: S) -> Result<S::Ok, S::Error> {
    MediaUrl::public(url).serialize(serializer)
}

/// A stored media URL as answered (see `media_url`). A video's file names its video
/// (`?video=<id>`), which `/media` looks up by id to tell whether the file may be served; a file
/// of a video that is not public (only its owner is shown one) also carries a signed, expiring
/// query, without which `/media` does not serve it.
pub struct MediaUrl<'a> {
    url: &'a str,
    video: Option<(Id, bool)>,
}

impl<'a> MediaUrl<'a> {
    pub fn public(url: &'a str) -> Self {
        MediaUrl { url, video: None }
    }

    /// One of `video`'s files.
    pub fn of_video(url: &'a str, video: &Video) -> Self {
        MediaUrl {
            url,
            video: Some((video.id, video.is_public())),
        }
    }
}

impl Serialize for MediaUrl<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Some(path) = self.url.strip_prefix('/') else {
            return serializer.serialize_str(self.url);
        };
        let absolute = ANSWERING.try_with(|answering| {
            let mut url = format!("{}/{path}", answering.origin);
            if let Some((video, public)) = self.video {
                url.push_str(&format!("?{VIDEO_PARAMETER}={video}"));
                if !public {
                    url.push('&');
                    url.push_str(&answering.links.sign(self.url, chrono::Utc::now()));
                }
            }
            url
        });
        serializer.serialize_str(absolute.as_deref().unwrap_or(self.url))
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn origin(trusted: &[&str]) -> PublicOrigin {
        let nets = trusted.iter().map(|n| n.parse().unwrap()).collect();
        PublicOrigin::new("", nets, "http://localhost:8000".into())
    }

    #[test]
    fn the_host_the_client_asked_for() {
        let req = TestRequest::default()
            .insert_header(("host", "localhost:8021"))
            .peer_addr("10.0.0.9:5000".parse().unwrap())
            .to_http_request();
        assert_eq!(origin(&[]).of(&req), "http://localhost:8021");
    }

    #[test]
    fn forwarded_headers_only_from_trusted_proxies() {
        let request = |peer: &str| {
            TestRequest::default()
                .insert_header(("host", "10.0.0.2:8000"))
                .insert_header(("x-forwarded-proto", "https"))
                .insert_header(("x-forwarded-host", "evil.example, tube.example"))
                .peer_addr(peer.parse().unwrap())
                .to_http_request()
        };
        let origin = origin(&["10.0.0.0/24"]);
        assert_eq!(origin.of(&request("10.0.0.1:1")), "https://tube.example");
        assert_eq!(origin.of(&request("192.0.2.7:1")), "http://10.0.0.2:8000");
        let forwarded = TestRequest::default()
            .insert_header((
                "forwarded",
                "host=evil.example;proto=http, proto=https;host=\"tube.example:8443\"",
            ))
            .peer_addr("10.0.0.1:1".parse().unwrap())
            .to_http_request();
        assert_eq!(origin.of(&forwarded), "https://tube.example:8443");
    }

    #[test]
    fn the_client_address_is_believed_from_trusted_proxies_only() {
        let origin = origin(&["10.0.0.0/24"]);
        let request = |peer: &str, header: (&str, &str)| {
            TestRequest::default()
                .insert_header(header)
                .peer_addr(peer.parse().unwrap())
                .to_http_request()
        };
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        // A client's own X-Forwarded-For, through a trusted proxy that appends the peer it saw.
        let spoofed = ("x-forwarded-for", "1.2.3.4, 198.51.100.7, 10.0.0.3");
        assert_eq!(
            origin.client_ip(&request("10.0.0.1:1", spoofed)),
            ip("198.51.100.7")
        );
        assert_eq!(
            origin.client_ip(&request("192.0.2.9:1", spoofed)),
            ip("192.0.2.9")
        );
        let forwarded = (
            "forwarded",
            "for=1.2.3.4, for=\"[2001:db8::7]:4711\";proto=https, for=10.0.0.4",
        );
        assert_eq!(
            origin.client_ip(&request("10.0.0.1:1", forwarded)),
            ip("2001:db8::7")
        );
        let unknown = ("x-forwarded-for", "198.51.100.7, unknown, 10.0.0.3");
        assert_eq!(
            origin.client_ip(&request("10.0.0.1:1", unknown)),
            ip("10.0.0.3")
        );
    }

    #[test]
    fn the_configured_url_wins_and_bad_hosts_fall_back() {
        let configured = PublicOrigin::new("https://tube.example/", vec![], String::new());
        assert_eq!(
            configured.of(&TestRequest::default().to_http_request()),
            "https://tube.example"
        );
        let req = TestRequest::default()
            .insert_header(("host", "a b/c"))
            .to_http_request();
        assert_eq!(origin(&[]).of(&req), "http://localhost:8000");
    }
}
