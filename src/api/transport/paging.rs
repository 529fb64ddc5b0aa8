//! Page-number paging (`page` / `page_size` / `page_info`), yielded lazily as an async stream
//! so callers can write each page before the next one is fetched — and checked, because a
//! server's `page_info` is a claim, not a fact: every answer must be the page asked for, no
//! page may repeat an earlier one, paging stops at the first empty page whatever `total_page`
//! says, and the items received must add up to `total_number`.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use futures_util::Stream;
use futures_util::stream;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use super::client::{ApiResponse, Client, Reported, Request};
use super::error::ApiError;
use super::query::Query;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PageInfo {
    #[serde(default)]
    pub page: u64,
    #[serde(default)]
    pub page_size: u64,
    #[serde(default)]
    pub total_number: u64,
    #[serde(default)]
    pub total_page: u64,
}

#[derive(Debug)]
pub struct Page<T> {
    pub list: Vec<T>,
    pub page_info: PageInfo,
}

impl<T> Reported for Page<T> {
    fn summary(&self) -> String {
        format!(
            "page {}/{} items {} total {}",
            self.page_info.page,
            self.page_info.total_page,
            self.list.len(),
            self.page_info.total_number
        )
    }
}

/// What one stream of pages has seen so far, to judge the next page and the whole.
#[derive(Debug, Default)]
pub struct PageCheck {
    /// `total_number` of the first page.
    announced: Option<u64>,
    received: u64,
    /// Fingerprint of each non-empty page → its page number.
    seen: HashMap<u64, u64>,
}

/// Whether more pages follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    More,
    Done,
}

/// Items that do not add up to what the first page announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shortfall {
    pub announced: u64,
    pub received: u64,
}

impl Shortfall {
    /// What it means, said `when` (empty, or " when ..." to say when it happened).
    pub fn reason(&self, when: &str) -> String {
        format!(
            "TikTok announced {} rows but sent {}{when}: the data is incomplete",
            self.announced, self.received
        )
    }
}

impl PageCheck {
    /// Accepts the answer to a request for page `requested` if it is that page, announces the
    /// same total as the first page, and repeats no page seen before. Called as the answer is
    /// decoded, so a bad page is asked for again.
    pub fn claim(
        &mut self,
        requested: u64,
        info: &PageInfo,
        items: usize,
        fingerprint: u64,
    ) -> Result<(), String> {
        if info.page != requested {
            return Err(format!(
                "page {requested} was asked for and page {} came back",
                info.page
            ));
        }
        if let Some(announced) = self.announced
            && announced != info.total_number
        {
            return Err(format!(
                "the total changed from {announced} to {} between pages",
                info.total_number
            ));
        }
        if items > 0 {
            match self.seen.get(&fingerprint) {
                Some(&earlier) if earlier != requested => {
                    return Err(format!("page {requested} repeats page {earlier}"));
                }
                _ => {
                    self.seen.insert(fingerprint, requested);
                }
            }
        }
        Ok(())
    }

    /// Counts a claimed page and says whether another page should be asked for: not after an
    /// empty or short page, nor once `total_number` items have arrived, nor past `total_page`.
    pub fn record(
        &mut self,
        requested: u64,
        info: &PageInfo,
        items: usize,
        page_size: u64,
    ) -> Next {
        self.announced.get_or_insert(info.total_number);
        self.received += items as u64;
        let short = (items as u64) < page_size.max(1);
        if items == 0 || short || requested >= info.total_page || self.received >= info.total_number
        {
            Next::Done
        } else {
            Next::More
        }
    }

    /// After the last page: the items must add up to what the first page announced.
    pub fn finish(&self) -> Result<(), Shortfall> {
        match self.announced {
            Some(announced) if announced != self.received => Err(Shortfall {
                announced,
                received: self.received,
            }),
            _ => Ok(()),
        }
    }

    /// The last page worth asking for after the first: the larger of what `total_page` and
    /// `total_number` imply (paging stops earlier at an empty or short page), so that claims
    /// that disagree are found out rather than believed.
    pub fn last_page(info: &PageInfo, page_size: u64) -> u64 {
        info.total_page
            .max(info.total_number.div_ceil(page_size.max(1)))
            .max(1)
    }
}

/// A cheap fingerprint of some bytes (a page's list, a page's first and last rows).
pub(crate) fn fingerprint(parts: &[&[u8]]) -> u64 {
    let mut hasher = DefaultHasher::new();
    for part in parts {
        part.hash(&mut hasher);
    }
    hasher.finish()
}

#[derive(Deserialize)]
struct RawPage<'a> {
    #[serde(borrow)]
    list: &'a RawValue,
    page_info: PageInfo,
}

impl Client {
    /// Every page of a `GET` list endpoint from page 1, fetched one at a time on demand and
    /// checked as it arrives; the stream ends with an error if the items do not add up.
    /// `page_size: None` leaves the server's default.
    pub fn pages<'a, T: DeserializeOwned + 'a>(
        &'a self,
        path: &'a str,
        query: Query,
        page_size: Option<u32>,
    ) -> impl Stream<Item = Result<Page<T>, ApiError>> + 'a {
        let query = match page_size {
            Some(size) => query.set("page_size", size),
            None => query,
        };
        let size = page_size.map(u64::from);
        stream::try_unfold(
            (Some(1u64), PageCheck::default()),
            move |(next, mut check)| {
                let query = query.clone();
                async move {
                    let Some(page) = next else {
                        check.finish().map_err(|s| ApiError::Inconsistent {
                            endpoint: path.to_string(),
                            detail: format!(
                                "TikTok announced {} items and sent {}",
                                s.announced, s.received
                            ),
                        })?;
                        return Ok(None);
                    };
                    let query = query.set("page", page);
                    let fetched = self.page::<T>(path, &query, page, &mut check).await?;
                    let items = fetched.list.len();
                    let size = size.unwrap_or(fetched.page_info.page_size);
                    let more = check.record(page, &fetched.page_info, items, size);
                    let next = (more == Next::More).then_some(page + 1);
                    Ok(Some((fetched, (next, check))))
                }
            },
        )
    }

    /// One page, claimed in `check` as it is decoded.
    async fn page<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &Query,
        requested: u64,
        check: &mut PageCheck,
    ) -> Result<Page<T>, ApiError> {
        let inconsistent = |detail: String| ApiError::Inconsistent {
            endpoint: path.to_string(),
            detail,
        };
        self.call_with(&Request::get(path, query), |answer| {
            let response = ApiResponse::decode(path, answer)?;
            let raw = response.data.as_deref().map(RawValue::get);
            let raw = match raw {
                None | Some("null") => {
                    return Err(inconsistent(format!(
                        "a success without data where a list was expected (request_id {})",
                        response.request_id
                    )));
                }
                Some(raw) => raw,
            };
            let page: RawPage = serde_json::from_str(raw).map_err(|e| {
                inconsistent(format!(
                    "not a page of a list ({e}; request_id {})",
                    response.request_id
                ))
            })?;
            let list: Vec<T> =
                serde_json::from_str(page.list.get()).map_err(|e| ApiError::Decode {
                    endpoint: path.to_string(),
                    detail: format!("{e} (request_id {})", response.request_id),
                })?;
            let print = fingerprint(&[page.list.get().as_bytes()]);
            check
                .claim(requested, &page.page_info, list.len(), print)
                .map_err(inconsistent)?;
            Ok(Page {
                list,
                page_info: page.page_info,
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(page: u64, total_number: u64, total_page: u64) -> PageInfo {
        PageInfo {
            page,
            page_size: 2,
            total_number,
            total_page,
        }
    }

    #[test]
    fn a_lying_total_page_ends_at_the_first_empty_page() {
        let mut check = PageCheck::default();
        let lie = 1_000_000_000;
        check.claim(1, &info(1, lie, lie), 2, 1).unwrap();
        assert_eq!(check.record(1, &info(1, lie, lie), 2, 2), Next::More);
        check.claim(2, &info(2, lie, lie), 0, 2).unwrap();
        assert_eq!(check.record(2, &info(2, lie, lie), 0, 2), Next::Done);
        assert_eq!(
            check.finish(),
            Err(Shortfall {
                announced: lie,
                received: 2
            })
        );
    }

    #[test]
    fn pages_must_be_the_ones_asked_for_with_one_total_and_no_repeats() {
        let mut check = PageCheck::default();
        check.claim(1, &info(1, 6, 3), 2, 11).unwrap();
        check.record(1, &info(1, 6, 3), 2, 2);
        let wrong = check.claim(2, &info(1, 6, 3), 2, 22).unwrap_err();
        assert!(wrong.contains("page 1 came back"), "{wrong}");
        let repeat = check.claim(2, &info(2, 6, 3), 2, 11).unwrap_err();
        assert!(repeat.contains("repeats page 1"), "{repeat}");
        let moved = check.claim(2, &info(2, 7, 4), 2, 22).unwrap_err();
        assert!(moved.contains("total changed from 6 to 7"), "{moved}");
        check.claim(2, &info(2, 6, 3), 2, 22).unwrap();
        assert_eq!(check.record(2, &info(2, 6, 3), 2, 2), Next::More);
        check.claim(3, &info(3, 6, 3), 2, 33).unwrap();
        assert_eq!(check.record(3, &info(3, 6, 3), 2, 2), Next::Done);
        check.finish().unwrap();
    }

    #[test]
    fn a_short_page_or_the_announced_count_ends_paging() {
        let mut check = PageCheck::default();
        assert_eq!(check.record(1, &info(1, 3, 9), 1, 2), Next::Done);
        let mut check = PageCheck::default();
        assert_eq!(check.record(1, &info(1, 2, 9), 2, 2), Next::Done);
        check.finish().unwrap();
    }

    #[test]
    fn the_last_page_believes_the_larger_claim() {
        assert_eq!(PageCheck::last_page(&info(1, 10, 1), 5), 2);
        assert_eq!(PageCheck::last_page(&info(1, 5, 3), 5), 3);
        assert_eq!(PageCheck::last_page(&info(1, 0, 0), 5), 1);
    }
}
