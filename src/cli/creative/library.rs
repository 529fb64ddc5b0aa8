//! `creative list` (the search endpoints, every page) and `creative get` (the info endpoints,
//! in batches): TikTok's fields as they come, IDs as strings.

use anyhow::{Context as _, Result};
use futures_util::TryStreamExt;
use serde_json::{Map, Value, json};

use super::{GetArgs, ListArgs};
use crate::api::file::MediaKind;
use crate::cli::context::Context;
use crate::cli::errors::usage;

const VIDEO_COLUMNS: &[&str] = &[
    "video_id",
    "file_name",
    "duration",
    "width",
    "height",
    "size",
    "format",
    "signature",
    "material_id",
    "create_time",
];
const IMAGE_COLUMNS: &[&str] = &[
    "image_id",
    "file_name",
    "width",
    "height",
    "size",
    "format",
    "signature",
    "material_id",
    "create_time",
];

fn kind_of(word: &str) -> MediaKind {
    if word == "image" {
        MediaKind::Image
    } else {
        MediaKind::Video
    }
}

fn columns(kind: MediaKind) -> Vec<String> {
    let columns = match kind {
        MediaKind::Image => IMAGE_COLUMNS,
        MediaKind::Video => VIDEO_COLUMNS,
    };
    columns.iter().map(|c| c.to_string()).collect()
}

/// The creation day of an item (`2020-06-10T07:39:14Z`), if it has one.
fn created_on(item: &Map<String, Value>) -> Option<chrono::NaiveDate> {
    let text = item.get("create_time")?.as_str()?;
    text.get(..10)?.parse().ok()
}

pub(super) async fn list(ctx: &Context, args: ListArgs) -> Result<()> {
    let kind = kind_of(&args.kind);
    let advertiser = ctx.settings.advertiser_id()?;
    let (client, _) = ctx.authed_client().await?;
    let mut filtering = Map::new();
    if let (MediaKind::Video, Some(name)) = (kind, &args.name) {
        filtering.insert("video_name".into(), json!(name));
    }
    let mut writer = ctx.record_writer(columns(kind))?;
    let pages = client.files().search(kind, &advertiser, &filtering);
    futures_util::pin_mut!(pages);
    let wanted_name = args.name.as_deref().map(str::to_lowercase);
    while let Some(page) = pages
        .try_next()
        .await
        .with_context(|| format!("listing the {}s of ad account {advertiser}", kind.as_str()))?
    {
        for item in page.list {
            let named = wanted_name.as_ref().is_none_or(|n| {
                item.get("file_name")
                    .and_then(Value::as_str)
                    .is_some_and(|f| f.to_lowercase().contains(n))
            });
            let recent = args
                .since
                .is_none_or(|since| created_on(&item).is_none_or(|d| d >= since));
            if named && recent {
                writer.write(&item)?;
            }
        }
        writer.flush()?;
    }
    ctx.finish(writer)?;
    Ok(())
}

pub(super) async fn get(ctx: &Context, args: GetArgs) -> Result<()> {
    let kind = kind_of(&args.kind);
    if let Some(bad) = args.ids.iter().find(|id| id.trim().is_empty()) {
        return Err(usage(format!("{bad:?} is not an ID")));
    }
    let advertiser = ctx.settings.advertiser_id()?;
    let (client, _) = ctx.authed_client().await?;
    let items = match kind {
        MediaKind::Image => client.files().images(&advertiser, &args.ids).await?,
        MediaKind::Video => client.files().videos(&advertiser, &args.ids).await?,
    };
    let id_field = kind.id_field();
    let missing: Vec<&String> = args
        .ids
        .iter()
        .filter(|id| {
            !items
                .iter()
                .any(|item| item.get(id_field).and_then(Value::as_str) == Some(id.as_str()))
        })
        .collect();
    let mut writer = ctx.record_writer(columns(kind))?;
    for item in &items {
        writer.write(item)?;
    }
    ctx.finish(writer)?;
    if missing.is_empty() {
        Ok(())
    } else {
        Err(crate::cli::errors::CliError::Partial(format!(
            "not in the library of ad account {advertiser} (or, for videos, not usable yet): {}",
            missing
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .into())
    }
}
