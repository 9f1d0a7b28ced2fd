use std::fmt;
use std::str::FromStr;

/// A 12-byte identifier, written as 24 hexadecimal digits (the ObjectId format, which the
/// original API exposes as `_id`). Parsing is the only way in from outside, so a malformed id
/// never reaches a repository.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id([u8; 12]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be a 24-character hexadecimal id")]
pub struct InvalidId;

impl Id {
    pub const fn from_bytes(bytes: [u8; 12]) -> Self {
        Id(bytes)
    }

    pub const fn bytes(&self) -> [u8; 12] {
        self.0
    }
}

impl FromStr for Id {
    type Err = InvalidId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.as_bytes();
        if s.len() != 24 {
            return Err(InvalidId);
        }
        let mut bytes = [0u8; 12];
        for (i, pair) in s.chunks_exact(2).enumerate() {
            bytes[i] = (hex_digit(pair[0])? << 4) | hex_digit(pair[1])?;
        }
        Ok(Id(bytes))
    }
}

fn hex_digit(c: u8) -> Result<u8, InvalidId> {
    match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        b'A'..=b'F' => Ok(c - b'A' + 10),
        _ => Err(InvalidId),
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({self})")
    }
}

impl serde::Serialize for Id {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_hex() {
        let id: Id = "65A1b2c3d4e5f60718293a4b".parse().unwrap();
        assert_eq!(id.to_string(), "65a1b2c3d4e5f60718293a4b");
    }

    #[test]
    fn rejects_wrong_length_and_non_hex() {
        for bad in [
            "",
            "123",
            "65a1b2c3d4e5f60718293a4",
            "65a1b2c3d4e5f60718293a4bc",
            "zz a1b2c3d4e5f60718293a4b",
        ] {
            assert_eq!(bad.parse::<Id>(), Err(InvalidId), "{bad:?}");
        }
        assert!("65a1b2c3d4e5f60718293a4g".parse::<Id>().is_err());
    }
}
