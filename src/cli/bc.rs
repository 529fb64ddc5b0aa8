//! `bc list` and `bc advertisers BC_ID`.

use anyhow::{Context as _, Result};
use clap::Subcommand;
use futures_util::TryStreamExt;
use serde_json::{Map, Value};

use super::context::Context;
use super::settings::check_advertiser_id;

const BC_COLUMNS: &[&str] = &[
    "bc_id",
    "name",
    "company",
    "currency",
    "timezone",
    "status",
    "type",
    "user_role",
];
const ADVERTISER_COLUMNS: &[&str] = &[
    "advertiser_id",
    "advertiser_name",
    "advertiser_status",
    "advertiser_role",
    "relation_type",
    "relation_status",
];

#[derive(Debug, Subcommand)]
pub enum BcCommand {
    /// The Business Centers the token's user belongs to.
    List,
    /// The ad accounts under a Business Center (feed them to `report run --advertiser`).
    Advertisers {
        /// Business Center ID.
        #[arg(value_name = "BC_ID")]
        bc_id: String,
    },
}

pub(crate) async fn run(ctx: &Context, command: BcCommand) -> Result<()> {
    let (client, _) = ctx.authed_client().await?;
    match command {
        BcCommand::List => {
            let mut writer =
                ctx.record_writer(BC_COLUMNS.iter().map(|c| c.to_string()).collect())?;
            let pages = client.business_centers().list();
            futures_util::pin_mut!(pages);
            while let Some(page) = pages.try_next().await.context("listing Business Centers")? {
                for item in page.list {
                    writer.write(&flatten_bc(item))?;
                }
                writer.flush()?;
            }
            ctx.finish(writer)?;
        }
        BcCommand::Advertisers { bc_id } => {
            check_advertiser_id(&bc_id).map_err(|_| {
                crate::cli::errors::usage(format!(
                    "{bc_id:?} is not a Business Center ID: expected digits"
                ))
            })?;
            let mut writer =
                ctx.record_writer(ADVERTISER_COLUMNS.iter().map(|c| c.to_string()).collect())?;
            let accounts = client
                .business_centers()
                .advertiser_records(&bc_id)
                .await
                .with_context(|| format!("listing the ad accounts of Business Center {bc_id}"))?;
            for account in accounts {
                writer.write(&account)?;
            }
            ctx.finish(writer)?;
        }
    }
    Ok(())
}

/// `{bc_info: {...}, user_role}` as one flat record.
fn flatten_bc(item: Map<String, Value>) -> Map<String, Value> {
    let mut flat = Map::new();
    for (key, value) in item {
        match (key.as_str(), value) {
            ("bc_info", Value::Object(info)) => flat.extend(info),
            (_, value) => {
                flat.insert(key, value);
            }
        }
    }
    flat
}
