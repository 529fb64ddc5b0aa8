//! `create`: validated, shown (`--dry-run`) or sent with TikTok's idempotency key where it
//! has one; the new ID printed alone.

use std::io::Write;

use anyhow::Result;
use serde_json::{Map, Value, json};

use super::{Entity, account_currency};
use crate::api::ApiError;
use crate::cli::body::{self, BodyArgs, Flags};
use crate::cli::context::Context;
use crate::output::Format;

/// The body of a create: `--from-file` (or `-` for stdin), the flags over it, and the
/// advertiser (`--advertiser` or the profile's) unless the body names one.
pub(crate) fn new_body(ctx: &Context, args: &BodyArgs, flags: Flags) -> Result<Map<String, Value>> {
    let mut body = args.load(&ctx.streams)?;
    body::overlay(&mut body, flags.into_map());
    body::default(
        &mut body,
        "advertiser_id",
        json!(ctx.settings.advertiser_id()?),
    );
    Ok(body)
}

/// Validates, shows (`--dry-run`) or sends a create; prints the new ID(s) or the object.
pub(crate) async fn create(
    ctx: &Context,
    entity: &Entity,
    args: &BodyArgs,
    mut body: Map<String, Value>,
    validate: impl Fn(&Map<String, Value>, Option<&str>) -> Vec<String>,
) -> Result<()> {
    let what = format!("{} create", entity.command);
    // Budgets are checked in the account's currency, read from TikTok (also for a dry run, which
    // checks everything the real command checks); every problem is listed at once.
    let currency = if body.contains_key("budget") {
        let advertiser_id = body
            .get("advertiser_id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let found = match ctx.authed_client().await {
            Ok((client, _)) => account_currency(ctx, &client, &advertiser_id).await,
            Err(e) => Err(e),
        };
        match found {
            Ok(currency) => currency,
            Err(e) => {
                body::refuse_problems(&what, validate(&body, None))?;
                if !args.dry_run {
                    return Err(e);
                }
                ctx.notice(&format!(
                    "note: the budget was not checked against the account currency's minimum, \
                     which could not be read: {e:#}"
                ));
                None
            }
        }
    } else {
        None
    };
    body::refuse_problems(&what, validate(&body, currency.as_deref()))?;
    if entity.resource.idempotent_create {
        // TikTok's idempotency key: a retry after a lost answer creates nothing twice.
        body::default(&mut body, "request_id", json!(idempotency_key()));
    }
    if args.dry_run {
        return body::print_dry_run(ctx, &Value::Object(body));
    }
    let (client, _) = ctx.authed_client().await?;
    let created = client
        .entities(entity.resource)
        .create(&Value::Object(body))
        .await
        .map_err(|e| uncertain_hint(e, entity))?;
    print_created(ctx, entity, &created)
}

fn uncertain_hint(error: ApiError, entity: &Entity) -> anyhow::Error {
    let uncertain = matches!(error, ApiError::Uncertain { .. });
    let error = anyhow::Error::new(error);
    if uncertain {
        error.context(format!(
            "the {} may have been created: check with `tiktok-ads {} list --name ...` before creating it again",
            entity.resource.noun, entity.command
        ))
    } else {
        error
    }
}

fn print_created(ctx: &Context, entity: &Entity, created: &Value) -> Result<()> {
    if matches!(ctx.format()?, Format::Json | Format::Ndjson) {
        let mut out = ctx.destination()?;
        serde_json::to_writer(&mut out, created)?;
        writeln!(out)?;
        return out.commit();
    }
    let ids: Vec<String> = match created.get(entity.resource.id_field) {
        Some(id) => vec![id_text(id)],
        None => created
            .get(entity.resource.ids_key)
            .and_then(Value::as_array)
            .map(|a| a.iter().map(id_text).collect())
            .unwrap_or_default(),
    };
    if ids.is_empty() {
        return Err(anyhow::anyhow!(
            "TikTok confirmed the {} but returned no ID: check with `tiktok-ads {} list`",
            entity.resource.noun,
            entity.command
        ));
    }
    let mut out = ctx.destination()?;
    for id in ids {
        writeln!(out, "{id}")?;
    }
    out.commit()
}

fn id_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A random 64-bit integer as a string: the form TikTok's `request_id` key takes.
fn idempotency_key() -> String {
    (rand::random::<u64>() >> 1).max(1).to_string()
}
