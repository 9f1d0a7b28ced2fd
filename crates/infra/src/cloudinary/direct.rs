//! Uploads from clients straight to Cloudinary: signing what they may upload, checking what
//! they say they did.

use std::collections::BTreeMap;

use secrecy::ExposeSecret;
use videotube_domain::media::{
    DirectUploadReport, MediaCategory, Stored, StoredMedia, UploadGrant,
};
use videotube_domain::ports::{DirectUploadError, DirectUploads};
use videotube_domain::Id;

use super::signing::constant_time_eq;
use super::*;

impl CloudinaryStore {
    fn user_folder(&self, owner: Id) -> String {
        format!("{}/users/{owner}", self.config.root_folder)
    }
}

impl DirectUploads for CloudinaryStore {
    fn grant(&self, owner: Id, kind: MediaCategory) -> UploadGrant {
        let timestamp = chrono::Utc::now().timestamp();
        let folder = self.user_folder(owner);
        let params = BTreeMap::from([
            ("folder", folder.clone()),
            ("timestamp", timestamp.to_string()),
        ]);
        UploadGrant {
            cloud_name: self.config.cloud_name.clone(),
            api_key: self.config.api_key.clone(),
            timestamp,
            signature: sign(
                &params,
                self.config.api_secret.expose_secret(),
                self.config.signature_algorithm,
            ),
            folder,
            resource_type: resource_type(kind),
        }
    }

    fn verify(
        &self,
        owner: Id,
        kind: MediaCategory,
        report: &DirectUploadReport,
    ) -> Result<Stored, DirectUploadError> {
        // Cloudinary signs its answer with `public_id` and `version`, like a request.
        let params = BTreeMap::from([
            ("public_id", report.public_id.clone()),
            ("version", report.version.clone()),
        ]);
        let expected = sign(
            &params,
            self.config.api_secret.expose_secret(),
            self.config.signature_algorithm,
        );
        if !constant_time_eq(
            expected.as_bytes(),
            report.signature.to_ascii_lowercase().as_bytes(),
        ) {
            return Err(DirectUploadError::BadSignature);
        }
        let in_folder = report
            .public_id
            .strip_prefix(&self.user_folder(owner))
            .is_some_and(|rest| rest.starts_with('/') && !rest.contains(".."));
        if !in_folder {
            return Err(DirectUploadError::ForeignFolder);
        }
        let expected_type = resource_type(kind);
        if report.resource_type != expected_type {
            return Err(DirectUploadError::WrongKind(match kind {
                MediaCategory::Image => "an image",
                MediaCategory::Video => "a video",
                MediaCategory::Document => "a document",
            }));
        }
        let delivery = format!(
            "https://res.cloudinary.com/{}/{expected_type}/upload/",
            self.config.cloud_name
        );
        if !report.secure_url.starts_with(&delivery)
            || !report.secure_url.contains(&report.public_id)
        {
            return Err(DirectUploadError::ForeignUrl);
        }
        Ok(Stored {
            media: StoredMedia {
                url: report.secure_url.clone(),
                asset_id: format!("{expected_type}/{}", report.public_id),
            },
            duration_seconds: report
                .duration_seconds
                .filter(|d| d.is_finite() && *d >= 0.0),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::store;
    use super::*;

    fn report(owner: Id) -> DirectUploadReport {
        let public_id = format!("videotube/users/{owner}/clip");
        let signed = BTreeMap::from([
            ("public_id", public_id.clone()),
            ("version", "1700000000".to_owned()),
        ]);
        DirectUploadReport {
            signature: sign(&signed, "abcd", SignatureAlgorithm::Sha1),
            secure_url: format!(
                "https://res.cloudinary.com/demo/video/upload/v1700000000/{public_id}.mp4"
            ),
            public_id,
            version: "1700000000".into(),
            resource_type: "video".into(),
            duration_seconds: Some(42.0),
        }
    }

    #[test]
    fn grants_sign_the_callers_folder_and_timestamp() {
        let owner: Id = "65a1b2c3d4e5f60718293a4b".parse().unwrap();
        let grant = store().grant(owner, MediaCategory::Video);
        assert_eq!(grant.folder, format!("videotube/users/{owner}"));
        assert_eq!(grant.resource_type, "video");
        let signed = BTreeMap::from([
            ("folder", grant.folder.clone()),
            ("timestamp", grant.timestamp.to_string()),
        ]);
        assert_eq!(
            grant.signature,
            sign(&signed, "abcd", SignatureAlgorithm::Sha1)
        );
    }

    #[test]
    fn verifies_direct_uploads() {
        let store = store();
        let owner: Id = "65a1b2c3d4e5f60718293a4b".parse().unwrap();
        let other: Id = "65a1b2c3d4e5f60718293a4c".parse().unwrap();
        let stored = store
            .verify(owner, MediaCategory::Video, &report(owner))
            .unwrap();
        assert_eq!(
            stored.media.asset_id,
            format!("video/videotube/users/{owner}/clip")
        );
        assert_eq!(stored.duration_seconds, Some(42.0));

        let mut forged = report(owner);
        forged.signature = "0".repeat(40);
        assert_eq!(
            store.verify(owner, MediaCategory::Video, &forged),
            Err(DirectUploadError::BadSignature)
        );
        let mut tampered = report(owner);
        tampered.version = "1700000001".into();
        assert_eq!(
            store.verify(owner, MediaCategory::Video, &tampered),
            Err(DirectUploadError::BadSignature)
        );
        assert_eq!(
            store.verify(other, MediaCategory::Video, &report(owner)),
            Err(DirectUploadError::ForeignFolder)
        );
        assert!(matches!(
            store.verify(owner, MediaCategory::Image, &report(owner)),
            Err(DirectUploadError::WrongKind(_))
        ));
        let mut elsewhere = report(owner);
        elsewhere.secure_url = "https://evil.example/clip.mp4".into();
        assert_eq!(
            store.verify(owner, MediaCategory::Video, &elsewhere),
            Err(DirectUploadError::ForeignUrl)
        );
    }
}
