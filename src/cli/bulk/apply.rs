//! `bulk plan`, `bulk apply` and `bulk undo`: a plan shown (and kept with `-o`), asked about on
//! a terminal (`--yes` in scripts), carried out with its journal, and each entity's result.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use super::{ApplyArgs, PlanArgs, UndoArgs, load, show};
use crate::api::Client;
use crate::bulk::apply::{self as run, Outcome};
use crate::bulk::journal::{Journal, JournalLine};
use crate::bulk::plan::{PLAN_VERSION, Plan};
use crate::cli::context::Context;
use crate::cli::errors::{CliError, usage};
use crate::output::{Destination, FormatChoice};

pub(super) async fn plan(ctx: &Context, args: PlanArgs) -> Result<()> {
    let (client, _) = ctx.authed_client().await?;
    let plan = load::plan_file(ctx, &client, &args.file, args.guards.guards()).await?;
    let json = serde_json::to_string_pretty(&plan)?;
    match ctx.settings.output_file() {
        Some(path) => {
            let mut file = Destination::file(path)?;
            file.write_all(json.as_bytes())?;
            file.write_all(b"\n")?;
            file.commit()?;
            write_out(ctx, &show::plan(&plan))?;
            ctx.notice(&format!(
                "plan written to {}: carry it out with `tiktok-ads bulk apply {}`",
                path.display(),
                path.display()
            ));
        }
        None if matches!(
            ctx.settings.global.format,
            FormatChoice::Json | FormatChoice::Ndjson
        ) =>
        {
            write_out(ctx, &format!("{json}\n"))?;
        }
        None => write_out(ctx, &show::plan(&plan))?,
    }
    refusals(&plan)
}

pub(super) async fn apply(ctx: &Context, args: ApplyArgs) -> Result<()> {
    let (client, _) = ctx.authed_client().await?;
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| usage(format!("{}: {e}", args.file.display())))?;
    let plan = if text.trim_start().starts_with('{') {
        let plan: Plan = serde_json::from_str(&text).map_err(|e| {
            usage(format!(
                "{} is not a plan of `bulk plan -o`: {e}",
                args.file.display()
            ))
        })?;
        if plan.tiktok_ads_plan != PLAN_VERSION {
            return Err(usage(format!(
                "{} is a plan of another version ({}): make it again with `bulk plan`",
                args.file.display(),
                plan.tiktok_ads_plan
            )));
        }
        plan
    } else {
        load::plan_file(ctx, &client, &args.file, args.guards.guards()).await?
    };
    carry_out(ctx, &client, plan, args.yes, args.dry_run).await
}

pub(super) async fn undo(ctx: &Context, args: UndoArgs) -> Result<()> {
    let (client, _) = ctx.authed_client().await?;
    let plan = load::plan_undo(ctx, &client, &args.journal).await?;
    carry_out(ctx, &client, plan, args.yes, args.dry_run).await
}

fn write_out(ctx: &Context, text: &str) -> Result<()> {
    let mut out = ctx.streams.stdout();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// Exit 6 when the plan refuses anything: its other entities are planned, but not all.
fn refusals(plan: &Plan) -> Result<()> {
    let refused = plan.summary().refused;
    if refused > 0 {
        return Err(CliError::Partial(format!(
            "{refused} entit{} refused (the reasons are above); the rest is planned",
            if refused == 1 { "y is" } else { "ies are" }
        ))
        .into());
    }
    Ok(())
}

/// Asks (on a terminal, unless `yes`) and carries out `plan` with a journal; `None` when the
/// user said no. Off a terminal without `yes` nothing is sent.
pub(crate) async fn execute(
    ctx: &Context,
    client: &Client,
    plan: &Plan,
    yes: bool,
) -> Result<Option<Vec<run::EntityResult>>> {
    let summary = plan.summary();
    if summary.changes > 0 && !yes {
        let question = format!(
            "apply {}? [y/N] ",
            show::summary(&summary).trim_start_matches("plan: ")
        );
        if !ctx.confirm(
            &question,
            "bulk changes live campaigns: add --yes to apply without a terminal, or --dry-run to see the plan only",
            "nothing was applied",
        )? {
            return Ok(None);
        }
    }
    let mut journal = FileJournal::new(journal_path()?);
    let results = run::apply(client, plan, &mut journal).await?;
    let count = |o: Outcome| results.iter().filter(|r| r.result == o).count();
    let journaled = if journal.lines > 0 {
        format!(
            "; journal: {} (undo with `tiktok-ads bulk undo {}`)",
            journal.path.display(),
            journal.path.display()
        )
    } else {
        String::new()
    };
    ctx.notice(&format!(
        "applied {}, unchanged {}, refused {}, failed {}{journaled}",
        count(Outcome::Applied),
        count(Outcome::Unchanged),
        count(Outcome::Refused),
        count(Outcome::Failed),
    ));
    Ok(Some(results))
}

/// Exit 6 when an entity was refused or failed.
pub(crate) fn not_all_applied(results: &[run::EntityResult]) -> Result<()> {
    let missed = results
        .iter()
        .filter(|r| matches!(r.result, Outcome::Refused | Outcome::Failed))
        .count();
    if missed > 0 {
        return Err(CliError::Partial(format!(
            "{missed} of {} entities were not applied (refused or failed, see each row): running \
             the same plan again does only what is left",
            results.len()
        ))
        .into());
    }
    Ok(())
}

async fn carry_out(
    ctx: &Context,
    client: &Client,
    plan: Plan,
    yes: bool,
    dry_run: bool,
) -> Result<()> {
    if dry_run {
        write_out(ctx, &show::plan(&plan))?;
        ctx.notice("--dry-run: nothing was sent");
        return refusals(&plan);
    }
    ctx.streams.write_err(&show::plan(&plan));
    let Some(results) = execute(ctx, client, &plan, yes).await? else {
        return Ok(());
    };
    let mut writer = ctx.record_writer(
        ["advertiser_id", "level", "id", "name", "result", "detail"]
            .map(String::from)
            .to_vec(),
    )?;
    for result in &results {
        if let serde_json::Value::Object(row) = serde_json::to_value(result)? {
            writer.write(&row)?;
        }
    }
    ctx.finish(writer)?;
    not_all_applied(&results)
}

/// `<state dir>/bulk/journal-<UTC time>-<pid>.jsonl`: one per run, never overwritten.
fn journal_path() -> Result<PathBuf> {
    let dir = crate::config::state_dir()?.join("bulk");
    Ok(dir.join(format!(
        "journal-{}-{}.jsonl",
        chrono::Utc::now().format("%Y%m%dT%H%M%SZ"),
        std::process::id()
    )))
}

/// The journal file, created with its first line; each line on disk before the next change.
struct FileJournal {
    path: PathBuf,
    file: Option<std::fs::File>,
    lines: usize,
}

impl FileJournal {
    fn new(path: PathBuf) -> Self {
        Self {
            path,
            file: None,
            lines: 0,
        }
    }

    fn open(path: &Path) -> Result<std::fs::File> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options
            .open(path)
            .with_context(|| format!("opening the journal {}", path.display()))
    }
}

impl Journal for FileJournal {
    fn confirmed(&mut self, line: &JournalLine) -> Result<()> {
        if self.file.is_none() {
            self.file = Some(Self::open(&self.path)?);
        }
        let Some(file) = self.file.as_mut() else {
            return Ok(());
        };
        let mut text = serde_json::to_string(line)?;
        text.push('\n');
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_data())
            .with_context(|| format!("writing the journal {}", self.path.display()))?;
        self.lines += 1;
        Ok(())
    }
}
