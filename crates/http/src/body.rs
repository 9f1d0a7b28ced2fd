//! Request bodies as typed structs, one per body, each deriving both its parser (serde) and its
//! OpenAPI schema (utoipa), so the description cannot drift from what is read. Every field is
//! read leniently ([`Field`]: absent, given, or malformed), so that no body fails as a whole:
//! a `TryFrom` into the domain's parsed types then reports every field's problem by name, and an
//! operator object such as `{"$gt": ""}` where text belongs is a 400 naming its field, never a
//! query. Multipart forms read their text fields the same way (see `upload`).

use std::future::Future;
use std::pin::Pin;

use actix_web::{web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};
use videotube_domain::FieldError;

use crate::api::ApiError;

/// A field as sent. Deserializing one never fails: a missing field or `null` is `Absent` (so
/// the struct holding it needs no `#[serde(default)]`, which would make the schema call the
/// field optional), and a value that is not a `T` is `Malformed`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Field<T> {
    #[default]
    Absent,
    Given(T),
    Malformed,
}

/// A text field; `Malformed` when it is anything but a string.
pub type Text = Field<String>;

impl<'de, T: DeserializeOwned> Deserialize<'de> for Field<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Through `Option`, a missing field is `None` instead of a "missing field" error.
        Ok(match Option::<Value>::deserialize(deserializer)? {
            None | Some(Value::Null) => Field::Absent,
            Some(value) => serde_json::from_value(value).map_or(Field::Malformed, Field::Given),
        })
    }
}

impl<T> Field<T> {
    /// Whether the field was sent at all, even with a value that is refused.
    pub fn is_sent(&self) -> bool {
        !matches!(self, Field::Absent)
    }
}

/// Why a body was refused: every problem found, each against its field.
#[derive(Debug, Default)]
pub struct Invalid(pub Vec<FieldError>);

impl From<Invalid> for ApiError {
    fn from(invalid: Invalid) -> Self {
        ApiError::bad_request(invalid.0)
    }
}

impl From<FieldError> for Invalid {
    fn from(error: FieldError) -> Self {
        Invalid(vec![error])
    }
}

/// The problems found while parsing a body: every field is looked at before any is refused.
#[derive(Debug, Default, Clone)]
pub struct Problems(Vec<FieldError>);

impl Problems {
    /// The field parsed; a problem when it is absent, not text, or refused by `parse`.
    pub fn required<T>(
        &mut self,
        name: &'static str,
        text: &Text,
        parse: impl FnOnce(String) -> Result<T, FieldError>,
    ) -> Option<T> {
        if !text.is_sent() {
            self.add(FieldError::new(name, "is required"));
        }
        self.optional(name, text, parse)
    }

    /// The field parsed when it was sent; a problem when it is not text or refused by `parse`.
    pub fn optional<T>(
        &mut self,
        name: &'static str,
        text: &Text,
        parse: impl FnOnce(String) -> Result<T, FieldError>,
    ) -> Option<T> {
        match text {
            Field::Absent => None,
            Field::Malformed => {
                self.add(FieldError::new(name, "must be a string"));
                None
            }
            Field::Given(text) => parse(text.clone()).map_err(|e| self.add(e)).ok(),
        }
    }

    pub fn add(&mut self, error: FieldError) {
        self.0.push(error);
    }

    /// `parsed` when nothing was wrong, else every problem. (`parsed` is `None` only when some
    /// field was refused; were a parser to forget to say why, the body is refused all the same.)
    pub fn finish<T>(self, parsed: Option<T>) -> Result<T, Invalid> {
        match parsed {
            Some(parsed) if self.0.is_empty() => Ok(parsed),
            _ => Err(Invalid(self.0)),
        }
    }
}

/// A typed body from a JSON object (or from a multipart form's text fields).
pub fn from_object<T: DeserializeOwned>(object: Map<String, Value>) -> Result<T, ApiError> {
    // Every field being lenient, only a body type that is not can fail here.
    serde_json::from_value(Value::Object(object)).map_err(|err| {
        ApiError::new(
            actix_web::http::StatusCode::BAD_REQUEST,
            format!("Malformed body: {err}"),
        )
    })
}

/// A JSON body read into `T`: it must be an object (an array is not taken as fields in order, as
/// serde would), with the size limit and errors of `web::Json`.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let object = web::Json::<Map<String, Value>>::from_request(req, payload);
        Box::pin(async move {
            let object = object.await?.into_inner();
            Ok(Json(from_object(object)?))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Body {
        username: Text,
        email: Text,
        password: Text,
        full_name: Text,
        cover_image: Text,
    }

    #[test]
    fn every_problem_is_collected_by_field() {
        let body: Body = from_object(
            json!({ "username": { "$gt": "" }, "email": 5, "fullName": "Ada", "coverImage": null })
                .as_object()
                .unwrap()
                .clone(),
        )
        .unwrap();
        assert_eq!(body.cover_image, Field::Absent);
        let mut problems = Problems::default();
        let ok = |s: String| Ok::<_, FieldError>(s);
        assert_eq!(problems.required("username", &body.username, ok), None);
        assert_eq!(problems.required("email", &body.email, ok), None);
        assert_eq!(problems.required("password", &body.password, ok), None);
        assert_eq!(
            problems
                .required("fullName", &body.full_name, ok)
                .as_deref(),
            Some("Ada")
        );
        assert_eq!(problems.optional("coverImage", &body.cover_image, ok), None);
        let found: Vec<_> = problems
            .0
            .iter()
            .map(|e| (e.field, e.message.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                ("username", "must be a string"),
                ("email", "must be a string"),
                ("password", "is required")
            ]
        );
        assert!(problems.finish(Some(())).is_err());
    }

    #[test]
    fn a_body_with_nothing_wrong_is_parsed_and_a_silent_refusal_is_still_a_refusal() {
        assert_eq!(Problems::default().finish(Some(7)).unwrap(), 7);
        assert!(Problems::default().finish(None::<u8>).is_err());
    }
}
