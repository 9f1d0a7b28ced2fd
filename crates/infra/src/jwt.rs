use std::time::Duration;

use chrono::Utc;
use jsonwebtoken::{
    decode, encode, errors::ErrorKind, Algorithm, DecodingKey, EncodingKey, Header, Validation,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use videotube_domain::ports::{TokenCodec, TokenError};
use videotube_domain::session::{IssuedToken, TokenClaims, TokenKind};
use videotube_domain::BoxError;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    sid: String,
    typ: String,
    /// Unique per token, so two tokens issued in the same second still differ.
    jti: String,
    iat: i64,
    exp: i64,
}

struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl Keys {
    fn new(secret: &SecretString) -> Self {
        let bytes = secret.expose_secret().as_bytes();
        Keys {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
        }
    }
}

/// HS256 tokens. Access and refresh tokens have separate secrets and a `typ` claim, so neither can
/// stand in for the other; only HS256 is accepted, whatever the token's header claims.
pub struct JwtCodec {
    access: Keys,
    refresh: Keys,
    validation: Validation,
}

impl JwtCodec {
    pub fn new(access_secret: &SecretString, refresh_secret: &SecretString) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Self {
            access: Keys::new(access_secret),
            refresh: Keys::new(refresh_secret),
            validation,
        }
    }

    fn keys(&self, kind: TokenKind) -> &Keys {
        match kind {
            TokenKind::Access => &self.access,
            TokenKind::Refresh => &self.refresh,
        }
    }
}

fn typ(kind: TokenKind) -> &'static str {
    match kind {
        TokenKind::Access => "access",
        TokenKind::Refresh => "refresh",
    }
}

impl TokenCodec for JwtCodec {
    fn issue(
        &self,
        kind: TokenKind,
        claims: TokenClaims,
        ttl: Duration,
    ) -> Result<IssuedToken, BoxError> {
        let now = Utc::now();
        let expires_at = now + chrono::Duration::from_std(ttl)?;
        let body = Claims {
            sub: claims.user_id.to_string(),
            sid: claims.session_id.to_string(),
            typ: typ(kind).to_owned(),
            jti: uuid::Uuid::new_v4().simple().to_string(),
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
        };
        let token = encode(
            &Header::new(Algorithm::HS256),
            &body,
            &self.keys(kind).encoding,
        )?;
        Ok(IssuedToken {
            token: token.into(),
            expires_at,
        })
    }

    fn verify(&self, kind: TokenKind, token: &str) -> Result<TokenClaims, TokenError> {
        let data =
            decode::<Claims>(token, &self.keys(kind).decoding, &self.validation).map_err(|e| {
                match e.kind() {
                    ErrorKind::ExpiredSignature => TokenError::Expired,
                    _ => TokenError::Invalid,
                }
            })?;
        let claims = data.claims;
        if claims.typ != typ(kind) {
            return Err(TokenError::Invalid);
        }
        Ok(TokenClaims {
            user_id: claims.sub.parse().map_err(|_| TokenError::Invalid)?,
            session_id: claims.sid.parse().map_err(|_| TokenError::Invalid)?,
        })
    }

    fn fingerprint(&self, token: &str) -> String {
        hex::encode(Sha256::digest(token.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use videotube_domain::Id;

    fn codec() -> JwtCodec {
        JwtCodec::new(&"access-secret".into(), &"refresh-secret".into())
    }

    fn claims() -> TokenClaims {
        TokenClaims {
            user_id: "65a1b2c3d4e5f60718293a4b".parse::<Id>().unwrap(),
            session_id: "65a1b2c3d4e5f60718293a4c".parse::<Id>().unwrap(),
        }
    }

    #[test]
    fn issued_tokens_verify_only_as_their_own_kind() {
        let codec = codec();
        let access = codec
            .issue(TokenKind::Access, claims(), Duration::from_secs(60))
            .unwrap();
        let access = access.token.expose_secret();
        assert_eq!(codec.verify(TokenKind::Access, access).unwrap(), claims());
        assert!(matches!(
            codec.verify(TokenKind::Refresh, access),
            Err(TokenError::Invalid)
        ));
    }

    #[test]
    fn tokens_issued_together_differ() {
        let codec = codec();
        let a = codec
            .issue(TokenKind::Refresh, claims(), Duration::from_secs(60))
            .unwrap();
        let b = codec
            .issue(TokenKind::Refresh, claims(), Duration::from_secs(60))
            .unwrap();
        assert_ne!(a.token.expose_secret(), b.token.expose_secret());
    }

    #[test]
    fn expired_and_foreign_tokens_are_refused() {
        let codec = codec();
        let expired = Claims {
            sub: claims().user_id.to_string(),
            sid: claims().session_id.to_string(),
            typ: "access".into(),
            jti: "x".into(),
            iat: 0,
            exp: Utc::now().timestamp() - 5,
        };
        let token = encode(
            &Header::new(Algorithm::HS256),
            &expired,
            &EncodingKey::from_secret(b"access-secret"),
        )
        .unwrap();
        assert!(matches!(
            codec.verify(TokenKind::Access, &token),
            Err(TokenError::Expired)
        ));

        let mut forged = expired;
        forged.exp = Utc::now().timestamp() + 60;
        let token = encode(
            &Header::new(Algorithm::HS256),
            &forged,
            &EncodingKey::from_secret(b"other"),
        )
        .unwrap();
        assert!(matches!(
            codec.verify(TokenKind::Access, &token),
            Err(TokenError::Invalid)
        ));
        let token = encode(
            &Header::new(Algorithm::HS512),
            &forged,
            &EncodingKey::from_secret(b"access-secret"),
        )
        .unwrap();
        assert!(matches!(
            codec.verify(TokenKind::Access, &token),
            Err(TokenError::Invalid)
        ));
    }
}
