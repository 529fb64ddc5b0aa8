//! `region list`: location IDs for ad group targeting (`/tool/region/`).

use anyhow::{Context as _, Result};
use clap::{Args, Subcommand};
use serde_json::Value;

use super::context::Context;
use super::errors::usage;
use crate::api::adgroup::PLACEMENTS;
use crate::api::campaign::OBJECTIVES;
use crate::api::tool::{LEVEL_RANGES, RegionQuery};

const COLUMNS: &[&str] = &[
    "location_id",
    "name",
    "level",
    "region_code",
    "country_code",
    "parent_id",
];

#[derive(Debug, Subcommand)]
pub enum RegionCommand {
    /// Locations that can be targeted for a placement and objective.
    List(ListArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Placements, e.g. PLACEMENT_TIKTOK (repeat or comma-separate).
    #[arg(
        long = "placement",
        value_delimiter = ',',
        default_value = "PLACEMENT_TIKTOK"
    )]
    pub placements: Vec<String>,
    /// Campaign objective, e.g. TRAFFIC.
    #[arg(long, default_value = "TRAFFIC")]
    pub objective: String,
    /// How deep: ALL, TO_COUNTRY, TO_PROVINCE, TO_CITY, TO_DISTRICT.
    #[arg(long)]
    pub level: Option<String>,
    /// Language of the names (e.g. en, de).
    #[arg(long)]
    pub language: Option<String>,
    /// Only this country (ISO code, e.g. US).
    #[arg(long)]
    pub country: Option<String>,
}

pub(crate) async fn run(ctx: &Context, command: RegionCommand) -> Result<()> {
    let RegionCommand::List(args) = command;
    let placements: Vec<String> = args
        .placements
        .iter()
        .map(|p| p.trim().to_ascii_uppercase())
        .collect();
    let objective = args.objective.trim().to_ascii_uppercase();
    let level = args.level.as_ref().map(|l| l.trim().to_ascii_uppercase());
    let mut problems = Vec::new();
    for p in &placements {
        if !PLACEMENTS.contains(&p.as_str()) {
            problems.push(format!(
                "placement {p:?} is not valid: expected one of {}",
                PLACEMENTS.join(", ")
            ));
        }
    }
    if !OBJECTIVES.contains(&objective.as_str()) {
        problems.push(format!(
            "objective {objective:?} is not valid: expected one of {}",
            OBJECTIVES.join(", ")
        ));
    }
    if let Some(level) = &level
        && !LEVEL_RANGES.contains(&level.as_str())
    {
        problems.push(format!(
            "level {level:?} is not valid: expected one of {}",
            LEVEL_RANGES.join(", ")
        ));
    }
    if !problems.is_empty() {
        return Err(usage(problems.join("; ")));
    }
    let advertiser_id = ctx.settings.advertiser_id()?;
    let (client, _) = ctx.authed_client().await?;
    let regions = client
        .tools()
        .regions(&RegionQuery {
            advertiser_id: &advertiser_id,
            placements: &placements,
            objective_type: &objective,
            level_range: level.as_deref(),
            language: args.language.as_deref(),
        })
        .await
        .context("listing locations (/tool/region/)")?;
    let country = args.country.as_ref().map(|c| c.trim().to_ascii_uppercase());
    let mut writer = ctx.record_writer(COLUMNS.iter().map(|c| c.to_string()).collect())?;
    for region in &regions {
        if let Some(country) = &country
            && region.get("country_code").and_then(Value::as_str) != Some(country.as_str())
        {
            continue;
        }
        writer.write(region)?;
    }
    ctx.finish(writer)?;
    Ok(())
}
