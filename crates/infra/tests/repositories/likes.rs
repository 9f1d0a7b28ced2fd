//! Likes: unique per target, counted in one query, liked videos.

use chrono::{TimeDelta, Utc};
use videotube_domain::like::LikeTarget;
use videotube_domain::ports::LikeRepository;
use videotube_domain::Id;
use videotube_infra::mongo::MongoLikeRepository;

use crate::fresh_database;

#[tokio::test]
async fn likes_are_unique_per_target_and_counted_in_one_query() {
    let db = fresh_database().await;
    let likes = MongoLikeRepository::new(&db);
    let (ann, bob, owner): (Id, Id, Id) = (
        "0123456789abcdef01234561".parse().unwrap(),
        "0123456789abcdef01234562".parse().unwrap(),
        "0123456789abcdef01234563".parse().unwrap(),
    );
    let video = LikeTarget::Video("0123456789abcdef01234564".parse().unwrap());
    let tweet = LikeTarget::Tweet("0123456789abcdef01234564".parse().unwrap());
    let comment = LikeTarget::Comment("0123456789abcdef01234564".parse().unwrap());
    let now = Utc::now();
    assert!(likes.like(ann, video, owner, now).await.unwrap());
    assert!(
        !likes.like(ann, video, owner, now).await.unwrap(),
        "one like per user and target"
    );
    assert!(likes.like(bob, video, owner, now).await.unwrap());
    assert!(
        likes.like(ann, tweet, owner, now).await.unwrap(),
        "same id, other kind of target"
    );
    assert!(likes.like(bob, comment, owner, now).await.unwrap());

    let counts = likes.counts(&[video, tweet, comment]).await.unwrap();
    assert_eq!(
        (counts[&video], counts[&tweet], counts[&comment]),
        (2, 1, 1)
    );
    assert_eq!(
        likes
            .liked_among(bob, &[video, tweet, comment])
            .await
            .unwrap(),
        [video, comment].into()
    );
    assert_eq!(
        likes.channel_total(owner).await.unwrap(),
        2,
        "video likes only"
    );

    likes.remove_targets(&[video, comment]).await.unwrap();
    assert!(!likes.is_liked(ann, video).await.unwrap());
    assert!(!likes.is_liked(bob, comment).await.unwrap());
    assert!(likes.is_liked(ann, tweet).await.unwrap());
    assert!(likes.unlike(ann, tweet).await.unwrap());
    assert!(!likes.unlike(ann, tweet).await.unwrap());
}

#[tokio::test]
async fn liked_videos_come_most_recent_first_without_other_targets() {
    let db = fresh_database().await;
    let likes = MongoLikeRepository::new(&db);
    let (fan, owner): (Id, Id) = (
        "0123456789abcdef01234561".parse().unwrap(),
        "0123456789abcdef01234562".parse().unwrap(),
    );
    let videos: Vec<Id> = (0..3)
        .map(|i| format!("0123456789abcdef0123457{i}").parse().unwrap())
        .collect();
    let start = Utc::now();
    for (i, video) in videos.iter().enumerate() {
        let at = start + TimeDelta::seconds(i as i64);
        likes
            .like(fan, LikeTarget::Video(*video), owner, at)
            .await
            .unwrap();
    }
    // A like made in the same millisecond as another: the id breaks the tie.
    let same_time = "0123456789abcdef01234579".parse().unwrap();
    likes
        .like(fan, LikeTarget::Video(same_time), owner, start)
        .await
        .unwrap();
    let tweet = LikeTarget::Tweet(videos[0]);
    likes.like(fan, tweet, owner, start).await.unwrap();
    let mut walked = Vec::new();
    let mut after = None;
    loop {
        let batch = likes.liked_videos(fan, after.as_ref(), 2).await.unwrap();
        let Some(last) = batch.last() else { break };
        after = Some(last.position.clone());
        walked.extend(batch.iter().map(|l| l.video));
    }
    assert_eq!(walked, [videos[2], videos[1], same_time, videos[0]]);
    assert_eq!(likes.count_liked_videos(fan).await.unwrap(), 4);
    assert!(likes
        .liked_videos(owner, None, 10)
        .await
        .unwrap()
        .is_empty());
}
