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
use crate::rules::eval::evaluate;
use crate::rules::file;

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
    let advertisers = args.scope.advertisers(ctx).await?;
    let (client, _) = ctx.authed_client().await?;
    let facts = crate::accounts::facts(&client, &advertisers)
        .await
        .context("reading the accounts' time zones and currencies")?;
    let mut writer = ctx.record_writer(COLUMNS.map(String::from).to_vec())?;
    let mut missed = Vec::new();
    for rule in &rules {
        let found = evaluate(&client, rule, &advertisers, &facts).await?;
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

fn window_name(window: file::Window) -> String {
    match window {
        file::Window::Today => "today".into(),
        file::Window::Yesterday => "yesterday".into(),
        file::Window::Last(n) => format!("last_{n}_days"),
        file::Window::Lifetime => "lifetime".into(),
    }
}
