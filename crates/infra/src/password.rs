use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use videotube_domain::ports::PasswordHasher;
use videotube_domain::values::{NewPassword, Password, PasswordHash};
use videotube_domain::BoxError;

pub use bcrypt::BcryptError;

#[derive(Debug, thiserror::Error)]
pub enum HasherError {
    #[error("invalid bcrypt cost")]
    Cost(#[from] BcryptError),
    #[error("could not start the bcrypt threads")]
    Threads(#[from] rayon::ThreadPoolBuildError),
}

/// bcrypt on threads of its own (see `new`), at the lowest CPU priority (SCHED_IDLE on Linux).
/// A hash at cost 10 takes tens of milliseconds of CPU: on an async worker it would stall every
/// request sharing it, and at normal priority a login storm would take the cores from every other
/// route. This way hashing uses the CPU the rest of the server leaves idle; hashes beyond the
/// pool's threads queue.
pub struct BcryptHasher {
    cost: u32,
    dummy: PasswordHash,
    pool: Arc<rayon::ThreadPool>,
}

/// One pool per process: the cores are the process's, however many hashers there are. The first
/// hasher sets its size.
static POOL: Mutex<Option<Arc<rayon::ThreadPool>>> = Mutex::new(None);

fn shared_pool(threads: usize) -> Result<Arc<rayon::ThreadPool>, rayon::ThreadPoolBuildError> {
    let mut pool = POOL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(pool) = pool.as_ref() {
        return Ok(Arc::clone(pool));
    }
    let built = Arc::new(
        rayon::ThreadPoolBuilder::new()
            .num_threads(match threads {
                0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
                n => n,
            })
            .thread_name(|i| format!("bcrypt-{i}"))
            .start_handler(|_| lower_priority())
            .build()?,
    );
    *pool = Some(Arc::clone(&built));
    Ok(built)
}

/// On Linux, scheduling policy is per thread: SCHED_IDLE threads run only on CPU time no other
/// thread wants, so a login storm cannot slow the other routes down. Elsewhere the policy would
/// apply to the whole process, so the threads keep the normal one there.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: `param` is a valid sched_param; pid 0 is the calling thread.
        if unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) } != 0 {
            tracing::warn!(error = %std::io::Error::last_os_error(), "could not lower the bcrypt threads' priority");
        }
    }
}

impl BcryptHasher {
    /// `threads`: how many hashes may run at once; 0 is one per core, so logins run as fast as
    /// the original's (whose bcrypt hashes on libuv's four threads). Fewer threads keep a core
    /// free for the other routes while many users log in, at the price of login throughput: even
    /// at idle priority, hashing on every core raised other requests' p99 latency 15 to 100 times
    /// on the 2-core benchmark machine (README, "Performance").
    pub fn new(cost: u32, threads: usize) -> Result<Self, HasherError> {
        let dummy = PasswordHash::new(bcrypt::hash("videotube dummy password", cost)?);
        Ok(Self {
            cost,
            dummy,
            pool: shared_pool(threads)?,
        })
    }

    async fn on_pool<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, BoxError> {
        let (done, result) = tokio::sync::oneshot::channel();
        let (waiting, running) = (
            metrics::gauge!("password_hashes_waiting"),
            metrics::gauge!("password_hashes_running"),
        );
        waiting.increment(1.0);
        self.pool.spawn(move || {
            waiting.decrement(1.0);
            running.increment(1.0);
            let _ = done.send(work());
            running.decrement(1.0);
        });
        Ok(result.await?)
    }
}

#[async_trait]
impl PasswordHasher for BcryptHasher {
    async fn hash(&self, password: &NewPassword) -> Result<PasswordHash, BoxError> {
        let password = SecretString::from(password.expose());
        let cost = self.cost;
        let hash = self
            .on_pool(move || bcrypt::hash(password.expose_secret(), cost))
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
        let matches = self
            .on_pool(move || bcrypt::verify(password.expose_secret(), &hash))
            .await??;
        Ok(matches && account_exists)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_unknown_accounts_never_match() {
        let hasher = BcryptHasher::new(4, 0).unwrap();
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
