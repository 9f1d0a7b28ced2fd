//! Attachments: a limit per video that racing adds cannot pass, lookups by file, removal with
//! the video.

use chrono::{TimeDelta, Utc};
use videotube_domain::attachment::{Attachment, AttachmentTitle};
use videotube_domain::media::StoredMedia;
use videotube_domain::ports::AttachmentRepository;
use videotube_domain::Id;
use videotube_infra::mongo::MongoAttachmentRepository;

use crate::fresh_database;

fn attachment(repo: &MongoAttachmentRepository, video: Id, n: i64) -> Attachment {
    let id = repo.next_id();
    Attachment {
        id,
        video_id: video,
        title: AttachmentTitle::parse(&format!("Part {n}")).unwrap(),
        file: StoredMedia {
            url: format!("/media/attachments/{id}.pdf"),
            asset_id: format!("attachments/{id}.pdf"),
        },
        size: 100,
        created_at: Utc::now() + TimeDelta::milliseconds(n),
    }
}

#[tokio::test]
async fn racing_adds_never_pass_the_limit_and_a_freed_slot_is_taken_again() {
    let db = fresh_database().await;
    let repo = MongoAttachmentRepository::new(&db);
    let video: Id = "0123456789abcdef01234567".parse().unwrap();
    let other: Id = "89abcdef0123456789abcdef".parse().unwrap();
    let racing: Vec<Attachment> = (0..6).map(|n| attachment(&repo, video, n)).collect();
    let added =
        futures_util::future::join_all(racing.iter().map(|a| repo.insert_within(a, 4))).await;
    let added: Vec<bool> = added.into_iter().map(Result::unwrap).collect();
    assert_eq!(added.iter().filter(|a| **a).count(), 4, "{added:?}");
    assert!(
        repo.insert_within(&attachment(&repo, other, 0), 4)
            .await
            .unwrap(),
        "per video"
    );

    let listed = repo.of_video(video).await.unwrap();
    assert_eq!(listed.len(), 4);
    assert!(
        listed
            .windows(2)
            .all(|w| w[0].created_at <= w[1].created_at),
        "oldest first"
    );
    let first = listed[0].clone();
    assert_eq!(repo.find(first.id).await.unwrap(), Some(first.clone()));
    assert_eq!(
        repo.holding_file(&first.file.asset_id)
            .await
            .unwrap()
            .map(|a| a.id),
        Some(first.id)
    );

    assert_eq!(
        repo.delete(first.id).await.unwrap().map(|a| a.id),
        Some(first.id)
    );
    assert_eq!(repo.delete(first.id).await.unwrap(), None);
    assert!(
        repo.insert_within(&attachment(&repo, video, 9), 4)
            .await
            .unwrap(),
        "a slot is free again"
    );
    assert!(!repo
        .insert_within(&attachment(&repo, video, 10), 4)
        .await
        .unwrap());

    let removed = repo.remove_video(video).await.unwrap();
    assert_eq!(removed.len(), 4);
    assert!(repo.of_video(video).await.unwrap().is_empty());
    assert_eq!(repo.of_video(other).await.unwrap().len(), 1);
}
