use std::fmt;
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
    /// A validation failure. Its message names the fields, because many front ends show
    /// `message` alone: "fullName is required", "fullName and email are required; username must
    /// be ...". `errors` keeps one entry per field.
    pub fn invalid(errors: Vec<FieldError>) -> Self {
        Error::Validation {
            message: summary(&errors),
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

/// The errors as one sentence: fields with the same message named together, in order.
fn summary(errors: &[FieldError]) -> String {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for error in errors {
        match groups
            .iter_mut()
            .find(|(message, _)| *message == error.message)
        {
            Some((_, fields)) if fields.contains(&error.field) => {}
            Some((_, fields)) => fields.push(error.field),
            None => groups.push((&error.message, vec![error.field])),
        }
    }
    if groups.is_empty() {
        return "Validation failed".into();
    }
    groups
        .iter()
        .map(|(message, fields)| {
            let names = match fields.split_last() {
                Some((last, [])) => (*last).to_owned(),
                Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
                None => String::new(),
            };
            // "is required" reads after the names; "you cannot ..." reads after a colon.
            let predicate = ["is ", "must ", "may ", "cannot ", "has "]
                .iter()
                .any(|verb| message.starts_with(verb));
            match message.strip_prefix("is ") {
                Some(rest) if fields.len() > 1 => format!("{names} are {rest}"),
                _ if predicate => format!("{names} {message}"),
                _ => format!("{names}: {message}"),
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// `message: cause: cause's cause ...`, for logs and operators.
pub struct CauseChain<'a>(pub &'a (dyn std::error::Error + 'static));

impl fmt::Display for CauseChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

/// The innermost cause of `err`: what actually went wrong, without the layers that carried it.
pub fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut innermost = err;
    while let Some(cause) = innermost.source() {
        innermost = cause;
    }
    innermost.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(errors: &[(&'static str, &str)]) -> String {
        let errors = errors
            .iter()
            .map(|(field, message)| FieldError::new(field, *message))
            .collect();
        match Error::invalid(errors) {
            Error::Validation { message, .. } => message,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn validation_messages_name_their_fields() {
        assert_eq!(
            message(&[("fullName", "is required")]),
            "fullName is required"
        );
        assert_eq!(
            message(&[("fullName", "is required"), ("email", "is required")]),
            "fullName and email are required"
        );
        assert_eq!(
            message(&[
                ("fullName", "is required"),
                ("username", "must be 3 to 30 characters"),
                ("email", "is required"),
                ("password", "is required"),
            ]),
            "fullName, email and password are required; username must be 3 to 30 characters"
        );
        assert_eq!(
            message(&[("channelId", "you cannot subscribe to your own channel")]),
            "channelId: you cannot subscribe to your own channel"
        );
        assert_eq!(message(&[]), "Validation failed");
    }
}
