//! Cloudinary's signatures: of API requests, and of `authenticated` delivery URLs.

use std::collections::BTreeMap;

use secrecy::ExposeSecret;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureAlgorithm {
    Sha1,
    Sha256,
}

/// Cloudinary's request signature: the parameters (all but file, cloud_name, resource_type and
/// api_key) sorted by name, joined as `k=v` with `&`, the secret appended, hashed, in hex.
pub fn sign(
    params: &BTreeMap<&str, String>,
    secret: &str,
    algorithm: SignatureAlgorithm,
) -> String {
    let mut payload = params
        .iter()
        .filter(|(k, _)| !matches!(**k, "file" | "cloud_name" | "resource_type" | "api_key"))
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    payload.push_str(secret);
    match algorithm {
        SignatureAlgorithm::Sha1 => hex::encode(Sha1::digest(payload.as_bytes())),
        SignatureAlgorithm::Sha256 => hex::encode(Sha256::digest(payload.as_bytes())),
    }
}

/// The delivery type anyone may fetch.
pub(super) const PUBLIC_DELIVERY: &str = "upload";
/// The delivery type whose URLs must be signed with the API secret.
pub(super) const SIGNED_DELIVERY: &str = "authenticated";

/// The delivery type named in a delivery URL (`https://res.cloudinary.com/<cloud>/<resource
/// type>/<type>/…`): `upload` unless it says `authenticated`, as for every URL the original
/// backend stored.
pub(super) fn delivery_type(url: &str) -> &'static str {
    let named = url
        .split_once("://")
        .and_then(|(_, rest)| rest.split('/').nth(3));
    if named == Some(SIGNED_DELIVERY) {
        SIGNED_DELIVERY
    } else {
        PUBLIC_DELIVERY
    }
}

/// The URL with its delivery type (`<host>/<cloud>/<resource type>/<type>/…`) made public
/// (`upload`), and the signature a signed delivery carries after it dropped.
pub(super) fn in_public_delivery(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let mut segments: Vec<&str> = rest.split('/').collect();
    if segments.len() > 4 {
        segments[3] = PUBLIC_DELIVERY;
        if segments[4].starts_with("s--") && segments[4].ends_with("--") {
            segments.remove(4);
        }
    }
    format!("{scheme}://{}", segments.join("/"))
}

pub(super) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

impl CloudinaryStore {
    /// An `authenticated` delivery URL, signed as Cloudinary's SDKs sign one (`sign_url`):
    /// `s--<signature>--`, the first 8 characters of the URL-safe base64 digest of what follows
    /// the version (here `name`: `<public id>.<format>`, or a raw file's public id, which has
    /// no format) with the API secret appended.
    pub(super) fn signed_url(&self, resource_type: &str, name: &str, version: u64) -> String {
        use base64::Engine as _;
        let signed = format!("{name}{}", self.config.api_secret.expose_secret());
        let digest = match self.config.signature_algorithm {
            SignatureAlgorithm::Sha1 => Sha1::digest(signed.as_bytes()).to_vec(),
            SignatureAlgorithm::Sha256 => Sha256::digest(signed.as_bytes()).to_vec(),
        };
        let signature = base64::engine::general_purpose::URL_SAFE.encode(digest);
        format!(
            "https://res.cloudinary.com/{}/{resource_type}/{SIGNED_DELIVERY}/s--{}--/v{version}/{name}",
            self.config.cloud_name,
            &signature[..8],
        )
    }

    /// The signed form fields of a request, every one of them as text.
    pub(super) fn signed(
        &self,
        mut params: BTreeMap<&'static str, String>,
    ) -> BTreeMap<&'static str, String> {
        params.insert("timestamp", chrono::Utc::now().timestamp().to_string());
        if self.config.signature_algorithm == SignatureAlgorithm::Sha256 {
            params.insert("signature_algorithm", "sha256".into());
        }
        let signature = sign(
            &params,
            self.config.api_secret.expose_secret(),
            self.config.signature_algorithm,
        );
        params.insert("signature", signature);
        params.insert("api_key", self.config.api_key.clone());
        params
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::store;
    use super::*;

    #[test]
    fn signs_the_published_test_vector() {
        let params = BTreeMap::from([
            ("eager", "w_400,h_300,c_pad|w_260,h_200,c_crop".to_owned()),
            ("public_id", "sample_image".to_owned()),
            ("timestamp", "1315060510".to_owned()),
            // Never signed:
            ("api_key", "1234".to_owned()),
            ("file", "x".to_owned()),
        ]);
        assert_eq!(
            sign(&params, "abcd", SignatureAlgorithm::Sha1),
            "bfd09f95f331f558cbd1320e67aa8d488770583e"
        );
        assert_eq!(sign(&params, "abcd", SignatureAlgorithm::Sha256).len(), 64);
    }

    #[test]
    fn signs_delivery_urls_as_the_sdks_do() {
        // The SDKs' own test: `url("image.jpg", {version: 1234, sign_url: true})` with the API
        // secret `b` gives `s----SjmNDA--`.
        let mut config = store().config;
        config.api_secret = "b".to_owned().into();
        let store = CloudinaryStore::new(config).unwrap();
        assert_eq!(
            store.signed_url("image", "image.jpg", 1234),
            "https://res.cloudinary.com/demo/image/authenticated/s----SjmNDA--/v1234/image.jpg"
        );
    }

    #[test]
    fn moves_urls_to_public_delivery() {
        let public = "https://res.cloudinary.com/demo/video/upload/sp_auto/v1/a/b.m3u8";
        for url in [
            public,
            "https://res.cloudinary.com/demo/video/authenticated/sp_auto/v1/a/b.m3u8",
            "https://res.cloudinary.com/demo/video/authenticated/s--AbCd1234--/sp_auto/v1/a/b.m3u8",
        ] {
            assert_eq!(in_public_delivery(url), public, "{url}");
        }
        assert_eq!(in_public_delivery("/media/x"), "/media/x");
    }

    #[test]
    fn reads_the_delivery_type_from_urls() {
        for (url, expected) in [
            (
                "https://res.cloudinary.com/demo/video/upload/v1/a/b.mp4",
                "upload",
            ),
            (
                "https://res.cloudinary.com/demo/video/authenticated/s--x--/v1/b.mp4",
                "authenticated",
            ),
            (
                "http://res.cloudinary.com/demo/image/upload/b.png",
                "upload",
            ),
            ("/media/videos/b.mp4", "upload"),
            ("", "upload"),
        ] {
            assert_eq!(delivery_type(url), expected, "{url}");
        }
    }
}
