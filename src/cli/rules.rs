//! `rules run RULES.toml [--apply]`: each rule evaluated against its window's report and the
//! live entities; the matches and the bulk plan they make are shown, and with `--apply`
//! carried out like `bulk apply` (checks, guards, confirmation, journal, undo).

use std::path::PathBuf;

use anyhow::{Context as _, Result};
use clap::{Args, Subcommand};
use serde_json::{Map, Value, json};

use super::bulk::{apply as bulk_apply, load, show};
use super::context::Context;
use super::errors::usage;
use super::scope::AccountScope;
use crate::bulk::plan::{self, Guards, shown};
use crate::catalog;
use crate::rules::derived;
use crate::rules::eval::{Reported, evaluate};
use crate::rules::file;
use crate::warehouse::Destination;
use crate::warehouse::daily_sums::daily_sums;

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Evaluate each rule (and with --apply, act): a report of what would happen otherwise.
    Run(RunArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The rules file (TOML, `[[rule]]` tables).
    pub file: PathBuf,
    #[command(flatten)]
    pub scope: AccountScope,
    /// Carry out the changes (checked, journaled); without it nothing is sent.
    #[arg(long)]
    pub apply: bool,
    /// With --apply: do not ask (needed when not on a terminal).
    #[arg(long)]
    pub yes: bool,
    /// Read the metrics from a `report sync` database (sqlite:PATH or postgres://…) instead of
    /// TikTok: its daily table of the rule's level must hold every day of the window.
    #[arg(long, value_name = "DEST")]
    pub from: Option<String>,
}

const COLUMNS: [&str; 9] = [
    "rule",
    "advertiser_id",
    "level",
    "id",
    "name",
    "values",
    "change",
    "result",
    "detail",
];

/// A name that is not an entity field must be a metric of the catalogue.
fn is_metric(name: &str) -> Result<(), String> {
    if catalog::METRICS.iter().any(|(m, _)| *m == name) {
        return Ok(());
    }
    let hint = catalog::did_you_mean(name, catalog::METRICS.iter().map(|(m, _)| *m))
        .map(|m| format!(" (did you mean {m}?)"))
        .unwrap_or_default();
    Err(format!("{name:?} is neither a metric nor a field{hint}"))
}

pub(crate) async fn run(ctx: &Context, command: RulesCommand) -> Result<()> {
    let RulesCommand::Run(args) = command;
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| usage(format!("{}: {e}", args.file.display())))?;
    let rules = file::read(&text, &is_metric)
        .map_err(|e| usage(format!("{}:\n{e}", args.file.display())))?;
    let from = super::scope::database(args.from.as_deref())?;
    if from.is_some() {
        for rule in &rules {
            columns_from_database(rule)?;
        }
    }
    let advertisers = args.scope.advertisers(ctx).await?;
    let (client, _) = ctx.authed_client().await?;
    let facts = crate::accounts::facts(&client, &advertisers)
        .await
        .context("reading the accounts' time zones and currencies")?;
    let mut writer = ctx.record_writer(COLUMNS.map(String::from).to_vec())?;
    let mut missed = Vec::new();
    for rule in &rules {
        let reported = match &from {
            Some(destination) => {
                Some(from_database(destination, rule, &advertisers, &facts).await?)
            }
            None => None,
        };
        let found = evaluate(&client, rule, &advertisers, &facts, reported).await?;
        ctx.notice(&format!(
            "rule {:?} ({}, {}): {} of {} {}s match `{}`",
            rule.name,
            rule.level.name(),
            window_name(rule.window),
            found.matches.len(),
            found.judged,
            rule.level.name(),
            rule.when_text
        ));
        let rows: Vec<_> = found
            .matches
            .iter()
            .filter_map(|m| m.wanted.clone())
            .collect();
        let guards = Guards {
            max_change_pct: rule.max_change_pct,
            max_budget: rule.max_budget,
        };
        let facts = load::facts(&client, rule.level, &rows, &found.live, guards).await?;
        let source = format!("{}: {}", args.file.display(), rule.name);
        let plan = plan::make(rule.level, &source, &rows, &found.live, &facts);
        ctx.streams.write_err(&show::plan(&plan));
        let applied = if args.apply && plan.summary().changes > 0 {
            bulk_apply::execute(ctx, &client, &plan, args.yes).await?
        } else {
            None
        };
        for m in &found.matches {
            let entry = plan.entries.iter().find(|e| e.id == m.id);
            let change = entry
                .map(|e| {
                    e.changes
                        .iter()
                        .map(|c| format!("{}: {} → {}", c.field, shown(&c.from), shown(&c.to)))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            let outcome = applied
                .as_ref()
                .and_then(|results| results.iter().find(|r| r.id == m.id));
            let (result, detail) = match (outcome, entry) {
                (Some(r), _) => (
                    serde_json::to_value(r.result)?
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                    r.detail.clone(),
                ),
                (None, Some(e)) if !e.refused.is_empty() => {
                    ("refused".into(), e.refused.join("; "))
                }
                (None, Some(_)) => ("planned".into(), String::new()),
                (None, None) => (
                    "unchanged".into(),
                    m.note.clone().unwrap_or_else(|| "already so".into()),
                ),
            };
            if args.apply && matches!(result.as_str(), "refused" | "failed") {
                missed.push(m.id.clone());
            }
            let values: Map<String, Value> = m
                .values
                .iter()
                .map(|(k, v)| (k.clone(), v.clone().map_or(Value::Null, Value::String)))
                .collect();
            let row = json!({
                "rule": rule.name, "advertiser_id": m.advertiser_id, "level": rule.level.name(),
                "id": m.id, "name": m.name, "values": Value::Object(values).to_string(),
                "change": change, "result": result, "detail": detail,
            });
            if let Value::Object(row) = row {
                writer.write(&row)?;
            }
        }
        writer.flush()?;
    }
    ctx.finish(writer)?;
    if !missed.is_empty() {
        return Err(super::errors::CliError::Partial(format!(
            "{} change{} not applied (refused or failed, see each row)",
            missed.len(),
            if missed.len() == 1 { " was" } else { "s were" }
        ))
        .into());
    }
    Ok(())
}

/// The columns of a sync table a rule needs: its additive metrics, and the parts of the
/// derived ones this can compute; anything else cannot come from daily rows.
fn columns_from_database(rule: &file::Rule) -> Result<Vec<String>> {
    let mut columns: Vec<String> = Vec::new();
    for metric in crate::rules::language::metrics(&rule.when) {
        let kind = catalog::METRICS
            .iter()
            .find(|(m, _)| *m == metric)
            .map(|(_, k)| *k);
        let needed: Vec<String> = match (kind, derived::parts(&metric)) {
            (Some(catalog::MetricKind::Additive), _) => vec![metric.clone()],
            (_, Some(parts)) => parts.iter().map(|p| p.to_string()).collect(),
            _ => {
                return Err(usage(format!(
                    "rule {:?}: {metric} cannot be computed from a report sync table's daily rows                      (sums of counts and amounts, and {}): drop --from to ask TikTok",
                    rule.name,
                    derived::known().join(", ")
                )));
            }
        };
        for column in needed {
            if !columns.contains(&column) {
                columns.push(column);
            }
        }
    }
    if rule.window == file::Window::Lifetime {
        return Err(usage(format!(
            "rule {:?}: a report sync database holds the days it synced, not a lifetime: drop --from",
            rule.name
        )));
    }
    Ok(columns)
}

/// The rule's metrics per entity, summed over its window from the database (each account's
/// days in its own time zone).
async fn from_database(
    destination: &Destination,
    rule: &file::Rule,
    advertisers: &[String],
    facts: &std::collections::BTreeMap<String, crate::accounts::AccountFacts>,
) -> Result<Reported> {
    let columns = columns_from_database(rule)?;
    let metrics = crate::rules::language::metrics(&rule.when);
    let table = format!("tiktok_{}_daily", rule.level.name());
    let id_column = format!("{}_id", rule.level.name());
    let mut reported = Reported::new();
    for advertiser in advertisers {
        let today = facts
            .get(advertiser)
            .and_then(|f| f.timezone.as_deref())
            .and_then(crate::report::plan::today_in)
            .unwrap_or_else(|| chrono::Utc::now().date_naive());
        let Some(days) = rule.window.days(today) else {
            continue;
        };
        let (destination, table, id_column, wanted, account) = (
            destination.clone(),
            table.clone(),
            id_column.clone(),
            columns.clone(),
            advertiser.clone(),
        );
        let sums = tokio::task::spawn_blocking(move || {
            daily_sums(&destination, &table, &id_column, &wanted, &account, days)
        })
        .await
        .context("reading the database")??;
        for (id, values) in sums {
            let at = |name: &str| {
                columns
                    .iter()
                    .position(|c| c == name)
                    .and_then(|i| values[i])
            };
            let cells = metrics
                .iter()
                .map(|m| match derived::parts(m) {
                    Some([n, d]) if at(m).is_none() => derived::compute(m, at(n), at(d)),
                    _ => at(m),
                })
                .map(|v| v.map(|d| d.to_string()))
                .collect();
            reported.insert(id, cells);
        }
    }
    Ok(reported)
}

fn window_name(window: file::Window) -> String {
    match window {
        file::Window::Today => "today".into(),
        file::Window::Yesterday => "yesterday".into(),
        file::Window::Last(n) => format!("last_{n}_days"),
        file::Window::Lifetime => "lifetime".into(),
    }
}
