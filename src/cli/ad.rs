//! `ad list|get|create|update|enable|disable|delete`.

use anyhow::{Context as _, Result};
use clap::Args;
use serde_json::{Map, Value, json};

use super::body::{self, BodyArgs, Flags};
use super::context::Context;
use super::creative::{MediaRef, resolve_media};
use super::entity::{self, Entity, EntityCommand, Update};
use crate::api::ad::{self as rules, AD, PATCHABLE, READ_ONLY};
use crate::api::file::MediaKind;

pub(crate) type AdCommand = EntityCommand<CreateArgs, UpdateArgs>;

pub(crate) static ENTITY: Entity = Entity {
    resource: &AD,
    command: "ad",
    known_fields: crate::catalog::AD_FIELDS,
    default_columns: &[
        "ad_id",
        "ad_name",
        "adgroup_id",
        "campaign_id",
        "operation_status",
        "secondary_status",
        "ad_format",
        "create_time",
    ],
    objective_filter: true,
    parent_filters: &["campaign", "adgroup"],
};

/// Creative flags shared by create and update.
#[derive(Debug, Args)]
pub struct CreativeArgs {
    /// Ad name (at most 512 characters; empty = named after the ad ID).
    #[arg(long)]
    pub name: Option<String>,
    /// Ad text.
    #[arg(long)]
    pub ad_text: Option<String>,
    /// Call to action, e.g. LEARN_MORE, SHOP_NOW.
    #[arg(long)]
    pub call_to_action: Option<String>,
    /// Landing page URL.
    #[arg(long, value_name = "URL")]
    pub landing_page_url: Option<String>,
    /// Display name (customized identities).
    #[arg(long)]
    pub display_name: Option<String>,
    /// Video (uploaded beforehand).
    #[arg(long, value_name = "ID")]
    pub video_id: Option<String>,
    /// Images (uploaded beforehand), comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "IDS")]
    pub image_ids: Vec<String>,
}

impl CreativeArgs {
    fn flags(&self) -> Flags {
        Flags::default()
            .text("ad_name", &self.name)
            .text("ad_text", &self.ad_text)
            .enumeration("call_to_action", &self.call_to_action)
            .text("landing_page_url", &self.landing_page_url)
            .text("display_name", &self.display_name)
            .text("video_id", &self.video_id)
            .list("image_ids", &self.image_ids)
    }
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The ad group to create it in.
    #[arg(long, value_name = "ID")]
    pub adgroup: Option<String>,
    #[command(flatten)]
    pub creative: CreativeArgs,
    /// SINGLE_VIDEO, SINGLE_IMAGE, CAROUSEL_ADS, ... [default: SINGLE_VIDEO].
    #[arg(long)]
    pub ad_format: Option<String>,
    /// CUSTOMIZED_USER, AUTH_CODE, TT_USER or BC_AUTH_TT [default: CUSTOMIZED_USER].
    #[arg(long)]
    pub identity_type: Option<String>,
    /// The identity the ad runs as.
    #[arg(long, value_name = "ID")]
    pub identity_id: Option<String>,
    /// Create it switched off.
    #[arg(long)]
    pub disabled: bool,
    /// The video: a file (uploaded first unless the local record has it, then waited for
    /// until TikTok has processed it) or a video ID.
    #[arg(long, value_name = "PATH_OR_ID", conflicts_with = "video_id")]
    pub video: Option<String>,
    /// The cover: an image file, an image ID, or `auto` (TikTok's first suggested cover of the
    /// video).
    #[arg(
        long,
        value_name = "PATH_OR_ID|auto",
        requires = "video",
        conflicts_with = "image_ids"
    )]
    pub cover: Option<String>,
    #[command(flatten)]
    pub body: BodyArgs,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    pub id: String,
    #[command(flatten)]
    pub creative: CreativeArgs,
    /// Show before → after for the fields that change.
    #[arg(long)]
    pub diff: bool,
    #[command(flatten)]
    pub body: BodyArgs,
}

pub(crate) async fn create(ctx: &Context, args: CreateArgs) -> Result<()> {
    let flags = Flags::default().text("adgroup_id", &args.adgroup);
    let mut body = entity::new_body(ctx, &args.body, flags)?;
    let creative_flags = args
        .creative
        .flags()
        .enumeration("ad_format", &args.ad_format)
        .enumeration("identity_type", &args.identity_type)
        .text("identity_id", &args.identity_id)
        .value("operation_status", args.disabled.then(|| json!("DISABLE")))
        .into_map();
    let creatives = body.entry("creatives").or_insert_with(|| json!([{}]));
    if let Some(list) = creatives.as_array_mut() {
        if list.is_empty() {
            list.push(json!({}));
        }
        if list.len() > 1 && !creative_flags.is_empty() {
            return Err(super::errors::usage(
                "the file holds several creatives: put creative fields in the file, not in flags",
            ));
        }
        if let Some(Value::Object(first)) = list.first_mut() {
            body::overlay(first, creative_flags);
            body::default(first, "ad_format", json!("SINGLE_VIDEO"));
            body::default(first, "identity_type", json!("CUSTOMIZED_USER"));
        }
    }
    if let Some(video) = &args.video {
        let media =
            media_fields(ctx, &body, video, args.cover.as_deref(), args.body.dry_run).await?;
        if let Some(Value::Object(first)) = body
            .get_mut("creatives")
            .and_then(Value::as_array_mut)
            .and_then(|list| list.first_mut())
        {
            body::overlay(first, media);
        }
    }
    entity::create(ctx, &ENTITY, &args.body, body, |b, _| {
        rules::validate_create(b)
    })
    .await
}

/// `video_id` and `image_ids` from `--video` and `--cover`: files uploaded (or found in the
/// local record) and waited for, `auto` taken from TikTok's suggestions. A dry run sends
/// nothing and shows placeholders for what would be uploaded.
async fn media_fields(
    ctx: &Context,
    body: &Map<String, Value>,
    video: &str,
    cover: Option<&str>,
    dry_run: bool,
) -> Result<Map<String, Value>> {
    let advertiser = body
        .get("advertiser_id")
        .and_then(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .unwrap_or_default();
    let client = if dry_run {
        None
    } else {
        Some(ctx.authed_client().await?.0)
    };
    let video_id = resolve_media(
        ctx,
        client.as_ref(),
        &advertiser,
        &MediaRef::parse(video),
        MediaKind::Video,
    )
    .await?;
    let mut fields = Map::new();
    fields.insert("video_id".into(), json!(video_id));
    let cover_id = match (cover, &client) {
        (None, _) => None,
        (Some("auto"), None) => Some(format!("<TikTok's first suggested cover of {video}>")),
        (Some("auto"), Some(client)) => {
            let covers = client
                .files()
                .suggest_covers(&advertiser, &video_id)
                .await
                .with_context(|| format!("asking TikTok for covers of video {video_id}"))?;
            let first = covers.into_iter().next().ok_or_else(|| {
                anyhow::anyhow!(
                    "TikTok suggested no cover for video {video_id}: give --cover an image file or ID"
                )
            })?;
            Some(first.id)
        }
        (Some(other), client) => Some(
            resolve_media(
                ctx,
                client.as_ref(),
                &advertiser,
                &MediaRef::parse(other),
                MediaKind::Image,
            )
            .await?,
        ),
    };
    if let Some(cover_id) = cover_id {
        fields.insert("image_ids".into(), json!([cover_id]));
    }
    Ok(fields)
}

pub(crate) async fn update(ctx: &Context, args: UpdateArgs) -> Result<()> {
    entity::update(
        ctx,
        &ENTITY,
        entity::UpdateRequest {
            id: &args.id,
            body: &args.body,
            diff: args.diff,
            flags: args.creative.flags().into_map(),
        },
        rules::validate_update,
        update_body,
    )
    .await
}

/// `/ad/update/` takes creatives: only the changed fields with `patch_update` when they are all
/// patchable, otherwise the whole creative as it is now with the changes applied.
fn update_body(advertiser_id: &str, update: &Update) -> Value {
    let patchable = update
        .changes
        .keys()
        .all(|k| PATCHABLE.contains(&k.as_str()));
    let mut creative: Map<String, Value> = if patchable {
        Map::new()
    } else {
        update
            .current
            .iter()
            .filter(|(k, v)| !READ_ONLY.contains(&k.as_str()) && !v.is_null())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    creative.insert(
        "ad_id".into(),
        update.current.get("ad_id").cloned().unwrap_or(Value::Null),
    );
    for (k, v) in &update.changes {
        creative.insert(k.clone(), v.clone());
    }
    let mut body = json!({
        "advertiser_id": advertiser_id,
        "adgroup_id": update.current.get("adgroup_id").cloned().unwrap_or(Value::Null),
        "creatives": [creative],
    });
    if patchable {
        body["patch_update"] = json!(true);
    }
    body
}
