//! Ad group budgets in bulk (REFERENCE 17.2): `/adgroup/budget/update/` sets lifetime budgets at
//! once and daily budgets from about midnight in the account's time zone, twenty of each a
//! call. TikTok answers with an empty `data`: whoever changes budgets re-reads the ad groups to
//! confirm.

use serde_json::{Number, Value, json};

use super::transport::client::{Auth, Client};
use super::transport::error::ApiError;
use super::transport::retry::Replay;

pub const ADGROUP_BUDGET_PATH: &str = "/adgroup/budget/update/";
pub const ADGROUP_QUOTA_PATH: &str = "/adgroup/quota/";

/// Items of each list one call takes.
pub const BUDGET_BATCH: usize = 20;

/// New ad group budgets of one ad account, in the account's currency, exactly as given.
#[derive(Debug, Clone, Default)]
pub struct BudgetChanges {
    /// `BUDGET_MODE_TOTAL` ad groups: (ad group ID, new lifetime budget), in effect at once.
    pub lifetime: Vec<(String, Number)>,
    /// Daily or dynamic daily ad groups: (ad group ID, new daily budget), from the next day.
    pub daily: Vec<(String, Number)>,
}

/// `/adgroup/budget/update/`, from [`Client::budgets`].
#[derive(Clone, Copy)]
pub struct Budgets<'c> {
    pub(super) client: &'c Client,
}

impl Budgets<'_> {
    /// Sends `changes` in as few calls as the batch limits allow. Setting a budget twice sets
    /// it once, so a call whose answer was lost is sent again.
    pub async fn update_adgroups(
        &self,
        advertiser_id: &str,
        changes: &BudgetChanges,
    ) -> Result<(), ApiError> {
        for body in bodies(advertiser_id, changes) {
            let _: Value = self
                .client
                .post(ADGROUP_BUDGET_PATH, &body, Auth::Token, Replay::Safe)
                .await?;
        }
        Ok(())
    }
}

impl Budgets<'_> {
    /// The account's active ad group quota and how much of it is used (REFERENCE 16.4):
    /// ad groups switched on beyond it are switched off again by TikTok.
    pub async fn active_adgroup_quota(&self, advertiser_id: &str) -> Result<(u64, u64), ApiError> {
        let query = super::Query::new().param("advertiser_id", advertiser_id);
        let data: Value = self
            .client
            .call(&super::transport::client::Request::get(
                ADGROUP_QUOTA_PATH,
                &query,
            ))
            .await?
            .data(ADGROUP_QUOTA_PATH)?;
        let count = |key: &str| match data.get(key) {
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(s)) => s.parse().ok(),
            _ => None,
        };
        match (count("total_adgroup_quota"), count("used_adgroup_quota")) {
            (Some(total), Some(used)) => Ok((total, used)),
            _ => Err(ApiError::Decode {
                endpoint: ADGROUP_QUOTA_PATH.into(),
                detail: format!("no total_adgroup_quota and used_adgroup_quota in {data}"),
            }),
        }
    }
}

/// The bodies of the calls, each with at most [`BUDGET_BATCH`] items of each list.
pub fn bodies(advertiser_id: &str, changes: &BudgetChanges) -> Vec<Value> {
    let lifetime: Vec<&[(String, Number)]> = changes.lifetime.chunks(BUDGET_BATCH).collect();
    let daily: Vec<&[(String, Number)]> = changes.daily.chunks(BUDGET_BATCH).collect();
    (0..lifetime.len().max(daily.len()))
        .map(|i| {
            let mut body = json!({"advertiser_id": advertiser_id});
            if let Some(items) = lifetime.get(i) {
                body["budget"] = items
                    .iter()
                    .map(|(id, amount)| json!({"adgroup_id": id, "budget": amount}))
                    .collect();
            }
            if let Some(items) = daily.get(i) {
                body["scheduled_budget"] = items
                    .iter()
                    .map(|(id, amount)| json!({"adgroup_id": id, "scheduled_budget": amount}))
                    .collect();
            }
            body
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer};

    use super::*;
    use crate::api::testing::{client, envelope, fixture};

    fn amount(text: &str) -> Number {
        text.parse().unwrap()
    }

    #[tokio::test]
    async fn budgets_go_twenty_of_each_kind_a_call_with_their_exact_amounts() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/open_api/v1.3/adgroup/budget/update/"))
            .respond_with(envelope(
                fixture("adgroup_budget_update.json")["data"].clone(),
            ))
            .mount(&server)
            .await;
        let changes = BudgetChanges {
            lifetime: vec![("1823456789000001".into(), amount("1500.5"))],
            daily: (0..25)
                .map(|i| (format!("18234567890001{i:02}"), amount("80.25")))
                .collect(),
        };
        client(&server)
            .budgets()
            .update_adgroups("7301234567890123456", &changes)
            .await
            .unwrap();
        let bodies: Vec<Value> = server
            .received_requests()
            .await
            .unwrap()
            .iter()
            .map(|r| serde_json::from_slice(&r.body).unwrap())
            .collect();
        assert_eq!(bodies.len(), 2);
        assert_eq!(bodies[0]["budget"][0]["budget"].to_string(), "1500.5");
        assert_eq!(bodies[0]["scheduled_budget"].as_array().unwrap().len(), 20);
        assert_eq!(bodies[1]["scheduled_budget"].as_array().unwrap().len(), 5);
        assert!(bodies[1].get("budget").is_none(), "no empty list is sent");
        assert_eq!(
            bodies[1]["scheduled_budget"][4],
            json!({"adgroup_id": "1823456789000124", "scheduled_budget": 80.25})
        );
        assert!(
            bodies
                .iter()
                .all(|b| b["advertiser_id"] == "7301234567890123456")
        );
    }
}
