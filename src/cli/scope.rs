//! What a command covers: which ad accounts (`--advertiser`, `--all-advertisers`, `--bc`) and
//! where its local state for this environment and host lives.

use std::path::PathBuf;

use anyhow::{Context as _, Result};
use clap::Args;

use super::context::Context;

/// `--all-advertisers` and `--bc`, besides the global `--advertiser`.
#[derive(Debug, Clone, Args)]
pub struct AccountScope {
    /// Every ad account the token reaches.
    #[arg(long)]
    pub all_advertisers: bool,
    /// Every ad account of this Business Center.
    #[arg(long, value_name = "BC_ID", conflicts_with = "all_advertisers")]
    pub bc: Option<String>,
}

impl AccountScope {
    pub(crate) async fn advertisers(&self, ctx: &Context) -> Result<Vec<String>> {
        advertisers(ctx, self.all_advertisers, self.bc.as_deref()).await
    }
}

/// The IDs a run covers: `--bc`, `--all-advertisers`, else `--advertiser` (repeatable, comma
/// list), else the profile's default; each once.
pub(crate) async fn advertisers(ctx: &Context, all: bool, bc: Option<&str>) -> Result<Vec<String>> {
    let mut ids: Vec<String> = if let Some(bc_id) = bc {
        let (client, _) = ctx.authed_client().await?;
        client
            .business_centers()
            .advertiser_records(bc_id)
            .await
            .with_context(|| format!("listing the ad accounts of Business Center {bc_id}"))?
            .iter()
            .filter_map(|a| {
                a.get("advertiser_id")
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_string)
            })
            .collect()
    } else if all {
        ctx.reachable_advertisers(false)
            .await?
            .accounts
            .into_iter()
            .map(|a| a.advertiser_id)
            .collect()
    } else if ctx.settings.global.advertiser.is_empty() {
        vec![ctx.settings.advertiser_id()?]
    } else {
        ctx.settings.global.advertiser.clone()
    };
    let mut seen = std::collections::HashSet::new();
    ids.retain(|id| seen.insert(id.clone()));
    if ids.is_empty() {
        return Err(crate::cli::errors::usage(
            "no ad account: the Business Center or the token reaches none",
        ));
    }
    Ok(ids)
}

/// `<state dir>/<what>/<environment@host>/`: local state kept apart per environment and host,
/// so the sandbox, production and a local simulator never mix.
pub(crate) fn state_subdir(ctx: &Context, what: &str) -> Result<PathBuf> {
    let realm: String = ctx
        .settings
        .token_realm()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '@') {
                c
            } else {
                '_'
            }
        })
        .collect();
    Ok(crate::config::state_dir()?.join(what).join(realm))
}

/// A `--into`/`--from` database given as text, checked (`None`: not given).
pub(crate) fn database(text: Option<&str>) -> Result<Option<crate::warehouse::Destination>> {
    text.map(crate::warehouse::Destination::parse)
        .transpose()
        .map_err(crate::cli::errors::usage)
}
