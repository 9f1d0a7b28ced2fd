//! `videotube migrate`: brings a database the Node backend left to what this server stores.
//! Every step selects only what it has not converted yet, so a second run finds nothing to do
//! and a run killed at any moment is finished by the next one. Work goes a batch at a time.
//!
//! Done so far (issue 13 lists the rest): likes get our `target` (and `videoOwner`), likes and
//! subscriptions that name nothing are removed, duplicates of both are removed keeping the oldest.
//! The caller then builds the indexes (`prepare`).

use bson::oid::ObjectId;
use bson::{doc, Bson, Document};
use futures_util::TryStreamExt;
use mongodb::Database;

use super::{DbError, LIKES, SUBSCRIPTIONS, VIDEOS};

/// Documents read per query.
const BATCH: i64 = 1_000;

/// What one step changes (or would change) in one collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub collection: &'static str,
    pub what: &'static str,
    pub documents: u64,
}

/// Runs every step: with `apply`, converting; without, only counting. Answers each step's count
/// (zero counts included, so a report can say there was nothing to do). `progress` hears about
/// long steps, a batch at a time.
pub async fn migrate(
    db: &Database,
    apply: bool,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Vec<Change>, DbError> {
    Ok(vec![
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
    ])
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
    Ok(Change {
        collection: LIKES,
        what: "remove likes of nothing or by nobody",
        documents,
    })
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
        return Ok(Change {
            collection: LIKES,
            what: "set `target` (and a video like's `videoOwner`)",
            documents: likes.count_documents(missing).await?,
        });
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
    Ok(Change {
        collection: LIKES,
        what: "set `target` (and a video like's `videoOwner`)",
        documents: done,
    })
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
    Ok(Change {
        collection: SUBSCRIPTIONS,
        what: "remove subscriptions missing their subscriber or channel",
        documents,
    })
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
        let n = match found.get("n") {
            Some(Bson::Int32(n)) => u64::try_from(*n).unwrap_or(0),
            Some(Bson::Int64(n)) => u64::try_from(*n).unwrap_or(0),
            Some(Bson::Double(n)) => *n as u64,
            _ => 0,
        };
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
    Ok(Change {
        collection,
        what: "remove duplicates, keeping the oldest",
        documents: extra,
    })
}
