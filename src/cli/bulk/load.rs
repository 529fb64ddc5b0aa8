//! Plans made from what the user gave: an edited CSV, or a journal to undo — the live entities
//! they name read from TikTok, and the facts the checks need (currencies and time zones, spend
//! so far, campaign budget optimisation, the active ad group quota).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context as _, Result};
use serde_json::Value;

use crate::api::Client;
use crate::bulk::journal;
use crate::bulk::plan::{self, Facts, Guards, LiveEntity, Plan, same};
use crate::bulk::sheet::{self, Wanted};
use crate::bulk::{live, spend};
use crate::cli::context::Context;
use crate::cli::errors::usage;
use crate::watch::Level;

fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| usage(format!("{}: {e}", path.display())))
}

/// The plan of an edited CSV.
pub(super) async fn plan_file(
    ctx: &Context,
    client: &Client,
    path: &Path,
    guards: Guards,
) -> Result<Plan> {
    let sheet =
        sheet::read(&read_text(path)?).map_err(|e| usage(format!("{}: {e}", path.display())))?;
    let live = entities(ctx, client, sheet.level, &sheet.rows).await?;
    let facts = facts(client, sheet.level, &sheet.rows, &live, guards).await?;
    Ok(plan::make(
        sheet.level,
        &path.display().to_string(),
        &sheet.rows,
        &live,
        &facts,
    ))
}

/// The plan that reverses a journal: each field back to where the journal found it, refused
/// where it no longer is what the journal left.
pub(super) async fn plan_undo(ctx: &Context, client: &Client, path: &Path) -> Result<Plan> {
    let lines =
        journal::read(&read_text(path)?).map_err(|e| usage(format!("{}: {e}", path.display())))?;
    let reversal =
        journal::reversal(&lines).map_err(|e| usage(format!("{}: {e}", path.display())))?;
    let live = entities(ctx, client, reversal.level, &reversal.rows).await?;
    let facts = facts(
        client,
        reversal.level,
        &reversal.rows,
        &live,
        Guards::default(),
    )
    .await?;
    let mut plan = plan::make(
        reversal.level,
        &path.display().to_string(),
        &reversal.rows,
        &live,
        &facts,
    );
    for entry in &mut plan.entries {
        for change in &entry.changes {
            if let Some(left) = reversal.left.get(&(entry.id.clone(), change.field.clone()))
                && !same(&change.field, &change.from, left)
            {
                entry.refused.push(format!(
                    "changed since the journal: {} is {}, the apply left {left}",
                    change.field, change.from
                ));
            }
        }
    }
    Ok(plan)
}

/// The entities the rows name, by ID: rows with an `advertiser_id` are read in that account,
/// the others in the accounts given (`--advertiser` or the profile's).
async fn entities(
    ctx: &Context,
    client: &Client,
    level: Level,
    rows: &[Wanted],
) -> Result<BTreeMap<String, LiveEntity>> {
    let mut by_account: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut unplaced = Vec::new();
    for row in rows {
        match &row.advertiser_id {
            Some(a) => by_account
                .entry(a.clone())
                .or_default()
                .push(row.id.clone()),
            None => unplaced.push(row.id.clone()),
        }
    }
    if !unplaced.is_empty() {
        let given = ctx.settings.advertisers_given();
        let accounts = if given.is_empty() {
            vec![ctx.settings.advertiser_id().map_err(|_| {
                usage("rows without advertiser_id need the account: pass --advertiser ID (or keep the column bulk export writes)")
            })?]
        } else {
            given
        };
        for account in accounts {
            by_account
                .entry(account)
                .or_default()
                .extend(unplaced.iter().cloned());
        }
    }
    let mut found = BTreeMap::new();
    for (advertiser, mut ids) in by_account {
        ids.sort();
        ids.dedup();
        let entities = live::by_ids(client, level, &advertiser, &ids)
            .await
            .with_context(|| format!("reading the {}s of ad account {advertiser}", level.name()))?;
        for (id, fields) in entities {
            found.entry(id).or_insert((advertiser.clone(), fields));
        }
    }
    Ok(found)
}

/// What the checks of a plan need, asked for only where a change needs it.
pub(crate) async fn facts(
    client: &Client,
    level: Level,
    rows: &[Wanted],
    live: &BTreeMap<String, LiveEntity>,
    guards: Guards,
) -> Result<Facts> {
    let accounts: Vec<String> = live
        .values()
        .map(|(a, _)| a.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut facts = Facts {
        now: chrono::Utc::now(),
        guards,
        ..Facts::default()
    };
    if accounts.is_empty() {
        return Ok(facts);
    }
    facts.accounts = crate::accounts::facts(client, &accounts)
        .await
        .context("reading the accounts' currencies and time zones")?;
    let account_of = |id: &str| live.get(id).map(|(a, _)| a.clone());
    let budget_rows: Vec<&Wanted> = rows
        .iter()
        .filter(|r| r.set.contains_key("budget") || r.set.contains_key("scheduled_budget"))
        .collect();
    let mut budget_accounts: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for row in &budget_rows {
        if let Some(account) = account_of(&row.id) {
            budget_accounts
                .entry(account)
                .or_default()
                .push(row.id.clone());
        }
    }
    for (advertiser, ids) in &budget_accounts {
        if level == Level::Ad {
            break;
        }
        let lifetime: Vec<String> = ids
            .iter()
            .filter(|id| {
                live.get(*id)
                    .and_then(|(_, e)| e.get("budget_mode"))
                    .and_then(Value::as_str)
                    == Some("BUDGET_MODE_TOTAL")
            })
            .cloned()
            .collect();
        // Tomorrow's budgets start from nothing spent: only today's need the spend.
        let today_changes = ids.iter().any(|id| {
            rows.iter()
                .any(|r| &r.id == id && r.set.contains_key("budget"))
        });
        if today_changes {
            facts.spent.extend(
                spend::spent(client, level, advertiser, &facts.accounts, &lifetime)
                    .await
                    .with_context(|| format!("reading the spend of ad account {advertiser} (a budget must stay above 105% of it)"))?,
            );
        }
        if level == Level::Adgroup {
            let campaigns: Vec<String> = ids
                .iter()
                .filter_map(|id| {
                    live.get(id)
                        .and_then(|(_, e)| e.get("campaign_id"))
                        .and_then(Value::as_str)
                })
                .map(str::to_string)
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            facts.cbo.extend(
                live::budget_optimized(client, advertiser, &campaigns)
                    .await
                    .context("reading the campaigns' budget optimisation")?,
            );
        }
    }
    if level == Level::Adgroup {
        let enabling: BTreeSet<String> = rows
            .iter()
            .filter(|r| {
                r.set
                    .get("operation_status")
                    .is_some_and(|s| s.eq_ignore_ascii_case("ENABLE"))
            })
            .filter_map(|r| account_of(&r.id))
            .collect();
        for advertiser in enabling {
            let quota = client
                .budgets()
                .active_adgroup_quota(&advertiser)
                .await
                .with_context(|| {
                    format!("reading the active ad group quota of ad account {advertiser}")
                })?;
            facts.quota.insert(advertiser, quota);
        }
    }
    Ok(facts)
}
