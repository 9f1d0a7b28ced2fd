use std::time::Duration;

/// An error from an adapter, kept as a trait object so the domain names no driver.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// One problem with one input field, reported to clients as `{"field", "message"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Which unique value a write collided with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UniqueField {
    Username,
    Email,
    /// The store did not say which index; callers report a generic conflict.
    Unknown,
}

/// Failures of a repository, translated from the driver by the adapter.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error("duplicate key on {0:?}")]
    Duplicate(UniqueField),
    #[error("database unavailable")]
    Unavailable(#[source] BoxError),
    #[error("database operation failed")]
    Other(#[source] BoxError),
}

/// The error taxonomy every service returns. The HTTP layer maps each variant to a status;
/// `Unavailable` and `Internal` keep their cause for the log and show clients nothing of it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{message}")]
    Validation {
        message: String,
        errors: Vec<FieldError>,
    },
    #[error("{message}")]
    Conflict {
        message: String,
        errors: Vec<FieldError>,
    },
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0}")]
    NotFound(&'static str),
    #[error("too many attempts, retry in {} s", retry_after.as_secs())]
    TooManyRequests { retry_after: Duration },
    #[error("a dependency is unavailable")]
    Unavailable(#[source] BoxError),
    #[error("internal error")]
    Internal(#[source] BoxError),
}

impl Error {
    pub fn invalid(errors: Vec<FieldError>) -> Self {
        Error::Validation {
            message: "Validation failed".into(),
            errors,
        }
    }

    pub fn internal(cause: impl Into<BoxError>) -> Self {
        Error::Internal(cause.into())
    }
}

impl From<RepoError> for Error {
    fn from(err: RepoError) -> Self {
        match err {
            RepoError::Duplicate(field) => duplicate_conflict(field),
            RepoError::Unavailable(cause) => Error::Unavailable(cause),
            RepoError::Other(cause) => Error::Internal(cause),
        }
    }
}

fn duplicate_conflict(field: UniqueField) -> Error {
    let (message, errors) = match field {
        UniqueField::Username => (
            "Username is already taken",
            vec![FieldError::new("username", "is already taken")],
        ),
        UniqueField::Email => (
            "Email is already registered",
            vec![FieldError::new("email", "is already registered")],
        ),
        UniqueField::Unknown => ("User with email or username already exists", Vec::new()),
    };
    Error::Conflict {
        message: message.into(),
        errors,
    }
}
