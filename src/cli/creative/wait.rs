//! `creative wait`: until TikTok has processed videos, with progress on a terminal; a row per
//! video says where it stands.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Result;
use serde_json::{Map, Value, json};

use super::{WaitArgs, WaitingArgs};
use crate::api::Client;
use crate::cli::context::Context;
use crate::cli::errors::CliError;
use crate::creative::wait::{VideoState, WaitOptions, wait_until_ready};

const COLUMNS: &[&str] = &[
    "video_id",
    "state",
    "duration",
    "width",
    "height",
    "size",
    "file_name",
];

/// What to do about a video that is not ready.
pub(crate) fn advice(state: &VideoState, id: &str) -> String {
    match state {
        VideoState::Ready(_) => "ready".into(),
        VideoState::Failed => {
            "TikTok could not process the video (transcoding failed): check that it plays, \
             re-encode it (MP4/H.264), then upload it again"
                .into()
        }
        VideoState::Processing => format!(
            "still processing at the end of the wait: check later with `tiktok-ads creative wait {id}`"
        ),
        VideoState::NotListed => format!(
            "TikTok does not list it as usable: it may still be taking it in, may have failed to \
             process it, or the ID is not of this ad account (check later with `tiktok-ads \
             creative wait {id}`)"
        ),
    }
}

/// Waits for `ids` of `advertiser`, showing how many are ready on a terminal.
pub(super) async fn wait_with_progress(
    ctx: &Context,
    client: &Client,
    advertiser: &str,
    ids: &[String],
    waiting: &WaitingArgs,
) -> Result<BTreeMap<String, VideoState>> {
    let bar = ctx.progress();
    let started = std::time::Instant::now();
    let on_check = |watch: &crate::creative::wait::Watch| {
        let (ready, total) = watch.ready_count();
        bar.set_message(format!(
            "waiting for TikTok to process videos of ad account {advertiser}: {ready} of {total} \
             ready · {} s",
            started.elapsed().as_secs()
        ));
    };
    let options = WaitOptions {
        poll_first: Duration::from_millis(waiting.poll_ms),
        timeout: Duration::from_secs(waiting.wait_timeout),
    };
    let states = wait_until_ready(client, advertiser, ids, &options, &on_check).await?;
    bar.finish_and_clear();
    Ok(states)
}

pub(super) async fn run(ctx: &Context, args: WaitArgs) -> Result<()> {
    let advertiser = ctx.settings.advertiser_id()?;
    let (client, _) = ctx.authed_client().await?;
    let states = wait_with_progress(ctx, &client, &advertiser, &args.ids, &args.waiting).await?;
    let mut writer = ctx.record_writer(COLUMNS.iter().map(|c| c.to_string()).collect())?;
    let mut not_ready = Vec::new();
    for id in &args.ids {
        let state = states.get(id).cloned().unwrap_or(VideoState::NotListed);
        let mut row = Map::new();
        row.insert("video_id".into(), json!(id));
        row.insert("state".into(), json!(state.word()));
        if let VideoState::Ready(item) = &state {
            for field in &COLUMNS[2..] {
                row.insert(
                    field.to_string(),
                    item.get(*field).cloned().unwrap_or(Value::Null),
                );
            }
        } else {
            not_ready.push(format!("{id}: {}", advice(&state, id)));
        }
        writer.write(&row)?;
    }
    ctx.finish(writer)?;
    if not_ready.is_empty() {
        Ok(())
    } else {
        Err(CliError::Partial(not_ready.join("\n")).into())
    }
}
