use std::ops::RangeInclusive;

use crate::error::FieldError;

/// Characters that show nothing: zero-width spaces and joiners, bidi controls, word joiners and
/// invisible operators, fillers, variation selectors, tags, the byte-order mark. Text made of
/// them and whitespace alone looks empty, and they make lookalikes of names.
pub(crate) fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{2800}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}'
        | '\u{FEFF}' | '\u{FFA0}' | '\u{1D173}'..='\u{1D17A}' | '\u{E0000}'..='\u{E0FFF}')
}

/// Whether `text` shows nothing: only whitespace and invisible characters.
pub(crate) fn is_blank(text: &str) -> bool {
    text.chars().all(|c| c.is_whitespace() || is_invisible(c))
}

/// User-written text: trimmed, its length in characters within `allowed`, free of control
/// characters other than line breaks and tabs, and, when it may not be empty, showing something
/// (not only invisible characters).
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
    if *allowed.start() > 0 && is_blank(value) {
        return Err(FieldError::new(
            field,
            "must contain visible characters, not only spaces or invisible ones",
        ));
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

    #[test]
    fn text_of_only_invisible_characters_is_empty() {
        for blank in [
            "\u{200B}\u{200B}",
            "\u{200D} \u{FEFF}",
            "\u{202E}\u{2066}",
            "\u{3164}",
            "\u{E0041}",
        ] {
            assert!(bounded(blank, "f", 1..=10).is_err(), "{blank:?}");
        }
        assert!(bounded("\u{200B}", "f", 0..=10).is_ok(), "may be empty");
        assert!(
            bounded("a\u{200D}b", "f", 1..=10).is_ok(),
            "joiners inside text stay"
        );
    }
}
