//! `watch`: polls campaigns, ad groups and ads cheaply, compares each account with its last
//! snapshot and reports every change as an event — lines on a terminal, NDJSON when piped,
//! a hook per event, a code of its own for the events named by `--exit-on`. `--once` for cron;
//! otherwise a round every `--interval` until stopped. Delivery is at least once: a snapshot
//! is saved only after its events are out.

mod emit;
mod hook;
mod keep;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Result;
use clap::Args;

use self::emit::Printer;
use self::hook::Hook;
use self::keep::Keep;
use super::context::Context;
use super::errors::{CliError, usage};
use super::scope::AccountScope;
use super::stopped::{self, Done};
use crate::api::{ApiError, Client};
use crate::config::Environment;
use crate::watch::store::Snapshots;
use crate::watch::{Bucket, Event, EventKind, Level, Snapshot, diff, quota, reasons};

#[derive(Debug, Args)]
pub struct WatchArgs {
    #[command(flatten)]
    pub scope: AccountScope,
    /// Levels to watch (comma-separated): campaign, adgroup, ad.
    #[arg(long, value_name = "LEVELS", value_delimiter = ',',
          default_value = "campaign,adgroup,ad", value_parser = parse_level)]
    pub level: Vec<Level>,
    /// Time between two rounds (60s, 5m, 1h). Refused when the accounts cannot be polled that
    /// often within half of the app's quota.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_interval)]
    pub interval: Duration,
    /// One round: compare with the snapshot the last run saved, report, save, exit (for cron).
    #[arg(long)]
    pub once: bool,
    /// Exit with code 8 after a round with any of these events: a bucket (rejected,
    /// partly_rejected, in_review, budget, paused, finished, delivering, deleted, other) or an
    /// event (appeared, removed, operation_status, secondary_status, budget, bid, name,
    /// schedule). Comma-separated.
    #[arg(long, value_name = "EVENTS", value_delimiter = ',')]
    pub exit_on: Vec<String>,
    /// Run CMD (with `sh -c`) once per event, the event's JSON on its stdin; the token and the
    /// app secret are not in its environment. A failing hook is reported, not fatal.
    #[arg(long, value_name = "CMD")]
    pub exec: Option<String>,
    /// Keep the snapshot (entity_snapshot) and every event (entity_events) in this database
    /// instead of the state directory: sqlite:PATH or postgres://USER@HOST/DB.
    #[arg(long, value_name = "DEST")]
    pub into: Option<String>,
}

fn parse_level(text: &str) -> Result<Level, String> {
    Level::parse(text).ok_or_else(|| format!("{text:?} is not a level: campaign, adgroup or ad"))
}

fn parse_interval(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let parsed = match text.parse::<u64>() {
        Ok(seconds) => Ok(Duration::from_secs(seconds)),
        Err(_) => humantime::parse_duration(text).map_err(|e| e.to_string()),
    };
    match parsed {
        Ok(d) if d >= Duration::from_secs(1) => Ok(d),
        Ok(_) => Err("the interval is at least 1s".into()),
        Err(e) => Err(format!(
            "{text:?} is not a duration such as 60s, 5m or 1h: {e}"
        )),
    }
}

/// What `--exit-on` names.
struct ExitOn {
    words: Vec<String>,
}

impl ExitOn {
    fn parse(words: &[String]) -> Result<Self> {
        let words: Vec<String> = words
            .iter()
            .map(|w| w.trim().to_ascii_lowercase().replace('-', "_"))
            .filter(|w| !w.is_empty())
            .collect();
        if let Some(unknown) = words
            .iter()
            .find(|w| Bucket::parse(w).is_none() && EventKind::parse(w).is_none())
        {
            let buckets: Vec<&str> = Bucket::ALL.iter().map(|b| b.name()).collect();
            let kinds: Vec<&str> = EventKind::ALL.iter().map(|k| k.name()).collect();
            return Err(usage(format!(
                "--exit-on {unknown:?} is neither a bucket ({}) nor an event ({})",
                buckets.join(", "),
                kinds.join(", ")
            )));
        }
        Ok(Self { words })
    }

    /// Whether the event is named, by its bucket or its kind.
    fn matches(&self, event: &Event) -> bool {
        self.words
            .iter()
            .any(|w| event.event.name() == w || event.bucket.is_some_and(|b| b.name() == w))
    }
}

/// One account's round.
struct AccountRound {
    events: Vec<Event>,
    counts: BTreeMap<Level, usize>,
    has_secondary_status: bool,
}

pub(crate) async fn run(ctx: &Context, args: WatchArgs) -> Result<()> {
    let exit_on = ExitOn::parse(&args.exit_on)?;
    let into = super::scope::database(args.into.as_deref())?;
    if ctx.settings.output_file().is_some() {
        // A file written whole at the end would hold nothing until the watch stops.
        return Err(usage(
            "watch prints each event as it happens: append them with `>> events.ndjson`, or              keep them in a database with --into, instead of -o",
        ));
    }
    let printer = Printer::new(&ctx.streams, ctx.settings.global.format)?;
    let mut levels = args.level.clone();
    levels.sort();
    levels.dedup();
    let advertisers = args.scope.advertisers(ctx).await?;
    let (client, _) = ctx.authed_client().await?;
    let limits = ctx.settings.limits()?;
    let mut counts: Vec<Option<BTreeMap<Level, usize>>> = vec![None; advertisers.len()];
    let requests = quota::requests_per_round(&levels, &counts);
    let shortest = quota::shortest_for(&requests, &limits);
    let level_names: Vec<&str> = levels.iter().map(|l| l.name()).collect();
    ctx.notice(&format!(
        "watching {} ad account{} ({}): at least {} requests a round, one per 1,000 entities \
         per level and account",
        advertisers.len(),
        if advertisers.len() == 1 { "" } else { "s" },
        level_names.join(", "),
        requests.values().sum::<u64>()
    ));
    if !args.once && args.interval < shortest {
        return Err(usage(format!(
            "--interval {} is too short for {} ad account{}: a round needs at least {} requests \
             on each list endpoint, and a watch keeps to half of the app's quota ({}) so that \
             reports beside it keep theirs; the shortest interval that fits is {}",
            humantime::format_duration(args.interval),
            advertisers.len(),
            if advertisers.len() == 1 { "" } else { "s" },
            requests.values().max().copied().unwrap_or(1),
            limits.for_path(Level::Ad.resource().get_path),
            humantime::format_duration(round_up(shortest)),
        )));
    }
    let sandbox = ctx.settings.environment == Environment::Sandbox;
    if sandbox {
        ctx.notice(SANDBOX_NOTICE);
    }
    let keep = Keep::new(
        Snapshots::new(super::scope::state_subdir(ctx, "watch")?),
        into,
    );
    let hook = args.exec.clone().map(Hook::new);
    let rounds = Arc::new(AtomicU64::new(0));
    stopped::record(Done::Watching(rounds.clone()));
    let mut no_status_said = sandbox;
    let mut cost_checked = false;
    let mut alerted = 0usize;
    loop {
        let started = Instant::now();
        let mut failures: Vec<(String, anyhow::Error)> = Vec::new();
        let mut events_seen = 0;
        for (i, advertiser) in advertisers.iter().enumerate() {
            let round = watch_account(
                ctx,
                &client,
                &keep,
                advertiser,
                &levels,
                &printer,
                hook.as_ref(),
            )
            .await;
            match round {
                Ok(round) => {
                    events_seen += round.events.len();
                    alerted += round.events.iter().filter(|e| exit_on.matches(e)).count();
                    let any = round.counts.values().any(|n| *n > 0);
                    if any && !round.has_secondary_status && !no_status_said {
                        no_status_said = true;
                        ctx.notice(SANDBOX_NOTICE);
                    }
                    counts[i] = Some(round.counts);
                }
                Err(e) if is_auth(&e) => return Err(e),
                Err(e) => {
                    let again = if args.once {
                        ""
                    } else {
                        " (tried again next round)"
                    };
                    ctx.say(&format!("ad account {advertiser}: {e:#}{again}"));
                    failures.push((advertiser.clone(), e));
                }
            }
        }
        let done = rounds.fetch_add(1, Ordering::Relaxed) + 1;
        if args.once {
            return finish_once(&advertisers, failures, alerted, &exit_on);
        }
        if alerted > 0 {
            return Err(events_error(alerted, &exit_on));
        }
        if !cost_checked {
            cost_checked = true;
            let needed = quota::requests_per_round(&levels, &counts);
            let fits = quota::shortest_for(&needed, &limits);
            if args.interval < fits {
                ctx.say(&format!(
                    "a round needs {} requests: at --interval {} a watch would take more than \
                     half of the app's quota, so rounds will take longer (the shortest interval \
                     that fits is {})",
                    needed.values().sum::<u64>(),
                    humantime::format_duration(args.interval),
                    humantime::format_duration(round_up(fits))
                ));
            }
        }
        let wait = args.interval.saturating_sub(started.elapsed());
        let next = chrono::Local::now()
            + chrono::Duration::from_std(wait).unwrap_or_else(|_| chrono::Duration::zero());
        let failing = if failures.is_empty() {
            String::new()
        } else {
            format!(", {} account(s) failing", failures.len())
        };
        ctx.notice(&format!(
            "round {done}: {events_seen} event{}{failing} · next at {}",
            if events_seen == 1 { "" } else { "s" },
            next.format("%H:%M:%S")
        ));
        tokio::time::sleep(wait).await;
    }
}

const SANDBOX_NOTICE: &str = "TikTok sends no secondary_status here (the sandbox does not): only \
     changes of on/off (operation_status), names, budgets, bids and schedules can be seen, not \
     reviews or delivery";

/// Polls one account, compares, reports, runs the hooks, then saves — with the account's lock
/// held throughout.
async fn watch_account(
    ctx: &Context,
    client: &Client,
    keep: &Keep,
    advertiser: &str,
    levels: &[Level],
    printer: &Printer,
    hook: Option<&Hook>,
) -> Result<AccountRound> {
    let mut held = keep.hold(advertiser).await?;
    let snapshot = Snapshot::take(client, advertiser, levels).await?;
    let counts = snapshot.counts();
    let has_secondary_status = snapshot.has_secondary_status();
    let Some(previous) = held.previous.take() else {
        held.save(&snapshot, &[]).await?;
        ctx.notice(&format!(
            "ad account {advertiser}: first run, baseline recorded ({}) in {}; changes are \
             reported from the next run",
            describe(&counts),
            keep.shown()
        ));
        return Ok(AccountRound {
            events: Vec::new(),
            counts,
            has_secondary_status,
        });
    };
    let new_levels: Vec<&str> = levels
        .iter()
        .filter(|l| !previous.levels.contains_key(l))
        .map(|l| l.name())
        .collect();
    if !new_levels.is_empty() {
        ctx.notice(&format!(
            "ad account {advertiser}: {} watched for the first time: baseline recorded",
            new_levels.join(", ")
        ));
    }
    let mut events = diff::diff(advertiser, &previous, &snapshot);
    if let Err(e) = reasons::attach(client, advertiser, &mut events).await {
        if e.is_auth() {
            return Err(e.into());
        }
        ctx.say(&format!(
            "ad account {advertiser}: the reasons of a rejection could not be read ({e}); the \
             events are reported without them"
        ));
    }
    printer.print(&events)?;
    if let Some(hook) = hook {
        for event in &events {
            let ran = hook.run(event).await;
            if !ran.output.trim().is_empty() {
                ctx.say(ran.output.trim_end());
            }
            if let Some(failure) = ran.failure {
                ctx.say(&format!(
                    "--exec for {} {} {} failed: {failure}",
                    event.level.name(),
                    event.id,
                    event.event.name()
                ));
            }
        }
    }
    // Levels not polled this time keep their last snapshot.
    let mut kept = snapshot;
    for (level, entities) in previous.levels {
        kept.levels.entry(level).or_insert(entities);
    }
    held.save(&kept, &events).await?;
    Ok(AccountRound {
        events,
        counts,
        has_secondary_status,
    })
}

fn describe(counts: &BTreeMap<Level, usize>) -> String {
    counts
        .iter()
        .map(|(level, n)| {
            let noun = match level {
                Level::Campaign => "campaign",
                Level::Adgroup => "ad group",
                Level::Ad => "ad",
            };
            format!("{n} {noun}{}", if *n == 1 { "" } else { "s" })
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn is_auth(error: &anyhow::Error) -> bool {
    error
        .chain()
        .any(|c| c.downcast_ref::<ApiError>().is_some_and(ApiError::is_auth))
}

fn round_up(d: Duration) -> Duration {
    Duration::from_secs(d.as_secs() + u64::from(d.subsec_nanos() > 0))
}

fn events_error(alerted: usize, exit_on: &ExitOn) -> anyhow::Error {
    CliError::EventsSeen(format!(
        "{alerted} event{} matched --exit-on {}",
        if alerted == 1 { "" } else { "s" },
        exit_on.words.join(",")
    ))
    .into()
}

/// The end of a `--once` run: accounts that failed make it partial (or fail it, when all
/// did); otherwise the events named by `--exit-on` give their code.
fn finish_once(
    advertisers: &[String],
    mut failures: Vec<(String, anyhow::Error)>,
    alerted: usize,
    exit_on: &ExitOn,
) -> Result<()> {
    if failures.len() == advertisers.len() && !failures.is_empty() {
        return Err(failures.swap_remove(0).1);
    }
    if !failures.is_empty() {
        let names: Vec<&str> = failures.iter().map(|(a, _)| a.as_str()).collect();
        return Err(CliError::Partial(format!(
            "{} of {} ad accounts could not be watched ({}): their snapshots are unchanged, so \
             the next run reports their changes",
            failures.len(),
            advertisers.len(),
            names.join(", ")
        ))
        .into());
    }
    if alerted > 0 {
        return Err(events_error(alerted, exit_on));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_read_as_people_write_them() {
        assert_eq!(parse_interval("60s"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_interval("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_interval("5m"), Ok(Duration::from_secs(300)));
        assert!(parse_interval("0s").is_err());
        assert!(parse_interval("soon").is_err());
    }

    #[test]
    fn exit_on_takes_buckets_and_event_kinds_only() {
        let exit_on = ExitOn::parse(&["Rejected".into(), "budget".into()]).unwrap();
        assert_eq!(exit_on.words, ["rejected", "budget"]);
        let error = ExitOn::parse(&["rejection".into()]).err().unwrap();
        assert!(error.to_string().contains("neither a bucket"), "{error}");
    }
}
