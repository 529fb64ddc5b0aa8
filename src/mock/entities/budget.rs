//! The rules TikTok applies to every budget change (REFERENCE 17.2–17.4), and
//! `/adgroup/budget/update/`: lifetime budgets at once, daily budgets from the next midnight in
//! the account's time zone, twenty of each a call, all or nothing. A budget may not be changed
//! from 23:55 to midnight (account time), must be at least 105 % of what was spent so far (the
//! simulator's own report numbers), must fit the currency's precision, and an ad group's budget
//! is locked while its campaign optimises the budget (CBO).

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use chrono::{NaiveDate, Timelike};
use serde_json::{Map, Value, json};

use super::{MIN_ADGROUP_DAILY_BUDGET, kind_named, live, text, write_request};
use crate::mock::Mock;
use crate::mock::answer::{error, invalid, ok};
use crate::mock::params::Checked;
use crate::mock::reports::numbers;
use crate::mock::world::{Grant, World, account};

/// Items of each list one call takes.
const BUDGET_ITEMS_MAX: usize = 20;

/// Currencies without a minor unit (budgets in whole units).
const WHOLE_UNIT_CURRENCIES: &[&str] = &["JPY", "KRW", "VND", "CLP", "ISK", "PYG", "UGX"];

impl World {
    /// The account's time zone (UTC when unknown).
    fn zone_of(&self, advertiser: &str) -> chrono_tz::Tz {
        account(advertiser)
            .and_then(|a| a.timezone.parse().ok())
            .unwrap_or(chrono_tz::UTC)
    }

    /// The account's own date and time on the simulator's clock.
    pub(in crate::mock) fn local_now(&self, advertiser: &str) -> chrono::NaiveDateTime {
        let now = chrono::DateTime::from_timestamp_millis(self.reviews.now_ms() as i64)
            .unwrap_or_default();
        now.with_timezone(&self.zone_of(advertiser)).naive_local()
    }

    /// What the entity's ads spent on `day` (or over their lifetime), in cents, as the
    /// simulator's reports say: nothing for a day its reports do not reach yet.
    fn spent_cents(&self, kind: &str, id: &str, day: Option<NaiveDate>) -> u64 {
        let key = format!("{kind}_id");
        let today = chrono::Utc::now().date_naive();
        let Some(spend) = numbers::index("spend") else {
            return 0;
        };
        self.all("ad")
            .iter()
            .filter(|ad| ad.get(&key).and_then(Value::as_str) == Some(id))
            .map(|ad| {
                let ad_id = text(ad, "ad_id");
                let created = text(ad, "create_time")
                    .get(..10)
                    .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                    .unwrap_or(today);
                let spent_on = |d: NaiveDate| numbers::ad_day(self.seed_on(d), ad_id, d)[spend];
                match day {
                    Some(d) if d < created || d > today => 0,
                    Some(d) => spent_on(d),
                    None => created
                        .iter_days()
                        .take_while(|d| *d <= today)
                        .map(spent_on)
                        .sum(),
                }
            })
            .sum()
    }

    /// Daily budgets set for the next day take effect once the account's date has moved on.
    pub(in crate::mock) fn settle_budgets(&mut self) -> bool {
        let due: Vec<String> = self
            .pending_budgets
            .iter()
            .filter(|(id, set_on)| {
                let advertiser = self
                    .find("adgroup", id)
                    .map(|g| text(g, "advertiser_id").to_string())
                    .unwrap_or_default();
                self.local_now(&advertiser).date().to_string() > **set_on
            })
            .map(|(id, _)| id.clone())
            .collect();
        for id in &due {
            self.pending_budgets.remove(id);
            if let Some(group) = self.find_mut("adgroup", id) {
                let next = group.get("scheduled_budget").cloned().unwrap_or(json!(0.0));
                group.insert("budget".into(), next);
                group.insert("scheduled_budget".into(), json!(0.0));
            }
        }
        !due.is_empty()
    }
}

/// Whether a new `budget` for `object` (a campaign or an ad group) is one TikTok takes, as of
/// the simulator's clock; `lifetime` for a lifetime budget (spend of every day counts).
pub(super) fn check_new_budget(
    world: &World,
    kind: &str,
    object: &Map<String, Value>,
    budget: f64,
    field: &str,
) -> Checked<()> {
    let advertiser = text(object, "advertiser_id");
    let id = text(object, &format!("{kind}_id"));
    let now = world.local_now(advertiser);
    if now.hour() == 23 && now.minute() >= 55 {
        return Err(error(
            40002,
            "Budgets cannot be changed between 23:55 and 00:00 in the ad account's time zone.",
        ));
    }
    if kind == "adgroup"
        && super::campaign_of(world, object)
            .is_some_and(|c| c.get("budget_optimize_on") == Some(&Value::Bool(true)))
    {
        return Err(error(
            40002,
            "Campaign budget optimization is on: change the campaign's budget instead.",
        ));
    }
    let currency = account(advertiser).map_or("USD", |a| a.currency);
    let places = if WHOLE_UNIT_CURRENCIES.contains(&currency) {
        0
    } else {
        2
    };
    let scaled = budget * 10f64.powi(places);
    if (scaled - scaled.round()).abs() > 1e-6 {
        return Err(invalid(
            field,
            &format!("{currency} budgets take at most {places} decimal places."),
        ));
    }
    if field == "scheduled_budget" {
        // Tomorrow's budget: nothing of tomorrow is spent yet.
        return Ok(());
    }
    let lifetime = text(object, "budget_mode") == "BUDGET_MODE_TOTAL";
    let spent = world.spent_cents(kind, id, (!lifetime).then(|| now.date()));
    // Cents: 105 % of the spend, compared exactly.
    if (budget * 100.0).round() as u64 * 100 < spent * 105 {
        return Err(error(
            40002,
            &format!(
                "The budget must be at least 105% of the amount already spent ({}.{:02} {currency}).",
                spent / 100,
                spent % 100
            ),
        ));
    }
    Ok(())
}

pub(in crate::mock) async fn update(
    State(mock): State<Mock>,
    Extension(grant): Extension<Grant>,
    uri: Uri,
    body: Bytes,
) -> Response {
    write_request(&grant, &uri, &body, |_, params, advertiser| {
        let lists = [("budget", true), ("scheduled_budget", false)];
        let mut items: Vec<(String, f64, bool)> = Vec::new();
        for (key, lifetime) in lists {
            let Some(list) = params.json(key) else {
                continue;
            };
            let Value::Array(list) = list else {
                return Err(invalid(key, "Not a valid list."));
            };
            if list.len() > BUDGET_ITEMS_MAX {
                return Err(error(
                    40061,
                    &format!("{key}: at most {BUDGET_ITEMS_MAX} items per request."),
                ));
            }
            for item in list {
                let id = match item.get("adgroup_id") {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Number(n)) => n.to_string(),
                    _ => {
                        return Err(invalid(
                            &format!("{key}.adgroup_id"),
                            "Missing data for required field.",
                        ));
                    }
                };
                let Some(amount) = item.get(key).and_then(Value::as_f64) else {
                    return Err(invalid(&format!("{key}.{key}"), "Not a valid number."));
                };
                items.push((id, amount, lifetime));
            }
        }
        if items.is_empty() {
            return Err(invalid(
                "budget",
                "Either budget or scheduled_budget is required.",
            ));
        }
        mock.change(|world| {
            // Every item is checked before any is changed: one bad item changes nothing.
            let adgroup = kind_named("adgroup");
            for (id, amount, lifetime) in &items {
                let group = live(world, adgroup, id, &advertiser)?;
                let mode = text(&group, "budget_mode");
                let total = mode == "BUDGET_MODE_TOTAL";
                if *lifetime != total {
                    return Err(invalid(
                        if *lifetime { "budget" } else { "scheduled_budget" },
                        &format!(
                            "Ad group {id} has budget_mode {mode}: lifetime budgets go in budget, daily ones in scheduled_budget."
                        ),
                    ));
                }
                if !total && *amount < MIN_ADGROUP_DAILY_BUDGET {
                    return Err(invalid(
                        "scheduled_budget",
                        &format!("The budget must be at least {MIN_ADGROUP_DAILY_BUDGET:.2}."),
                    ));
                }
                let field = if *lifetime { "budget" } else { "scheduled_budget" };
                check_new_budget(world, "adgroup", &group, *amount, field)?;
            }
            let stamp = world.reviews.stamp();
            for (id, amount, lifetime) in &items {
                let date = {
                    let group = world.find("adgroup", id).cloned().unwrap_or_default();
                    world.local_now(text(&group, "advertiser_id")).date().to_string()
                };
                if let Some(group) = world.find_mut("adgroup", id) {
                    group.insert(
                        if *lifetime { "budget" } else { "scheduled_budget" }.into(),
                        json!(amount),
                    );
                    group.insert("modify_time".into(), json!(stamp));
                }
                if !lifetime {
                    world.pending_budgets.insert(id.clone(), date);
                }
            }
            Ok(ok(json!({})))
        })
    })
}

/// `GET /adgroup/quota/`: how many ad groups the account may have switched on, and has.
pub(in crate::mock) async fn quota(
    State(mock): State<Mock>,
    Extension(grant): Extension<Grant>,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    let params = crate::mock::params::Params::Query(q);
    match crate::mock::auth::advertiser(&params, &grant) {
        Ok(advertiser) => {
            let world = mock.world();
            let (total, used) = world.adgroup_quota(&advertiser);
            ok(json!({"total_adgroup_quota": total, "used_adgroup_quota": used}))
        }
        Err(refused) => refused,
    }
}

/// Active ad groups an account may have unless `/_mock/quota` says otherwise.
pub(in crate::mock) const ADGROUP_QUOTA: u64 = 1_000;

impl World {
    /// (quota, used): ad groups switched on and not deleted count as used.
    pub(in crate::mock) fn adgroup_quota(&self, advertiser: &str) -> (u64, u64) {
        let used = self
            .all("adgroup")
            .iter()
            .filter(|g| {
                text(g, "advertiser_id") == advertiser && text(g, "operation_status") == "ENABLE"
            })
            .count() as u64;
        let total = self
            .adgroup_quotas
            .get(advertiser)
            .copied()
            .unwrap_or(ADGROUP_QUOTA);
        (total, used)
    }
}
