//! `/user/info/`: who owns a token; the cheapest way to check that a token works.

use serde::Deserialize;

use super::client::Client;
use super::error::ApiError;
use super::query::Query;

pub const USER_INFO_PATH: &str = "/user/info/";

#[derive(Debug, Clone, Deserialize)]
pub struct UserInfo {
    #[serde(default, deserialize_with = "super::ids::string_or_number")]
    pub core_user_id: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub email: String,
}

impl Client {
    pub async fn user_info(&self) -> Result<UserInfo, ApiError> {
        self.get(USER_INFO_PATH, &Query::new()).await
    }
}
