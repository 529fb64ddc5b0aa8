//! What is stored for a login: the long-term token and what TikTok said about it.

use serde::{Deserialize, Serialize};

#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct StoredToken {
    pub access_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    #[serde(default)]
    pub advertiser_ids: Vec<String>,
    #[serde(default)]
    pub scope: Vec<serde_json::Value>,
    /// RFC 3339, UTC.
    #[serde(default)]
    pub created_at: String,
}

impl std::fmt::Debug for StoredToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredToken")
            .field("access_token", &"<redacted>")
            .field("app_id", &self.app_id)
            .field("advertiser_ids", &self.advertiser_ids)
            .field("created_at", &self.created_at)
            .finish()
    }
}

impl StoredToken {
    pub(crate) fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub(crate) fn from_json(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok()
    }
}

/// The store key of a profile's token: `<realm>/<profile>`, the realm being the environment
/// (and the host, when it is not TikTok's), so a sandbox token can never answer a production
/// call, nor a simulator's token reach TikTok.
pub(crate) fn token_key(realm: &str, profile: &str) -> String {
    format!("{realm}/{profile}")
}

/// The store key of a profile's app secret.
pub(crate) fn app_secret_key(profile: &str) -> String {
    format!("app-secret/{profile}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_token() {
        let t = StoredToken {
            access_token: "very-secret".into(),
            app_id: None,
            advertiser_ids: vec![],
            scope: vec![],
            created_at: String::new(),
        };
        assert!(!format!("{t:?}").contains("very-secret"));
        assert_eq!(
            StoredToken::from_json(&t.to_json()).unwrap().access_token,
            "very-secret"
        );
    }
}
