//! MongoDB repositories. Only the query subset FerretDB and MongoDB share is used (see the
//! README): no transactions, no `$lookup`, no TTL indexes.

mod attachments;
mod comments;
mod history;
pub mod indexes;
mod jobs;
mod legacy;
mod likes;
pub mod migrate;
mod playlists;
mod resumable;
pub mod seed;
mod sessions;
mod subscriptions;
mod tweets;
mod users;
mod videos;

use std::future::IntoFuture;
use std::time::Duration;

use bson::oid::ObjectId;
use bson::{doc, Document};
use futures_util::TryStreamExt;
use indexes::RETIRED;
use mongodb::error::{ErrorKind, WriteFailure};
use mongodb::options::{ClientOptions, IndexOptions};
use mongodb::{Client, IndexModel};
use videotube_domain::error::UniqueField;
use videotube_domain::page::{Cursor, Page, PageRequest, SortValue};
use videotube_domain::{BoxError, Id, RepoError};

pub use attachments::MongoAttachmentRepository;
pub use comments::MongoCommentRepository;
pub use history::MongoWatchHistoryRepository;
pub use indexes::{IndexSpec, QueryShape, INDEXES};
pub use jobs::{adopt_unassigned_jobs, MongoMediaJobRepository};
pub use likes::MongoLikeRepository;
pub use mongodb::error::Error as DbError;
pub use mongodb::{bson, Database};
pub use playlists::MongoPlaylistRepository;
pub use resumable::MongoResumableUploadRepository;
pub use sessions::MongoSessionRepository;
pub use subscriptions::MongoSubscriptionRepository;
pub use tweets::MongoTweetRepository;
pub use users::MongoUserRepository;
pub use videos::MongoVideoRepository;

pub const USERS: &str = "users";
pub const SESSIONS: &str = "sessions";
pub const REFRESH_TOKEN_USES: &str = "refresh_token_uses";
pub const VIDEOS: &str = "videos";
pub const MEDIA_JOBS: &str = "media_jobs";
pub const MEDIA_JOB_CLAIMS: &str = "media_job_claims";
pub const WATCH_HISTORY: &str = "watch_history";
pub const VIEW_CLAIMS: &str = "view_claims";
pub const SUBSCRIPTIONS: &str = "subscriptions";
pub const LIKES: &str = "likes";
pub const TWEETS: &str = "tweets";
pub const COMMENTS: &str = "comments";
pub const PLAYLISTS: &str = "playlists";
pub const PLAYLIST_VIDEOS: &str = "playlist_videos";
pub const THROTTLES: &str = "throttles";
pub const RESUMABLE_UPLOADS: &str = "resumable_uploads";
pub const ATTACHMENTS: &str = "attachments";

/// Connects lazily: the driver opens connections on first use, so the server can start while the
/// database is still coming up (the healthcheck says so meanwhile). `timeout` bounds how long a
/// request waits for an unreachable server before it answers 503.
pub async fn connect(
    uri: &str,
    db_name: &str,
    timeout: Duration,
) -> Result<Database, mongodb::error::Error> {
    let mut options = ClientOptions::parse(uri).await?;
    options.app_name = Some("videotube".into());
    options.server_selection_timeout = Some(timeout);
    options.connect_timeout = Some(timeout);
    Ok(Client::with_options(options)?.database(db_name))
}

/// The database and the time limit of each operation on it, which every repository applies:
/// reads carry it to the server as `maxTimeMS` (a runaway query is stopped there, not just
/// abandoned), and every operation, writes and cursor draining included, gives up after it on
/// this side too. Past the limit the answer is `RepoError::Unavailable` (a 503).
#[derive(Clone)]
pub struct Store {
    db: Database,
    limit: Duration,
}

impl Store {
    pub fn new(db: Database, limit: Duration) -> Self {
        Self { db, limit }
    }

    pub(crate) fn limit(&self) -> Duration {
        self.limit
    }
}

impl std::ops::Deref for Store {
    type Target = Database;

    fn deref(&self) -> &Database {
        &self.db
    }
}

/// A database operation (or a step of one, such as draining a cursor) bounded in time.
pub(crate) trait Within<T>:
    IntoFuture<Output = Result<T, mongodb::error::Error>> + Sized
{
    /// The operation's result in the domain's terms; `Unavailable` past `limit`. A failure
    /// (not a duplicate key, which callers expect) is logged here, inside the repository call's
    /// span (`<collection>.<method>`), so the log says which operation broke; the request's 5xx
    /// line follows under the same request id.
    async fn within(self, limit: Duration) -> Result<T, RepoError> {
        let started = std::time::Instant::now();
        let result = match tokio::time::timeout(limit, self.into_future()).await {
            Ok(result) => result.map_err(repo_error),
            Err(_) => Err(RepoError::Unavailable(
                format!("a database operation took over {limit:?}").into(),
            )),
        };
        let result = result.map_err(|err| match err {
            RepoError::Unavailable(cause) => {
                RepoError::Unavailable(Box::new(OperationFailed::new(cause)))
            }
            RepoError::Other(cause) => RepoError::Other(Box::new(OperationFailed::new(cause))),
            duplicate @ RepoError::Duplicate(_) => duplicate,
        });
        let operation = operation_name();
        metrics::histogram!("db_operation_duration_seconds", "operation" => operation)
            .record(started.elapsed().as_secs_f64());
        match &result {
            Err(RepoError::Unavailable(cause)) => {
                metrics::counter!("db_operation_errors_total", "operation" => operation, "kind" => "unavailable").increment(1);
                tracing::warn!(error = %cause, "database unavailable");
            }
            Err(RepoError::Other(cause)) => {
                metrics::counter!("db_operation_errors_total", "operation" => operation, "kind" => "other").increment(1);
                tracing::error!(error = %cause, "database operation failed");
            }
            _ => {}
        }
        result
    }
}

impl<T, F: IntoFuture<Output = Result<T, mongodb::error::Error>>> Within<T> for F {}

/// A failed database operation named by the repository call it served: the span it ran in
/// (`<collection>.<method>`). The error travels up to the request's 5xx log line, whose cause
/// chain then says what broke (`tweets.insert failed: ...`) even where spans are not shown. (The
/// name is the span's, so it needs spans at `info` enabled, as they are by default; with
/// `RUST_LOG=warn` it reads "a database operation failed".)
#[derive(Debug, thiserror::Error)]
#[error("{operation} failed")]
pub struct OperationFailed {
    pub operation: &'static str,
    #[source]
    cause: BoxError,
}

impl OperationFailed {
    fn new(cause: BoxError) -> Self {
        Self {
            operation: operation_name(),
            cause,
        }
    }
}

/// The repository call being served: the name of the current span (`<collection>.<method>`).
fn operation_name() -> &'static str {
    tracing::Span::current()
        .metadata()
        .map_or("a database operation", |span| span.name())
}

#[async_trait::async_trait]
impl videotube_domain::ports::DatabaseProbe for Store {
    #[tracing::instrument(name = "database.ping", skip_all)]
    async fn ping(&self) -> Result<(), RepoError> {
        self.db
            .run_command(doc! { "ping": 1 })
            .within(self.limit)
            .await
            .map(drop)
    }
}

/// Why the database could not be prepared at start-up. Each names what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    #[error("could not reach the database; is MONGODB_URI right and the server up?")]
    Unreachable(#[source] DbError),
    #[error(
        "`{collection}` has documents that share the key ({keys}) of the unique index `{index}`, \
         so the index cannot be built (a database the Node backend wrote can hold duplicate likes \
         and subscriptions, and likes without `target`); `videotube migrate --apply` removes \
         them, keeping the oldest of each"
    )]
    Duplicates {
        collection: &'static str,
        index: &'static str,
        keys: String,
        #[source]
        source: DbError,
    },
    #[error(
        "`{collection}` has an index `{existing}` on the key ({keys}) of the index `{index}`, but \
         {difference}; drop it (`db.{collection}.dropIndex(\"{existing}\")`) and start again"
    )]
    Conflicting {
        collection: &'static str,
        index: &'static str,
        existing: String,
        keys: String,
        difference: &'static str,
    },
    #[error("could not prepare the database (indexes, backfills)")]
    Failed(#[source] DbError),
}

impl From<DbError> for PrepareError {
    fn from(err: DbError) -> Self {
        if is_unreachable(&err) {
            PrepareError::Unreachable(err)
        } else {
            PrepareError::Failed(err)
        }
    }
}

/// Makes the database ready for this version: its indexes, and fields earlier versions did not
/// store. Run at start-up; each step is a no-op once done.
pub async fn prepare(db: &Database) -> Result<(), PrepareError> {
    ensure_indexes(db).await?;
    Ok(videos::backfill_listed(db).await?)
}

/// Creates the indexes the repositories rely on (`indexes::INDEXES`; unique ones are what make
/// duplicates impossible) and drops those no version uses any more. An index is told apart by
/// its keys and options, not its name: one the Node backend's Mongoose made (`username_1`,
/// unique) is ours already, and is kept under its name.
pub async fn ensure_indexes(db: &Database) -> Result<(), PrepareError> {
    ensure(db, INDEXES.iter()).await?;
    for (collection, name) in RETIRED {
        let collection = db.collection::<Document>(collection);
        let existing = collection.list_index_names().await?;
        if existing.iter().any(|n| n == name) {
            collection.drop_index(*name).await?;
        }
    }
    Ok(())
}

/// `ensure_indexes` for some collections only: those a migration fills, whose unique indexes it
/// relies on to write each entry once.
pub(crate) async fn ensure_indexes_of(
    db: &Database,
    collections: &[&str],
) -> Result<(), PrepareError> {
    ensure(
        db,
        INDEXES
            .iter()
            .filter(|spec| collections.contains(&spec.collection)),
    )
    .await
}

async fn ensure(
    db: &Database,
    specs: impl Iterator<Item = &IndexSpec>,
) -> Result<(), PrepareError> {
    let mut existing: Vec<(&str, Vec<IndexModel>)> = Vec::new();
    for spec in specs {
        let listed = match existing.iter().position(|(c, _)| *c == spec.collection) {
            Some(at) => at,
            None => {
                existing.push((spec.collection, list_indexes(db, spec.collection).await?));
                existing.len() - 1
            }
        };
        let same_keys = existing[listed]
            .1
            .iter()
            .find(|index| same_keys(&index.keys, spec.keys));
        if let Some(index) = same_keys {
            let unique = index
                .options
                .as_ref()
                .and_then(|o| o.unique)
                .unwrap_or(false);
            if unique == spec.unique {
                continue;
            }
            return Err(PrepareError::Conflicting {
                collection: spec.collection,
                index: spec.name,
                existing: index_name(index),
                keys: describe_keys(spec.keys),
                difference: if spec.unique {
                    "it is not unique and ours must be"
                } else {
                    "it is unique and ours must not be"
                },
            });
        }
        create_index(db, spec).await?;
    }
    Ok(())
}

/// One index per command: FerretDB 1.24 drops the connection (an internal panic) when a single
/// createIndexes names several indexes that already exist, i.e. on every restart.
async fn create_index(db: &Database, spec: &IndexSpec) -> Result<(), PrepareError> {
    let keys = spec.keys_document();
    let options = IndexOptions::builder()
        .name(spec.name.to_owned())
        .unique(spec.unique.then_some(true))
        .build();
    let created = db
        .collection::<Document>(spec.collection)
        .create_index(IndexModel::builder().keys(keys).options(options).build())
        .await;
    match created {
        Ok(_) => Ok(()),
        Err(err) if spec.unique && is_duplicate_key(&err) => Err(PrepareError::Duplicates {
            collection: spec.collection,
            index: spec.name,
            keys: describe_keys(spec.keys),
            source: err,
        }),
        Err(err) => Err(err.into()),
    }
}

/// The collection's indexes; none when the collection does not exist yet.
async fn list_indexes(db: &Database, collection: &str) -> Result<Vec<IndexModel>, DbError> {
    let listed = async {
        db.collection::<Document>(collection)
            .list_indexes()
            .await?
            .try_collect()
            .await
    };
    match listed.await {
        Err(err) if matches!(err.kind.as_ref(), ErrorKind::Command(e) if e.code == NAMESPACE_NOT_FOUND) => {
            Ok(Vec::new())
        }
        other => other,
    }
}

/// Whether an index's key document is `keys`: the same fields in the same order, each in the same
/// direction (a server may give `1` as an int, a long or a double).
fn same_keys(index: &Document, keys: &[(&str, i32)]) -> bool {
    index.len() == keys.len()
        && index
            .iter()
            .zip(keys)
            .all(|((field, direction), (ours, way))| {
                field == ours
                    && match direction {
                        bson::Bson::Int32(n) => *n == *way,
                        bson::Bson::Int64(n) => *n == i64::from(*way),
                        bson::Bson::Double(n) => *n == f64::from(*way),
                        _ => false,
                    }
            })
}

fn index_name(index: &IndexModel) -> String {
    index
        .options
        .as_ref()
        .and_then(|o| o.name.clone())
        .unwrap_or_default()
}

fn describe_keys(keys: &[(&str, i32)]) -> String {
    keys.iter()
        .map(|(field, _)| *field)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Inserts a document whose unique key may already exist: `false` when it does. This is how
/// one of several concurrent requests is picked as the winner, atomically on every store.
pub(crate) async fn insert_unique<T: serde::Serialize + Send + Sync>(
    limit: Duration,
    collection: &mongodb::Collection<T>,
    doc: T,
) -> Result<bool, RepoError> {
    match collection.insert_one(doc).within(limit).await {
        Ok(_) => Ok(true),
        Err(RepoError::Duplicate(_)) => Ok(false),
        Err(err) => Err(err),
    }
}

/// The `$group` results of a pipeline over the collection (bounded by the caller).
pub(crate) async fn groups<T: Send + Sync>(
    collection: &mongodb::Collection<T>,
    pipeline: [Document; 2],
    limit: Duration,
) -> Result<Vec<Document>, mongodb::error::Error> {
    collection
        .aggregate(pipeline)
        .max_time(limit)
        .await?
        .try_collect()
        .await
}

/// Every document a find returns: the whole read, cursor included, within `limit`, which the
/// server also gets as `maxTimeMS`.
pub(crate) async fn find_all<T>(
    find: mongodb::action::Find<'_, T>,
    limit: Duration,
) -> Result<Vec<T>, RepoError>
where
    T: serde::de::DeserializeOwned + Unpin + Send + Sync,
{
    async { find.max_time(limit).await?.try_collect().await }
        .within(limit)
        .await
}

/// One page of a list: the documents matching `from` (the list's filter, narrowed to after a
/// cursor when there is one) in `sort` order, skipping the pages before, and how many match
/// `filter` (the whole list). Two queries at once. `position` gives a document's cursor: a full
/// page goes on after its last document.
pub(crate) async fn page_of<T, U: From<T>>(
    limit: Duration,
    collection: &mongodb::Collection<T>,
    filter: Document,
    from: Document,
    sort: Document,
    page: PageRequest,
    position: impl Fn(&T) -> Cursor,
) -> Result<Page<U>, RepoError>
where
    T: serde::de::DeserializeOwned + Unpin + Send + Sync,
{
    let find = find_all(
        collection
            .find(from)
            .sort(sort)
            .skip(page.skip())
            .limit(i64::from(page.limit())),
        limit,
    );
    let count = collection
        .count_documents(filter)
        .max_time(limit)
        .within(limit);
    let (found, total) = tokio::try_join!(find, count)?;
    let next = found
        .last()
        .filter(|_| found.len() == page.limit() as usize)
        .map(position);
    Ok(Page {
        items: found.into_iter().map(U::from).collect(),
        total,
        request: page,
        next,
    })
}

/// A list sorted newest first (`createdAt`, then `_id`), the order of most lists.
pub(crate) fn newest_first() -> Document {
    doc! { "createdAt": -1, "_id": -1 }
}

/// `filter`, narrowed to the items after `after` in a list sorted by `field` then `tie`, both
/// descending.
pub(crate) fn from_cursor(
    filter: &Document,
    field: &str,
    tie: &str,
    after: Option<&Cursor>,
) -> Document {
    let mut from = filter.clone();
    if let Some(cursor) = after {
        from.insert("$and", vec![after_cursor(field, tie, true, cursor)]);
    }
    from
}

/// The cursor after a document of a list sorted by time.
pub(crate) fn time_cursor(at: bson::DateTime, id: ObjectId) -> Cursor {
    Cursor {
        after: SortValue::Time(at.to_chrono()),
        id: self::id(id),
    }
}

/// The ids of the documents matching `filter` (`most` of them at the most), reading nothing else.
pub(crate) async fn find_ids<T: Send + Sync>(
    limit: Duration,
    collection: &mongodb::Collection<T>,
    filter: Document,
    most: Option<u32>,
) -> Result<Vec<Id>, RepoError> {
    let found: Vec<Document> = find_all(
        collection
            .clone_with_type::<Document>()
            .find(filter)
            .projection(doc! { "_id": 1 })
            .limit(most.map_or(0, i64::from)),
        limit,
    )
    .await?;
    Ok(found
        .iter()
        .filter_map(|d| d.get_object_id("_id").ok().map(id))
        .collect())
}

/// The items after `cursor` in a list sorted by `field` then `tie` (an id), both ascending or
/// both descending: a later value, or the same value and a later id. Each branch of the `$or` is
/// served by the list's (…, field, tie) index, from where the cursor points.
pub(crate) fn after_cursor(field: &str, tie: &str, descending: bool, cursor: &Cursor) -> Document {
    let beyond = if descending { "$lt" } else { "$gt" };
    let value = match &cursor.after {
        SortValue::Time(at) => bson::Bson::DateTime(to_bson_time(*at)),
        SortValue::Number(n) => bson::Bson::Double(*n),
        SortValue::Text(text) => bson::Bson::String(text.clone()),
    };
    doc! { "$or": [
        { field: { beyond: value.clone() } },
        { field: value, tie: { beyond: oid(cursor.id) } },
    ] }
}

/// A stored media URL as the domain keeps it. The local store stores paths
/// (`/media/<folder>/<file>`), made absolute per request; earlier versions stored
/// `http://<host>/media/<folder>/<file>`, built from the address they ran at, which are read as
/// the path so that a server moved to another host or port still serves them. Other absolute
/// URLs (Cloudinary's) are kept.
pub(crate) fn media_path(url: String) -> String {
    let local = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .and_then(|rest| rest.split_once('/'))
        .and_then(|(_, path)| path.strip_prefix("media/"))
        // The local store's names are `<folder>/<file>`; Cloudinary's paths are longer.
        .filter(|name| {
            let parts: Vec<&str> = name.split('/').collect();
            parts.len() == 2 && parts.iter().all(|p| !p.is_empty()) && !name.contains(['?', '#'])
        })
        .map(|name| format!("/media/{name}"));
    local.unwrap_or(url)
}

pub(crate) fn oid(id: Id) -> ObjectId {
    ObjectId::from_bytes(id.bytes())
}

pub(crate) fn id(oid: ObjectId) -> Id {
    Id::from_bytes(oid.bytes())
}

pub(crate) fn to_bson_time(t: chrono::DateTime<chrono::Utc>) -> bson::DateTime {
    bson::DateTime::from_chrono(t)
}

/// A number from a `$group` result: `$sum` gives an int32, int64 or double depending on the
/// store and the size.
pub(crate) fn group_number(group: &Document, field: &str) -> u64 {
    match group.get(field) {
        Some(bson::Bson::Int32(n)) => u64::try_from(*n).unwrap_or(0),
        Some(bson::Bson::Int64(n)) => u64::try_from(*n).unwrap_or(0),
        Some(bson::Bson::Double(n)) => *n as u64,
        _ => 0,
    }
}

const DUPLICATE_KEY: i32 = 11000;
/// MongoDB's (and FerretDB's) code for an operation stopped by its `maxTimeMS`.
const MAX_TIME_EXPIRED: i32 = 50;
/// listIndexes on a collection that does not exist.
const NAMESPACE_NOT_FOUND: i32 = 26;
/// FerretDB 1.x reports a unique-index violation inside findAndModify as an InternalError
/// (code 1) carrying SQLite's message instead of 11000.
const FERRETDB_UNIQUE_VIOLATION: &str = "UNIQUE constraint failed";

/// Translates a driver error into the domain's terms: duplicate keys become conflicts naming the
/// field, unreachable servers become `Unavailable` (503), everything else is opaque.
/// The server could not be reached, as opposed to refusing what was asked.
fn is_unreachable(err: &DbError) -> bool {
    matches!(
        err.kind.as_ref(),
        ErrorKind::ServerSelection { .. }
            | ErrorKind::ConnectionPoolCleared { .. }
            | ErrorKind::Io(_)
    )
}

fn is_duplicate_key(err: &DbError) -> bool {
    match err.kind.as_ref() {
        ErrorKind::Command(e) => {
            e.code == DUPLICATE_KEY || e.message.contains(FERRETDB_UNIQUE_VIOLATION)
        }
        ErrorKind::Write(WriteFailure::WriteError(e)) => e.code == DUPLICATE_KEY,
        _ => false,
    }
}

/// Whether every document an `insert_many` refused was refused as a duplicate key, i.e. was
/// there already.
pub(crate) fn only_duplicate_keys(err: &DbError) -> bool {
    match err.kind.as_ref() {
        ErrorKind::InsertMany(e) => {
            e.write_concern_error.is_none()
                && e.write_errors
                    .as_ref()
                    .is_some_and(|errors| errors.iter().all(|e| e.code == DUPLICATE_KEY))
        }
        _ => is_duplicate_key(err),
    }
}

pub(crate) fn repo_error(err: mongodb::error::Error) -> RepoError {
    let duplicate = match err.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(e)) if e.code == DUPLICATE_KEY => {
            Some(e.message.as_str())
        }
        ErrorKind::Command(e)
            if e.code == DUPLICATE_KEY || e.message.contains(FERRETDB_UNIQUE_VIOLATION) =>
        {
            Some(e.message.as_str())
        }
        _ => None,
    };
    if let Some(message) = duplicate {
        return RepoError::Duplicate(unique_field(message));
    }
    let unreachable = is_unreachable(&err)
        || matches!(err.kind.as_ref(), ErrorKind::Command(e) if e.code == MAX_TIME_EXPIRED);
    if unreachable {
        RepoError::Unavailable(Box::new(err))
    } else {
        RepoError::Other(Box::new(err))
    }
}

/// Which field a duplicate-key error is about, from the name of the violated index, never from
/// the duplicate value (which MongoDB quotes in the same message: `username@x.io` is an email).
/// Mongoose's names (`username_1`, `email_1`) count too: a database the Node backend created
/// keeps them.
fn unique_field(message: &str) -> UniqueField {
    const FIELDS: [(&str, UniqueField); 4] = [
        ("username_unique", UniqueField::Username),
        ("username_1", UniqueField::Username),
        ("email_unique", UniqueField::Email),
        ("email_1", UniqueField::Email),
    ];
    let Some(index) = violated_index(message) else {
        return UniqueField::Unknown;
    };
    FIELDS
        .iter()
        .find(|(name, _)| {
            // FerretDB names its SQLite index `<table>_<index name>`.
            index == *name || index.strip_suffix(name).is_some_and(|t| t.ends_with('_'))
        })
        .map_or(UniqueField::Unknown, |(_, field)| *field)
}

/// The violated index's name: MongoDB writes `... index: email_unique dup key: { email: ... }`;
/// FerretDB's SQLite backend `UNIQUE constraint failed: index 'users_1a2b_email_unique'` (inside
/// findAndModify); FerretDB's inserts name none (`E11000 duplicate key error collection: db.users`).
fn violated_index(message: &str) -> Option<&str> {
    if let Some((_, rest)) = message.split_once(" index: ") {
        return rest.split_whitespace().next();
    }
    let (_, rest) = message.split_once("UNIQUE constraint failed: index '")?;
    rest.split_once('\'').map(|(name, _)| name)
}

#[cfg(test)]
mod media_path_tests {
    use super::media_path;

    #[test]
    fn local_urls_of_any_host_become_paths_and_others_stay() {
        for (stored, read) in [
            (
                "http://127.0.0.1:8021/media/avatars/a1.png",
                "/media/avatars/a1.png",
            ),
            (
                "https://tube.example/media/videos/a1.mp4",
                "/media/videos/a1.mp4",
            ),
            ("/media/avatars/a1.png", "/media/avatars/a1.png"),
            (
                "https://res.cloudinary.com/demo/image/upload/v1/media/a1.png",
                "https://res.cloudinary.com/demo/image/upload/v1/media/a1.png",
            ),
            (
                "https://res.cloudinary.com/media/image/upload/v1/a1.png",
                "https://res.cloudinary.com/media/image/upload/v1/a1.png",
            ),
            (
                "https://tube.example/prefix/media/avatars/a1.png",
                "https://tube.example/prefix/media/avatars/a1.png",
            ),
            ("", ""),
        ] {
            assert_eq!(media_path(stored.to_owned()), read, "{stored}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_told_apart_by_index_name_not_by_value() {
        let mongodb = |index: &str, key: &str| {
            format!("E11000 duplicate key error collection: videotube.users index: {index} dup key: {{ {key} }}")
        };
        let cases = [
            (
                mongodb("email_unique", r#"email: "username@x.io""#),
                UniqueField::Email,
            ),
            (
                mongodb("username_unique", r#"username: "email""#),
                UniqueField::Username,
            ),
            (mongodb("email_1", r#"email: "a@b.c""#), UniqueField::Email),
            (
                mongodb("username_1", r#"username: "a""#),
                UniqueField::Username,
            ),
            (
                mongodb(
                    "liked_by_target_unique",
                    r#"likedBy: ObjectId('..'), target: "username""#,
                ),
                UniqueField::Unknown,
            ),
            (
                "UNIQUE constraint failed: index 'users_2a1d7a57_email_unique'".to_owned(),
                UniqueField::Email,
            ),
            (
                "UNIQUE constraint failed: index 'users_2a1d7a57_username_unique'".to_owned(),
                UniqueField::Username,
            ),
            (
                "E11000 duplicate key error collection: videotube.users".to_owned(),
                UniqueField::Unknown,
            ),
        ];
        for (message, field) in cases {
            assert_eq!(unique_field(&message), field, "{message}");
        }
    }
}
