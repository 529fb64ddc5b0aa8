//! Page-number paging (`page` / `page_size` / `page_info`), yielded lazily as an async stream
//! so callers can write each page before the next one is fetched.

use futures_util::Stream;
use futures_util::stream;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::client::Client;
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

#[derive(Debug, Deserialize)]
pub struct Page<T> {
    #[serde(default = "Vec::new")]
    pub list: Vec<T>,
    #[serde(default)]
    pub page_info: PageInfo,
}

impl<T> Page<T> {
    /// True when no page follows this one.
    pub fn is_last(&self, requested_page: u64) -> bool {
        self.list.is_empty() || requested_page >= self.page_info.total_page
    }
}

impl Client {
    /// Every page of a `GET` list endpoint, starting at page 1, fetched one at a time on demand.
    pub fn pages<T: DeserializeOwned>(
        &self,
        path: &'static str,
        query: Query,
        page_size: u32,
    ) -> impl Stream<Item = Result<Page<T>, ApiError>> + '_ {
        let query = query.set("page_size", page_size);
        stream::try_unfold(Some(1u64), move |next| {
            let query = query.clone();
            async move {
                let Some(page) = next else { return Ok(None) };
                let query = query.set("page", page);
                let fetched: Page<T> = self.get(path, &query).await?;
                let next = (!fetched.is_last(page)).then_some(page + 1);
                Ok(Some((fetched, next)))
            }
        })
    }
}
