//! `--explain`: what `report run` or `report sync` would do — the request, the accounts, the
//! windows, the requests at least — said without sending anything.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use anyhow::Result;

use super::RunArgs;
use super::db_sync::{SyncArgs, blocking};
use crate::cli::context::Context;
use crate::report::columns;
use crate::report::incremental::{Synced, sync_range};
use crate::report::plan::{self, Dates, Plan};
use crate::report::split_windows;
use crate::warehouse::{self, Destination, TableShape};

/// `report run --explain`.
pub(super) fn run_plan(ctx: &Context, plan: &Plan, args: &RunArgs) -> Result<()> {
    let what = &args.report.what;
    let advertisers = if what.many_accounts() {
        Vec::new()
    } else {
        ctx.settings.advertisers_given()
    };
    let mut out = String::new();
    writeln!(out, "Plan (nothing was sent):")?;
    request(&mut out, plan, args.use_async)?;
    let accounts = if let Some(bc) = &what.bc {
        format!("every ad account of Business Center {bc} (listed at run time)")
    } else if what.all_advertisers {
        "every ad account the token reaches (listed at run time)".to_string()
    } else if advertisers.is_empty() {
        "none given (--advertiser)".to_string()
    } else {
        format!("{} ({})", advertisers.len(), advertisers.join(", "))
    };
    writeln!(out, "  advertisers  {accounts}")?;
    let windows = windows(&mut out, plan, args.use_async)?;
    writeln!(
        out,
        "  requests     at least {} report requests ({} per advertiser, one more per extra page of {} rows){}",
        windows * advertisers.len().max(1),
        windows,
        plan.spec.page_size,
        if matches!(plan.dates, Dates::Lifetime) && !args.with_account_info {
            ""
        } else {
            " + 1 /advertiser/info/ per 100 accounts"
        }
    )?;
    writeln!(
        out,
        "  pace         {} (shared by every tiktok-ads run of the app), {} in flight",
        ctx.settings
            .limits()?
            .for_path(crate::api::report::INTEGRATED_PATH),
        args.concurrency
    )?;
    let many = advertisers.len() > 1 || what.many_accounts();
    let mut columns = columns::prefix_columns(plan, many, args.with_account_info);
    columns.extend(plan.data_columns.iter().cloned());
    writeln!(out, "  columns      {}", columns.join(","))?;
    ctx.write_text(&out)
}

/// The report asked for: type and level, dimensions, metrics, filters, order.
fn request(out: &mut String, plan: &Plan, use_async: bool) -> Result<()> {
    let spec = &plan.spec;
    writeln!(
        out,
        "  report       {}{}{}",
        spec.report_type,
        spec.data_level
            .as_ref()
            .map(|l| format!(", data_level {l}"))
            .unwrap_or_default(),
        if use_async {
            ", as an asynchronous task"
        } else {
            ""
        }
    )?;
    writeln!(out, "  dimensions   {}", spec.dimensions.join(", "))?;
    writeln!(out, "  metrics      {}", spec.metrics.join(", "))?;
    if !spec.filtering.is_empty() {
        writeln!(
            out,
            "  filtering    {}",
            serde_json::to_string(&spec.filtering)?
        )?;
    }
    if let Some(order) = &spec.order_field {
        writeln!(
            out,
            "  order        {order} {}",
            spec.order_type.as_deref().unwrap_or("DESC")
        )?;
    }
    Ok(())
}

/// Each advertiser's windows (dates judged in UTC here) and the notes on its dates; how many
/// requests an advertiser takes at least.
fn windows(out: &mut String, plan: &Plan, use_async: bool) -> Result<usize> {
    let today = chrono::Utc::now().date_naive();
    let dates = plan::account_windows(plan, today).map_err(crate::cli::errors::usage)?;
    let spec = &plan.spec;
    let windows: Vec<String> = dates
        .windows
        .iter()
        .map(|w| {
            w.map(|w| w.to_string())
                .unwrap_or_else(|| "lifetime".into())
        })
        .collect();
    // Async: one task for a time breakdown (rows then written window by window), one task per
    // window for totals (so they cover the same days as the synchronous path).
    let windows = match (use_async, plan::whole_range(&dates.windows)) {
        (true, Some(range)) if spec.has_time_breakdown() => {
            vec![format!("{range} (one task, no span limit)")]
        }
        (true, ..) => windows
            .into_iter()
            .map(|w| format!("{w} (one task)"))
            .collect(),
        _ => windows,
    };
    writeln!(
        out,
        "  windows      {} per advertiser (at most {} days each; dates judged in UTC here, in each \
         account's time zone when run): {}",
        windows.len(),
        spec.max_span_days(),
        windows.join(", ")
    )?;
    for note in &dates.notes {
        writeln!(out, "  note         {note}")?;
    }
    Ok(windows.len().max(1))
}

/// `report sync --explain`: from the sync state, read without the lock and creating nothing.
pub(super) async fn sync_plan(
    ctx: &Context,
    args: &SyncArgs,
    destination: &Destination,
    plan: &Plan,
    shape: &TableShape,
) -> Result<()> {
    let synced: BTreeMap<String, Synced> = {
        let destination = destination.clone();
        let table = shape.name.clone();
        blocking(move || {
            Ok(warehouse::read_progress(&destination)?
                .into_iter()
                .filter(|p| p.table == table)
                .map(|p| (p.advertiser.clone(), p))
                .collect())
        })
        .await?
    };
    let mut out = String::new();
    writeln!(out, "Sync plan (nothing was sent):")?;
    writeln!(
        out,
        "  into         {} table {}",
        destination.shown(),
        shape.name
    )?;
    let key: Vec<&str> = shape.key.iter().map(|c| c.name.as_str()).collect();
    writeln!(out, "  key          {}", key.join(", "))?;
    writeln!(out, "  metrics      {}", plan.spec.metrics.join(", "))?;
    writeln!(
        out,
        "  deleted      {}",
        if args.exclude_deleted {
            "left out (--exclude-deleted)"
        } else {
            "included (their spend is real spend)"
        }
    )?;
    let windows = sync_accounts(&mut out, ctx, args, plan, &synced)?;
    writeln!(
        out,
        "  requests     at least {windows} report requests{} (one more per extra page of {} rows) + 1 \
         /advertiser/info/ per 100 accounts{}",
        if args.what.many_accounts() {
            " for the accounts above, plus one a window for each account not synced yet"
        } else {
            ""
        },
        plan.spec.page_size,
        if args.with_entities {
            " + the campaign, ad group and ad lists"
        } else {
            ""
        }
    )?;
    writeln!(
        out,
        "  dates        judged in UTC here; in each account's own time zone when run"
    )?;
    ctx.write_text(&out)
}

/// Per advertiser, the days a sync would pull and in how many windows; the windows in all.
/// Every account of a token or BC is listed only at run time: those synced before are in the
/// state, any other starts as a first sync.
fn sync_accounts(
    out: &mut String,
    ctx: &Context,
    args: &SyncArgs,
    plan: &Plan,
    synced: &BTreeMap<String, Synced>,
) -> Result<usize> {
    let today = chrono::Utc::now().date_naive();
    let advertisers: Vec<String> = if args.what.many_accounts() {
        let whose = match &args.what.bc {
            Some(bc) => format!("Business Center {bc}"),
            None => "the token".to_string(),
        };
        let first = sync_range(args.since, args.lookback, None, today);
        writeln!(
            out,
            "  advertisers  every ad account of {whose} (listed at run time); those synced \
             before are below, any other is a first sync{}",
            first.map_or(String::new(), |(start, end)| format!(" ({start} to {end})"))
        )?;
        synced.keys().cloned().collect()
    } else {
        ctx.settings.advertisers_given()
    };
    if advertisers.is_empty() && !args.what.many_accounts() {
        writeln!(out, "  advertisers  none given (--advertiser)")?;
    }
    let mut total = 0usize;
    for advertiser in &advertisers {
        let Some((start, end)) =
            sync_range(args.since, args.lookback, synced.get(advertiser), today)
        else {
            writeln!(out, "  {advertiser}  up to date")?;
            continue;
        };
        let windows = split_windows(start, end, plan.spec.max_span_days()).len();
        total += windows;
        let since = synced.get(advertiser).map_or_else(
            || "first sync".to_string(),
            |p| format!("synced to {}, {} days again", p.last_day, args.lookback),
        );
        let s = if windows == 1 { "" } else { "s" };
        writeln!(
            out,
            "  {advertiser}  {start} to {end} ({since}): {windows} window{s}, at least {windows} request{s}",
        )?;
    }
    Ok(total)
}
