//! `review`: the review state of ads or ad groups with TikTok's reasons, through the usual
//! output formats. Without IDs: every entity in review, rejected or partly approved.

use anyhow::{Context as _, Result};
use clap::Args;

use super::context::Context;
use super::errors::{CliError, usage};
use super::scope::AccountScope;
use crate::watch::Level;
use crate::watch::review::{COLUMNS, account_rows};

#[derive(Debug, Args)]
pub struct ReviewArgs {
    #[command(flatten)]
    pub scope: AccountScope,
    /// ad or adgroup.
    #[arg(long, value_name = "LEVEL", default_value = "ad", value_parser = parse_level)]
    pub level: Level,
    /// Only rejected and partly approved ones (not those still in review).
    #[arg(long)]
    pub rejected: bool,
    /// The ads (or ad groups) to show [default: every one in review, rejected or partly
    /// approved].
    #[arg(value_name = "ID")]
    pub ids: Vec<String>,
}

fn parse_level(text: &str) -> Result<Level, String> {
    match Level::parse(text) {
        Some(level @ (Level::Ad | Level::Adgroup)) => Ok(level),
        _ => Err(format!(
            "{text:?} is not a level with reviews: ad or adgroup"
        )),
    }
}

pub(crate) async fn run(ctx: &Context, args: ReviewArgs) -> Result<()> {
    if let Some(bad) = args
        .ids
        .iter()
        .find(|id| !id.chars().all(|c| c.is_ascii_digit()) || id.is_empty())
    {
        return Err(usage(format!("{bad:?} is not an ID: expected digits")));
    }
    let advertisers = args.scope.advertisers(ctx).await?;
    let (client, _) = ctx.authed_client().await?;
    let ids = (!args.ids.is_empty()).then_some(args.ids.as_slice());
    let mut writer = ctx.record_writer(COLUMNS.iter().map(|c| c.to_string()).collect())?;
    let mut found = std::collections::BTreeSet::new();
    for advertiser in &advertisers {
        let rows = account_rows(&client, advertiser, args.level, ids, args.rejected)
            .await
            .with_context(|| format!("reading the reviews of ad account {advertiser}"))?;
        for row in rows {
            if let Some(id) = row.get("id").and_then(serde_json::Value::as_str) {
                found.insert(id.to_string());
            }
            writer.write(&row)?;
        }
        writer.flush()?;
    }
    ctx.finish(writer)?;
    let missing: Vec<&str> = args
        .ids
        .iter()
        .filter(|id| !found.contains(*id))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() && !args.rejected {
        return Err(CliError::Partial(format!(
            "not found in ad account{} {}: {}",
            if advertisers.len() == 1 { "" } else { "s" },
            advertisers.join(", "),
            missing.join(", ")
        ))
        .into());
    }
    Ok(())
}
