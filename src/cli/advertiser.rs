//! `advertiser list | info`.

use anyhow::{Context as _, Result};
use clap::{Args, Subcommand};
use serde_json::{Map, Value};

use super::context::Context;
use super::errors::usage;
use super::settings::check_advertiser_id;
use crate::api::Client;
use crate::api::advertiser::INFO_FIELDS;
use crate::api::oauth::AuthorizedAdvertiser;
use crate::config::Environment;

const LIST_COLUMNS: &[&str] = &[
    "advertiser_id",
    "name",
    "currency",
    "timezone",
    "status",
    "company",
];
const INFO_COLUMNS: &[&str] = &[
    "advertiser_id",
    "name",
    "status",
    "currency",
    "timezone",
    "display_timezone",
    "balance",
    "company",
    "country",
    "create_time",
];

#[derive(Debug, Subcommand)]
pub enum AdvertiserCommand {
    /// The ad accounts the token reaches, with currency, time zone, status and company.
    List(FieldsArg),
    /// Details of the given ad accounts (default: --advertiser or the profile's).
    Info {
        /// Ad account IDs.
        ids: Vec<String>,
        #[command(flatten)]
        fields: FieldsArg,
    },
}

#[derive(Debug, Args)]
pub struct FieldsArg {
    /// Columns to show, comma-separated (any /advertiser/info/ field; `all` for every one).
    #[arg(long, value_delimiter = ',', value_name = "FIELDS")]
    pub fields: Vec<String>,
}

pub(crate) async fn run(ctx: &Context, command: AdvertiserCommand) -> Result<()> {
    match command {
        AdvertiserCommand::List(fields) => list(ctx, fields).await,
        AdvertiserCommand::Info { ids, fields } => info(ctx, ids, fields).await,
    }
}

async fn list(ctx: &Context, fields: FieldsArg) -> Result<()> {
    let columns = columns(&fields, LIST_COLUMNS)?;
    let (client, token) = ctx.authed_client().await?;
    let accounts = if ctx.settings.environment == Environment::Sandbox {
        // `/oauth2/advertiser/get/` does not answer sandbox tokens.
        let ids = known_advertiser_ids(ctx, token.stored.as_ref().map(|s| &s.advertiser_ids));
        if ids.is_empty() {
            return Err(usage(
                "TikTok's sandbox does not support listing the authorized ad accounts: pass \
                 --advertiser ID (the sandbox ad account ID from the developer portal)",
            ));
        }
        ids.into_iter()
            .map(|advertiser_id| AuthorizedAdvertiser {
                advertiser_id,
                advertiser_name: String::new(),
            })
            .collect()
    } else {
        ctx.reachable_advertisers(true).await?.accounts
    };
    let ids: Vec<String> = accounts.iter().map(|a| a.advertiser_id.clone()).collect();
    let details = details(&client, &ids, &columns).await?;
    let mut writer = ctx.record_writer(columns)?;
    for account in &accounts {
        let mut record = details
            .iter()
            .find(|d| id_of(d) == Some(account.advertiser_id.as_str()))
            .cloned()
            .unwrap_or_default();
        record
            .entry("advertiser_id")
            .or_insert_with(|| Value::String(account.advertiser_id.clone()));
        if !account.advertiser_name.is_empty() {
            record
                .entry("name")
                .or_insert_with(|| Value::String(account.advertiser_name.clone()));
        }
        writer.write(&record)?;
    }
    ctx.finish(writer)?;
    Ok(())
}

/// The accounts' details, with the fields the columns need.
async fn details(
    client: &Client,
    ids: &[String],
    columns: &[String],
) -> Result<Vec<Map<String, Value>>> {
    client
        .advertisers()
        .info(ids, &request_fields(columns))
        .await
        .context("reading ad account details (/advertiser/info/)")
}

async fn info(ctx: &Context, ids: Vec<String>, fields: FieldsArg) -> Result<()> {
    let columns = columns(&fields, INFO_COLUMNS)?;
    let ids = if ids.is_empty() {
        vec![ctx.settings.advertiser_id()?]
    } else {
        ids
    };
    for id in &ids {
        check_advertiser_id(id)?;
    }
    let (client, _) = ctx.authed_client().await?;
    let details = details(&client, &ids, &columns).await?;
    let mut writer = ctx.record_writer(columns)?;
    for record in &details {
        writer.write(record)?;
    }
    ctx.finish(writer)?;
    let missing: Vec<&String> = ids
        .iter()
        .filter(|id| !details.iter().any(|d| id_of(d) == Some(id.as_str())))
        .collect();
    if !missing.is_empty() {
        return Err(usage(format!(
            "TikTok returned nothing for {}: check the IDs and that the token reaches them",
            missing
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(())
}

/// The IDs given with `--advertiser`, else the profile default, else those stored at login.
fn known_advertiser_ids(ctx: &Context, stored: Option<&Vec<String>>) -> Vec<String> {
    if !ctx.settings.global.advertiser.is_empty() {
        return ctx.settings.global.advertiser.clone();
    }
    if let Some(id) = &ctx.settings.profile.advertiser_id {
        return vec![id.clone()];
    }
    stored.cloned().unwrap_or_default()
}

fn columns(fields: &FieldsArg, default: &[&str]) -> Result<Vec<String>> {
    let chosen: Vec<String> = fields
        .fields
        .iter()
        .map(|f| f.trim().to_string())
        .filter(|f| !f.is_empty())
        .collect();
    if chosen.is_empty() {
        return Ok(default.iter().map(|s| s.to_string()).collect());
    }
    if chosen.iter().any(|f| f == "all") {
        return Ok(INFO_FIELDS.iter().map(|s| s.to_string()).collect());
    }
    if let Some(bad) = chosen.iter().find(|f| !INFO_FIELDS.contains(&f.as_str())) {
        return Err(usage(format!(
            "unknown field {bad:?}: expected any of {}",
            INFO_FIELDS.join(", ")
        )));
    }
    Ok(chosen)
}

/// What to ask `/advertiser/info/` for: the columns plus the ID to match rows.
fn request_fields(columns: &[String]) -> Vec<&'static str> {
    let mut fields: Vec<&'static str> = INFO_FIELDS
        .iter()
        .copied()
        .filter(|f| columns.iter().any(|c| c == f))
        .collect();
    if !fields.contains(&"advertiser_id") {
        fields.insert(0, "advertiser_id");
    }
    fields
}

fn id_of(record: &Map<String, Value>) -> Option<&str> {
    match record.get("advertiser_id") {
        Some(Value::String(s)) => Some(s),
        _ => None,
    }
}
