use std::ops::RangeInclusive;

use crate::error::FieldError;

/// User-written text: trimmed, its length in characters within `allowed`, and free of control
/// characters other than line breaks and tabs.
pub(crate) fn bounded(
    raw: &str,
    field: &'static str,
    allowed: RangeInclusive<usize>,
) -> Result<String, FieldError> {
    let value = raw.trim();
    if !allowed.contains(&value.chars().count()) {
        let (min, max) = (allowed.start(), allowed.end());
        let message = if *min == 0 {
            format!("must be at most {max} characters long")
        } else {
            format!("must be {min} to {max} characters long")
        };
        return Err(FieldError::new(field, message));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_counts_characters_and_refuses_control_characters() {
        assert_eq!(bounded("  hi ", "f", 1..=2).unwrap(), "hi");
        assert!(bounded("   ", "f", 1..=2).is_err());
        assert_eq!(bounded("   ", "f", 0..=2).unwrap(), "");
        assert!(bounded(&"é".repeat(3), "f", 1..=3).is_ok());
        assert!(bounded(&"é".repeat(4), "f", 1..=3).is_err());
        assert!(bounded("a\u{0}b", "f", 1..=3).is_err());
        assert!(bounded("a\nb", "f", 1..=3).is_ok());
    }
}
