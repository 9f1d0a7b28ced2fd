//! Reading what the Node backend left in the database, before or without `videotube migrate`:
//! media stored as `{url, public_id}` objects (a well-known fork of it does that), media without
//! our asset ids, numbers stored as doubles.

use bson::Bson;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use videotube_domain::media::StoredMedia;

use super::media_path;

/// A media field as stored: a URL (ours, the original's), `{url, public_id}` (the fork's), or
/// nothing. Written as the URL alone.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct MediaField {
    pub url: String,
    /// Cloudinary's id of the asset, when the document kept it.
    pub public_id: Option<String>,
}

impl MediaField {
    pub fn url(url: &str) -> Self {
        MediaField {
            url: url.to_owned(),
            public_id: None,
        }
    }

    /// The media, if there is any. Its asset id is the one stored beside it, else the one its
    /// URL names (Cloudinary's `<resource type>/<public id>`, the local store's
    /// `<folder>/<file>`), so that replacing or deleting it removes the file the original left.
    pub fn into_media(self, asset_id: Option<String>) -> Option<StoredMedia> {
        if self.url.is_empty() {
            return None;
        }
        let asset_id = asset_id
            .filter(|id| !id.is_empty())
            .or_else(|| derived_asset_id(&self.url, self.public_id.as_deref()))
            .unwrap_or_default();
        Some(StoredMedia {
            url: media_path(self.url),
            asset_id,
        })
    }
}

impl MediaField {
    /// The field from a document read without a type (a projection).
    pub fn read(value: Option<&Bson>) -> Self {
        match value {
            Some(Bson::String(url)) => MediaField::url(url),
            Some(Bson::Document(object)) => MediaField {
                url: object.get_str("url").unwrap_or_default().to_owned(),
                public_id: object.get_str("public_id").ok().map(str::to_owned),
            },
            _ => MediaField::default(),
        }
    }
}

impl<'de> Deserialize<'de> for MediaField {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(MediaField::read(
            Option::<Bson>::deserialize(deserializer)?.as_ref(),
        ))
    }
}

impl Serialize for MediaField {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.url)
    }
}

/// The asset id a URL names: `https://res.cloudinary.com/<cloud>/<resource type>/<delivery>/
/// [s--signature--/][v<version>/]<public id>.<extension>` (or the `public_id` given), or a local
/// store's `.../media/<folder>/<file>`.
fn derived_asset_id(url: &str, public_id: Option<&str>) -> Option<String> {
    let path = media_path(url.to_owned());
    if let Some(name) = path.strip_prefix("/media/") {
        return Some(name.to_owned());
    }
    let rest = url.split_once("://")?.1;
    let (host, path) = rest.split_once('/')?;
    if host != "res.cloudinary.com" {
        return None;
    }
    let segments: Vec<&str> = path.split(['?', '#']).next()?.split('/').collect();
    let resource_type = *segments.get(1)?;
    if let Some(public_id) = public_id.filter(|id| !id.is_empty()) {
        return Some(format!("{resource_type}/{public_id}"));
    }
    let after_delivery = segments.get(3..)?;
    let after_signature = match after_delivery.first() {
        Some(s) if s.starts_with("s--") => &after_delivery[1..],
        _ => after_delivery,
    };
    let is_version =
        |s: &&str| s.len() > 1 && s.starts_with('v') && s[1..].bytes().all(|b| b.is_ascii_digit());
    let id_parts = match after_signature.iter().position(is_version) {
        Some(at) => &after_signature[at + 1..],
        None => after_signature,
    };
    let (last, folders) = id_parts.split_last()?;
    let stem = last.rsplit_once('.').map_or(*last, |(stem, _)| stem);
    let public_id = folders
        .iter()
        .copied()
        .chain([stem])
        .collect::<Vec<_>>()
        .join("/");
    (!public_id.is_empty()).then(|| format!("{resource_type}/{public_id}"))
}

/// A count stored as any kind of number (Mongoose writes doubles as readily as integers).
pub(crate) fn whole_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    Ok(match Option::<Bson>::deserialize(deserializer)? {
        Some(Bson::Int32(n)) => i64::from(n),
        Some(Bson::Int64(n)) => n,
        Some(Bson::Double(n)) if n.is_finite() => n as i64,
        _ => 0,
    })
}

/// A length stored as any kind of number.
pub(crate) fn real_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    Ok(match Option::<Bson>::deserialize(deserializer)? {
        Some(Bson::Int32(n)) => f64::from(n),
        Some(Bson::Int64(n)) => n as f64,
        Some(Bson::Double(n)) if n.is_finite() => n,
        _ => 0.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asset_ids_come_from_what_the_url_names() {
        for (url, public_id, expected) in [
            (
                "http://res.cloudinary.com/demo/image/upload/v1700000000/avatar_x1.png",
                None,
                Some("image/avatar_x1"),
            ),
            (
                "https://res.cloudinary.com/demo/video/upload/v1/videotube/videos/abc.mp4",
                None,
                Some("video/videotube/videos/abc"),
            ),
            (
                "https://res.cloudinary.com/demo/video/authenticated/s--x--/v2/a/b.mp4",
                None,
                Some("video/a/b"),
            ),
            (
                "https://res.cloudinary.com/demo/image/upload/v1/whatever.png",
                Some("given/id"),
                Some("image/given/id"),
            ),
            (
                "http://localhost:8000/media/avatars/x.png",
                None,
                Some("avatars/x.png"),
            ),
            ("/media/videos/y.mp4", None, Some("videos/y.mp4")),
            ("https://elsewhere.example/a.png", None, None),
        ] {
            assert_eq!(
                derived_asset_id(url, public_id).as_deref(),
                expected,
                "{url}"
            );
        }
    }

    #[test]
    fn media_fields_read_strings_objects_and_nothing() {
        #[derive(Deserialize)]
        struct Doc {
            #[serde(default)]
            a: MediaField,
            #[serde(default)]
            b: MediaField,
            #[serde(default)]
            c: MediaField,
            #[serde(default, deserialize_with = "whole_number")]
            views: i64,
            #[serde(default, deserialize_with = "real_number")]
            duration: f64,
        }
        let doc: Doc = bson::from_document(bson::doc! {
            "a": "https://x/y.png",
            "b": { "url": "https://res.cloudinary.com/d/image/upload/v1/p.png", "public_id": "p" },
            "views": 12.0,
            "duration": 7,
        })
        .unwrap();
        assert_eq!(doc.a, MediaField::url("https://x/y.png"));
        assert_eq!(doc.b.public_id.as_deref(), Some("p"));
        assert_eq!(doc.c, MediaField::default());
        assert_eq!((doc.views, doc.duration), (12, 7.0));
        assert_eq!(
            doc.b.into_media(None).unwrap().asset_id,
            "image/p",
            "an object's public id names its asset"
        );
    }
}
