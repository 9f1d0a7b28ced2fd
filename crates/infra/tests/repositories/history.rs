//! Watch history: views once per window.

use std::time::Duration;

use bson::doc;
use chrono::TimeDelta;
use videotube_domain::page::PageRequest;
use videotube_domain::ports::WatchHistoryRepository;
use videotube_domain::Id;
use videotube_infra::mongo::MongoWatchHistoryRepository;

use crate::fresh_database;

#[tokio::test]
async fn a_view_counts_once_per_window_whatever_the_history_says() {
    let db = fresh_database().await;
    let history = MongoWatchHistoryRepository::new(&db);
    let (user, video): (Id, Id) = (
        "0123456789abcdef01234561".parse().unwrap(),
        "0123456789abcdef01234562".parse().unwrap(),
    );
    let window = Duration::from_secs(30 * 60);
    // A minute before a window-long bucket ends, so that the next watches cross into the next.
    let t0 = chrono::DateTime::from_timestamp(1_800 * 1_000_000 - 60, 0).unwrap();
    let at = |minutes: i64| t0 + TimeDelta::minutes(minutes);
    let watch = |minutes| history.record_watch(user, video, at(minutes), window);

    let parallel = futures_util::future::join_all((0..5).map(|_| watch(0))).await;
    let counted = parallel
        .into_iter()
        .filter(|r| *r.as_ref().unwrap())
        .count();
    assert_eq!(counted, 1, "parallel watches count once");
    assert!(!watch(2).await.unwrap(), "next bucket, same window");
    history.clear(user).await.unwrap();
    assert!(
        !watch(20).await.unwrap(),
        "clearing the history does not reset the window"
    );
    assert!(
        watch(31).await.unwrap(),
        "a later view counts after clearing the history"
    );
    assert_eq!(
        history
            .page(user, PageRequest::default(), None)
            .await
            .unwrap()
            .items,
        [video]
    );
    assert!(!watch(40).await.unwrap());

    let views = db.collection::<bson::Document>("view_claims");
    history.sweep(at(61), window).await.unwrap();
    assert_eq!(
        views.count_documents(doc! {}).await.unwrap(),
        1,
        "the view at 31 is kept"
    );
    history.sweep(at(62), window).await.unwrap();
    assert_eq!(views.count_documents(doc! {}).await.unwrap(), 0);
}
