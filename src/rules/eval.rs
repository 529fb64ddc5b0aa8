//! A rule evaluated: the report of its window for its level (one row per entity, the metrics
//! its condition reads, exactly as TikTok sent them), the live entities with their fields, the
//! condition judged for each, and for each match the change its action asks for — as the rows
//! of a bulk plan.

use std::collections::BTreeMap;

use anyhow::{Context as _, Result};
use rust_decimal::Decimal;
use serde_json::Value;

use super::file::{Rule, Window};
use super::language::{self, Action, Values};
use crate::accounts::AccountFacts;
use crate::api::Client;
use crate::bulk::checks;
use crate::bulk::live;
use crate::bulk::plan::LiveEntity;
use crate::bulk::sheet::Wanted;
use crate::report::collect::collect;
use crate::report::plan::{Breakdown, PlanRequest, today_in};
use crate::watch::Level;

/// An entity the condition matched.
#[derive(Debug, Clone)]
pub struct Match {
    pub advertiser_id: String,
    pub id: String,
    pub name: Option<String>,
    /// The metrics the condition read, as TikTok sent them.
    pub values: Values,
    /// The row of the plan (none when the action cannot apply: a budget it does not have).
    pub wanted: Option<Wanted>,
    pub note: Option<String>,
}

/// What a rule found.
pub struct Evaluated {
    pub matches: Vec<Match>,
    /// Entities judged.
    pub judged: usize,
    /// Every entity read, by ID (what the plan is made against).
    pub live: BTreeMap<String, LiveEntity>,
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn report_level(level: Level) -> crate::report::Level {
    match level {
        Level::Campaign => crate::report::Level::Campaign,
        Level::Adgroup => crate::report::Level::Adgroup,
        Level::Ad => crate::report::Level::Ad,
    }
}

/// The metrics of each entity over the rule's window, by ID.
async fn metrics(
    client: &Client,
    rule: &Rule,
    names: &[String],
    advertisers: &[String],
    facts: &BTreeMap<String, AccountFacts>,
) -> Result<BTreeMap<String, Vec<Option<String>>>> {
    let id_column = format!("{}_id", rule.level.name());
    let base = PlanRequest {
        level: report_level(rule.level),
        breakdown: Breakdown::None,
        dimensions: vec![id_column.clone()],
        metrics: names.to_vec(),
        ..PlanRequest::default()
    };
    let utc_today = chrono::Utc::now().date_naive();
    let runs: Vec<(PlanRequest, Vec<String>)> = match rule.window {
        // Today is a day in each account's own zone: one request per account.
        Window::Today => advertisers
            .iter()
            .map(|a| {
                let today = facts
                    .get(a)
                    .and_then(|f| f.timezone.as_deref())
                    .and_then(today_in)
                    .unwrap_or(utc_today);
                (
                    PlanRequest {
                        start: Some(today),
                        end: Some(today),
                        ..base.clone()
                    },
                    vec![a.clone()],
                )
            })
            .collect(),
        Window::Yesterday => vec![(
            PlanRequest {
                yesterday: true,
                ..base
            },
            advertisers.to_vec(),
        )],
        Window::Last(n) => vec![(
            PlanRequest {
                last: Some(n),
                ..base
            },
            advertisers.to_vec(),
        )],
        Window::Lifetime => vec![(
            PlanRequest {
                lifetime: true,
                ..base
            },
            advertisers.to_vec(),
        )],
    };
    let mut by_id = BTreeMap::new();
    for (request, accounts) in runs {
        let rows = collect(client, &request, &accounts, facts, utc_today).await?;
        let Some(id_at) = rows.index(&id_column) else {
            continue;
        };
        let at: Vec<Option<usize>> = names.iter().map(|m| rows.index(m)).collect();
        for (_, cells) in rows.rows {
            let Some(Some(id)) = cells.get(id_at).cloned() else {
                continue;
            };
            let values = at
                .iter()
                .map(|i| i.and_then(|i| cells.get(i).cloned().flatten()))
                .collect();
            by_id.insert(id, values);
        }
    }
    Ok(by_id)
}

/// The metrics of each entity by ID, in the order of [`language::metrics`], when they come
/// from elsewhere than a report (a `report sync` database).
pub type Reported = BTreeMap<String, Vec<Option<String>>>;

/// Judges every entity of the rule's level in `advertisers`, with the metrics of `reported`
/// or else of a report of the rule's window.
pub async fn evaluate(
    client: &Client,
    rule: &Rule,
    advertisers: &[String],
    facts: &BTreeMap<String, AccountFacts>,
    reported: Option<Reported>,
) -> Result<Evaluated> {
    let names = language::metrics(&rule.when);
    let reported = if let Some(reported) = reported {
        reported
    } else if names.is_empty() {
        BTreeMap::new()
    } else {
        metrics(client, rule, &names, advertisers, facts)
            .await
            .with_context(|| format!("reading the report of rule {:?}", rule.name))?
    };
    let mut evaluated = Evaluated {
        matches: Vec::new(),
        judged: 0,
        live: BTreeMap::new(),
    };
    let name_field = rule.level.resource().name_field;
    for advertiser in advertisers {
        let entities = live::all(client, rule.level, advertiser)
            .await
            .with_context(|| {
                format!(
                    "listing the {}s of ad account {advertiser}",
                    rule.level.name()
                )
            })?;
        let currency = facts.get(advertiser).and_then(|f| f.currency.clone());
        for (id, fields) in entities {
            evaluated.judged += 1;
            let mut values: Values = language::FIELDS
                .iter()
                .map(|f| {
                    let key = if *f == "name" { name_field } else { f };
                    (f.to_string(), fields.get(key).and_then(text))
                })
                .collect();
            let metric_values = reported.get(&id);
            for (i, name) in names.iter().enumerate() {
                values.insert(
                    name.clone(),
                    metric_values.and_then(|v| v.get(i).cloned().flatten()),
                );
            }
            if language::eval(&rule.when, &values) == Some(true) {
                let (wanted, note) = wanted(rule, advertiser, &id, &fields, currency.as_deref());
                evaluated.matches.push(Match {
                    advertiser_id: advertiser.clone(),
                    id: id.clone(),
                    name: fields.get(name_field).and_then(text),
                    values: names
                        .iter()
                        .map(|n| (n.clone(), values.get(n).cloned().flatten()))
                        .collect(),
                    wanted,
                    note,
                });
            }
            evaluated.live.insert(id, (advertiser.clone(), fields));
        }
    }
    Ok(evaluated)
}

/// The change an action asks of one entity: budgets computed from the live one and rounded
/// to the currency's precision.
fn wanted(
    rule: &Rule,
    advertiser: &str,
    id: &str,
    fields: &serde_json::Map<String, Value>,
    currency: Option<&str>,
) -> (Option<Wanted>, Option<String>) {
    let budget = fields
        .get("budget")
        .and_then(text)
        .and_then(|b| b.parse::<Decimal>().ok());
    let places = checks::places(currency.unwrap_or("USD"));
    let round = |d: Decimal| {
        d.round_dp_with_strategy(places, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
            .normalize()
    };
    let set = match rule.action {
        Action::Enable => ("operation_status", "ENABLE".to_string()),
        Action::Disable => ("operation_status", "DISABLE".to_string()),
        Action::SetBudget(n) => ("budget", round(n).to_string()),
        Action::SetBid(n) => ("bid_price", n.normalize().to_string()),
        Action::ScaleBudget(_) | Action::AddBudget(_) => {
            let Some(budget) = budget.filter(|b| *b > Decimal::ZERO) else {
                return (None, Some("it has no budget to change".into()));
            };
            let new = match rule.action {
                Action::ScaleBudget(f) => budget * f,
                Action::AddBudget(n) => budget + n,
                _ => budget,
            };
            ("budget", round(new).to_string())
        }
    };
    (
        Some(Wanted {
            line: 0,
            advertiser_id: Some(advertiser.to_string()),
            id: id.to_string(),
            set: BTreeMap::from([(set.0.to_string(), set.1)]),
            budget_mode: None,
        }),
        None,
    )
}
