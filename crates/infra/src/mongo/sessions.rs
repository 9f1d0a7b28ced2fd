//! Sessions and the rotation of their refresh tokens.
//!
//! Which of several parallel refreshes wins must be decided atomically on every supported store,
//! and FerretDB applies a conditional update by reading and then writing. So a token is spent by
//! inserting a record keyed by its fingerprint (a unique `_id`: exactly one insert wins) that
//! names the token replacing it. The session document keeps the current token as a *hint*: the
//! true current token is found by following spent records from it. A refresh writes the hint
//! after spending the token; if that second write is lost the chain still leads to the right
//! token, so nothing depends on it but speed. Every read and write here is by `_id`, which is
//! what FerretDB's SQLite backend looks up without reading the whole collection.

use std::time::Duration;

use async_trait::async_trait;
use bson::doc;
use bson::oid::ObjectId;
use chrono::{DateTime, TimeDelta, Utc};
use mongodb::Collection;
use serde::{Deserialize, Serialize};
use videotube_domain::ports::SessionRepository;
use videotube_domain::session::{RefreshRotation, Rotation, Session};
use videotube_domain::{Id, RepoError};

use super::{
    find_all, id, insert_unique, oid, to_bson_time, Store, Within, REFRESH_TOKEN_USES, SESSIONS,
};

/// A login session; `tokenHash` is the current refresh token as of the last completed rotation,
/// `previousTokenHash` the one it replaced at `rotatedAt` (for the reuse grace).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionDoc {
    #[serde(rename = "_id")]
    id: ObjectId,
    user_id: ObjectId,
    token_hash: String,
    previous_token_hash: Option<String>,
    rotated_at: Option<bson::DateTime>,
    expires_at: bson::DateTime,
    revoked: bool,
    created_at: bson::DateTime,
}

impl From<&SessionDoc> for Session {
    fn from(doc: &SessionDoc) -> Self {
        Session {
            id: id(doc.id),
            user_id: id(doc.user_id),
            expires_at: doc.expires_at.to_chrono(),
            revoked: doc.revoked,
            created_at: doc.created_at.to_chrono(),
        }
    }
}

/// A spent refresh token (`_id`: its fingerprint) and the token that replaced it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpentTokenDoc {
    #[serde(rename = "_id")]
    id: String,
    session_id: ObjectId,
    next: String,
    next_expires_at: bson::DateTime,
    used_at: bson::DateTime,
}

/// Where a session's chain of tokens ends: the current token, the one before it and when it
/// was replaced.
struct ChainEnd {
    current: String,
    previous: Option<String>,
    rotated_at: Option<DateTime<Utc>>,
    expires_at: DateTime<Utc>,
    /// Spent records beyond the session's hint (non-zero only after a lost hint write).
    hops: usize,
}

/// Spent records newer than this are kept whatever their state: a parallel refresh that read the
/// session before the hint moved may still be following them.
const KEEP_SPENT: TimeDelta = TimeDelta::hours(1);
/// More hops than this means the hint writes keep failing: refuse rather than walk on.
const MAX_HOPS: usize = 16;
/// Rounds of a rotation: each lost race moves the chain on, so a presented token is judged
/// reused or gone by the third round at the latest.
const ROUNDS: usize = 3;
const SWEEP_BATCH: i64 = 500;

pub struct MongoSessionRepository {
    limit: Duration,
    sessions: Collection<SessionDoc>,
    spent: Collection<SpentTokenDoc>,
}

impl MongoSessionRepository {
    pub fn new(store: &Store) -> Self {
        Self {
            limit: store.limit,
            sessions: store.collection(SESSIONS),
            spent: store.collection(REFRESH_TOKEN_USES),
        }
    }

    async fn find_doc(&self, session_id: ObjectId) -> Result<Option<SessionDoc>, RepoError> {
        self.sessions
            .find_one(doc! { "_id": session_id })
            .max_time(self.limit)
            .within(self.limit)
            .await
    }

    async fn chain_end(&self, session: &SessionDoc) -> Result<ChainEnd, RepoError> {
        let mut end = ChainEnd {
            current: session.token_hash.clone(),
            previous: session.previous_token_hash.clone(),
            rotated_at: session.rotated_at.map(|t| t.to_chrono()),
            expires_at: session.expires_at.to_chrono(),
            hops: 0,
        };
        while let Some(spent) = self
            .spent
            .find_one(doc! { "_id": &end.current })
            .max_time(self.limit)
            .within(self.limit)
            .await?
        {
            if end.hops == MAX_HOPS {
                return Err(RepoError::Other(
                    format!(
                        "session {} has over {MAX_HOPS} unrecorded rotations",
                        session.id
                    )
                    .into(),
                ));
            }
            end = ChainEnd {
                previous: Some(std::mem::replace(&mut end.current, spent.next)),
                rotated_at: Some(spent.used_at.to_chrono()),
                expires_at: spent.next_expires_at.to_chrono(),
                hops: end.hops + 1,
                ..end
            };
        }
        Ok(end)
    }

    /// Moves the session's hint to the end of its chain (one write by `_id`).
    async fn record_chain_end(
        &self,
        session_id: ObjectId,
        end: &ChainEnd,
    ) -> Result<(), RepoError> {
        self.sessions
            .update_one(
                doc! { "_id": session_id },
                doc! { "$set": {
                    "tokenHash": &end.current,
                    "previousTokenHash": end.previous.as_deref(),
                    "rotatedAt": end.rotated_at.map(to_bson_time),
                    "expiresAt": to_bson_time(end.expires_at),
                } },
            )
            .within(self.limit)
            .await
            .map(drop)
    }
}

#[async_trait]
impl SessionRepository for MongoSessionRepository {
    fn next_id(&self) -> Id {
        id(ObjectId::new())
    }

    #[tracing::instrument(name = "sessions.insert", skip_all)]
    async fn insert(&self, session: &Session, token_hash: &str) -> Result<(), RepoError> {
        let doc = SessionDoc {
            id: oid(session.id),
            user_id: oid(session.user_id),
            token_hash: token_hash.to_owned(),
            previous_token_hash: None,
            rotated_at: None,
            expires_at: to_bson_time(session.expires_at),
            revoked: session.revoked,
            created_at: to_bson_time(session.created_at),
        };
        self.sessions
            .insert_one(doc)
            .within(self.limit)
            .await
            .map(drop)
    }

    #[tracing::instrument(name = "sessions.find", skip_all)]
    async fn find(&self, session_id: Id) -> Result<Option<Session>, RepoError> {
        Ok(self
            .find_doc(oid(session_id))
            .await?
            .as_ref()
            .map(Session::from))
    }

    #[tracing::instrument(name = "sessions.rotate", skip_all)]
    async fn rotate(&self, rotation: RefreshRotation<'_>) -> Result<Rotation, RepoError> {
        let session_id = oid(rotation.session);
        let mut hint = None;
        for _ in 0..ROUNDS {
            let session = match self.find_doc(session_id).await? {
                Some(s) if s.user_id == oid(rotation.user) && !s.revoked => s,
                _ => return Ok(Rotation::Gone),
            };
            if hint.as_ref() == Some(&session.token_hash) {
                // Judged reused against this very hint already.
                return Ok(Rotation::Reused);
            }
            let end = self.chain_end(&session).await?;
            if end.expires_at <= rotation.now {
                return Ok(Rotation::Gone);
            }
            let outcome = if rotation.presented == end.current {
                Rotation::Rotated
            } else if end.previous.as_deref() == Some(rotation.presented)
                && end.rotated_at.is_some_and(|at| {
                    (rotation.now - at).to_std().unwrap_or_default() <= rotation.grace
                })
                && !rotation.grace.is_zero()
            {
                // Spending the current token on behalf of the one it replaced: the client that
                // holds the current one is in turn within the grace.
                Rotation::RotatedInGrace
            } else {
                // Reused, unless the sweep moved the hint past records it deleted while this
                // request walked the chain: judge once more from the hint as it is now.
                hint = Some(session.token_hash);
                continue;
            };
            let spent = SpentTokenDoc {
                id: end.current.clone(),
                session_id,
                next: rotation.next.to_owned(),
                next_expires_at: to_bson_time(rotation.next_expires_at),
                used_at: to_bson_time(rotation.now),
            };
            if !insert_unique(self.limit, &self.spent, spent).await? {
                continue;
            }
            let new_end = ChainEnd {
                previous: Some(end.current),
                current: rotation.next.to_owned(),
                rotated_at: Some(rotation.now),
                expires_at: rotation.next_expires_at,
                hops: 0,
            };
            // The rotation is done: the chain holds it. The hint only saves later reads.
            if let Err(err) = self.record_chain_end(session_id, &new_end).await {
                tracing::warn!(session = %session_id, error = ?err, "could not record a rotation on its session; the chain still holds it");
            }
            return Ok(outcome);
        }
        Ok(Rotation::Reused)
    }

    /// Revoked sessions also expire at once, so that the sweep finds every dead session by
    /// `expiresAt` alone (one index).
    #[tracing::instrument(name = "sessions.revoke", skip_all)]
    async fn revoke(&self, session_id: Id) -> Result<(), RepoError> {
        self.sessions
            .update_one(
                doc! { "_id": oid(session_id) },
                doc! { "$set": { "revoked": true, "expiresAt": bson::DateTime::now() } },
            )
            .within(self.limit)
            .await
            .map(drop)
    }

    #[tracing::instrument(name = "sessions.revoke_others", skip_all)]
    async fn revoke_others(&self, user_id: Id, keep: Id) -> Result<(), RepoError> {
        self.sessions
            .update_many(
                doc! { "userId": oid(user_id), "_id": { "$ne": oid(keep) } },
                doc! { "$set": { "revoked": true, "expiresAt": bson::DateTime::now() } },
            )
            .within(self.limit)
            .await
            .map(drop)
    }

    /// Sessions first; then spent records older than `KEEP_SPENT`, in batches: those behind
    /// their session's hint (or of a session gone) are deleted; those a lost hint write left in
    /// the chain first move the hint past them.
    #[tracing::instrument(name = "sessions.sweep", skip_all)]
    async fn sweep(&self, now: DateTime<Utc>) -> Result<(), RepoError> {
        self.sessions
            .delete_many(doc! { "expiresAt": { "$lt": to_bson_time(now) } })
            .within(self.limit)
            .await?;
        let cutoff = to_bson_time(now - KEEP_SPENT);
        loop {
            let batch: Vec<bson::Document> = find_all(
                self.spent
                    .clone_with_type::<bson::Document>()
                    .find(doc! { "usedAt": { "$lt": cutoff } })
                    .projection(doc! { "sessionId": 1 })
                    .limit(SWEEP_BATCH),
                self.limit,
            )
            .await?;
            let mut sessions: Vec<ObjectId> = batch
                .iter()
                .filter_map(|d| d.get_object_id("sessionId").ok())
                .collect();
            sessions.sort();
            sessions.dedup();
            let live: Vec<SessionDoc> = find_all(
                self.sessions.find(doc! { "_id": { "$in": &sessions } }),
                self.limit,
            )
            .await?;
            for session in &live {
                let end = self.chain_end(session).await?;
                if end.hops > 0 {
                    self.record_chain_end(session.id, &end).await?;
                }
            }
            // Every session of the batch now has its hint at the end of its chain, so any old
            // record is behind it (or its session is gone).
            let ids: Vec<&str> = batch.iter().filter_map(|d| d.get_str("_id").ok()).collect();
            self.spent
                .delete_many(doc! { "_id": { "$in": ids } })
                .within(self.limit)
                .await?;
            if (batch.len() as i64) < SWEEP_BATCH {
                return Ok(());
            }
        }
    }
}
