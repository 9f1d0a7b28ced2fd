use chrono::{DateTime, Utc};
use secrecy::SecretString;

use crate::id::Id;

/// One login: a chain of refresh tokens of which only the current one's fingerprint (and, for the
/// reuse grace, the one it replaced) is kept. Revoking it ends every token of the chain.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: Id,
    pub user_id: Id,
    pub token_hash: String,
    pub previous_token_hash: Option<String>,
    pub rotated_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
    pub revoked: bool,
    pub created_at: DateTime<Utc>,
}

impl Session {
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        !self.revoked && self.expires_at > now
    }
}

/// How a refresh token is spent: once to rotate its session, and, within the reuse grace after
/// it was replaced, once more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenUse {
    Rotation,
    Grace,
}

/// What both kinds of token carry: who, and under which session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenClaims {
    pub user_id: Id,
    pub session_id: Id,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
}

/// A signed token and the moment it stops being valid.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: SecretString,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct TokenPair {
    pub access: IssuedToken,
    pub refresh: IssuedToken,
}

/// The caller of an authenticated request, established from a valid access token of a live session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    pub user_id: Id,
    pub session_id: Id,
}
