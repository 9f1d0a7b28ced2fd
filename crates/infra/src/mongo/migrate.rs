//! `videotube migrate`: brings a database the Node backend left to what this server stores.
//! Every step selects only what it has not converted yet, so a second run finds nothing to do
//! and a run killed at any moment is finished by the next one. Work goes a batch at a time.
//!
//! Users, videos and playlists are walked by `_id` and each document converted at once; likes
//! and subscriptions are selected by what they lack. The caller then builds the indexes
//! (`prepare`).

use bson::oid::ObjectId;
use bson::{doc, Bson, Document};
use futures_util::TryStreamExt;
use mongodb::Database;

use super::legacy::MediaField;
use super::{
    group_number, DbError, LIKES, PLAYLISTS, PLAYLIST_VIDEOS, SUBSCRIPTIONS, USERS, VIDEOS,
    WATCH_HISTORY,
};

/// Documents read per query.
const BATCH: i64 = 1_000;

/// What one step changes (or would change) in one collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub collection: &'static str,
    pub what: &'static str,
    pub documents: u64,
    /// What the step leaves alone and a person should know of (colliding emails).
    pub notes: Vec<String>,
}

impl Change {
    fn new(collection: &'static str, what: &'static str, documents: u64) -> Self {
        Change {
            collection,
            what,
            documents,
            notes: Vec::new(),
        }
    }
}

/// Runs every step: with `apply`, converting; without, only counting. Answers each step's count
/// (zero counts included, so a report can say there was nothing to do). `progress` hears about
/// long steps, a batch at a time.
pub async fn migrate(
    db: &Database,
    apply: bool,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Vec<Change>, DbError> {
    let mut changes = convert_users(db, apply, progress).await?;
    changes.push(convert_videos(db, apply, progress).await?);
    changes.push(convert_playlists(db, apply, progress).await?);
    changes.extend([
        remove_incomplete_likes(db, apply).await?,
        set_like_targets(db, apply, progress).await?,
        // A like names its target by one of `video`, `comment`, `tweet` (ours too, beside
        // `target`), so duplicates are found the same way before and after the step above.
        remove_duplicates(
            db,
            apply,
            LIKES,
            &["likedBy", "video", "comment", "tweet"],
            &["likedBy"],
            progress,
        )
        .await?,
        remove_incomplete_subscriptions(db, apply).await?,
        remove_duplicates(
            db,
            apply,
            SUBSCRIPTIONS,
            &["subscriber", "channel"],
            &["subscriber", "channel"],
            progress,
        )
        .await?,
    ]);
    Ok(changes)
}

/// Likes of nothing (none of `video`, `comment`, `tweet`) or by nobody.
fn incomplete_like() -> Document {
    doc! { "target": { "$exists": false }, "$or": [
        { "likedBy": { "$exists": false } },
        { "video": { "$exists": false }, "comment": { "$exists": false }, "tweet": { "$exists": false } },
    ] }
}

async fn remove_incomplete_likes(db: &Database, apply: bool) -> Result<Change, DbError> {
    let likes = db.collection::<Document>(LIKES);
    let documents = if apply {
        likes.delete_many(incomplete_like()).await?.deleted_count
    } else {
        likes.count_documents(incomplete_like()).await?
    };
    Ok(Change::new(
        LIKES,
        "remove likes of nothing or by nobody",
        documents,
    ))
}

/// The original's likes name their target by one of `video`, `comment`, `tweet`; ours also carry
/// `target` (`video:<id>`, ...), which the unique index and every count use, and a video like its
/// video's owner.
async fn set_like_targets(
    db: &Database,
    apply: bool,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Change, DbError> {
    let likes = db.collection::<Document>(LIKES);
    // The incomplete ones are another step's.
    let missing = doc! {
        "target": { "$exists": false },
        "likedBy": { "$exists": true },
        "$or": [
            { "video": { "$exists": true } },
            { "comment": { "$exists": true } },
            { "tweet": { "$exists": true } },
        ],
    };
    if !apply {
        return Ok(Change::new(
            LIKES,
            "set `target` (and a video like's `videoOwner`)",
            likes.count_documents(missing).await?,
        ));
    }
    let videos = db.collection::<Document>(VIDEOS);
    let mut done = 0;
    loop {
        let batch: Vec<Document> = likes
            .find(missing.clone())
            .projection(doc! { "video": 1, "comment": 1, "tweet": 1 })
            .limit(BATCH)
            .await?
            .try_collect()
            .await?;
        if batch.is_empty() {
            break;
        }
        let video_ids: Vec<ObjectId> = batch
            .iter()
            .filter_map(|like| like.get_object_id("video").ok())
            .collect();
        let owners: Vec<Document> = videos
            .find(doc! { "_id": { "$in": &video_ids } })
            .projection(doc! { "owner": 1 })
            .await?
            .try_collect()
            .await?;
        let owner_of = |video: ObjectId| {
            owners
                .iter()
                .find(|v| v.get_object_id("_id").ok() == Some(video))
                .and_then(|v| v.get_object_id("owner").ok())
        };
        for like in &batch {
            let Ok(id) = like.get_object_id("_id") else {
                continue;
            };
            let mut set = Document::new();
            if let Ok(video) = like.get_object_id("video") {
                set.insert("target", format!("video:{}", video.to_hex()));
                if let Some(owner) = owner_of(video) {
                    set.insert("videoOwner", owner);
                }
            } else if let Ok(comment) = like.get_object_id("comment") {
                set.insert("target", format!("comment:{}", comment.to_hex()));
            } else if let Ok(tweet) = like.get_object_id("tweet") {
                set.insert("target", format!("tweet:{}", tweet.to_hex()));
            } else {
                // Its target is not an id (the original never checked): a like of nothing.
                likes.delete_one(doc! { "_id": id }).await?;
                continue;
            }
            likes
                .update_one(doc! { "_id": id }, doc! { "$set": set })
                .await?;
            done += 1;
        }
        progress(&format!("likes: {done} given a target"));
    }
    Ok(Change::new(
        LIKES,
        "set `target` (and a video like's `videoOwner`)",
        done,
    ))
}

async fn remove_incomplete_subscriptions(db: &Database, apply: bool) -> Result<Change, DbError> {
    let subscriptions = db.collection::<Document>(SUBSCRIPTIONS);
    let incomplete = doc! { "$or": [
        { "subscriber": { "$exists": false } },
        { "channel": { "$exists": false } },
    ] };
    let documents = if apply {
        subscriptions.delete_many(incomplete).await?.deleted_count
    } else {
        subscriptions.count_documents(incomplete).await?
    };
    Ok(Change::new(
        SUBSCRIPTIONS,
        "remove subscriptions missing their subscriber or channel",
        documents,
    ))
}

/// Documents that share `keys` (the original had no unique index), among those that have the
/// `required` ones: all but the oldest of each group go. Groups are found with one aggregation
/// (a key a document lacks is left out of its group's id, on MongoDB and FerretDB alike), then
/// handled a group at a time.
async fn remove_duplicates(
    db: &Database,
    apply: bool,
    collection: &'static str,
    keys: &[&str],
    required: &[&str],
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Change, DbError> {
    let coll = db.collection::<Document>(collection);
    let group: Document = keys
        .iter()
        .map(|key| ((*key).to_owned(), Bson::String(format!("${key}"))))
        .collect();
    let present: Document = required
        .iter()
        .map(|key| ((*key).to_owned(), Bson::Document(doc! { "$exists": true })))
        .collect();
    let pipeline = [
        doc! { "$match": present },
        doc! { "$group": { "_id": group, "n": { "$sum": 1 } } },
        doc! { "$match": { "n": { "$gt": 1 } } },
    ];
    let mut groups = coll.aggregate(pipeline).await?;
    let mut extra = 0u64;
    while let Some(found) = groups.try_next().await? {
        let Ok(key) = found.get_document("_id") else {
            continue;
        };
        let n = group_number(&found, "n");
        if !apply {
            extra += n.saturating_sub(1);
            continue;
        }
        let members: Vec<Document> = coll
            .find(key.clone())
            .sort(doc! { "createdAt": 1, "_id": 1 })
            .projection(doc! { "_id": 1 })
            .await?
            .try_collect()
            .await?;
        let others: Vec<ObjectId> = members
            .iter()
            .skip(1)
            .filter_map(|d| d.get_object_id("_id").ok())
            .collect();
        extra += coll
            .delete_many(doc! { "_id": { "$in": others } })
            .await?
            .deleted_count;
        progress(&format!("{collection}: {extra} duplicates removed"));
    }
    Ok(Change::new(
        collection,
        "remove duplicates, keeping the oldest",
        extra,
    ))
}

/// The documents of a collection a batch at a time, in `_id` order: bounded memory, and a
/// step that changes what it reads cannot make the walk skip or repeat a document.
struct Batches<'a> {
    collection: mongodb::Collection<Document>,
    name: &'static str,
    after: Option<ObjectId>,
    read: u64,
    progress: &'a (dyn Fn(&str) + Sync),
}

impl<'a> Batches<'a> {
    fn new(db: &Database, name: &'static str, progress: &'a (dyn Fn(&str) + Sync)) -> Self {
        Batches {
            collection: db.collection(name),
            name,
            after: None,
            read: 0,
            progress,
        }
    }

    async fn next(&mut self) -> Result<Option<Vec<Document>>, DbError> {
        let filter = self
            .after
            .map_or_else(Document::new, |id| doc! { "_id": { "$gt": id } });
        let batch: Vec<Document> = self
            .collection
            .find(filter)
            .sort(doc! { "_id": 1 })
            .limit(BATCH)
            .await?
            .try_collect()
            .await?;
        let Some(last) = batch.last().and_then(|d| d.get_object_id("_id").ok()) else {
            return Ok(None);
        };
        self.after = Some(last);
        self.read += batch.len() as u64;
        if self.read.is_multiple_of(10 * BATCH as u64) {
            (self.progress)(&format!("{}: {} read", self.name, self.read));
        }
        Ok(Some(batch))
    }
}

/// A media field stored as `{url, public_id}`, or without our asset id beside it: the URL alone,
/// and the asset id it names. Empty when there is nothing to change.
fn flatten_media(document: &Document, field: &str, asset_field: &str, set: &mut Document) {
    let value = document.get(field);
    let Some(value) = value.filter(|v| !matches!(v, Bson::Null)) else {
        return;
    };
    let media = MediaField::read(Some(value));
    if media.url.is_empty() {
        return;
    }
    let has_asset = document.get_str(asset_field).is_ok_and(|id| !id.is_empty());
    let object = matches!(value, Bson::Document(_));
    if !object && has_asset {
        return;
    }
    let url = media.url.clone();
    if let Some(stored) = media.into_media(None) {
        if object {
            set.insert(field, url);
        }
        if !has_asset && !stored.asset_id.is_empty() {
            set.insert(asset_field, stored.asset_id);
        }
    }
}

/// Users: `refreshToken` removed (our sessions replace it), emails lowercased unless that
/// collides with another account's (listed instead; those log in by username), `watchHistory`
/// into `watch_history` (the last in the array the most recent), media flattened.
async fn convert_users(
    db: &Database,
    apply: bool,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Vec<Change>, DbError> {
    let users = db.collection::<Document>(USERS);
    let history = db.collection::<Document>(WATCH_HISTORY);
    let (mut tokens, mut emails, mut histories, mut media) = (0, 0, 0, 0);
    let mut collisions = Vec::new();
    let mut batches = Batches::new(db, USERS, progress);
    while let Some(batch) = batches.next().await? {
        for user in batch {
            let Ok(id) = user.get_object_id("_id") else {
                continue;
            };
            let mut set = Document::new();
            let mut unset = Document::new();
            if user.contains_key("refreshToken") {
                unset.insert("refreshToken", "");
                tokens += 1;
            }
            if let Ok(email) = user.get_str("email") {
                let lower = email.to_lowercase();
                if lower != email {
                    let taken = users
                        .find_one(doc! { "email": &lower, "_id": { "$ne": id } })
                        .await?
                        .is_some();
                    if taken {
                        collisions.push(format!("{email} (user {id}) is {lower} once lowercased, which another account has"));
                    } else {
                        set.insert("email", lower);
                        emails += 1;
                    }
                }
            }
            let before = set.len();
            flatten_media(&user, "avatar", "avatarAssetId", &mut set);
            flatten_media(&user, "coverImage", "coverImageAssetId", &mut set);
            if set.len() > before {
                media += 1;
            }
            if let Ok(watched) = user.get_array("watchHistory") {
                histories += 1;
                if apply {
                    let newest = user
                        .get_datetime("updatedAt")
                        .map_or_else(|_| bson::DateTime::now(), |t| *t)
                        .timestamp_millis();
                    // From the most recent: an entry already there (a later watch) is kept.
                    for (age, video) in watched.iter().rev().enumerate() {
                        let Bson::ObjectId(video) = video else {
                            continue;
                        };
                        let at = bson::DateTime::from_millis(newest - age as i64 * 1000);
                        history
                            .update_one(
                                doc! { "user": id, "video": video },
                                doc! { "$setOnInsert": { "watchedAt": at } },
                            )
                            .upsert(true)
                            .await?;
                    }
                }
                unset.insert("watchHistory", "");
            }
            if apply && (!set.is_empty() || !unset.is_empty()) {
                let mut update = Document::new();
                if !set.is_empty() {
                    update.insert("$set", set);
                }
                if !unset.is_empty() {
                    update.insert("$unset", unset);
                }
                users.update_one(doc! { "_id": id }, update).await?;
            }
        }
    }
    let mut lowercased = Change::new(USERS, "lowercase emails", emails);
    lowercased.notes = collisions;
    Ok(vec![
        Change::new(USERS, "remove the old `refreshToken`", tokens),
        lowercased,
        Change::new(USERS, "move `watchHistory` into watch_history", histories),
        Change::new(USERS, "flatten media and record asset ids", media),
    ])
}

/// Videos: media flattened with asset ids, missing `isPublished` (true) and `views` (0) filled.
async fn convert_videos(
    db: &Database,
    apply: bool,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Change, DbError> {
    let videos = db.collection::<Document>(VIDEOS);
    let mut changed = 0;
    let mut batches = Batches::new(db, VIDEOS, progress);
    while let Some(batch) = batches.next().await? {
        for video in batch {
            let Ok(id) = video.get_object_id("_id") else {
                continue;
            };
            let mut set = Document::new();
            flatten_media(&video, "videoFile", "videoFileAssetId", &mut set);
            flatten_media(&video, "thumbnail", "thumbnailAssetId", &mut set);
            if !video.contains_key("isPublished") {
                set.insert("isPublished", true);
            }
            if !video.contains_key("views") {
                set.insert("views", 0i64);
            }
            if set.is_empty() {
                continue;
            }
            changed += 1;
            if apply {
                videos
                    .update_one(doc! { "_id": id }, doc! { "$set": set })
                    .await?;
            }
        }
    }
    Ok(Change::new(
        VIDEOS,
        "flatten media, record asset ids, fill `isPublished` and `views`",
        changed,
    ))
}

/// Playlists: the `videos` array into playlist_videos entries, in its order.
async fn convert_playlists(
    db: &Database,
    apply: bool,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Change, DbError> {
    let playlists = db.collection::<Document>(PLAYLISTS);
    let entries = db.collection::<Document>(PLAYLIST_VIDEOS);
    let mut changed = 0;
    let mut batches = Batches::new(db, PLAYLISTS, progress);
    while let Some(batch) = batches.next().await? {
        for playlist in batch {
            let (Ok(id), Ok(videos)) =
                (playlist.get_object_id("_id"), playlist.get_array("videos"))
            else {
                continue;
            };
            changed += 1;
            if !apply {
                continue;
            }
            let first = playlist
                .get_datetime("createdAt")
                .map_or_else(|_| bson::DateTime::now(), |t| *t)
                .timestamp_millis();
            // A video listed twice keeps its first place.
            for (place, video) in videos.iter().enumerate() {
                let Bson::ObjectId(video) = video else {
                    continue;
                };
                let at = bson::DateTime::from_millis(first + place as i64);
                entries
                    .update_one(
                        doc! { "playlist": id, "video": video },
                        doc! { "$setOnInsert": { "_id": ObjectId::new(), "addedAt": at } },
                    )
                    .upsert(true)
                    .await?;
            }
            playlists
                .update_one(doc! { "_id": id }, doc! { "$unset": { "videos": "" } })
                .await?;
        }
    }
    Ok(Change::new(
        PLAYLISTS,
        "move the `videos` arrays into playlist_videos, in order",
        changed,
    ))
}
