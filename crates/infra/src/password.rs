use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use videotube_domain::ports::PasswordHasher;
use videotube_domain::values::{NewPassword, Password, PasswordHash};
use videotube_domain::BoxError;

pub use bcrypt::BcryptError;

/// bcrypt, run on tokio's blocking pool: one hash at cost 10 takes tens of milliseconds, which
/// would stall every other request sharing an async worker.
pub struct BcryptHasher {
    cost: u32,
    dummy: PasswordHash,
}

impl BcryptHasher {
    pub fn new(cost: u32) -> Result<Self, bcrypt::BcryptError> {
        let dummy = PasswordHash::new(bcrypt::hash("videotube dummy password", cost)?);
        Ok(Self { cost, dummy })
    }
}

#[async_trait]
impl PasswordHasher for BcryptHasher {
    async fn hash(&self, password: &NewPassword) -> Result<PasswordHash, BoxError> {
        let password = SecretString::from(password.expose());
        let cost = self.cost;
        let hash =
            tokio::task::spawn_blocking(move || bcrypt::hash(password.expose_secret(), cost))
                .await??;
        Ok(PasswordHash::new(hash))
    }

    async fn verify(
        &self,
        password: &Password,
        hash: Option<&PasswordHash>,
    ) -> Result<bool, BoxError> {
        let password = SecretString::from(password.expose());
        let account_exists = hash.is_some();
        let hash = hash.unwrap_or(&self.dummy).expose().to_owned();
        let matches =
            tokio::task::spawn_blocking(move || bcrypt::verify(password.expose_secret(), &hash))
                .await??;
        Ok(matches && account_exists)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_unknown_accounts_never_match() {
        let hasher = BcryptHasher::new(4).unwrap();
        let new = NewPassword::parse("correct horse".into(), "password").unwrap();
        let hash = hasher.hash(&new).await.unwrap();
        assert!(hash.expose().starts_with("$2b$04$"));
        let right = Password::parse("correct horse".into(), "password").unwrap();
        let wrong = Password::parse("wrong horse".into(), "password").unwrap();
        assert!(hasher.verify(&right, Some(&hash)).await.unwrap());
        assert!(!hasher.verify(&wrong, Some(&hash)).await.unwrap());
        let dummy_password =
            Password::parse("videotube dummy password".into(), "password").unwrap();
        assert!(!hasher.verify(&dummy_password, None).await.unwrap());
    }
}
