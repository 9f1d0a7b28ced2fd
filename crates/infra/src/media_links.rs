//! Signed links to media only their owner may fetch (files of videos that are not public): the
//! path and an expiry, signed with HMAC-SHA256 under a key derived from the server's access
//! token secret, so every instance sharing that secret accepts the links of the others.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretSlice, SecretString};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

pub struct MediaLinks {
    key: SecretSlice<u8>,
    lifetime: chrono::Duration,
}

impl MediaLinks {
    /// `lifetime`: how long a link works; long enough to watch a long video, which fetches it
    /// range by range.
    pub fn new(secret: &SecretString, lifetime: std::time::Duration) -> Self {
        // A key of its own (not the token secret itself), so a media link is never a valid
        // MAC of anything else.
        let mut derive = HmacSha256::new_from_slice(secret.expose_secret().as_bytes())
            .expect("HMAC takes keys of any length");
        derive.update(b"videotube media links v1");
        Self {
            key: derive.finalize().into_bytes().to_vec().into(),
            lifetime: chrono::Duration::from_std(lifetime).unwrap_or(chrono::Duration::hours(6)),
        }
    }

    fn mac(&self, path: &str, expires: i64) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(self.key.expose_secret())
            .expect("HMAC takes keys of any length");
        mac.update(path.as_bytes());
        mac.update(b"\n");
        mac.update(expires.to_string().as_bytes());
        mac
    }

    /// The query that makes `path` fetchable until `now` + the lifetime.
    pub fn sign(&self, path: &str, now: DateTime<Utc>) -> String {
        let expires = (now + self.lifetime).timestamp();
        let signature = hex::encode(self.mac(path, expires).finalize().into_bytes());
        format!("expires={expires}&signature={signature}")
    }

    /// Whether `expires` and `signature` (from the link's query) sign `path` and have not run out.
    pub fn verify(&self, path: &str, expires: &str, signature: &str, now: DateTime<Utc>) -> bool {
        let (Ok(expires), Ok(signature)) = (expires.parse::<i64>(), hex::decode(signature)) else {
            return false;
        };
        expires >= now.timestamp() && self.mac(path, expires).verify_slice(&signature).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_works_for_its_path_until_it_expires() {
        let links = MediaLinks::new(
            &SecretString::from("a secret"),
            std::time::Duration::from_secs(60),
        );
        let now = Utc::now();
        let query = links.sign("/media/videos/a.mp4", now);
        let (expires, signature) = query
            .strip_prefix("expires=")
            .and_then(|q| q.split_once("&signature="))
            .unwrap();
        assert!(links.verify("/media/videos/a.mp4", expires, signature, now));
        assert!(!links.verify("/media/videos/b.mp4", expires, signature, now));
        let later = now + chrono::Duration::seconds(61);
        assert!(!links.verify("/media/videos/a.mp4", expires, signature, later));
        let extended = (expires.parse::<i64>().unwrap() + 3600).to_string();
        assert!(!links.verify("/media/videos/a.mp4", &extended, signature, now));
        let other = MediaLinks::new(
            &SecretString::from("another"),
            std::time::Duration::from_secs(60),
        );
        assert!(!other.verify("/media/videos/a.mp4", expires, signature, now));
        assert!(!links.verify("/media/videos/a.mp4", "x", "zz", now));
    }
}
