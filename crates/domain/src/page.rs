use crate::error::FieldError;

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
        let limit = number(limit, "limit", Self::DEFAULT_LIMIT, Self::MAX_LIMIT);
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
    fn counts_pages() {
        let page = |total| Page::<()> {
            items: vec![],
            total,
            request: PageRequest::parse(Some("1"), Some("10")).unwrap(),
        };
        assert_eq!(page(0).total_pages(), 1);
        assert_eq!(page(10).total_pages(), 1);
        assert_eq!(page(11).total_pages(), 2);
    }
}
