//! `videotube migrate`: brings a database the Node backend left to what this server stores.
//!
//! Each collection with something to convert is copied: its documents are read once in `_id`
//! order, converted, and written a batch at a time into `<name>__migrating`, which then replaces
//! the collection (drop, then rename: FerretDB has no `dropTarget`). Until that swap the original is
//! untouched, so a run killed at any moment leaves either the old collection and a partial copy
//! (the next run drops the copy and makes it again) or, between drop and rename, the copy alone
//! (the next run renames it). Entries moved into other collections (watch history, playlist
//! entries) go in under those collections' unique indexes, built first, so an entry an interrupted
//! run wrote is refused the second time rather than doubled. A collection with nothing to convert
//! is left alone, so a second run writes nothing.
//!
//! Why a copy rather than updates in place: nearly every document changes, and a bulk insert is
//! one round trip per thousand documents where updates are one each (on FerretDB 1.24 on
//! PostgreSQL, an update by `_id` even scans the table). The price: the servers must be stopped
//! while it runs (README), and the database needs room for a second copy of its largest collection.
//!
//! Duplicates (likes, subscriptions) keep the oldest by `_id`: the copy is made under the unique
//! index, in `_id` order (ObjectIds begin with their creation time), so a later twin is refused.
//!
//! Memory: one batch of documents, the owner of every video (a like records it) and the mixed-case
//! emails (collisions are decided before anything is written), tens of bytes each. Counting the
//! duplicates without writing keeps an 8-byte fingerprint per like and per subscription.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};

use bson::oid::ObjectId;
use bson::{doc, Bson, Document};
use futures_util::TryStreamExt;
use mongodb::options::IndexOptions;
use mongodb::{Collection, Cursor, Database, IndexModel};

use super::legacy::MediaField;
use super::{
    ensure_indexes_of, only_duplicate_keys, DbError, PrepareError, INDEXES, LIKES, PLAYLISTS,
    PLAYLIST_VIDEOS, SUBSCRIPTIONS, USERS, VIDEOS, WATCH_HISTORY,
};

/// Documents written per insert, and read per round trip.
const BATCH: usize = 1_000;
/// A progress line per this many documents read.
const PROGRESS_EVERY: u64 = 10_000;
/// The copy a collection is converted into, beside it until the swap.
const COPY_SUFFIX: &str = "__migrating";

const REFRESH_TOKENS: &str = "remove the old `refreshToken`";
const EMAILS: &str = "lowercase emails";
const HISTORY: &str = "move `watchHistory` into watch_history";
const USER_MEDIA: &str = "flatten media and record asset ids";
const VIDEO_FIELDS: &str = "flatten media, record asset ids, fill `isPublished` and `views`";
const PLAYLIST_ENTRIES: &str = "move the `videos` arrays into playlist_videos, in order";
const INCOMPLETE_LIKES: &str = "remove likes of nothing or by nobody";
const LIKE_TARGETS: &str = "set `target` (and a video like's `videoOwner`)";
const INCOMPLETE_SUBSCRIPTIONS: &str = "remove subscriptions missing their subscriber or channel";
const DUPLICATES: &str = "remove duplicates, keeping the oldest";

/// What one step changes (or would change) in one collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub collection: &'static str,
    pub what: &'static str,
    pub documents: u64,
    /// What the step leaves alone and a person should know of (colliding emails).
    pub notes: Vec<String>,
}

/// Runs every step: with `apply`, converting; without, only counting. Answers each step's count
/// (zero counts included, so a report can say there was nothing to do). `progress` hears about
/// long collections as they are read.
pub async fn migrate(
    db: &Database,
    apply: bool,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Vec<Change>, PrepareError> {
    if apply {
        ensure_indexes_of(db, &[WATCH_HISTORY, PLAYLIST_VIDEOS]).await?;
    }
    let (lowercase, collisions) = plan_emails(db, progress).await?;
    let users = Step {
        collection: USERS,
        changes: &[REFRESH_TOKENS, EMAILS, HISTORY, USER_MEDIA],
        entries: Some(WATCH_HISTORY),
        unique: None,
        convert: &|user, tally, entries| convert_user(user, &lowercase, tally, entries),
    };
    let mut changes = users.run(db, apply, progress).await?;
    if let Some(emails) = changes.iter_mut().find(|c| c.what == EMAILS) {
        emails.notes = collisions;
    }
    let videos = Step {
        collection: VIDEOS,
        changes: &[VIDEO_FIELDS],
        entries: None,
        unique: None,
        convert: &|video, tally, _| Some(convert_video(video, tally)),
    };
    changes.extend(videos.run(db, apply, progress).await?);
    let playlists = Step {
        collection: PLAYLISTS,
        changes: &[PLAYLIST_ENTRIES],
        entries: Some(PLAYLIST_VIDEOS),
        unique: None,
        convert: &|playlist, tally, entries| Some(convert_playlist(playlist, tally, entries)),
    };
    changes.extend(playlists.run(db, apply, progress).await?);
    let owners = video_owners(db).await?;
    let likes = Step {
        collection: LIKES,
        changes: &[INCOMPLETE_LIKES, LIKE_TARGETS, DUPLICATES],
        entries: None,
        unique: Some(&["likedBy", "target"]),
        convert: &|like, tally, _| convert_like(like, &owners, tally),
    };
    changes.extend(likes.run(db, apply, progress).await?);
    let subscriptions = Step {
        collection: SUBSCRIPTIONS,
        changes: &[INCOMPLETE_SUBSCRIPTIONS, DUPLICATES],
        entries: None,
        unique: Some(&["subscriber", "channel"]),
        convert: &|subscription, tally, _| {
            let complete = ["subscriber", "channel"]
                .iter()
                .all(|key| subscription.get_object_id(key).is_ok());
            if !complete {
                tally.add(INCOMPLETE_SUBSCRIPTIONS);
            }
            complete.then_some(subscription)
        },
    };
    changes.extend(subscriptions.run(db, apply, progress).await?);
    Ok(changes)
}

/// What a document becomes: `None` drops it; entries for another collection go to `entries`.
type Convert<'a> = dyn Fn(Document, &mut Tally, &mut Vec<Document>) -> Option<Document> + Sync + 'a;

/// One collection's conversion.
struct Step<'a> {
    collection: &'static str,
    /// What the conversion can change, in report order.
    changes: &'static [&'static str],
    /// The collection a document's entries move into.
    entries: Option<&'static str>,
    /// Fields no two documents may share (the collection's unique index): of those that do,
    /// all but the oldest go.
    unique: Option<&'static [&'static str]>,
    convert: &'a Convert<'a>,
}

impl Step<'_> {
    /// Counts what would change by reading the collection; with `apply`, and when something
    /// would, converts it by copying.
    async fn run(
        &self,
        db: &Database,
        apply: bool,
        progress: &(dyn Fn(&str) + Sync),
    ) -> Result<Vec<Change>, DbError> {
        if apply {
            finish_swap(db, self.collection).await?;
        }
        let mut tally = Tally::new(self.collection, self.changes);
        let mut seen = HashSet::new();
        let mut entries = Vec::new();
        let mut walk = Walk::new(db, self.collection, "read", progress).await?;
        while let Some(document) = walk.next().await? {
            entries.clear();
            let Some(kept) = (self.convert)(document, &mut tally, &mut entries) else {
                continue;
            };
            if let Some(keys) = self.unique {
                if !seen.insert(fingerprint(&kept, keys)) {
                    tally.add(DUPLICATES);
                }
            }
        }
        if apply && tally.changed() {
            drop(seen);
            self.copy(db, progress).await?;
        }
        Ok(tally.changes)
    }

    /// Writes the converted documents into the copy, then puts the copy in the collection's
    /// place.
    async fn copy(&self, db: &Database, progress: &(dyn Fn(&str) + Sync)) -> Result<(), DbError> {
        let copy_name = format!("{}{COPY_SUFFIX}", self.collection);
        let copy = db.collection::<Document>(&copy_name);
        copy.drop().await?;
        db.create_collection(&copy_name).await?;
        if self.unique.is_some() {
            for spec in INDEXES
                .iter()
                .filter(|spec| spec.collection == self.collection && spec.unique)
            {
                let options = IndexOptions::builder()
                    .name(spec.name.to_owned())
                    .unique(true)
                    .build();
                copy.create_index(
                    IndexModel::builder()
                        .keys(spec.keys_document())
                        .options(options)
                        .build(),
                )
                .await?;
            }
        }
        let entries_collection = self.entries.map(|name| db.collection::<Document>(name));
        let mut tally = Tally::new(self.collection, self.changes);
        let mut kept = Vec::with_capacity(BATCH);
        // The unique keys in the batch: of twins in one insert, the server may keep either.
        let mut batch_keys = HashSet::new();
        let mut entries = Vec::new();
        let mut walk = Walk::new(db, self.collection, "copied", progress).await?;
        while let Some(document) = walk.next().await? {
            if let Some(document) = (self.convert)(document, &mut tally, &mut entries) {
                let first = self
                    .unique
                    .is_none_or(|keys| batch_keys.insert(fingerprint(&document, keys)));
                if first {
                    kept.push(document);
                }
            }
            if kept.len() >= BATCH {
                self.insert(&copy, std::mem::take(&mut kept)).await?;
                batch_keys.clear();
            }
            if let (Some(into), true) = (&entries_collection, entries.len() >= BATCH) {
                insert_new(into, std::mem::take(&mut entries)).await?;
            }
        }
        self.insert(&copy, kept).await?;
        if let Some(into) = &entries_collection {
            insert_new(into, entries).await?;
        }
        // The swap. Until the drop, the collection is as the Node backend left it.
        db.collection::<Document>(self.collection).drop().await?;
        rename(db, &copy_name, self.collection).await
    }

    /// Writes converted documents into the copy; a duplicate (of a document an earlier batch
    /// wrote) is refused by the unique index, and left out.
    async fn insert(
        &self,
        copy: &Collection<Document>,
        documents: Vec<Document>,
    ) -> Result<(), DbError> {
        if documents.is_empty() {
            return Ok(());
        }
        if self.unique.is_some() {
            insert_new(copy, documents).await
        } else {
            copy.insert_many(documents).await.map(|_| ())
        }
    }
}

/// A copy left by a run killed before its swap: dropped when the collection is still there (it
/// is made again), renamed into its place when the kill came between the drop and the rename.
async fn finish_swap(db: &Database, collection: &str) -> Result<(), DbError> {
    let copy_name = format!("{collection}{COPY_SUFFIX}");
    let names = db.list_collection_names().await?;
    if !names.contains(&copy_name) {
        return Ok(());
    }
    if names.iter().any(|name| name == collection) {
        db.collection::<Document>(&copy_name).drop().await
    } else {
        rename(db, &copy_name, collection).await
    }
}

async fn rename(db: &Database, from: &str, to: &str) -> Result<(), DbError> {
    let name = db.name();
    db.client()
        .database("admin")
        .run_command(
            doc! { "renameCollection": format!("{name}.{from}"), "to": format!("{name}.{to}") },
        )
        .await
        .map(|_| ())
}

/// The counts of one collection's changes.
struct Tally {
    changes: Vec<Change>,
}

impl Tally {
    fn new(collection: &'static str, whats: &[&'static str]) -> Self {
        let changes = whats
            .iter()
            .map(|what| Change {
                collection,
                what,
                documents: 0,
                notes: Vec::new(),
            })
            .collect();
        Tally { changes }
    }

    fn add(&mut self, what: &'static str) {
        if let Some(change) = self.changes.iter_mut().find(|c| c.what == what) {
            change.documents += 1;
        }
    }

    fn changed(&self) -> bool {
        self.changes.iter().any(|c| c.documents > 0)
    }
}

/// A collection read once, in `_id` order: on MongoDB an index scan that streams (no sort in
/// memory); FerretDB sorts in its own memory.
struct Walk<'a> {
    cursor: Cursor<Document>,
    name: &'static str,
    verb: &'static str,
    read: u64,
    progress: &'a (dyn Fn(&str) + Sync),
}

impl<'a> Walk<'a> {
    async fn new(
        db: &Database,
        name: &'static str,
        verb: &'static str,
        progress: &'a (dyn Fn(&str) + Sync),
    ) -> Result<Self, DbError> {
        let cursor = db
            .collection::<Document>(name)
            .find(doc! {})
            .sort(doc! { "_id": 1 })
            .batch_size(BATCH as u32)
            .await?;
        Ok(Walk {
            cursor,
            name,
            verb,
            read: 0,
            progress,
        })
    }

    async fn next(&mut self) -> Result<Option<Document>, DbError> {
        let next = self.cursor.try_next().await?;
        if next.is_some() {
            self.read += 1;
            if self.read.is_multiple_of(PROGRESS_EVERY) {
                (self.progress)(&format!("{}: {} {}", self.name, self.read, self.verb));
            }
        }
        Ok(next)
    }
}

/// A document's values of `keys`, hashed: two documents that share them share it.
fn fingerprint(document: &Document, keys: &[&str]) -> u64 {
    let mut hasher = DefaultHasher::new();
    for key in keys {
        match document.get(key) {
            None | Some(Bson::Null) => "".hash(&mut hasher),
            Some(value) => value.to_string().hash(&mut hasher),
        }
    }
    hasher.finish()
}

/// Which mixed-case emails become lowercase (user → address), and the collisions left alone: an
/// address is lowercased unless another account has the lowercase form, or an older account
/// (by `_id`) has the same address in another case (that one is lowercased).
async fn plan_emails(
    db: &Database,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<(HashMap<ObjectId, String>, Vec<String>), DbError> {
    let mut mixed: HashMap<String, Vec<(ObjectId, String)>> = HashMap::new();
    let mut walk = Walk::new(db, USERS, "read (emails)", progress).await?;
    while let Some(user) = walk.next().await? {
        let (Ok(id), Ok(email)) = (user.get_object_id("_id"), user.get_str("email")) else {
            continue;
        };
        let lower = email.to_lowercase();
        if lower != email {
            mixed.entry(lower).or_default().push((id, email.to_owned()));
        }
    }
    let mut taken = HashSet::new();
    if !mixed.is_empty() {
        let mut walk = Walk::new(db, USERS, "read (emails)", progress).await?;
        while let Some(user) = walk.next().await? {
            if let Ok(email) = user.get_str("email") {
                if mixed.contains_key(email) {
                    taken.insert(email.to_owned());
                }
            }
        }
    }
    let mut lowercase = HashMap::new();
    let mut collisions = Vec::new();
    for (lower, accounts) in mixed {
        let mut accounts = accounts.into_iter();
        if !taken.contains(&lower) {
            if let Some((id, _)) = accounts.next() {
                lowercase.insert(id, lower.clone());
            }
        }
        for (id, email) in accounts {
            collisions.push(format!(
                "{email} (user {id}) is {lower} once lowercased, which another account has: \
                 both keep their emails and log in with them as stored"
            ));
        }
    }
    collisions.sort();
    Ok((lowercase, collisions))
}

/// Users: `refreshToken` removed (our sessions replace it), the email lowercased when planned so,
/// `watchHistory` into watch_history entries, media flattened.
fn convert_user(
    mut user: Document,
    lowercase: &HashMap<ObjectId, String>,
    tally: &mut Tally,
    entries: &mut Vec<Document>,
) -> Option<Document> {
    let Ok(id) = user.get_object_id("_id") else {
        return Some(user);
    };
    if user.remove("refreshToken").is_some() {
        tally.add(REFRESH_TOKENS);
    }
    if let Some(lower) = lowercase.get(&id) {
        user.insert("email", lower.as_str());
        tally.add(EMAILS);
    }
    let avatar = flatten_media(&mut user, "avatar", "avatarAssetId");
    let cover = flatten_media(&mut user, "coverImage", "coverImageAssetId");
    if avatar || cover {
        tally.add(USER_MEDIA);
    }
    if let Some(watched) = user.remove("watchHistory") {
        tally.add(HISTORY);
        if let Bson::Array(watched) = watched {
            let newest = user
                .get_datetime("updatedAt")
                .map_or_else(|_| bson::DateTime::now(), |t| *t);
            entries.extend(history_entries(id, &watched, newest));
        }
    }
    Some(user)
}

/// Videos: media flattened with asset ids, missing `isPublished` (true) and `views` (0) filled.
fn convert_video(mut video: Document, tally: &mut Tally) -> Document {
    let file = flatten_media(&mut video, "videoFile", "videoFileAssetId");
    let thumbnail = flatten_media(&mut video, "thumbnail", "thumbnailAssetId");
    let mut filled = false;
    if !video.contains_key("isPublished") {
        video.insert("isPublished", true);
        filled = true;
    }
    if !video.contains_key("views") {
        video.insert("views", 0i64);
        filled = true;
    }
    if file || thumbnail || filled {
        tally.add(VIDEO_FIELDS);
    }
    video
}

/// Playlists: the `videos` array into playlist_videos entries, in its order.
fn convert_playlist(
    mut playlist: Document,
    tally: &mut Tally,
    entries: &mut Vec<Document>,
) -> Document {
    let Some(videos) = playlist.remove("videos") else {
        return playlist;
    };
    tally.add(PLAYLIST_ENTRIES);
    if let (Ok(id), Bson::Array(videos)) = (playlist.get_object_id("_id"), videos) {
        let created = playlist
            .get_datetime("createdAt")
            .map_or_else(|_| bson::DateTime::now(), |t| *t);
        entries.extend(playlist_entries(id, &videos, created));
    }
    playlist
}

/// Likes: the original's name their target by one of `video`, `comment`, `tweet`; ours also
/// carry `target` (`video:<id>`, ...), which the unique index and every count use, and a video
/// like its video's owner. A like of nothing (no target, or one that is not an id: the original
/// never checked) or by nobody goes.
fn convert_like(
    mut like: Document,
    owners: &HashMap<ObjectId, ObjectId>,
    tally: &mut Tally,
) -> Option<Document> {
    if like.get_object_id("likedBy").is_err() {
        tally.add(INCOMPLETE_LIKES);
        return None;
    }
    if like.contains_key("target") {
        return Some(like);
    }
    if let Ok(video) = like.get_object_id("video") {
        like.insert("target", format!("video:{}", video.to_hex()));
        if let Some(owner) = owners.get(&video) {
            like.insert("videoOwner", owner);
        }
    } else if let Ok(comment) = like.get_object_id("comment") {
        like.insert("target", format!("comment:{}", comment.to_hex()));
    } else if let Ok(tweet) = like.get_object_id("tweet") {
        like.insert("target", format!("tweet:{}", tweet.to_hex()));
    } else {
        tally.add(INCOMPLETE_LIKES);
        return None;
    }
    tally.add(LIKE_TARGETS);
    Some(like)
}

/// Every video's owner, read once (likes of a video record it).
async fn video_owners(db: &Database) -> Result<HashMap<ObjectId, ObjectId>, DbError> {
    let mut videos = db
        .collection::<Document>(VIDEOS)
        .find(doc! {})
        .projection(doc! { "owner": 1 })
        .batch_size(BATCH as u32)
        .await?;
    let mut owners = HashMap::new();
    while let Some(video) = videos.try_next().await? {
        if let (Ok(id), Ok(owner)) = (video.get_object_id("_id"), video.get_object_id("owner")) {
            owners.insert(id, owner);
        }
    }
    Ok(owners)
}

/// A media field stored as `{url, public_id}`, or without our asset id beside it, becomes the URL
/// alone and the asset id it names. Answers whether anything changed.
fn flatten_media(document: &mut Document, field: &str, asset_field: &str) -> bool {
    let Some(value) = document.get(field).filter(|v| !matches!(v, Bson::Null)) else {
        return false;
    };
    let object = matches!(value, Bson::Document(_));
    let has_asset = document.get_str(asset_field).is_ok_and(|id| !id.is_empty());
    if !object && has_asset {
        return false;
    }
    let media = MediaField::read(Some(value));
    let url = media.url.clone();
    let Some(stored) = media.into_media(None) else {
        return false;
    };
    let mut changed = false;
    if object {
        document.insert(field, url);
        changed = true;
    }
    if !has_asset && !stored.asset_id.is_empty() {
        document.insert(asset_field, stored.asset_id);
        changed = true;
    }
    changed
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

/// Inserts `documents`, leaving those a unique index says are there already (written by an
/// interrupted run, or since, by the server).
async fn insert_new(
    collection: &Collection<Document>,
    documents: Vec<Document>,
) -> Result<(), DbError> {
    if documents.is_empty() {
        return Ok(());
    }
    match collection.insert_many(documents).ordered(false).await {
        Err(err) if !only_duplicate_keys(&err) => Err(err),
        _ => Ok(()),
    }
}
