use chrono::{DateTime, Utc};

use crate::error::FieldError;
use crate::id::Id;

/// Which page of a list, parsed from `page` and `limit` (defaults 1 and 10; `limit` at most 100).
/// Pages reach the first `MAX_DEPTH` items of a list: a deeper page would make the database walk
/// past every item before it (`skip`), however good the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    page: u32,
    limit: u32,
}

impl PageRequest {
    pub const DEFAULT_LIMIT: u32 = 10;
    pub const MAX_LIMIT: u32 = 100;
    pub const MAX_DEPTH: u64 = 10_000;

    pub fn parse(page: Option<&str>, limit: Option<&str>) -> Result<Self, Vec<FieldError>> {
        Self::parse_or(page, limit, Self::DEFAULT_LIMIT)
    }

    /// As `parse`, with `default_limit` when `limit` is absent.
    pub fn parse_or(
        page: Option<&str>,
        limit: Option<&str>,
        default_limit: u32,
    ) -> Result<Self, Vec<FieldError>> {
        let number = |raw: Option<&str>, field: &'static str, default: u32, max: u32| match raw {
            None => Ok(default),
            Some(raw) => match raw.trim().parse::<u32>() {
                Ok(n) if (1..=max).contains(&n) => Ok(n),
                _ => Err(FieldError::new(
                    field,
                    format!("must be a whole number from 1 to {max}"),
                )),
            },
        };
        let page = number(page, "page", 1, Self::MAX_DEPTH as u32);
        let limit = number(limit, "limit", default_limit, Self::MAX_LIMIT);
        match (page, limit) {
            (Ok(page), Ok(limit)) if u64::from(page) * u64::from(limit) > Self::MAX_DEPTH => {
                let deepest = Self::MAX_DEPTH / u64::from(limit);
                Err(vec![FieldError::new(
                    "page",
                    format!(
                        "must be at most {deepest} with limit {limit}: lists are paged through their first {} items",
                        Self::MAX_DEPTH
                    ),
                )])
            }
            (Ok(page), Ok(limit)) => Ok(PageRequest { page, limit }),
            (page, limit) => Err([page.err(), limit.err()].into_iter().flatten().collect()),
        }
    }

    pub fn page(self) -> u32 {
        self.page
    }

    pub fn limit(self) -> u32 {
        self.limit
    }

    /// How many items come before this page.
    pub fn skip(self) -> u64 {
        u64::from(self.page - 1) * u64::from(self.limit)
    }

    /// The same limit on another page, when that page is within `MAX_DEPTH`.
    pub fn at(self, page: u32) -> Option<Self> {
        (page >= 1 && u64::from(page) * u64::from(self.limit) <= Self::MAX_DEPTH)
            .then_some(PageRequest { page, ..self })
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest {
            page: 1,
            limit: Self::DEFAULT_LIMIT,
        }
    }
}

/// One page of a list and the size of the whole list.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub request: PageRequest,
    /// Where the list goes on when this page was full (more may follow): the position of the
    /// last item read, which may be one the service then left out (a hidden video, say).
    pub next: Option<Cursor>,
}

impl<T> Page<T> {
    pub fn total_pages(&self) -> u64 {
        self.total.div_ceil(u64::from(self.request.limit())).max(1)
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
            request: self.request,
            next: self.next,
        }
    }
}

/// Where a keyset page starts: after the item with this sort value and id, in the list's order.
/// Unlike `page`, it costs the same however deep it goes, and items added or removed meanwhile do
/// not shift it. Clients get it as `nextCursor` and hand it back as `cursor`; its form is opaque.
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    pub after: SortValue,
    pub id: Id,
}

/// The sort field's value of the item a cursor points after.
#[derive(Debug, Clone, PartialEq)]
pub enum SortValue {
    Time(DateTime<Utc>),
    Number(f64),
    Text(String),
}

impl Cursor {
    pub const FIELD: &'static str = "cursor";

    /// Hex of `<kind><value>~<id>`: opaque to clients, and nothing in it needs escaping in a URL.
    pub fn encode(&self) -> String {
        let value = match &self.after {
            SortValue::Time(at) => format!("t{}", at.timestamp_millis()),
            SortValue::Number(n) => format!("n{n}"),
            SortValue::Text(text) => format!("s{text}"),
        };
        format!("{value}~{}", self.id)
            .bytes()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let invalid = || FieldError::new(Self::FIELD, "is not a cursor this server gave out");
        let bytes = (0..raw.len())
            .step_by(2)
            .map(|i| {
                raw.get(i..i + 2)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            })
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(invalid)?;
        let text = String::from_utf8(bytes).map_err(|_| invalid())?;
        let (value, id) = text.rsplit_once('~').ok_or_else(invalid)?;
        let id = id.parse().map_err(|_| invalid())?;
        let after = match value.split_at_checked(1) {
            Some(("t", millis)) => millis
                .parse()
                .ok()
                .and_then(DateTime::from_timestamp_millis)
                .map(SortValue::Time),
            Some(("n", number)) => number
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .map(SortValue::Number),
            Some(("s", text)) => Some(SortValue::Text(text.to_owned())),
            _ => None,
        }
        .ok_or_else(invalid)?;
        Ok(Cursor { after, id })
    }
}

impl PageRequest {
    /// `page` and `limit`, or `cursor` and `limit`: a cursor starts where it points, so with one
    /// the page is the first (another `page` is a 400).
    pub fn parse_keyset(
        page: Option<&str>,
        limit: Option<&str>,
        cursor: Option<&str>,
        default_limit: u32,
    ) -> Result<(Self, Option<Cursor>), Vec<FieldError>> {
        let Some(cursor) = cursor else {
            return Self::parse_or(page, limit, default_limit).map(|request| (request, None));
        };
        let mut errors = Vec::new();
        if page.is_some_and(|p| p.trim() != "1") {
            errors.push(FieldError::new("page", "cannot be given with a cursor"));
        }
        let request = Self::parse_or(None, limit, default_limit)
            .map_err(|e| errors.extend(e))
            .ok();
        let cursor = Cursor::parse(cursor).map_err(|e| errors.push(e)).ok();
        match (request, cursor) {
            (Some(request), Some(cursor)) if errors.is_empty() => Ok((request, Some(cursor))),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_bounds() {
        assert_eq!(
            PageRequest::parse(None, None).unwrap(),
            PageRequest::default()
        );
        let request = PageRequest::parse(Some("3"), Some("20")).unwrap();
        assert_eq!(
            (request.page(), request.limit(), request.skip()),
            (3, 20, 40)
        );
        for bad in ["0", "-1", "abc", "101", "1.5", ""] {
            let errors = PageRequest::parse(Some("1"), Some(bad)).unwrap_err();
            assert_eq!(errors[0].field, "limit", "{bad}");
        }
        let errors = PageRequest::parse(Some("x"), Some("0")).unwrap_err();
        assert_eq!(errors.len(), 2);
        assert!(PageRequest::parse(Some("100"), Some("100")).is_ok());
        assert!(PageRequest::parse(Some("1000"), None).is_ok());
        for (page, limit) in [("101", "100"), ("1001", "10"), ("4294967295", "100")] {
            let errors = PageRequest::parse(Some(page), Some(limit)).unwrap_err();
            assert_eq!(errors[0].field, "page", "{page} {limit}");
        }
    }

    #[test]
    fn cursors_round_trip_and_refuse_anything_else() {
        let id: Id = "0123456789abcdef01234567".parse().unwrap();
        for after in [
            SortValue::Time(DateTime::from_timestamp_millis(1_700_000_000_123).unwrap()),
            SortValue::Number(42.5),
            SortValue::Text("A title ~ with tildes".into()),
        ] {
            let cursor = Cursor { after, id };
            let encoded = cursor.encode();
            assert!(encoded.bytes().all(|b| b.is_ascii_hexdigit()), "{encoded}");
            assert_eq!(Cursor::parse(&encoded).unwrap(), cursor);
        }
        let hex = |s: &str| s.bytes().map(|b| format!("{b:02x}")).collect::<String>();
        for bad in [
            "".to_owned(),
            "zz".into(),
            "abc".into(),
            hex("t12~nope"),
            hex("x12~0123456789abcdef01234567"),
            hex("nNaN~0123456789abcdef01234567"),
            hex("t99999999999999999999~0123456789abcdef01234567"),
        ] {
            assert!(Cursor::parse(&bad).is_err(), "{bad}");
        }
        let encoded = Cursor {
            after: SortValue::Number(1.0),
            id,
        }
        .encode();
        let (request, cursor) =
            PageRequest::parse_keyset(None, Some("5"), Some(&encoded), 10).unwrap();
        assert_eq!(
            (request.page(), request.limit(), cursor.is_some()),
            (1, 5, true)
        );
        let errors = PageRequest::parse_keyset(Some("2"), None, Some(&encoded), 10).unwrap_err();
        assert_eq!(errors[0].field, "page");
        let errors = PageRequest::parse_keyset(None, None, Some("zz"), 10).unwrap_err();
        assert_eq!(errors[0].field, "cursor");
    }

    #[test]
    fn a_default_limit_of_the_lists_choosing_and_other_pages_within_the_depth() {
        let request = PageRequest::parse_or(None, None, 100).unwrap();
        assert_eq!((request.page(), request.limit()), (1, 100));
        assert_eq!(
            PageRequest::parse_or(None, Some("7"), 100).unwrap().limit(),
            7
        );
        let (request, cursor) = PageRequest::parse_keyset(None, None, None, 100).unwrap();
        assert_eq!((request.limit(), cursor), (100, None));
        assert_eq!(request.at(100).map(PageRequest::page), Some(100));
        assert_eq!(request.at(101), None, "past 10,000 items");
        assert_eq!(request.at(0), None);
    }

    #[test]
    fn counts_pages() {
        let page = |total| Page::<()> {
            items: vec![],
            total,
            request: PageRequest::parse(Some("1"), Some("10")).unwrap(),
            next: None,
        };
        assert_eq!(page(0).total_pages(), 1);
        assert_eq!(page(10).total_pages(), 1);
        assert_eq!(page(11).total_pages(), 2);
    }
}
