//! Reading request fields one by one, so that each problem is reported against its field and
//! nothing but a string is ever taken where a string belongs (an operator object such as
//! `{"$gt": ""}` is a 400, never a query).

use serde_json::{Map, Value};
use videotube_domain::FieldError;

use crate::api::ApiError;

pub struct Fields {
    values: Map<String, Value>,
    errors: Vec<FieldError>,
}

impl Fields {
    pub fn new(values: Map<String, Value>) -> Self {
        Self {
            values,
            errors: Vec::new(),
        }
    }

    /// The field's text: `None` when absent or null; an error when it is not a string.
    fn text(&mut self, name: &'static str) -> Option<String> {
        match self.values.get(name) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                self.errors.push(FieldError::new(name, "must be a string"));
                None
            }
        }
    }

    pub fn required<T>(
        &mut self,
        name: &'static str,
        parse: impl FnOnce(String) -> Result<T, FieldError>,
    ) -> Option<T> {
        match self.text(name) {
            Some(text) => self.parsed(parse(text)),
            None if self.errors.iter().any(|e| e.field == name) => None,
            None => {
                self.errors.push(FieldError::new(name, "is required"));
                None
            }
        }
    }

    pub fn optional<T>(
        &mut self,
        name: &'static str,
        parse: impl FnOnce(String) -> Result<T, FieldError>,
    ) -> Option<T> {
        let text = self.text(name)?;
        self.parsed(parse(text))
    }

    /// Whether the field is present at all, whatever its value.
    pub fn has(&self, name: &str) -> bool {
        self.values.get(name).is_some_and(|v| !v.is_null())
    }

    pub fn problem(&mut self, error: FieldError) {
        self.errors.push(error);
    }

    fn parsed<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        result.map_err(|e| self.errors.push(e)).ok()
    }

    /// A body whose only field is `name`: its parsed value, or a 400 naming the field.
    pub fn single<T>(
        values: Map<String, Value>,
        name: &'static str,
        parse: impl FnOnce(String) -> Result<T, FieldError>,
    ) -> Result<T, ApiError> {
        let mut fields = Fields::new(values);
        let value = fields.required(name, parse);
        fields.finish()?;
        Ok(value.expect("finish fails when a required field is missing"))
    }

    /// Fails with every problem found, or hands back nothing when there were none.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::bad_request(self.errors))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(value: Value) -> Fields {
        Fields::new(value.as_object().unwrap().clone())
    }

    #[test]
    fn collects_every_problem_by_field() {
        let mut f = fields(json!({ "username": { "$gt": "" }, "email": 5, "fullName": "Ada" }));
        let ok = |s: String| Ok::<_, FieldError>(s);
        assert_eq!(f.required("username", ok), None);
        assert_eq!(f.required("email", ok), None);
        assert_eq!(f.required("password", ok), None);
        assert_eq!(f.required("fullName", ok).as_deref(), Some("Ada"));
        assert_eq!(f.optional("coverImage", ok), None);
        let problems: Vec<_> = f
            .errors
            .iter()
            .map(|e| (e.field, e.message.as_str()))
            .collect();
        assert_eq!(
            problems,
            [
                ("username", "must be a string"),
                ("email", "must be a string"),
                ("password", "is required")
            ]
        );
    }
}
