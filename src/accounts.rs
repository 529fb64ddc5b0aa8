//! Ad accounts as a run needs them: which ones a token reaches, and what a report must know
//! about each (its currency and time zone). Domain logic shared by `advertiser list`, `report`
//! and library callers; no terminal, no flags.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::api::oauth::{AppCredentials, AuthorizedAdvertiser};
use crate::api::{ApiError, Client};

/// What a report must know about an account: its time zone (the days of relative dates) and
/// its currency (for `--with-account-info`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountFacts {
    pub currency: Option<String>,
    pub timezone: Option<String>,
}

/// The currency and time zone of each account, from `/advertiser/info/` (100 accounts a call).
/// An account TikTok does not return is absent from the map.
pub async fn facts(
    client: &Client,
    advertisers: &[String],
) -> Result<BTreeMap<String, AccountFacts>, ApiError> {
    let info = client
        .advertisers()
        .info(
            advertisers,
            &["advertiser_id", "currency", "timezone", "display_timezone"],
        )
        .await?;
    Ok(facts_from_info(&info))
}

/// Reads facts out of `/advertiser/info/` records (the IANA `display_timezone` first).
pub fn facts_from_info(info: &[Map<String, Value>]) -> BTreeMap<String, AccountFacts> {
    info.iter()
        .filter_map(|a| {
            let id = a.get("advertiser_id")?.as_str()?.to_string();
            let text = |k: &str| {
                a.get(k)
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
            };
            Some((
                id,
                AccountFacts {
                    currency: text("currency"),
                    timezone: text("display_timezone").or_else(|| text("timezone")),
                },
            ))
        })
        .collect()
}

/// Where a list of reachable accounts came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// TikTok's `/oauth2/advertiser/get/` (needs the app's ID and secret).
    Tiktok,
    /// The accounts TikTok listed when the token was stored (no app secret at hand).
    RecordedAtLogin,
}

#[derive(Debug, Clone)]
pub struct Reachable {
    pub accounts: Vec<AuthorizedAdvertiser>,
    pub source: Source,
}

/// The ad accounts a token reaches: TikTok's list when the app's credentials are given, else
/// those recorded when the token was stored; `None` when neither is at hand.
pub async fn reachable(
    client: &Client,
    app: Option<&AppCredentials>,
    recorded: &[String],
) -> Result<Option<Reachable>, ApiError> {
    if let Some(app) = app {
        return Ok(Some(Reachable {
            accounts: client.oauth().advertisers(app).await?,
            source: Source::Tiktok,
        }));
    }
    if recorded.is_empty() {
        return Ok(None);
    }
    Ok(Some(Reachable {
        accounts: recorded
            .iter()
            .map(|id| AuthorizedAdvertiser {
                advertiser_id: id.clone(),
                advertiser_name: String::new(),
            })
            .collect(),
        source: Source::RecordedAtLogin,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn facts_prefer_the_iana_display_time_zone() {
        let info = vec![
            json!({"advertiser_id": "1", "currency": "EUR", "timezone": "Etc/GMT-1", "display_timezone": "Europe/Berlin"}),
            json!({"advertiser_id": "2", "currency": "", "timezone": "UTC+08:00"}),
        ];
        let info: Vec<Map<String, Value>> = info
            .into_iter()
            .map(|v| v.as_object().unwrap().clone())
            .collect();
        let facts = facts_from_info(&info);
        assert_eq!(facts["1"].timezone.as_deref(), Some("Europe/Berlin"));
        assert_eq!(
            facts["2"].currency, None,
            "an empty currency is no currency"
        );
        assert_eq!(facts["2"].timezone.as_deref(), Some("UTC+08:00"));
    }
}
