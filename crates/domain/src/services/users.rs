use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use crate::error::{Error, FieldError};
use crate::media::{MediaFolder, ProfileImage, StoredMedia, UploadedFile};
use crate::ports::{
    MediaStore, PasswordHasher, SessionRepository, Throttle, TokenCodec, TokenError, UserRepository,
};
use crate::session::{
    Caller, LiveSessions, RefreshRotation, Rotation, Session, TokenClaims, TokenKind, TokenPair,
};
use crate::user::{AccountChanges, NewUser, User};
use crate::values::{Email, FullName, LoginId, NewPassword, Password, Username};

/// Token lifetimes and the refresh-reuse grace (see design.md, "Auth").
#[derive(Debug, Clone, Copy)]
pub struct AuthPolicy {
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
    /// How long the refresh token replaced last is still accepted once (parallel refreshes from
    /// two tabs); zero turns the grace off.
    pub refresh_reuse_grace: Duration,
    /// How long a session found live is trusted without asking the database again (see
    /// `LiveSessions`); zero checks on every request.
    pub session_recheck: Duration,
}

pub struct Registration<'a> {
    pub username: Username,
    pub email: Email,
    pub full_name: FullName,
    pub password: NewPassword,
    pub avatar: &'a UploadedFile,
    pub cover_image: Option<&'a UploadedFile>,
}

/// What the user service works with.
pub struct UserPorts {
    pub users: Arc<dyn UserRepository>,
    pub sessions: Arc<dyn SessionRepository>,
    pub hasher: Arc<dyn PasswordHasher>,
    pub tokens: Arc<dyn TokenCodec>,
    pub media: Arc<dyn MediaStore>,
    /// Login attempts per client address, and per account (see `UserService::login`).
    pub logins_per_client: Arc<dyn Throttle>,
    pub logins_per_account: Arc<dyn Throttle>,
    /// Registrations per client.
    pub registrations: Arc<dyn Throttle>,
    /// Token refreshes per client.
    pub refreshes: Arc<dyn Throttle>,
}

/// Accounts, logins and sessions.
pub struct UserService {
    users: Arc<dyn UserRepository>,
    sessions: Arc<dyn SessionRepository>,
    hasher: Arc<dyn PasswordHasher>,
    tokens: Arc<dyn TokenCodec>,
    media: Arc<dyn MediaStore>,
    logins_per_client: Arc<dyn Throttle>,
    logins_per_account: Arc<dyn Throttle>,
    registrations: Arc<dyn Throttle>,
    refreshes: Arc<dyn Throttle>,
    policy: AuthPolicy,
    live_sessions: LiveSessions,
}

const INVALID_CREDENTIALS: &str = "Invalid user credentials";
const INVALID_ACCESS: &str = "Invalid or expired access token";
const INVALID_REFRESH: &str = "Invalid or expired refresh token";

/// Spends one unit of `key`'s allowance: 429 when none is left.
async fn spend(throttle: &dyn Throttle, key: &str) -> Result<(), Error> {
    match throttle.spend(key).await? {
        Some(retry_after) => Err(Error::TooManyRequests { retry_after }),
        None => Ok(()),
    }
}

/// Spends one unit of `client`'s allowance; a request without a client address (none over
/// TCP) is not limited.
async fn spend_for(throttle: &dyn Throttle, client: Option<IpAddr>) -> Result<(), Error> {
    match client {
        Some(client) => spend(throttle, &client.to_string()).await,
        None => Ok(()),
    }
}

impl UserService {
    pub fn new(ports: UserPorts, policy: AuthPolicy) -> Self {
        let UserPorts {
            users,
            sessions,
            hasher,
            tokens,
            media,
            logins_per_client,
            logins_per_account,
            registrations,
            refreshes,
        } = ports;
        Self {
            users,
            sessions,
            hasher,
            tokens,
            media,
            logins_per_client,
            logins_per_account,
            registrations,
            refreshes,
            policy,
            live_sessions: LiveSessions::new(policy.session_recheck),
        }
    }

    /// Whether the client may register now: checked before its form is read, so that a
    /// throttled client's upload is not even received.
    pub async fn admit_registration(&self, client: Option<IpAddr>) -> Result<(), Error> {
        spend_for(self.registrations.as_ref(), client).await
    }

    #[tracing::instrument(name = "UserService::register", skip_all)]
    pub async fn register(&self, reg: Registration<'_>) -> Result<User, Error> {
        let (username_taken, email_taken) = self.users.taken(&reg.username, &reg.email).await?;
        if username_taken || email_taken {
            let mut errors = Vec::new();
            if username_taken {
                errors.push(FieldError::new(Username::FIELD, "is already taken"));
            }
            if email_taken {
                errors.push(FieldError::new(Email::FIELD, "is already registered"));
            }
            return Err(Error::Conflict {
                message: "User with email or username already exists".into(),
                errors,
            });
        }
        let password_hash = self
            .hasher
            .hash(&reg.password)
            .await
            .map_err(Error::Internal)?;

        let avatar = self
            .media
            .store(reg.avatar, MediaFolder::Avatars, None)
            .await?
            .media;
        let cover_image = match reg.cover_image {
            Some(file) => match self.media.store(file, MediaFolder::CoverImages, None).await {
                Ok(stored) => Some(stored.media),
                Err(err) => {
                    self.discard(&avatar).await;
                    return Err(err.into());
                }
            },
            None => None,
        };

        let new_user = NewUser {
            username: reg.username,
            email: reg.email,
            full_name: reg.full_name,
            avatar: avatar.clone(),
            cover_image: cover_image.clone(),
            password_hash,
            created_at: Utc::now(),
        };
        match self.users.insert(new_user).await {
            Ok(user) => Ok(user),
            Err(err) => {
                // Nothing references the files we just stored; do not leave them behind.
                self.discard(&avatar).await;
                if let Some(cover) = &cover_image {
                    self.discard(cover).await;
                }
                Err(err.into())
            }
        }
    }

    #[tracing::instrument(name = "UserService::login", skip_all)]
    pub async fn login(
        &self,
        login: LoginId,
        password: Password,
        client: Option<IpAddr>,
    ) -> Result<(User, TokenPair), Error> {
        spend_for(self.logins_per_client.as_ref(), client).await?;
        let user = self.users.find_by_login(&login).await?;
        // One budget per account, whichever name (username or email) an attempt uses; names of no
        // account get one each, as normalised, so they lock out exactly as an account would
        // (telling the two apart would tell which accounts exist).
        let budget = match &user {
            Some(user) => format!("account:{}", user.id),
            None => format!("unknown:{}", login.key()),
        };
        spend(self.logins_per_account.as_ref(), &budget).await?;
        let matches = self
            .hasher
            .verify(&password, user.as_ref().map(|u| &u.password_hash))
            .await
            .map_err(Error::Internal)?;
        let user = match user {
            Some(user) if matches => user,
            _ => return Err(Error::Unauthorized(INVALID_CREDENTIALS)),
        };

        let claims = TokenClaims {
            user_id: user.id,
            session_id: self.sessions.next_id(),
        };
        let tokens = self.issue_pair(claims)?;
        let session = Session {
            id: claims.session_id,
            user_id: user.id,
            expires_at: tokens.refresh.expires_at,
            revoked: false,
            created_at: Utc::now(),
        };
        self.sessions
            .insert(&session, &self.fingerprint(&tokens))
            .await?;
        Ok((user, tokens))
    }

    /// Deletes sessions that can no longer be used and expired token records, for every user:
    /// run periodically, not on the login path.
    #[tracing::instrument(name = "UserService::sweep_sessions", skip_all)]
    pub async fn sweep_sessions(&self) -> Result<(), Error> {
        Ok(self.sessions.sweep(Utc::now()).await?)
    }

    /// Forgets throttle keys whose allowance is whole again.
    #[tracing::instrument(name = "UserService::sweep_throttles", skip_all)]
    pub async fn sweep_throttles(&self) -> Result<(), Error> {
        let now = Utc::now();
        for throttle in [
            &self.logins_per_client,
            &self.logins_per_account,
            &self.registrations,
            &self.refreshes,
        ] {
            throttle.forget_refilled(now).await?;
        }
        Ok(())
    }

    /// Establishes the caller from an access token: valid signature, not expired, and its session
    /// still live, so logout and password changes take effect at once.
    #[tracing::instrument(name = "UserService::authenticate", skip_all)]
    pub async fn authenticate(&self, access_token: &str) -> Result<Caller, Error> {
        let claims = self
            .tokens
            .verify(TokenKind::Access, access_token)
            .map_err(|_| Error::Unauthorized(INVALID_ACCESS))?;
        let caller = Caller {
            user_id: claims.user_id,
            session_id: claims.session_id,
        };
        if self
            .live_sessions
            .is_live(caller.session_id, caller.user_id)
        {
            return Ok(caller);
        }
        match self.sessions.find(claims.session_id).await? {
            Some(session) if session.user_id == claims.user_id && session.is_active(Utc::now()) => {
                self.live_sessions
                    .confirm(caller.session_id, caller.user_id);
                Ok(caller)
            }
            _ => Err(Error::Unauthorized(INVALID_ACCESS)),
        }
    }

    /// Whether `token` is a refresh token this server signed, unexpired (whether its session
    /// still stands is for `refresh`): how a caller picks among the tokens a request carries.
    pub fn is_refresh_token(&self, token: &str) -> bool {
        self.tokens.verify(TokenKind::Refresh, token).is_ok()
    }

    /// Trades a refresh token for a new pair, rotating the session's token. Presenting a token the
    /// session no longer holds means it was copied: the whole session is revoked, except for the
    /// token replaced within the grace period, which parallel requests of one client still carry.
    #[tracing::instrument(name = "UserService::refresh", skip_all)]
    pub async fn refresh(
        &self,
        refresh_token: &str,
        client: Option<IpAddr>,
    ) -> Result<TokenPair, Error> {
        spend_for(self.refreshes.as_ref(), client).await?;
        let claims = self
            .tokens
            .verify(TokenKind::Refresh, refresh_token)
            .map_err(|err| match err {
                TokenError::Expired | TokenError::Invalid => Error::Unauthorized(INVALID_REFRESH),
            })?;
        let tokens = self.issue_pair(claims)?;
        let rotation = RefreshRotation {
            session: claims.session_id,
            user: claims.user_id,
            presented: &self.tokens.fingerprint(refresh_token),
            next: &self.fingerprint(&tokens),
            next_expires_at: tokens.refresh.expires_at,
            now: Utc::now(),
            grace: self.policy.refresh_reuse_grace,
        };
        match self.sessions.rotate(rotation).await? {
            Rotation::Rotated => Ok(tokens),
            Rotation::RotatedInGrace => {
                tracing::debug!(session = %claims.session_id, "refresh token replaced moments ago accepted once more");
                Ok(tokens)
            }
            Rotation::Reused => Err(self.reuse_detected(claims).await),
            Rotation::Gone => Err(Error::Unauthorized(INVALID_REFRESH)),
        }
    }

    /// A spent refresh token came back: it was copied. End the whole session.
    async fn reuse_detected(&self, claims: TokenClaims) -> Error {
        tracing::warn!(session = %claims.session_id, user = %claims.user_id, "refresh token reuse detected; revoking session");
        let revoked = self.sessions.revoke(claims.session_id).await;
        self.live_sessions.forget(claims.session_id);
        match revoked {
            Ok(()) => Error::Unauthorized("Refresh token reuse detected; please log in again"),
            Err(err) => err.into(),
        }
    }

    #[tracing::instrument(name = "UserService::logout", skip_all)]
    pub async fn logout(&self, caller: Caller) -> Result<(), Error> {
        // The database first: a lookup racing with this must not re-confirm the session.
        self.sessions.revoke(caller.session_id).await?;
        self.live_sessions.forget(caller.session_id);
        Ok(())
    }

    #[tracing::instrument(name = "UserService::current_user", skip_all)]
    pub async fn current_user(&self, caller: Caller) -> Result<User, Error> {
        self.users
            .find_by_id(caller.user_id)
            .await?
            .ok_or(Error::Unauthorized(INVALID_ACCESS))
    }

    /// Changes the password and signs out every other session of the user.
    #[tracing::instrument(name = "UserService::change_password", skip_all)]
    pub async fn change_password(
        &self,
        caller: Caller,
        old: Password,
        new: NewPassword,
    ) -> Result<(), Error> {
        let user = self.current_user(caller).await?;
        let matches = self
            .hasher
            .verify(&old, Some(&user.password_hash))
            .await
            .map_err(Error::Internal)?;
        if !matches {
            return Err(Error::Validation {
                message: "Invalid old password".into(),
                errors: vec![FieldError::new("oldPassword", "is incorrect")],
            });
        }
        let hash = self.hasher.hash(&new).await.map_err(Error::Internal)?;
        if !self.users.set_password(user.id, &hash).await? {
            return Err(Error::Unauthorized(INVALID_ACCESS));
        }
        self.sessions
            .revoke_others(user.id, caller.session_id)
            .await?;
        self.live_sessions
            .forget_user_except(user.id, caller.session_id);
        Ok(())
    }

    #[tracing::instrument(name = "UserService::update_account", skip_all)]
    pub async fn update_account(
        &self,
        caller: Caller,
        changes: AccountChanges,
    ) -> Result<User, Error> {
        if changes.full_name.is_none() && changes.email.is_none() {
            return Err(Error::invalid(vec![FieldError::new(
                FullName::FIELD,
                "fullName or email is required",
            )]));
        }
        self.users
            .update_account(caller.user_id, &changes)
            .await?
            .ok_or(Error::Unauthorized(INVALID_ACCESS))
    }

    /// Stores a new avatar or cover image, records it, then deletes the one it replaces.
    #[tracing::instrument(name = "UserService::replace_image", skip_all)]
    pub async fn replace_image(
        &self,
        caller: Caller,
        image: ProfileImage,
        file: &UploadedFile,
    ) -> Result<User, Error> {
        let user = self.current_user(caller).await?;
        let old = match image {
            ProfileImage::Avatar => Some(user.avatar),
            ProfileImage::CoverImage => user.cover_image,
        };
        let stored = self.media.store(file, image.folder(), None).await?.media;
        let saved = self.users.set_image(caller.user_id, image, &stored).await;
        let user = match saved {
            Ok(Some(user)) => user,
            // Nothing references the new file: delete it again.
            Ok(None) => {
                self.discard(&stored).await;
                return Err(Error::Unauthorized(INVALID_ACCESS));
            }
            Err(err) => {
                self.discard(&stored).await;
                return Err(err.into());
            }
        };
        if let Some(old) = old {
            self.discard(&old).await;
        }
        Ok(user)
    }

    async fn discard(&self, media: &StoredMedia) {
        super::discard(self.media.as_ref(), media).await
    }

    fn issue_pair(&self, claims: TokenClaims) -> Result<TokenPair, Error> {
        Ok(TokenPair {
            access: self
                .tokens
                .issue(TokenKind::Access, claims, self.policy.access_ttl)
                .map_err(Error::Internal)?,
            refresh: self
                .tokens
                .issue(TokenKind::Refresh, claims, self.policy.refresh_ttl)
                .map_err(Error::Internal)?,
        })
    }

    fn fingerprint(&self, tokens: &TokenPair) -> String {
        use secrecy::ExposeSecret;
        self.tokens
            .fingerprint(tokens.refresh.token.expose_secret())
    }
}
