//! Comments: pages newest first, deleted with their video.

use chrono::{TimeDelta, Utc};
use videotube_domain::comment::CommentContent;
use videotube_domain::page::PageRequest;
use videotube_domain::ports::CommentRepository;
use videotube_domain::Id;
use videotube_infra::mongo::MongoCommentRepository;

use crate::fresh_database;

#[tokio::test]
async fn comments_page_newest_first_and_go_with_their_video() {
    let db = fresh_database().await;
    let comments = MongoCommentRepository::new(&db);
    let (video, other_video, author): (Id, Id, Id) = (
        "0123456789abcdef01234561".parse().unwrap(),
        "0123456789abcdef01234562".parse().unwrap(),
        "0123456789abcdef01234563".parse().unwrap(),
    );
    let start = Utc::now();
    let mut written = Vec::new();
    for i in 0..3 {
        let content = CommentContent::parse(&format!("comment {i}")).unwrap();
        let at = start + TimeDelta::seconds(i);
        written.push(comments.insert(video, author, &content, at).await.unwrap());
    }
    let elsewhere = CommentContent::parse("elsewhere").unwrap();
    let kept = comments
        .insert(other_video, author, &elsewhere, start)
        .await
        .unwrap();

    let page = PageRequest::parse(Some("1"), Some("2")).unwrap();
    let first = comments.by_video(video, page, None).await.unwrap();
    assert_eq!(first.total, 3);
    let contents: Vec<&str> = first.items.iter().map(|c| c.content.as_str()).collect();
    assert_eq!(contents, ["comment 2", "comment 1"]);
    // Keyset: from after the last one shown. A comment added meanwhile at the same time sorts
    // before it (its id is larger), so it neither shifts nor repeats on the next page.
    let same_time = CommentContent::parse("same time as comment 1").unwrap();
    let tie = comments
        .insert(video, author, &same_time, written[1].created_at)
        .await
        .unwrap();
    let next = comments
        .by_video(video, page, first.next.as_ref())
        .await
        .unwrap();
    let ids: Vec<Id> = next.items.iter().map(|c| c.id).collect();
    assert_eq!(ids, [written[0].id]);
    assert_eq!(next.total, 4);
    comments.delete(tie.id).await.unwrap();

    let edited = CommentContent::parse("edited").unwrap();
    let updated = comments
        .update_content(written[0].id, &edited)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.content.as_str(), "edited");
    assert!(updated.updated_at >= updated.created_at);
    assert!(comments.delete(written[0].id).await.unwrap());
    assert!(!comments.delete(written[0].id).await.unwrap());
    assert!(comments.find_by_id(written[0].id).await.unwrap().is_none());

    assert_eq!(comments.ids_of_video(video, 1).await.unwrap().len(), 1);
    let mut ids = comments.ids_of_video(video, 10).await.unwrap();
    ids.sort();
    let mut expected = vec![written[1].id, written[2].id];
    expected.sort();
    assert_eq!(ids, expected);
    comments.delete_many(&ids).await.unwrap();
    assert!(comments.ids_of_video(video, 10).await.unwrap().is_empty());
    assert!(comments.find_by_id(kept.id).await.unwrap().is_some());
}
