use std::time::Duration;

use async_trait::async_trait;
use bson::doc;
use bson::oid::ObjectId;
use chrono::{DateTime, Utc};
use mongodb::{Collection, Database};
use serde::{Deserialize, Serialize};
use videotube_domain::ports::SessionRepository;
use videotube_domain::session::{Session, TokenUse};
use videotube_domain::{Id, RepoError};

use super::{id, insert_unique, oid, repo_error, to_bson_time, REFRESH_TOKEN_USES, SESSIONS};

/// A login session. Only fingerprints of refresh tokens are stored, never the tokens.
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

impl From<SessionDoc> for Session {
    fn from(doc: SessionDoc) -> Self {
        Session {
            id: id(doc.id),
            user_id: id(doc.user_id),
            token_hash: doc.token_hash,
            previous_token_hash: doc.previous_token_hash,
            rotated_at: doc.rotated_at.map(|t| t.to_chrono()),
            expires_at: doc.expires_at.to_chrono(),
            revoked: doc.revoked,
            created_at: doc.created_at.to_chrono(),
        }
    }
}

/// One way a refresh token was spent. The `_id` (fingerprint and use) makes each claim unique;
/// `expiresAt` says when the claim stops mattering, because the token itself has expired.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TokenUseDoc {
    #[serde(rename = "_id")]
    id: String,
    user_id: ObjectId,
    session_id: ObjectId,
    used_at: bson::DateTime,
    expires_at: bson::DateTime,
}

pub struct MongoSessionRepository {
    sessions: Collection<SessionDoc>,
    token_uses: Collection<TokenUseDoc>,
}

impl MongoSessionRepository {
    pub fn new(db: &Database) -> Self {
        Self {
            sessions: db.collection(SESSIONS),
            token_uses: db.collection(REFRESH_TOKEN_USES),
        }
    }
}

#[async_trait]
impl SessionRepository for MongoSessionRepository {
    fn next_id(&self) -> Id {
        id(ObjectId::new())
    }

    async fn insert(&self, session: &Session) -> Result<(), RepoError> {
        let doc = SessionDoc {
            id: oid(session.id),
            user_id: oid(session.user_id),
            token_hash: session.token_hash.clone(),
            previous_token_hash: session.previous_token_hash.clone(),
            rotated_at: session.rotated_at.map(to_bson_time),
            expires_at: to_bson_time(session.expires_at),
            revoked: session.revoked,
            created_at: to_bson_time(session.created_at),
        };
        self.sessions
            .insert_one(doc)
            .await
            .map(drop)
            .map_err(repo_error)
    }

    async fn find(&self, session_id: Id) -> Result<Option<Session>, RepoError> {
        let found = self
            .sessions
            .find_one(doc! { "_id": oid(session_id) })
            .await
            .map_err(repo_error)?;
        Ok(found.map(Session::from))
    }

    async fn claim(
        &self,
        session: &Session,
        token_hash: &str,
        token_use: TokenUse,
        now: DateTime<Utc>,
    ) -> Result<bool, RepoError> {
        let suffix = match token_use {
            TokenUse::Rotation => "rotation",
            TokenUse::Grace => "grace",
        };
        let doc = TokenUseDoc {
            id: format!("{token_hash}:{suffix}"),
            user_id: oid(session.user_id),
            session_id: oid(session.id),
            used_at: to_bson_time(now),
            expires_at: to_bson_time(session.expires_at),
        };
        insert_unique(&self.token_uses, doc).await
    }

    async fn find_rotated(
        &self,
        session_id: Id,
        token_hash: &str,
    ) -> Result<Option<Session>, RepoError> {
        const POLL: Duration = Duration::from_millis(20);
        const ATTEMPTS: u32 = 100;
        for _ in 0..ATTEMPTS {
            match self.find(session_id).await? {
                Some(session) if session.token_hash == token_hash && !session.revoked => {
                    tokio::time::sleep(POLL).await
                }
                other => return Ok(other),
            }
        }
        Ok(None)
    }

    async fn rotate(
        &self,
        session_id: Id,
        expected: &str,
        new_hash: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, RepoError> {
        let result = self
            .sessions
            .update_one(
                doc! { "_id": oid(session_id), "tokenHash": expected, "revoked": false },
                doc! { "$set": {
                    "tokenHash": new_hash,
                    "previousTokenHash": expected,
                    "rotatedAt": to_bson_time(now),
                    "expiresAt": to_bson_time(expires_at),
                } },
            )
            .await
            .map_err(repo_error)?;
        Ok(result.modified_count == 1)
    }

    async fn revoke(&self, session_id: Id) -> Result<(), RepoError> {
        self.sessions
            .update_one(
                doc! { "_id": oid(session_id) },
                doc! { "$set": { "revoked": true } },
            )
            .await
            .map(drop)
            .map_err(repo_error)
    }

    async fn revoke_others(&self, user_id: Id, keep: Id) -> Result<(), RepoError> {
        self.sessions
            .update_many(
                doc! { "userId": oid(user_id), "_id": { "$ne": oid(keep) }, "revoked": false },
                doc! { "$set": { "revoked": true } },
            )
            .await
            .map(drop)
            .map_err(repo_error)
    }

    async fn sweep(&self, now: DateTime<Utc>) -> Result<(), RepoError> {
        let expired = doc! { "$lt": to_bson_time(now) };
        self.sessions
            .delete_many(doc! { "$or": [ { "revoked": true }, { "expiresAt": expired.clone() } ] })
            .await
            .map_err(repo_error)?;
        self.token_uses
            .delete_many(doc! { "expiresAt": expired })
            .await
            .map(drop)
            .map_err(repo_error)
    }
}
