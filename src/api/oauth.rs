//! OAuth for advertisers: exchange an `auth_code`, list authorized accounts, revoke a token.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;

use super::transport::client::{Auth, Client, Request};
use super::transport::error::ApiError;
use super::transport::query::Query;
use super::transport::retry::Replay;

pub const ACCESS_TOKEN_PATH: &str = "/oauth2/access_token/";
pub const ADVERTISER_GET_PATH: &str = "/oauth2/advertiser/get/";
pub const REVOKE_PATH: &str = "/oauth2/revoke_token/";

/// The developer app's credentials.
#[derive(Clone)]
pub struct AppCredentials {
    pub app_id: String,
    pub secret: SecretString,
}

#[derive(Deserialize)]
pub struct TokenGrant {
    pub access_token: SecretString,
    #[serde(
        default,
        deserialize_with = "super::transport::ids::vec_string_or_number"
    )]
    pub advertiser_ids: Vec<String>,
    #[serde(default)]
    pub scope: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AuthorizedAdvertiser {
    #[serde(deserialize_with = "super::transport::ids::string_or_number")]
    pub advertiser_id: String,
    #[serde(default)]
    pub advertiser_name: String,
}

#[derive(Deserialize)]
struct AdvertiserList {
    list: Vec<AuthorizedAdvertiser>,
}

#[derive(Debug, Deserialize)]
pub struct Revoked {
    #[serde(
        default,
        deserialize_with = "super::transport::ids::vec_string_or_number"
    )]
    pub advertiser_ids: Vec<String>,
}

/// The OAuth endpoints of advertiser tokens, from [`Client::oauth`].
#[derive(Clone, Copy)]
pub struct OAuth<'c> {
    pub(super) client: &'c Client,
}

impl<'c> OAuth<'c> {
    /// Trades a one-time `auth_code` for a long-term advertiser token.
    pub async fn exchange_code(
        &self,
        app: &AppCredentials,
        auth_code: &SecretString,
    ) -> Result<TokenGrant, ApiError> {
        let body = json!({
            "app_id": app.app_id,
            "secret": app.secret.expose_secret(),
            "auth_code": auth_code.expose_secret(),
        });
        // A code is single-use: a repeat after a lost answer would fail with 40110 anyway,
        // and retrying on throttling codes (nothing consumed) stays safe.
        self.client
            .post(ACCESS_TOKEN_PATH, &body, Auth::None, Replay::Unsafe)
            .await
    }

    /// The ad accounts the token may act on, with their names.
    pub async fn advertisers(
        &self,
        app: &AppCredentials,
    ) -> Result<Vec<AuthorizedAdvertiser>, ApiError> {
        let query = Query::new()
            .param("app_id", &app.app_id)
            .param("secret", app.secret.expose_secret());
        let list: AdvertiserList = self
            .client
            .call(&Request::get(ADVERTISER_GET_PATH, &query))
            .await?
            .list_data(ADVERTISER_GET_PATH)?;
        Ok(list.list)
    }

    /// Revokes `token` at TikTok.
    pub async fn revoke(
        &self,
        app: &AppCredentials,
        token: &SecretString,
    ) -> Result<Revoked, ApiError> {
        let body = json!({
            "app_id": app.app_id,
            "secret": app.secret.expose_secret(),
            "access_token": token.expose_secret(),
        });
        self.client
            .post(REVOKE_PATH, &body, Auth::Token, Replay::Safe)
            .await
    }
}
