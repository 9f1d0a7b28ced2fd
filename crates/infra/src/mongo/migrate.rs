//! `videotube migrate`: brings a database the Node backend left to what this server stores.
//! Every step selects only what it has not converted yet, so a second run finds nothing to do
//! and a run killed at any moment is finished by the next one. Work goes a batch at a time.
//!
//! Every collection is walked by `_id` (one pass, whatever the database indexes) and each
//! document converted at once; entries the conversions create (watch history, playlist entries)
//! are inserted under their unique indexes, built first, so an entry an interrupted run wrote is
//! refused the second time rather than doubled. The caller then builds the other indexes
//! (`prepare`).

use std::collections::{HashMap, HashSet};

use bson::oid::ObjectId;
use bson::{doc, Bson, Document};
use futures_util::{stream, StreamExt, TryStreamExt};
use mongodb::{Collection, Database};

use super::legacy::MediaField;
use super::{
    ensure_indexes_of, group_number, only_duplicate_keys, DbError, PrepareError, LIKES, PLAYLISTS,
    PLAYLIST_VIDEOS, SUBSCRIPTIONS, USERS, VIDEOS, WATCH_HISTORY,
};

/// Documents read per query.
const BATCH: i64 = 1_000;
/// Likes written at once: one update per like, so round trips, not the server, set the pace.
const IN_FLIGHT: usize = 8;

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
) -> Result<Vec<Change>, PrepareError> {
    if apply {
        ensure_indexes_of(db, &[WATCH_HISTORY, PLAYLIST_VIDEOS]).await?;
    }
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
/// video's owner. (Likes of nothing are another step's, run before.)
async fn set_like_targets(
    db: &Database,
    apply: bool,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Change, DbError> {
    const WHAT: &str = "set `target` (and a video like's `videoOwner`)";
    let likes = db.collection::<Document>(LIKES);
    if !apply {
        let missing = doc! {
            "target": { "$exists": false },
            "likedBy": { "$exists": true },
            "$or": [
                { "video": { "$exists": true } },
                { "comment": { "$exists": true } },
                { "tweet": { "$exists": true } },
            ],
        };
        return Ok(Change::new(
            LIKES,
            WHAT,
            likes.count_documents(missing).await?,
        ));
    }
    let videos = db.collection::<Document>(VIDEOS);
    let mut done = 0;
    let mut batches = Batches::new(db, LIKES, progress)
        .projection(doc! { "target": 1, "video": 1, "comment": 1, "tweet": 1 });
    while let Some(batch) = batches.next().await? {
        let batch: Vec<Document> = batch
            .into_iter()
            .filter(|like| !like.contains_key("target"))
            .collect();
        let video_ids: Vec<ObjectId> = batch
            .iter()
            .filter_map(|like| like.get_object_id("video").ok())
            .collect();
        let owners: HashMap<ObjectId, ObjectId> = videos
            .find(doc! { "_id": { "$in": &video_ids } })
            .projection(doc! { "owner": 1 })
            .await?
            .try_collect::<Vec<Document>>()
            .await?
            .iter()
            .filter_map(|v| Some((v.get_object_id("_id").ok()?, v.get_object_id("owner").ok()?)))
            .collect();
        let writes = batch.iter().filter_map(|like| {
            let id = like.get_object_id("_id").ok()?;
            let mut set = Document::new();
            if let Ok(video) = like.get_object_id("video") {
                set.insert("target", format!("video:{}", video.to_hex()));
                if let Some(owner) = owners.get(&video) {
                    set.insert("videoOwner", owner);
                }
            } else if let Ok(comment) = like.get_object_id("comment") {
                set.insert("target", format!("comment:{}", comment.to_hex()));
            } else if let Ok(tweet) = like.get_object_id("tweet") {
                set.insert("target", format!("tweet:{}", tweet.to_hex()));
            }
            Some((id, set))
        });
        let likes = &likes;
        stream::iter(writes)
            .map(|(id, set)| async move {
                if set.is_empty() {
                    // Its target is not an id (the original never checked): a like of nothing.
                    likes.delete_one(doc! { "_id": id }).await.map(|_| ())
                } else {
                    let update = doc! { "$set": set };
                    likes
                        .update_one(doc! { "_id": id }, update)
                        .await
                        .map(|_| ())
                }
            })
            .buffer_unordered(IN_FLIGHT)
            .try_for_each(|()| async { Ok(()) })
            .await?;
        done += batch.len() as u64;
    }
    Ok(Change::new(LIKES, WHAT, done))
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
/// (a key a document lacks is left out of its group's id, on MongoDB and FerretDB alike), their
/// members with one walk of the collection (FerretDB has no `$push` to gather them, and a query per
/// group would scan the collection each time: the Node backend indexed none of these keys).
/// Memory holds the members of duplicated groups only. The oldest is never removed, so a run
/// killed half-way is finished by the next with the same survivors.
async fn remove_duplicates(
    db: &Database,
    apply: bool,
    collection: &'static str,
    keys: &[&str],
    required: &[&str],
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Change, DbError> {
    const WHAT: &str = "remove duplicates, keeping the oldest";
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
    let mut found = coll.aggregate(pipeline).await?;
    let mut groups: HashMap<String, Vec<(i64, ObjectId)>> = HashMap::new();
    let mut extra = 0u64;
    while let Some(duplicated) = found.try_next().await? {
        let Ok(key) = duplicated.get_document("_id") else {
            continue;
        };
        extra += group_number(&duplicated, "n").saturating_sub(1);
        groups.insert(group_key(key, keys), Vec::new());
    }
    if !apply || groups.is_empty() {
        return Ok(Change::new(collection, WHAT, extra));
    }
    let mut projection: Document = keys
        .iter()
        .map(|key| ((*key).to_owned(), Bson::Int32(1)))
        .collect();
    projection.insert("createdAt", 1);
    let mut batches = Batches::new(db, collection, progress).projection(projection);
    while let Some(batch) = batches.next().await? {
        for document in batch {
            if !required.iter().all(|key| document.contains_key(key)) {
                continue;
            }
            let Some(members) = groups.get_mut(&group_key(&document, keys)) else {
                continue;
            };
            if let Ok(id) = document.get_object_id("_id") {
                // Without `createdAt`, first: as MongoDB sorts a missing field.
                let created = document
                    .get_datetime("createdAt")
                    .map_or(i64::MIN, |at| at.timestamp_millis());
                members.push((created, id));
            }
        }
    }
    let mut others: Vec<ObjectId> = Vec::new();
    for mut members in groups.into_values() {
        members.sort_unstable();
        others.extend(members.into_iter().skip(1).map(|(_, id)| id));
    }
    let mut removed = 0;
    for chunk in others.chunks(BATCH as usize) {
        removed += coll
            .delete_many(doc! { "_id": { "$in": chunk } })
            .await?
            .deleted_count;
        progress(&format!("{collection}: {removed} duplicates removed"));
    }
    Ok(Change::new(collection, WHAT, removed))
}

/// The values of `keys` in `document`, as one string: a group's key from the aggregation's `_id`
/// and from a member alike (absent and null are the same, as in the group).
fn group_key(document: &Document, keys: &[&str]) -> String {
    keys.iter()
        .map(|key| match document.get(key) {
            None | Some(Bson::Null) => String::new(),
            Some(value) => value.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\u{1f}")
}

/// The documents of a collection a batch at a time, in `_id` order: bounded memory, and a
/// step that changes what it reads cannot make the walk skip or repeat a document.
struct Batches<'a> {
    collection: Collection<Document>,
    name: &'static str,
    projection: Option<Document>,
    after: Option<ObjectId>,
    read: u64,
    progress: &'a (dyn Fn(&str) + Sync),
}

impl<'a> Batches<'a> {
    fn new(db: &Database, name: &'static str, progress: &'a (dyn Fn(&str) + Sync)) -> Self {
        Batches {
            collection: db.collection(name),
            name,
            projection: None,
            after: None,
            read: 0,
            progress,
        }
    }

    /// Reads only these fields (and `_id`).
    fn projection(mut self, fields: Document) -> Self {
        self.projection = Some(fields);
        self
    }

    async fn next(&mut self) -> Result<Option<Vec<Document>>, DbError> {
        let filter = self
            .after
            .map_or_else(Document::new, |id| doc! { "_id": { "$gt": id } });
        let mut find = self
            .collection
            .find(filter)
            .sort(doc! { "_id": 1 })
            .limit(BATCH);
        if let Some(fields) = &self.projection {
            find = find.projection(fields.clone());
        }
        let batch: Vec<Document> = find.await?.try_collect().await?;
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
                        collisions.push(format!(
                            "{email} (user {id}) is {lower} once lowercased, which another \
                             account has: both keep their emails and log in with them as stored"
                        ));
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
                        .map_or_else(|_| bson::DateTime::now(), |t| *t);
                    insert_new(&history, history_entries(id, watched, newest)).await?;
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
            let created = playlist
                .get_datetime("createdAt")
                .map_or_else(|_| bson::DateTime::now(), |t| *t);
            insert_new(&entries, playlist_entries(id, videos, created)).await?;
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

/// A user's `watchHistory` (the most recent last) as watch_history entries a second apart, the
/// most recent at `newest`; a video watched twice keeps its latest watch.
fn history_entries(user: ObjectId, watched: &[Bson], newest: bson::DateTime) -> Vec<Document> {
    let mut seen = HashSet::new();
    watched
        .iter()
        .rev()
        .filter_map(Bson::as_object_id)
        .filter(|video| seen.insert(*video))
        .enumerate()
        .map(|(age, video)| {
            let at = bson::DateTime::from_millis(newest.timestamp_millis() - age as i64 * 1000);
            doc! { "user": user, "video": video, "watchedAt": at }
        })
        .collect()
}

/// A playlist's `videos` array as entries in its order, from the playlist's creation a
/// millisecond apart; a video listed twice keeps its first place.
fn playlist_entries(playlist: ObjectId, videos: &[Bson], created: bson::DateTime) -> Vec<Document> {
    let mut seen = HashSet::new();
    videos
        .iter()
        .filter_map(Bson::as_object_id)
        .filter(|video| seen.insert(*video))
        .enumerate()
        .map(|(place, video)| {
            let at = bson::DateTime::from_millis(created.timestamp_millis() + place as i64);
            doc! { "playlist": playlist, "video": video, "addedAt": at }
        })
        .collect()
}

/// Inserts `entries`, leaving those their collection's unique index says are there already
/// (written by an interrupted run, or since, by the server).
async fn insert_new(
    collection: &Collection<Document>,
    entries: Vec<Document>,
) -> Result<(), DbError> {
    if entries.is_empty() {
        return Ok(());
    }
    match collection.insert_many(entries).ordered(false).await {
        Err(err) if !only_duplicate_keys(&err) => Err(err),
        _ => Ok(()),
    }
}
