//! `/user/info/`: who owns a token; the cheapest way to check that a token works.

use serde::Deserialize;

use super::transport::client::Client;
use super::transport::error::ApiError;
use super::transport::query::Query;

pub const USER_INFO_PATH: &str = "/user/info/";

#[derive(Debug, Clone, Deserialize)]
pub struct UserInfo {
    #[serde(default, deserialize_with = "super::transport::ids::string_or_number")]
    pub core_user_id: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub email: String,
}

/// `/user/info/`, from [`Client::user`].
#[derive(Clone, Copy)]
pub struct Users<'c> {
    pub(super) client: &'c Client,
}

impl<'c> Users<'c> {
    pub async fn info(&self) -> Result<UserInfo, ApiError> {
        self.client.get(USER_INFO_PATH, &Query::new()).await
    }
}
