//! `bulk export|plan|apply|undo`: the live state as a file, the edited file planned against it
//! with TikTok's checks and the user's guards, applied in TikTok's batches with a journal, and
//! a journal undone. The work is in `crate::bulk`; this turns flags into it and results into
//! output.

pub(crate) mod apply;
mod export;
pub(crate) mod load;
pub(crate) mod show;

use anyhow::Result;
use clap::{Args, Subcommand};
use rust_decimal::Decimal;

use super::context::Context;
use super::scope::AccountScope;
use crate::bulk::plan::Guards;
use crate::watch::Level;

#[derive(Debug, Subcommand)]
pub enum BulkCommand {
    /// The live state as CSV: one row per entity with its editable fields.
    Export(ExportArgs),
    /// What a file would change, field by field, with everything TikTok would refuse.
    Plan(PlanArgs),
    /// Carries out a plan (or a CSV, planned on the fly), with a journal of what changed.
    Apply(ApplyArgs),
    /// Reverses what a journal says was changed (as a plan, shown and applied like any).
    Undo(UndoArgs),
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// campaign, adgroup or ad.
    #[arg(long, value_name = "LEVEL", value_parser = parse_level)]
    pub level: Level,
    #[command(flatten)]
    pub scope: AccountScope,
    /// Only these columns (comma-separated; the IDs are always there).
    #[arg(long, value_name = "COLUMNS", value_delimiter = ',')]
    pub columns: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct GuardArgs {
    /// Refuse any budget that moves by more than PCT percent (TikTok advises ±50).
    #[arg(long, value_name = "PCT")]
    pub max_change: Option<Decimal>,
    /// Refuse any budget above AMOUNT (the account's currency).
    #[arg(long, value_name = "AMOUNT")]
    pub max_budget: Option<Decimal>,
}

impl GuardArgs {
    fn guards(&self) -> Guards {
        Guards {
            max_change_pct: self.max_change,
            max_budget: self.max_budget,
        }
    }
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The edited CSV (from `bulk export`).
    pub file: std::path::PathBuf,
    #[command(flatten)]
    pub guards: GuardArgs,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A plan (from `bulk plan -o`), or a CSV to plan now.
    pub file: std::path::PathBuf,
    /// Apply without asking (needed when not on a terminal).
    #[arg(long)]
    pub yes: bool,
    /// Show the plan and send nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub guards: GuardArgs,
}

#[derive(Debug, Args)]
pub struct UndoArgs {
    /// A journal written by `bulk apply`.
    pub journal: std::path::PathBuf,
    /// Apply without asking (needed when not on a terminal).
    #[arg(long)]
    pub yes: bool,
    /// Show the reverse plan and send nothing.
    #[arg(long)]
    pub dry_run: bool,
}

fn parse_level(text: &str) -> Result<Level, String> {
    Level::parse(text).ok_or_else(|| format!("{text:?} is not a level: campaign, adgroup or ad"))
}

pub(crate) async fn run(ctx: &Context, command: BulkCommand) -> Result<()> {
    match command {
        BulkCommand::Export(args) => export::run(ctx, args).await,
        BulkCommand::Plan(args) => apply::plan(ctx, args).await,
        BulkCommand::Apply(args) => apply::apply(ctx, args).await,
        BulkCommand::Undo(args) => apply::undo(ctx, args).await,
    }
}
