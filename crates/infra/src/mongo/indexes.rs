//! The indexes the repositories rely on, and the rule that says whether an index serves a query.
//!
//! Every query is shaped so that one index serves it by MongoDB's equality-sort-range rule: the
//! fields compared for equality first (in any order), then the sort keys in order (tie-breaker
//! included, all in the index's directions or all reversed), then the fields compared by range.
//! Such a query reads only the index entries it returns (or counts) and never sorts in memory.
//! `QueryShape::of` reduces a command as the driver sends it to these parts and `served_by`
//! applies the rule; the API tests record every command the server sends and fail on one no
//! declared index serves (README, "Indexes").

use std::collections::BTreeSet;

use bson::{Bson, Document};

use super::{
    ATTACHMENTS, COMMENTS, LIKES, MEDIA_JOBS, MEDIA_JOB_CLAIMS, PLAYLISTS, PLAYLIST_VIDEOS,
    REFRESH_TOKEN_USES, RESUMABLE_UPLOADS, SESSIONS, SUBSCRIPTIONS, THROTTLES, TWEETS, USERS,
    VIDEOS, VIEW_CLAIMS, WATCH_HISTORY,
};

/// An index as declared: created at start-up by `ensure_indexes`.
#[derive(Debug, Clone, Copy)]
pub struct IndexSpec {
    pub collection: &'static str,
    pub name: &'static str,
    pub keys: &'static [(&'static str, i32)],
    pub unique: bool,
}

impl IndexSpec {
    /// The key document, as `createIndexes` takes it.
    pub fn keys_document(&self) -> Document {
        self.keys
            .iter()
            .map(|(field, direction)| ((*field).to_owned(), Bson::Int32(*direction)))
            .collect()
    }
}

const fn index(
    collection: &'static str,
    name: &'static str,
    keys: &'static [(&'static str, i32)],
) -> IndexSpec {
    IndexSpec {
        collection,
        name,
        keys,
        unique: false,
    }
}

const fn unique(
    collection: &'static str,
    name: &'static str,
    keys: &'static [(&'static str, i32)],
) -> IndexSpec {
    IndexSpec {
        collection,
        name,
        keys,
        unique: true,
    }
}

/// Every index, besides `_id`'s. The catalogue's sorts each need their own, for the public
/// catalogue (`listed`) and for a channel's videos (`owner`, `listed`).
pub const INDEXES: &[IndexSpec] = &[
    unique(USERS, "username_unique", &[("username", 1)]),
    unique(USERS, "email_unique", &[("email", 1)]),
    index(
        VIDEOS,
        "listed_created",
        &[("listed", 1), ("createdAt", -1), ("_id", -1)],
    ),
    index(
        VIDEOS,
        "listed_views",
        &[("listed", 1), ("views", -1), ("_id", -1)],
    ),
    index(
        VIDEOS,
        "listed_duration",
        &[("listed", 1), ("duration", -1), ("_id", -1)],
    ),
    index(
        VIDEOS,
        "listed_title",
        &[("listed", 1), ("title", 1), ("_id", 1)],
    ),
    index(
        VIDEOS,
        "owner_listed_created",
        &[("owner", 1), ("listed", 1), ("createdAt", -1), ("_id", -1)],
    ),
    index(
        VIDEOS,
        "owner_listed_views",
        &[("owner", 1), ("listed", 1), ("views", -1), ("_id", -1)],
    ),
    index(
        VIDEOS,
        "owner_listed_duration",
        &[("owner", 1), ("listed", 1), ("duration", -1), ("_id", -1)],
    ),
    index(
        VIDEOS,
        "owner_listed_title",
        &[("owner", 1), ("listed", 1), ("title", 1), ("_id", 1)],
    ),
    // Which video a local file belongs to, asked by `/media` before serving it.
    index(VIDEOS, "video_file_asset", &[("videoFileAssetId", 1)]),
    index(VIDEOS, "thumbnail_asset", &[("thumbnailAssetId", 1)]),
    index(VIDEOS, "hls_asset", &[("hlsAssetId", 1)]),
    index(
        MEDIA_JOBS,
        "spool_due_order",
        &[
            ("spool", 1),
            ("notBefore", 1),
            ("_id", 1),
            ("leaseUntil", 1),
        ],
    ),
    index(MEDIA_JOB_CLAIMS, "job", &[("jobId", 1)]),
    // A video's attachments, oldest first; its slots, one attachment each (the limit per
    // video); the attachment a file is (`/media`).
    index(
        ATTACHMENTS,
        "video_created",
        &[("video", 1), ("createdAt", 1), ("_id", 1)],
    ),
    unique(
        ATTACHMENTS,
        "video_slot_unique",
        &[("video", 1), ("slot", 1)],
    ),
    index(ATTACHMENTS, "asset", &[("assetId", 1)]),
    // The sweep of an instance's expired resumable uploads (`_id` serves the rest).
    index(
        RESUMABLE_UPLOADS,
        "spool_expires",
        &[("spool", 1), ("expiresAt", 1)],
    ),
    // The sweep of keys whose allowance is whole again (`_id` serves each spend).
    index(THROTTLES, "refilled", &[("throttle", 1), ("tat", 1)]),
    unique(
        WATCH_HISTORY,
        "user_video_unique",
        &[("user", 1), ("video", 1)],
    ),
    index(
        WATCH_HISTORY,
        "user_watched",
        &[("user", 1), ("watchedAt", -1), ("video", -1)],
    ),
    index(WATCH_HISTORY, "video", &[("video", 1)]),
    unique(
        SUBSCRIPTIONS,
        "subscriber_channel_unique",
        &[("subscriber", 1), ("channel", 1)],
    ),
    index(
        SUBSCRIPTIONS,
        "channel_created",
        &[("channel", 1), ("createdAt", -1), ("_id", -1)],
    ),
    index(
        SUBSCRIPTIONS,
        "subscriber_created",
        &[("subscriber", 1), ("createdAt", -1), ("_id", -1)],
    ),
    index(
        TWEETS,
        "owner_recent",
        &[("owner", 1), ("createdAt", -1), ("_id", -1)],
    ),
    unique(
        LIKES,
        "liked_by_target_unique",
        &[("likedBy", 1), ("target", 1)],
    ),
    index(LIKES, "target_liked_by", &[("target", 1), ("likedBy", 1)]),
    index(LIKES, "video_owner", &[("videoOwner", 1)]),
    index(
        LIKES,
        "liked_by_recent_video",
        &[("likedBy", 1), ("createdAt", -1), ("_id", -1), ("video", 1)],
    ),
    index(
        COMMENTS,
        "video_created",
        &[("video", 1), ("createdAt", -1), ("_id", -1)],
    ),
    index(
        PLAYLISTS,
        "owner_recent",
        &[("owner", 1), ("createdAt", -1), ("_id", -1)],
    ),
    unique(
        PLAYLIST_VIDEOS,
        "playlist_video_unique",
        &[("playlist", 1), ("video", 1)],
    ),
    index(
        PLAYLIST_VIDEOS,
        "playlist_added",
        &[("playlist", 1), ("addedAt", 1), ("_id", 1)],
    ),
    index(PLAYLIST_VIDEOS, "video", &[("video", 1)]),
    index(VIEW_CLAIMS, "video", &[("video", 1)]),
    index(VIEW_CLAIMS, "at", &[("at", 1)]),
    index(SESSIONS, "user_sessions", &[("userId", 1), ("_id", 1)]),
    index(SESSIONS, "expiry", &[("expiresAt", 1)]),
    index(REFRESH_TOKEN_USES, "used", &[("usedAt", 1)]),
];

/// Indexes earlier versions created and nothing uses any more: dropped at start-up, since every
/// index slows every write to its collection. (Those whose keys changed got new names: MongoDB
/// refuses an index whose name exists with other keys.)
pub const RETIRED: &[(&str, &str)] = &[
    (VIDEOS, "owner_created"),
    (MEDIA_JOBS, "due"),
    (MEDIA_JOBS, "due_order"),
    (WATCH_HISTORY, "user_recent"),
    (SUBSCRIPTIONS, "channel_recent"),
    (TWEETS, "owner_created"),
    (LIKES, "target"),
    (LIKES, "liked_by_recent"),
    (COMMENTS, "video_recent"),
    (PLAYLISTS, "owner_created"),
    (PLAYLIST_VIDEOS, "playlist_order"),
    (SESSIONS, "user"),
    (REFRESH_TOKEN_USES, "user"),
];

/// What of a query an index can serve: the fields it compares for equality (`$in` counts: each
/// value is a point), by range, and by nothing an index narrows (a regular expression), and its
/// sort. A filter with `$or` is one shape per branch: MongoDB serves each with its own index and
/// merges them in sort order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct QueryShape {
    pub collection: String,
    pub equality: BTreeSet<String>,
    pub range: BTreeSet<String>,
    pub residual: BTreeSet<String>,
    pub sort: Vec<(String, i32)>,
}

#[derive(Debug, Clone, Default)]
struct Conditions {
    equality: BTreeSet<String>,
    range: BTreeSet<String>,
    residual: BTreeSet<String>,
}

impl Conditions {
    fn merged(&self, other: &Conditions) -> Conditions {
        let union = |a: &BTreeSet<String>, b: &BTreeSet<String>| a.union(b).cloned().collect();
        Conditions {
            equality: union(&self.equality, &other.equality),
            range: union(&self.range, &other.range),
            residual: union(&self.residual, &other.residual),
        }
    }
}

/// The conjunctive branches of a filter.
fn branches(filter: &Document) -> Vec<Conditions> {
    let mut result = vec![Conditions::default()];
    for (key, value) in filter {
        let alternatives: Vec<Conditions> = match (key.as_str(), value) {
            ("$and", Bson::Array(parts)) => parts
                .iter()
                .filter_map(Bson::as_document)
                .fold(vec![Conditions::default()], |acc, part| {
                    cross(&acc, &branches(part))
                }),
            ("$or", Bson::Array(parts)) => parts
                .iter()
                .filter_map(Bson::as_document)
                .flat_map(branches)
                .collect(),
            (op, _) if op.starts_with('$') => vec![Conditions {
                residual: BTreeSet::from([op.to_owned()]),
                ..Default::default()
            }],
            (field, value) => vec![condition(field, value)],
        };
        result = cross(&result, &alternatives);
    }
    result
}

fn cross(left: &[Conditions], right: &[Conditions]) -> Vec<Conditions> {
    left.iter()
        .flat_map(|l| right.iter().map(move |r| l.merged(r)))
        .collect()
}

fn condition(field: &str, value: &Bson) -> Conditions {
    let mut conditions = Conditions::default();
    let operators = value
        .as_document()
        .filter(|d| d.keys().next().is_some_and(|k| k.starts_with('$')));
    let bucket = match operators {
        None => &mut conditions.equality,
        Some(ops) if ops.keys().all(|op| op == "$eq" || op == "$in") => &mut conditions.equality,
        Some(ops) if ops.contains_key("$regex") => &mut conditions.residual,
        Some(_) => &mut conditions.range,
    };
    bucket.insert(field.to_owned());
    conditions
}

fn sort_of(sort: Option<&Document>) -> Vec<(String, i32)> {
    sort.map(|s| {
        s.iter()
            .map(|(field, direction)| {
                let direction = match direction {
                    Bson::Int32(d) => *d,
                    Bson::Int64(d) => *d as i32,
                    Bson::Double(d) => *d as i32,
                    _ => 1,
                };
                (field.clone(), direction.signum())
            })
            .collect()
    })
    .unwrap_or_default()
}

impl QueryShape {
    /// The shapes of the queries in one command (none for commands that query nothing).
    pub fn of(command: &Document) -> Vec<QueryShape> {
        let Some((name, target)) = command.iter().next() else {
            return Vec::new();
        };
        let Some(collection) = target.as_str() else {
            return Vec::new();
        };
        let get_doc = |d: &Document, key: &str| d.get_document(key).ok().cloned();
        let queries: Vec<(Option<Document>, Option<Document>)> = match name.as_str() {
            "find" => vec![(get_doc(command, "filter"), get_doc(command, "sort"))],
            // Without a query, `count` (what estimatedDocumentCount sends) is answered from the
            // collection's metadata: nothing is read.
            "count" if get_doc(command, "query").is_none_or(|q| q.is_empty()) => Vec::new(),
            "count" | "distinct" => vec![(get_doc(command, "query"), None)],
            "findAndModify" => vec![(get_doc(command, "query"), get_doc(command, "sort"))],
            "aggregate" => {
                let stages: Vec<&Document> = command
                    .get_array("pipeline")
                    .map(|p| p.iter().filter_map(Bson::as_document).collect())
                    .unwrap_or_default();
                let filter = stages.first().and_then(|s| get_doc(s, "$match"));
                let sort_at = usize::from(filter.is_some());
                let sort = stages.get(sort_at).and_then(|s| get_doc(s, "$sort"));
                vec![(filter, sort)]
            }
            "update" | "delete" => {
                let (list, key) = if name == "update" {
                    ("updates", "q")
                } else {
                    ("deletes", "q")
                };
                command
                    .get_array(list)
                    .map(|ops| {
                        ops.iter()
                            .filter_map(Bson::as_document)
                            .map(|op| (get_doc(op, key), None))
                            .collect()
                    })
                    .unwrap_or_default()
            }
            _ => return Vec::new(),
        };
        let mut shapes = Vec::new();
        for (filter, sort) in queries {
            let sort = sort_of(sort.as_ref());
            for branch in branches(&filter.unwrap_or_default()) {
                shapes.push(QueryShape {
                    collection: collection.to_owned(),
                    equality: branch.equality,
                    range: branch.range,
                    residual: branch.residual,
                    sort: sort.clone(),
                });
            }
        }
        shapes
    }

    /// The first declared index that serves this query, or `_id_` for a lookup by `_id`.
    pub fn served_by<'a>(&self, indexes: &'a [IndexSpec]) -> Option<&'a str> {
        if self.equality.contains("_id") {
            return Some("_id_");
        }
        indexes
            .iter()
            .filter(|index| index.collection == self.collection)
            .find(|index| self.fits(index.keys))
            .map(|index| index.name)
    }

    fn fits(&self, keys: &[(&str, i32)]) -> bool {
        let mut at = 0;
        let mut equality = self.equality.clone();
        while at < keys.len() && equality.remove(keys[at].0) {
            at += 1;
        }
        if !equality.is_empty() {
            return false;
        }
        // Without an equality prefix the index must start with the sort or a range, or the whole
        // index (or collection) is read.
        let leads = |field: &str| keys.first().is_some_and(|(key, _)| *key == field);
        if at == 0
            && !self.sort.first().is_some_and(|(f, _)| leads(f))
            && !self.range.iter().any(|f| leads(f))
        {
            return false;
        }
        let mut direction = None;
        for (field, sort_direction) in self.sort.iter().filter(|(f, _)| !self.equality.contains(f))
        {
            let Some((key, key_direction)) = keys.get(at) else {
                return false;
            };
            let relative = sort_direction * key_direction.signum();
            if key != field || *direction.get_or_insert(relative) != relative {
                return false;
            }
            at += 1;
        }
        let sorted: BTreeSet<&str> = self.sort.iter().map(|(f, _)| f.as_str()).collect();
        self.range.iter().all(|field| {
            sorted.contains(field.as_str()) || keys[at..].iter().any(|(key, _)| key == field)
        })
    }
}

#[cfg(test)]
mod tests {
    use bson::doc;

    use super::*;

    fn shape(command: Document) -> QueryShape {
        let mut shapes = QueryShape::of(&command);
        assert_eq!(shapes.len(), 1, "{shapes:?}");
        shapes.remove(0)
    }

    const COMMENT_INDEX: &[IndexSpec] = &[index(
        "comments",
        "video_recent",
        &[("video", 1), ("createdAt", -1), ("_id", -1)],
    )];

    #[test]
    fn equality_then_sort_with_its_tie_breaker_is_served_in_either_direction() {
        let page = |direction: i32| {
            shape(
                doc! { "find": "comments", "filter": { "video": 1 }, "sort": { "createdAt": direction, "_id": direction } },
            )
        };
        assert_eq!(page(-1).served_by(COMMENT_INDEX), Some("video_recent"));
        assert_eq!(page(1).served_by(COMMENT_INDEX), Some("video_recent"));
        let mixed = shape(
            doc! { "find": "comments", "filter": { "video": 1 }, "sort": { "createdAt": -1, "_id": 1 } },
        );
        assert_eq!(mixed.served_by(COMMENT_INDEX), None, "a blocking sort");
        let no_tie_breaker_in_index = shape(
            doc! { "find": "comments", "filter": { "video": 1 }, "sort": { "createdAt": -1, "owner": -1 } },
        );
        assert_eq!(no_tie_breaker_in_index.served_by(COMMENT_INDEX), None);
    }

    #[test]
    fn equality_must_be_a_prefix_and_ranges_follow_the_sort() {
        let by_owner = shape(doc! { "find": "comments", "filter": { "owner": 1 } });
        assert_eq!(by_owner.served_by(COMMENT_INDEX), None, "a collection scan");
        let count = shape(doc! { "aggregate": "comments", "pipeline": [
            { "$match": { "video": { "$in": [1, 2] } } }, { "$group": { "_id": 1, "n": { "$sum": 1 } } }
        ] });
        assert_eq!(count.served_by(COMMENT_INDEX), Some("video_recent"));
        let since = shape(
            doc! { "find": "comments", "filter": { "video": 1, "createdAt": { "$gt": 0 } }, "sort": { "createdAt": -1, "_id": -1 } },
        );
        assert_eq!(since.served_by(COMMENT_INDEX), Some("video_recent"));
        let unindexed_range =
            shape(doc! { "find": "comments", "filter": { "video": 1, "owner": { "$ne": 1 } } });
        assert_eq!(unindexed_range.served_by(COMMENT_INDEX), None);
        let text = shape(
            doc! { "find": "comments", "filter": { "video": 1, "content": { "$regex": "a", "$options": "i" } } },
        );
        assert_eq!(text.served_by(COMMENT_INDEX), Some("video_recent"));
        let by_id = shape(
            doc! { "update": "comments", "updates": [ { "q": { "_id": 1, "x": 2 }, "u": {} } ] },
        );
        assert_eq!(by_id.served_by(COMMENT_INDEX), Some("_id_"));
        let everything =
            shape(doc! { "delete": "comments", "deletes": [ { "q": {}, "limit": 0 } ] });
        assert_eq!(everything.served_by(COMMENT_INDEX), None);
    }

    #[test]
    fn or_and_and_become_one_shape_per_branch() {
        let shapes = QueryShape::of(&doc! { "find": "videos", "filter": { "$and": [
            { "$or": [ { "listed": true }, { "owner": 1, "listed": { "$in": [true, false] } } ] },
            { "$or": [ { "title": { "$regex": "x" } }, { "description": { "$regex": "x" } } ] },
        ] }, "sort": { "views": -1, "_id": -1 } });
        assert_eq!(shapes.len(), 4);
        for shape in &shapes {
            assert_eq!(shape.residual.len(), 1, "{shape:?}");
            assert!(shape.served_by(INDEXES).is_some(), "{shape:?}");
        }
        assert_eq!(
            QueryShape::of(&doc! { "insert": "videos", "documents": [] }),
            []
        );
    }

    #[test]
    fn a_count_without_a_query_reads_metadata_and_one_with_a_query_is_a_query() {
        assert_eq!(QueryShape::of(&doc! { "count": "media_jobs" }), []);
        assert_eq!(
            QueryShape::of(&doc! { "count": "media_jobs", "query": {} }),
            []
        );
        let counted = QueryShape::of(&doc! { "count": "comments", "query": { "owner": 1 } });
        assert_eq!(counted.len(), 1);
        assert_eq!(counted[0].served_by(COMMENT_INDEX), None);
    }
}
