//! A plan carried out: each entity read again (one that changed since the plan is refused as
//! stale, one already as planned is left alone), the changes sent in TikTok's batches —
//! lifetime and next-day budgets 20 a `/adgroup/budget/update/`, other fields one entity per
//! update, statuses 20 a call — and each confirmed by reading it back (TikTok's empty answer to
//! a budget update proves nothing), the journal written as changes are confirmed. Running a
//! plan again does only what is left.

use std::collections::BTreeMap;

use anyhow::Result;
use serde::Serialize;
use serde_json::{Number, Value, json};

use super::journal::{Journal, JournalLine};
use super::live;
use super::plan::{Change, Entry, Plan, same, shown};
use crate::api::budget::{BUDGET_BATCH, BudgetChanges};
use crate::api::entity::STATUS_BATCH;
use crate::api::{ApiError, Client};
use crate::watch::Level;

/// What became of an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Every change confirmed.
    Applied,
    /// Not sent: the plan refused it, or it changed since.
    Refused,
    /// Sent, and not (all) confirmed.
    Failed,
    /// Already as planned.
    Unchanged,
}

#[derive(Debug, Clone, Serialize)]
pub struct EntityResult {
    pub advertiser_id: String,
    pub level: Level,
    pub id: String,
    pub name: Option<String>,
    pub result: Outcome,
    pub detail: String,
}

/// One call's worth of changes.
enum Step {
    /// `/adgroup/budget/update/`: (ad group, lifetime?, amount).
    Budgets(Vec<(String, bool, Number)>),
    /// One update per entity: (ID, fields).
    Updates(Vec<(String, serde_json::Map<String, Value>)>),
    /// `operation_status` of up to 20 entities.
    Status(String, Vec<String>),
}

/// Fields each level changes through its own update endpoint.
fn updated_one_by_one(level: Level, field: &str, lifetime: bool) -> bool {
    match level {
        Level::Campaign => matches!(field, "campaign_name" | "budget"),
        Level::Adgroup => match field {
            "budget" => !lifetime,
            "adgroup_name" | "bid_price" | "schedule_end_time" => true,
            _ => false,
        },
        Level::Ad => false,
    }
}

fn number(value: &Value) -> Option<Number> {
    match value {
        Value::Number(n) => Some(n.clone()),
        Value::String(s) => serde_json::from_str(s).ok(),
        _ => None,
    }
}

/// Where one entity stands before anything is sent.
enum Standing {
    Refused(String),
    Unchanged,
    Pending(Vec<Change>),
}

fn standing(entry: &Entry, current: Option<&serde_json::Map<String, Value>>) -> Standing {
    if !entry.refused.is_empty() {
        return Standing::Refused(entry.refused.join("; "));
    }
    let Some(current) = current else {
        return Standing::Refused("it is no longer there".into());
    };
    let now = |field: &str| current.get(field).cloned().unwrap_or(Value::Null);
    for (field, recorded) in &entry.live {
        let value = now(field);
        let planned_to = entry
            .changes
            .iter()
            .find(|c| &c.field == field)
            .map(|c| &c.to);
        if !same(field, &value, recorded) && !planned_to.is_some_and(|to| same(field, &value, to)) {
            return Standing::Refused(format!(
                "changed since the plan: {field} was {recorded}, is now {value} (plan it again)"
            ));
        }
    }
    let pending: Vec<Change> = entry
        .changes
        .iter()
        .filter(|c| !same(&c.field, &now(&c.field), &c.to))
        .cloned()
        .collect();
    if pending.is_empty() {
        Standing::Unchanged
    } else {
        Standing::Pending(pending)
    }
}

/// Carries out `plan`; auth failures end the run (every other failure is the entity's).
pub async fn apply(
    client: &Client,
    plan: &Plan,
    journal: &mut (dyn Journal + Send),
) -> Result<Vec<EntityResult>> {
    let mut results = Vec::new();
    for (advertiser, entries) in plan.by_account() {
        results.extend(apply_account(client, plan, advertiser, &entries, journal).await?);
    }
    Ok(results)
}

async fn apply_account(
    client: &Client,
    plan: &Plan,
    advertiser: &str,
    entries: &[&Entry],
    journal: &mut (dyn Journal + Send),
) -> Result<Vec<EntityResult>> {
    let level = plan.level;
    let ids: Vec<String> = entries
        .iter()
        .filter(|e| e.refused.is_empty())
        .map(|e| e.id.clone())
        .collect();
    let current = if ids.is_empty() {
        live::Live::new()
    } else {
        live::by_ids(client, level, advertiser, &ids).await?
    };
    let mut outcome: BTreeMap<String, (Outcome, Vec<String>)> = BTreeMap::new();
    let mut pending: BTreeMap<String, Vec<Change>> = BTreeMap::new();
    for entry in entries {
        match standing(entry, current.get(&entry.id)) {
            Standing::Refused(why) => {
                outcome.insert(entry.id.clone(), (Outcome::Refused, vec![why]));
            }
            Standing::Unchanged => {
                outcome.insert(
                    entry.id.clone(),
                    (Outcome::Unchanged, vec!["already as planned".into()]),
                );
            }
            Standing::Pending(changes) => {
                pending.insert(entry.id.clone(), changes);
            }
        }
    }
    let lifetime = |id: &str| {
        current
            .get(id)
            .and_then(|e| e.get("budget_mode"))
            .and_then(Value::as_str)
            == Some("BUDGET_MODE_TOTAL")
    };
    let mut steps = Vec::new();
    let mut budgets = Vec::new();
    let mut updates = Vec::new();
    let mut statuses: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (id, changes) in &pending {
        let mut fields = serde_json::Map::new();
        for change in changes {
            let whole = lifetime(id);
            if change.field == "operation_status" {
                let to = change.to.as_str().unwrap_or_default().to_string();
                statuses.entry(to).or_default().push(id.clone());
            } else if updated_one_by_one(level, &change.field, whole) {
                let value = if super::columns::is_amount(&change.field) {
                    number(&change.to).map_or(change.to.clone(), Value::Number)
                } else {
                    change.to.clone()
                };
                fields.insert(change.field.clone(), value);
            } else if let Some(amount) = number(&change.to) {
                budgets.push((id.clone(), change.field == "budget", amount));
            }
        }
        if !fields.is_empty() {
            updates.push((id.clone(), fields));
        }
    }
    for chunk in budgets.chunks(BUDGET_BATCH) {
        steps.push(Step::Budgets(chunk.to_vec()));
    }
    for chunk in updates.chunks(STATUS_BATCH) {
        steps.push(Step::Updates(chunk.to_vec()));
    }
    // Switched off (or deleted) before anything is switched on.
    for (status, ids) in statuses.iter().rev() {
        for chunk in ids.chunks(STATUS_BATCH) {
            steps.push(Step::Status(status.clone(), chunk.to_vec()));
        }
    }
    let mut confirmed: BTreeMap<String, usize> = BTreeMap::new();
    let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for step in steps {
        let (touched, fields) = send(client, level, advertiser, &step, &mut errors).await?;
        let now = live::by_ids(client, level, advertiser, &touched).await?;
        for id in &touched {
            let Some(changes) = pending.get(id) else {
                continue;
            };
            for change in changes.iter().filter(|c| fields(&c.field)) {
                let value = now
                    .get(id)
                    .and_then(|e| e.get(&change.field))
                    .cloned()
                    .unwrap_or(Value::Null);
                if same(&change.field, &value, &change.to) {
                    let entry = entries.iter().find(|e| &e.id == id);
                    journal.confirmed(&JournalLine {
                        time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                        source: plan.source.clone(),
                        advertiser_id: advertiser.to_string(),
                        level,
                        id: id.clone(),
                        name: entry.and_then(|e| e.name.clone()),
                        field: change.field.clone(),
                        before: change.from.clone(),
                        after: value,
                    })?;
                    *confirmed.entry(id.clone()).or_default() += 1;
                } else if errors.get(id).is_none_or(|e| e.is_empty()) {
                    errors.entry(id.clone()).or_default().push(format!(
                        "TikTok took the call but {} is {}, not {}",
                        change.field,
                        shown(&value),
                        shown(&change.to)
                    ));
                }
            }
        }
    }
    for (id, changes) in &pending {
        let done = confirmed.get(id).copied().unwrap_or(0);
        let failed = errors.remove(id).unwrap_or_default();
        let result = if done == changes.len() {
            (Outcome::Applied, vec![describe(changes)])
        } else {
            let mut detail = failed;
            if done > 0 {
                detail.insert(0, format!("{done} of {} changes applied", changes.len()));
            }
            (Outcome::Failed, detail)
        };
        outcome.insert(id.clone(), result);
    }
    Ok(entries
        .iter()
        .map(|e| {
            let (result, detail) = outcome
                .remove(&e.id)
                .unwrap_or((Outcome::Unchanged, Vec::new()));
            EntityResult {
                advertiser_id: advertiser.to_string(),
                level,
                id: e.id.clone(),
                name: e.name.clone(),
                result,
                detail: detail.join("; "),
            }
        })
        .collect())
}

fn describe(changes: &[Change]) -> String {
    changes
        .iter()
        .map(|c| format!("{} {} → {}", c.field, shown(&c.from), shown(&c.to)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Sends one step; the IDs it touched and which fields it was about. Errors of the entities
/// are kept in `errors`; an auth failure ends the run.
async fn send(
    client: &Client,
    level: Level,
    advertiser: &str,
    step: &Step,
    errors: &mut BTreeMap<String, Vec<String>>,
) -> Result<(Vec<String>, fn(&str) -> bool)> {
    let fail = |errors: &mut BTreeMap<String, Vec<String>>, ids: &[String], e: &ApiError| {
        for id in ids {
            errors.entry(id.clone()).or_default().push(e.to_string());
        }
    };
    match step {
        Step::Budgets(items) => {
            let ids: Vec<String> = items.iter().map(|(id, _, _)| id.clone()).collect();
            let mut changes = BudgetChanges::default();
            for (id, whole, amount) in items {
                if *whole {
                    changes.lifetime.push((id.clone(), amount.clone()));
                } else {
                    changes.daily.push((id.clone(), amount.clone()));
                }
            }
            if let Err(e) = client.budgets().update_adgroups(advertiser, &changes).await {
                if e.is_auth() {
                    return Err(e.into());
                }
                fail(errors, &ids, &e);
            }
            Ok((ids, |f| matches!(f, "budget" | "scheduled_budget")))
        }
        Step::Updates(items) => {
            let resource = level.resource();
            for (id, fields) in items {
                let mut body = json!({"advertiser_id": advertiser, resource.id_field: id});
                for (k, v) in fields {
                    body[k] = v.clone();
                }
                if let Err(e) = client.entities(resource).update(&body).await {
                    if e.is_auth() {
                        return Err(e.into());
                    }
                    fail(errors, std::slice::from_ref(id), &e);
                }
            }
            let ids = items.iter().map(|(id, _)| id.clone()).collect();
            Ok((ids, |f| f != "operation_status"))
        }
        Step::Status(status, ids) => {
            match client
                .entities(level.resource())
                .set_status(advertiser, ids, status)
                .await
            {
                Ok(outcome) => {
                    for (id, why) in outcome.failed {
                        errors.entry(id).or_default().push(why);
                    }
                }
                Err(e) if e.is_auth() => return Err(e.into()),
                Err(e) => fail(errors, ids, &e),
            }
            Ok((ids.clone(), |f| f == "operation_status"))
        }
    }
}
