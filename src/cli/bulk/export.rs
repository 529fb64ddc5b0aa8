//! `bulk export`: every entity of the level in the accounts, one row each, with the spend a
//! budget change is checked against.

use anyhow::{Context as _, Result};
use serde_json::{Map, Value};

use super::ExportArgs;
use crate::bulk::{columns, live, spend};
use crate::cli::context::Context;
use crate::cli::errors::usage;
use crate::watch::Level;

pub(super) async fn run(ctx: &Context, args: ExportArgs) -> Result<()> {
    let all = columns::export(args.level);
    let id_columns = ["advertiser_id", "campaign_id", "adgroup_id", "ad_id"];
    let chosen: Vec<String> = if args.columns.is_empty() {
        all.iter().map(|c| c.to_string()).collect()
    } else {
        if let Some(unknown) = args.columns.iter().find(|c| !all.contains(&c.as_str())) {
            return Err(usage(format!(
                "--columns {unknown:?} is not a column of a {} file: {}",
                args.level.name(),
                all.join(", ")
            )));
        }
        all.iter()
            .filter(|c| id_columns.contains(c) || args.columns.iter().any(|a| a == *c))
            .map(|c| c.to_string())
            .collect()
    };
    let advertisers = args.scope.advertisers(ctx).await?;
    let (client, _) = ctx.authed_client().await?;
    let with_spend = args.level != Level::Ad && chosen.iter().any(|c| c == "spend_so_far");
    let facts = if with_spend {
        crate::accounts::facts(&client, &advertisers)
            .await
            .context("reading the accounts' time zones (today's spend is a day in each)")?
    } else {
        Default::default()
    };
    let mut writer = ctx.record_writer(chosen)?;
    for advertiser in &advertisers {
        let entities = live::all(&client, args.level, advertiser)
            .await
            .with_context(|| {
                format!(
                    "listing the {}s of ad account {advertiser}",
                    args.level.name()
                )
            })?;
        let spent = if with_spend && !entities.is_empty() {
            let lifetime: Vec<String> = entities
                .iter()
                .filter(|(_, e)| {
                    e.get("budget_mode").and_then(Value::as_str) == Some("BUDGET_MODE_TOTAL")
                })
                .map(|(id, _)| id.clone())
                .collect();
            spend::spent(&client, args.level, advertiser, &facts, &lifetime)
                .await
                .with_context(|| format!("reading the spend of ad account {advertiser}"))?
        } else {
            Default::default()
        };
        for (id, mut entity) in entities {
            entity.insert("advertiser_id".into(), Value::String(advertiser.clone()));
            if with_spend {
                let amount = spent.get(&id).cloned().unwrap_or_else(|| "0.00".into());
                entity.insert("spend_so_far".into(), Value::String(amount));
            }
            writer.write(&Map::from_iter(entity))?;
        }
        writer.flush()?;
    }
    ctx.finish(writer)?;
    Ok(())
}
