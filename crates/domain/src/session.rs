use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use secrecy::SecretString;

use crate::id::Id;

/// One login. Its refresh tokens form a chain: each refresh spends the token presented and
/// issues the next; revoking the session ends every token of the chain. Only fingerprints of
/// tokens are stored, and they stay with the store (see `SessionRepository::rotate`).
#[derive(Debug, Clone)]
pub struct Session {
    pub id: Id,
    pub user_id: Id,
    pub expires_at: DateTime<Utc>,
    pub revoked: bool,
    pub created_at: DateTime<Utc>,
}

impl Session {
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        !self.revoked && self.expires_at > now
    }
}

/// A refresh token (by fingerprint) presented to be exchanged for the next one.
#[derive(Debug, Clone, Copy)]
pub struct RefreshRotation<'a> {
    pub session: Id,
    pub user: Id,
    pub presented: &'a str,
    pub next: &'a str,
    pub next_expires_at: DateTime<Utc>,
    pub now: DateTime<Utc>,
    /// How long the token replaced last is still accepted once more (parallel refreshes of one
    /// client); zero turns the grace off.
    pub grace: Duration,
}

/// What became of a presented refresh token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    /// It was the session's current token; `next` is current now.
    Rotated,
    /// It was the token replaced last, within the grace; `next` is current now (and the token
    /// that replaced it is in turn accepted once more within the grace).
    RotatedInGrace,
    /// It was spent before, outside the grace: someone copied it.
    Reused,
    /// The session does not exist, is not this user's, has expired or was revoked.
    Gone,
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

/// Sessions this process found live in the database recently, so that most authenticated
/// requests skip the session lookup. Revocations made by this process forget their sessions at
/// once; a revocation made by another process is seen here within `ttl`. A zero `ttl` turns the
/// cache off.
pub struct LiveSessions {
    ttl: Duration,
    confirmed: Mutex<HashMap<Id, (Id, Instant)>>,
}

/// Past this many entries, expired ones are swept before adding another.
const SWEEP_ABOVE: usize = 10_000;

impl LiveSessions {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            confirmed: Mutex::new(HashMap::new()),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<Id, (Id, Instant)>> {
        // A panic while holding the lock cannot leave the map inconsistent: take it over.
        self.confirmed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn is_live(&self, session: Id, user: Id) -> bool {
        self.entries()
            .get(&session)
            .is_some_and(|(owner, at)| *owner == user && at.elapsed() < self.ttl)
    }

    pub fn confirm(&self, session: Id, user: Id) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries();
        if entries.len() >= SWEEP_ABOVE {
            entries.retain(|_, (_, at)| at.elapsed() < self.ttl);
        }
        entries.insert(session, (user, Instant::now()));
    }

    pub fn forget(&self, session: Id) {
        self.entries().remove(&session);
    }

    pub fn forget_user_except(&self, user: Id, keep: Id) {
        self.entries()
            .retain(|session, (owner, _)| *owner != user || *session == keep);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> Id {
        Id::from_bytes([n; 12])
    }

    #[test]
    fn remembers_confirmed_sessions_for_their_owner_only() {
        let live = LiveSessions::new(Duration::from_secs(60));
        assert!(!live.is_live(id(1), id(9)));
        live.confirm(id(1), id(9));
        assert!(live.is_live(id(1), id(9)));
        assert!(
            !live.is_live(id(1), id(8)),
            "another user's token for that session"
        );
        live.forget(id(1));
        assert!(!live.is_live(id(1), id(9)));
    }

    #[test]
    fn forgets_a_users_other_sessions_and_expires() {
        let live = LiveSessions::new(Duration::from_secs(60));
        for session in [1, 2, 3] {
            live.confirm(id(session), id(9));
        }
        live.confirm(id(4), id(8));
        live.forget_user_except(id(9), id(2));
        assert!(
            !live.is_live(id(1), id(9))
                && live.is_live(id(2), id(9))
                && !live.is_live(id(3), id(9))
        );
        assert!(live.is_live(id(4), id(8)));

        let off = LiveSessions::new(Duration::ZERO);
        off.confirm(id(1), id(9));
        assert!(!off.is_live(id(1), id(9)));
        let brief = LiveSessions::new(Duration::from_millis(5));
        brief.confirm(id(1), id(9));
        std::thread::sleep(Duration::from_millis(10));
        assert!(!brief.is_live(id(1), id(9)));
    }
}
