//! The commands campaigns, ad groups and ads share: list, get, create, update, enable,
//! disable, delete. Each entity module supplies its create/update flags and flows to
//! [`run`]; one file per command here.

mod args;
mod create;
mod get;
mod list;
mod status;
mod update;

use anyhow::Result;
use clap::{Args, Subcommand};
use serde_json::Value;

use super::context::Context;
use super::errors::usage;
use crate::api::entity::Resource;
use crate::api::{Client, ids};

pub(crate) use args::{BudgetMode, GetArgs, ListArgs, StatusArgs, StatusFilter};
pub(crate) use create::{create, new_body};
pub(crate) use get::get;
pub(crate) use list::list;
pub(crate) use status::set_status;
pub(crate) use update::{Update, UpdateRequest, plain_update_body, update};

/// `campaign|adgroup|ad <command>`; `C` and `U` are the entity's create and update flags.
#[derive(Debug, Subcommand)]
pub enum EntityCommand<C: Args, U: Args> {
    /// List (all pages, streamed as they arrive).
    List(ListArgs),
    /// Show one by ID.
    Get(GetArgs),
    /// Create one; prints the new ID.
    Create(C),
    /// Change named fields of one; sends only what changes.
    Update(U),
    /// Switch on (in batches of 20).
    Enable(StatusArgs),
    /// Switch off (in batches of 20).
    Disable(StatusArgs),
    /// Delete for good (asks first on a terminal; needs --yes otherwise).
    Delete(StatusArgs),
}

/// How one entity kind plugs into the shared commands.
pub(crate) struct Entity {
    pub resource: &'static Resource,
    /// `campaign`, `adgroup`, `ad`: the command name, for messages.
    pub command: &'static str,
    /// The fields TikTok's objects of this kind have (`--fields` is checked against them).
    pub known_fields: &'static [&'static str],
    pub default_columns: &'static [&'static str],
    /// Whether `--objective` applies.
    pub objective_filter: bool,
    /// Which parent filters apply: `--campaign` (ad groups, ads), `--adgroup` (ads).
    pub parent_filters: &'static [&'static str],
}

/// Runs any entity subcommand: the shared ones here, create and update with the entity
/// module's own flows.
pub(crate) async fn run<C: Args, U: Args>(
    ctx: &Context,
    entity: &'static Entity,
    command: EntityCommand<C, U>,
    create: impl AsyncFnOnce(&Context, C) -> Result<()>,
    update: impl AsyncFnOnce(&Context, U) -> Result<()>,
) -> Result<()> {
    match command {
        EntityCommand::List(args) => list(ctx, entity, args).await,
        EntityCommand::Get(args) => get(ctx, entity, args).await,
        EntityCommand::Enable(args) => set_status(ctx, entity, args, "ENABLE").await,
        EntityCommand::Disable(args) => set_status(ctx, entity, args, "DISABLE").await,
        EntityCommand::Delete(args) => set_status(ctx, entity, args, "DELETE").await,
        EntityCommand::Create(args) => create(ctx, args).await,
        EntityCommand::Update(args) => update(ctx, args).await,
    }
}

/// The columns `--fields` chooses (checked against the object's fields before any request),
/// else the defaults.
fn chosen_columns(entity: &Entity, fields: &[String]) -> Result<Vec<String>> {
    let chosen: Vec<String> = fields
        .iter()
        .map(|f| f.trim().to_string())
        .filter(|f| !f.is_empty())
        .collect();
    let problems: Vec<String> = chosen
        .iter()
        .filter(|f| *f != "currency" && !entity.known_fields.contains(&f.as_str()))
        .map(|f| {
            let hint = crate::catalog::did_you_mean(f, entity.known_fields.iter().copied())
                .map_or(String::new(), |s| format!(" (did you mean {s}?)"));
            format!("{f:?}{hint}")
        })
        .collect();
    if !problems.is_empty() {
        return Err(super::errors::usage(format!(
            "--fields: {} has no field {}; known: {}",
            entity.command,
            problems.join(", "),
            entity.known_fields.join(",")
        )));
    }
    Ok(if chosen.is_empty() {
        entity
            .default_columns
            .iter()
            .map(|s| s.to_string())
            .collect()
    } else {
        chosen
    })
}

/// The account's currency (for budget columns and messages); `None`, with a note, if it cannot
/// be read. A token TikTok refuses is the command's error, said as such (not as a note before
/// the same refusal again).
pub(crate) async fn account_currency(
    ctx: &Context,
    client: &Client,
    advertiser_id: &str,
) -> Result<Option<String>> {
    match client
        .advertisers()
        .info(&[advertiser_id.to_string()], &["advertiser_id", "currency"])
        .await
    {
        Ok(list) => Ok(list
            .first()
            .and_then(|a| a.get("currency"))
            .and_then(Value::as_str)
            .map(str::to_string)),
        Err(e) if e.is_auth() => Err(e.into()),
        Err(e) => {
            ctx.notice(&format!("note: could not read the account currency ({e})"));
            Ok(None)
        }
    }
}

fn check_ids(ids: &[String]) -> Result<()> {
    let bad: Vec<&String> = ids.iter().filter(|id| !ids::is_valid_id(id)).collect();
    if bad.is_empty() {
        return Ok(());
    }
    Err(usage(format!(
        "not an ID: {} (IDs are digits, e.g. 1812345678901234)",
        bad.iter()
            .map(|s| format!("{s:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    )))
}
