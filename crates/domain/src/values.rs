//! Value types parsed once at the boundary. Each constructor normalises and checks its input;
//! code that holds one of these may trust it.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

use crate::error::FieldError;

macro_rules! string_value {
    ($name:ident) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Rehydrates a value that was parsed before it was stored. Only for adapters reading
            /// their own records back (accounts carried over from the original backend may predate
            /// today's rules, and must still load).
            pub fn from_stored(value: String) -> Self {
                $name(value)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

/// 3 to 30 characters of `[a-z0-9._]`, stored lowercase as the original stores it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);
string_value!(Username);

impl Username {
    pub const FIELD: &'static str = "username";

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim().to_lowercase();
        let len = value.chars().count();
        if !(3..=30).contains(&len) {
            return Err(FieldError::new(
                Self::FIELD,
                "must be 3 to 30 characters long",
            ));
        }
        if !value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'_')
        {
            return Err(FieldError::new(
                Self::FIELD,
                "may contain only letters, digits, '.' and '_'",
            ));
        }
        Ok(Username(value))
    }

    /// A name to look an existing account up by (login, channel pages): trimmed and lowercased
    /// as every stored name is, but otherwise as it was registered. The original accepted names
    /// our registration refuses (`legacy-user`); those accounts still log in by name and keep
    /// their channel page. At most 100 characters, no control characters.
    pub fn existing(raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim().to_lowercase();
        let len = value.chars().count();
        if !(1..=100).contains(&len) || value.chars().any(char::is_control) {
            return Err(FieldError::new(
                Self::FIELD,
                "must be 1 to 100 characters long, without control characters",
            ));
        }
        Ok(Username(value))
    }
}

/// An email address, trimmed and lowercased so that uniqueness ignores case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);
string_value!(Email);

impl Email {
    pub const FIELD: &'static str = "email";

    /// A strict syntax, so that no two addresses look alike: an ASCII local part (a dot-atom, as
    /// RFC 5322 has it) and an ASCII domain; an internationalised domain in its ASCII form
    /// (`xn--...`). Letters from other scripts, fullwidth forms and invisible characters, which
    /// make lookalikes of existing addresses, are refused.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim().to_lowercase();
        let invalid = || {
            FieldError::new(
                Self::FIELD,
                "must be a valid email address, in ASCII (an internationalised domain in its xn-- form)",
            )
        };
        if value.is_empty() || value.len() > 254 || !value.is_ascii() {
            return Err(invalid());
        }
        let (local, domain) = value.split_once('@').ok_or_else(invalid)?;
        let atom = |part: &str, allowed: &dyn Fn(char) -> bool| {
            !part.is_empty()
                && part
                    .split('.')
                    .all(|a| !a.is_empty() && a.chars().all(allowed))
        };
        let local_ok = local.len() <= 64
            && atom(local, &|c| {
                c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~-".contains(c)
            });
        let label_ok = |label: &str| {
            label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        };
        let domain_ok = domain.contains('.')
            && atom(domain, &|c| c.is_ascii_alphanumeric() || c == '-')
            && domain.split('.').all(label_ok);
        if local_ok && domain_ok {
            Ok(Email(value))
        } else {
            Err(invalid())
        }
    }

    /// An address to log in with: checked as `parse` checks, but kept as typed (trimmed). The
    /// original stored addresses as registered, case included, so a login matches either the
    /// address as typed or its lowercase form (every address this server stores).
    pub fn for_login(raw: &str) -> Result<Self, FieldError> {
        Email::parse(raw)?;
        Ok(Email(raw.trim().to_owned()))
    }
}

/// A display name: 1 to 100 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FullName(String);
string_value!(FullName);

impl FullName {
    pub const FIELD: &'static str = "fullName";

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim();
        let len = value.chars().count();
        if !(1..=100).contains(&len) {
            return Err(FieldError::new(
                Self::FIELD,
                "must be 1 to 100 characters long",
            ));
        }
        if value.chars().any(char::is_control) {
            return Err(FieldError::new(
                Self::FIELD,
                "must not contain control characters",
            ));
        }
        if crate::text::is_blank(value) {
            return Err(FieldError::new(
                Self::FIELD,
                "must contain visible characters, not only spaces or invisible ones",
            ));
        }
        Ok(FullName(value.to_owned()))
    }
}

/// A password offered to log in. Accounts carried over from the original backend may have any
/// non-empty password, so only emptiness and absurd lengths are refused here.
pub struct Password(SecretString);

impl Password {
    pub const MAX_BYTES: usize = 1024;

    pub fn parse(raw: String, field: &'static str) -> Result<Self, FieldError> {
        if raw.is_empty() {
            return Err(FieldError::new(field, "is required"));
        }
        if raw.len() > Self::MAX_BYTES {
            return Err(FieldError::new(field, "is too long"));
        }
        Ok(Password(raw.into()))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

/// A password being set: 8 to 72 bytes. bcrypt ignores everything past byte 72, so a longer one
/// is refused rather than silently truncated.
pub struct NewPassword(Password);

impl NewPassword {
    pub const MIN_BYTES: usize = 8;
    pub const MAX_BYTES: usize = 72;

    pub fn parse(raw: String, field: &'static str) -> Result<Self, FieldError> {
        if !(Self::MIN_BYTES..=Self::MAX_BYTES).contains(&raw.len()) {
            return Err(FieldError::new(field, "must be 8 to 72 bytes long"));
        }
        Ok(NewPassword(Password(raw.into())))
    }

    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([REDACTED])")
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword([REDACTED])")
    }
}

/// A stored password hash. Not a secret in the cryptographic sense, but it must never reach a
/// response or a log line, so it has no `Display` and a redacted `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    pub fn new(hash: String) -> Self {
        PasswordHash(hash)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash([REDACTED])")
    }
}

/// How a user names themself at login: the original accepts a username or an email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginId {
    Username(Username),
    Email(Email),
}

impl LoginId {
    /// The key login throttling counts attempts under: whatever the case it was typed in.
    pub fn key(&self) -> String {
        match self {
            LoginId::Username(u) => u.as_str().to_owned(),
            LoginId::Email(e) => e.as_str().to_ascii_lowercase(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn username_is_trimmed_lowercased_and_limited() {
        assert_eq!(Username::parse("  Alice_01 ").unwrap().as_str(), "alice_01");
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse(&"a".repeat(31)).is_err());
        assert!(Username::parse("a".repeat(30).as_str()).is_ok());
        for bad in ["al ice", "al-ice", "al$ice", "ålice", "{\"$gt\":\"\"}"] {
            assert!(Username::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn email_is_trimmed_and_lowercased() {
        assert_eq!(
            Email::parse(" Bob@Example.COM ").unwrap().as_str(),
            "bob@example.com"
        );
        for bad in [
            "",
            "bob",
            "bob@",
            "@x.io",
            "bob@x",
            "b ob@x.io",
            "a@b@c.io",
            "bob@x..io",
            "bob@.x.io",
            // Lookalikes: Cyrillic letters, a zero-width joiner, fullwidth forms, an IDN in
            // Unicode form.
            "b\u{043E}b@example.com",
            "bob@ex\u{0430}mple.com",
            "bo\u{200D}b@example.com",
            "\u{FF42}ob@example.com",
            "bob@b\u{00FC}cher.de",
            ".bob@x.io",
            "bob.@x.io",
            "bob@-x.io",
            "bob@x_y.io",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        for good in [
            "o'neil+tag@example.com",
            "bob@xn--bcher-kva.de",
            "a.b@sub.x-y.io",
        ] {
            assert!(Email::parse(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn full_name_is_trimmed_and_limited() {
        assert_eq!(FullName::parse("  Ada L. ").unwrap().as_str(), "Ada L.");
        assert!(FullName::parse("   ").is_err());
        assert!(FullName::parse("\u{200B}\u{200B}\u{200B}").is_err());
        assert!(FullName::parse(&"x".repeat(101)).is_err());
        assert!(FullName::parse("é".repeat(100).as_str()).is_ok());
        assert!(FullName::parse("a\u{0}b").is_err());
    }

    #[test]
    fn new_password_counts_bytes_not_characters() {
        assert!(NewPassword::parse("1234567".into(), "password").is_err());
        assert!(NewPassword::parse("12345678".into(), "password").is_ok());
        assert!(NewPassword::parse("x".repeat(72), "password").is_ok());
        assert!(NewPassword::parse("x".repeat(73), "password").is_err());
        // 24 three-byte characters are 72 bytes; 25 are 75 and would be truncated by bcrypt.
        assert!(NewPassword::parse("€".repeat(24), "password").is_ok());
        assert!(NewPassword::parse("€".repeat(25), "password").is_err());
    }

    #[test]
    fn login_password_accepts_short_legacy_passwords_but_not_empty() {
        assert!(Password::parse("abc".into(), "password").is_ok());
        assert!(Password::parse(String::new(), "password").is_err());
        assert!(Password::parse("x".repeat(1025), "password").is_err());
    }

    #[test]
    fn secrets_do_not_leak_through_debug() {
        let p = NewPassword::parse("hunter2hunter2".into(), "password").unwrap();
        assert!(!format!("{p:?}").contains("hunter2"));
        let h = PasswordHash::new("$2b$10$abc".into());
        assert!(!format!("{h:?}").contains("$2b$"));
    }
}
