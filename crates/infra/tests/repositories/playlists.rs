//! Playlist entries: unique, ordered, cleaned up.

use chrono::{TimeDelta, Utc};
use videotube_domain::page::PageRequest;
use videotube_domain::playlist::{PlaylistChanges, PlaylistDescription, PlaylistName};
use videotube_domain::ports::PlaylistRepository;
use videotube_domain::Id;
use videotube_infra::mongo::MongoPlaylistRepository;

use crate::fresh_database;

#[tokio::test]
async fn playlist_entries_are_unique_ordered_and_cleaned_up() {
    let db = fresh_database().await;
    let playlists = MongoPlaylistRepository::new(&db);
    let owner: Id = "0123456789abcdef01234561".parse().unwrap();
    let videos: Vec<Id> = (0..3)
        .map(|i| format!("0123456789abcdef0123457{i}").parse().unwrap())
        .collect();
    let name = PlaylistName::parse("Mix").unwrap();
    let start = Utc::now();
    let mix = playlists
        .insert(owner, &name, &PlaylistDescription::default(), start)
        .await
        .unwrap();
    let other = playlists
        .insert(owner, &name, &PlaylistDescription::default(), start)
        .await
        .unwrap();
    for (i, video) in videos.iter().enumerate().rev() {
        let at = start + TimeDelta::seconds(3 - i as i64);
        assert!(playlists.add_video(mix.id, *video, at).await.unwrap());
    }
    let later = start + TimeDelta::seconds(10);
    assert!(
        !playlists.add_video(mix.id, videos[2], later).await.unwrap(),
        "added once; keeps its place"
    );
    assert!(playlists
        .add_video(other.id, videos[1], later)
        .await
        .unwrap());
    let entries = playlists.videos_of(&[mix.id, other.id]).await.unwrap();
    assert_eq!(entries[&mix.id], [videos[2], videos[1], videos[0]]);
    assert_eq!(entries[&other.id], [videos[1]]);

    assert!(playlists.remove_video(mix.id, videos[2]).await.unwrap());
    assert!(!playlists.remove_video(mix.id, videos[2]).await.unwrap());
    playlists.remove_video_everywhere(videos[1]).await.unwrap();
    let entries = playlists.videos_of(&[mix.id, other.id]).await.unwrap();
    assert_eq!(entries[&mix.id], [videos[0]]);
    assert!(!entries.contains_key(&other.id));

    let renamed = PlaylistChanges {
        name: Some(PlaylistName::parse("Renamed").unwrap()),
        description: None,
    };
    let updated = playlists
        .update_details(mix.id, &renamed)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.name.as_str(), "Renamed");
    let page = PageRequest::parse(None, None).unwrap();
    assert_eq!(
        playlists.by_owner(owner, page, None).await.unwrap().total,
        2
    );

    assert!(playlists.delete(mix.id).await.unwrap());
    assert!(!playlists.delete(mix.id).await.unwrap());
    assert!(playlists.find_by_id(mix.id).await.unwrap().is_none());
    assert!(playlists.videos_of(&[mix.id]).await.unwrap().is_empty());
}
