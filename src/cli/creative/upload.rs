//! `creative upload`: every file to every account given, once. The files are checked before
//! anything is sent; recorded uploads the account no longer has are dropped and sent again;
//! uploads run a few at a time; one row per file and account says what became of it.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Result;
use futures_util::StreamExt;
use serde_json::{Map, Value, json};

use super::UploadArgs;
use super::files::{advertisers, inspect, jobs, records};
use super::wait::{advice, wait_with_progress};
use crate::cli::context::Context;
use crate::cli::errors::CliError;
use crate::cli::stopped::{self, Done};
use crate::creative::library::drop_missing;
use crate::creative::record::Records;
use crate::creative::upload::{Job, Outcome, UploadError, Uploader, refusal_hint};
use crate::creative::wait::VideoState;

pub(super) const COLUMNS: &[&str] = &[
    "path",
    "kind",
    "advertiser_id",
    "id",
    "md5",
    "size",
    "status",
];

/// An upload's failure for the exit code: TikTok's error as itself (its code decides), a file
/// problem as a usage error.
pub(super) fn upload_error(error: UploadError) -> anyhow::Error {
    match error {
        UploadError::Api(e) => match refusal_hint(&e) {
            Some(hint) => anyhow::Error::new(e).context(hint),
            None => e.into(),
        },
        UploadError::Local(e) => e,
        other => crate::cli::errors::usage(other.to_string()),
    }
}

pub(super) async fn run(ctx: &Context, args: UploadArgs) -> Result<()> {
    let advertisers = advertisers(ctx)?;
    let bar = ctx.progress();
    bar.set_message("reading the files");
    let media = inspect(args.paths.clone(), args.recursive).await?;
    let jobs = jobs(&media, &advertisers, &args.name)?;
    let records = records(ctx)?;
    if args.dry_run {
        bar.finish_and_clear();
        return dry_run(ctx, &jobs, &records, args.force);
    }
    let (client, _) = ctx.authed_client().await?;
    if !args.force {
        for advertiser in &advertisers {
            let md5s: Vec<String> = media.iter().map(|m| m.md5.clone()).collect();
            let gone = drop_missing(&client, &records, advertiser, &md5s).await?;
            if !gone.is_empty() {
                ctx.notice(&format!(
                    "{} recorded upload{} no longer in the library of ad account {advertiser}: \
                     uploading {} again",
                    gone.len(),
                    if gone.len() == 1 { " is" } else { "s are" },
                    if gone.len() == 1 { "it" } else { "them" }
                ));
            }
        }
    }
    let progress = Tally::new(&jobs, bar.clone());
    let on_progress = |job: &Job, held: u64| progress.update(job, held);
    let uploader = Uploader::new(&client, &records, args.force, &on_progress);
    let mut results: Vec<(Job, Result<Outcome, UploadError>)> = Vec::with_capacity(jobs.len());
    let mut writer = (!args.wait)
        .then(|| ctx.record_writer(COLUMNS.iter().map(|c| c.to_string()).collect()))
        .transpose()?;
    // After the writer: a stop says what was uploaded (and kept), not only rows written.
    let uploaded = std::sync::Arc::new(AtomicU64::new(0));
    stopped::record(Done::Uploads(uploaded.clone()));
    let mut runs = futures_util::stream::iter(jobs.iter().cloned())
        .map(|job| {
            let uploader = &uploader;
            async move {
                let outcome = uploader.upload(&job).await;
                (job, outcome)
            }
        })
        .buffered(usize::from(args.jobs));
    while let Some((job, outcome)) = runs.next().await {
        progress.done(&job);
        if outcome.as_ref().is_ok_and(|o| o.sent) {
            uploaded.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(writer) = writer.as_mut() {
            writer.write(&row(&job, &outcome, None))?;
            writer.flush()?;
        }
        results.push((job, outcome));
    }
    drop(runs);
    bar.finish_and_clear();
    let states = if args.wait {
        wait_for_videos(ctx, &client, &records, &results, &args.waiting).await?
    } else {
        HashMap::new()
    };
    let mut writer = match writer {
        Some(writer) => writer,
        None => {
            let mut writer = ctx.record_writer(COLUMNS.iter().map(|c| c.to_string()).collect())?;
            for (job, outcome) in &results {
                let state = outcome
                    .as_ref()
                    .ok()
                    .and_then(|o| states.get(&(job.advertiser.clone(), o.id.clone())));
                writer.write(&row(job, outcome, state))?;
            }
            writer
        }
    };
    writer.flush()?;
    ctx.finish(writer)?;
    conclude(results, &states)
}

/// What the run comes to: fine, a partial failure (exit 6), or — when nothing succeeded — the
/// first failure itself, whose exit code says what kind it is.
fn conclude(
    results: Vec<(Job, Result<Outcome, UploadError>)>,
    states: &HashMap<(String, String), VideoState>,
) -> Result<()> {
    let unready = states
        .values()
        .filter(|s| !matches!(s, VideoState::Ready(_)))
        .count();
    let total = results.len();
    let mut failures: Vec<(Job, UploadError)> = results
        .into_iter()
        .filter_map(|(job, outcome)| outcome.err().map(|e| (job, e)))
        .collect();
    if failures.len() == total && total > 0 {
        let (job, error) = failures.remove(0);
        let path = job.media.path.display().to_string();
        return Err(upload_error(error).context(format!(
            "{path} was not uploaded to ad account {}{}",
            job.advertiser,
            if total > 1 {
                " (nor was any other file: see the rows above)"
            } else {
                ""
            }
        )));
    }
    if failures.is_empty() && unready == 0 {
        return Ok(());
    }
    Err(CliError::Partial(format!(
        "{} of {total} uploads failed{}; the rows say which and why (a rerun skips what was \
         uploaded)",
        failures.len(),
        if unready > 0 {
            format!(", {unready} video(s) not ready")
        } else {
            String::new()
        }
    ))
    .into())
}

/// Waits for every video uploaded (or already there) until TikTok has processed it; a video
/// that failed processing is dropped from the record, so that a rerun uploads it again.
async fn wait_for_videos(
    ctx: &Context,
    client: &crate::api::Client,
    records: &Records,
    results: &[(Job, Result<Outcome, UploadError>)],
    waiting: &super::WaitingArgs,
) -> Result<HashMap<(String, String), VideoState>> {
    let mut by_account: BTreeMap<&str, Vec<(String, String)>> = BTreeMap::new();
    for (job, outcome) in results {
        if let Ok(outcome) = outcome
            && job.media.kind == crate::api::file::MediaKind::Video
        {
            by_account
                .entry(&job.advertiser)
                .or_default()
                .push((outcome.id.clone(), job.media.md5.clone()));
        }
    }
    let mut all = HashMap::new();
    for (advertiser, videos) in by_account {
        let ids: Vec<String> = videos.iter().map(|(id, _)| id.clone()).collect();
        let states = wait_with_progress(ctx, client, advertiser, &ids, waiting).await?;
        let failed: Vec<String> = videos
            .iter()
            .filter(|(id, _)| matches!(states.get(id), Some(VideoState::Failed)))
            .map(|(_, md5)| md5.clone())
            .collect();
        if !failed.is_empty() {
            records.forget(advertiser, &failed)?;
        }
        all.extend(
            states
                .into_iter()
                .map(|(id, state)| ((advertiser.to_string(), id), state)),
        );
    }
    Ok(all)
}

/// The row of one file and account.
fn row(
    job: &Job,
    outcome: &Result<Outcome, UploadError>,
    state: Option<&VideoState>,
) -> Map<String, Value> {
    let (id, status) = match outcome {
        Ok(o) => {
            let status = match state {
                Some(VideoState::Ready(_)) | None => if o.sent {
                    "uploaded"
                } else {
                    "already uploaded"
                }
                .to_string(),
                Some(other) => format!("failed: {}", advice(other, &o.id)),
            };
            (json!(o.id), status)
        }
        Err(e) => (Value::Null, format!("failed: {}", one_line(&e.to_string()))),
    };
    let mut row = Map::new();
    row.insert("path".into(), json!(job.media.path.display().to_string()));
    row.insert("kind".into(), json!(job.media.kind.as_str()));
    row.insert("advertiser_id".into(), json!(job.advertiser));
    row.insert("id".into(), id);
    row.insert("md5".into(), json!(job.media.md5));
    row.insert("size".into(), json!(job.media.size));
    row.insert("status".into(), json!(status));
    row
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `--dry-run`: the rows as the record says they would be; nothing sent.
fn dry_run(ctx: &Context, jobs: &[Job], records: &Records, force: bool) -> Result<()> {
    let mut writer = ctx.record_writer(COLUMNS.iter().map(|c| c.to_string()).collect())?;
    for job in jobs {
        let recorded = if force {
            None
        } else {
            records.get(&job.advertiser, &job.media.md5)?
        };
        let outcome = Ok(Outcome {
            id: recorded.as_ref().map(|e| e.id.clone()).unwrap_or_default(),
            sent: false,
        });
        let mut row = row(job, &outcome, None);
        let status = match recorded {
            Some(_) => "already uploaded (by the local record)".to_string(),
            None => format!(
                "would upload as {:?} ({})",
                job.name,
                if job.media.size > crate::creative::upload::DIRECT_MAX {
                    "in chunks"
                } else {
                    "in one request"
                }
            ),
        };
        if row.get("id") == Some(&json!("")) {
            row.insert("id".into(), Value::Null);
        }
        row.insert("status".into(), json!(status));
        writer.write(&row)?;
    }
    ctx.finish(writer)?;
    Ok(())
}

/// Files done, and the bytes TikTok holds of each file and account.
type Held = (usize, HashMap<(String, String), u64>);

/// The progress line of a run: files done, bytes TikTok holds of all.
struct Tally {
    bar: indicatif::ProgressBar,
    total_files: usize,
    total_bytes: u64,
    state: Mutex<Held>,
}

impl Tally {
    fn new(jobs: &[Job], bar: indicatif::ProgressBar) -> Self {
        Self {
            bar,
            total_files: jobs.len(),
            total_bytes: jobs.iter().map(|j| j.media.size).sum(),
            state: Mutex::new((0, HashMap::new())),
        }
    }

    fn key(job: &Job) -> (String, String) {
        (job.advertiser.clone(), job.media.md5.clone())
    }

    fn update(&self, job: &Job, held: u64) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.1.insert(Self::key(job), held);
        self.show(&state);
    }

    fn done(&self, job: &Job) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.0 += 1;
        state.1.insert(Self::key(job), job.media.size);
        self.show(&state);
    }

    fn show(&self, state: &Held) {
        let held: u64 = state.1.values().sum();
        self.bar.set_message(format!(
            "uploading: {} of {} files done · {} of {} MB",
            state.0,
            self.total_files,
            held / 1_000_000,
            self.total_bytes / 1_000_000
        ));
    }
}
