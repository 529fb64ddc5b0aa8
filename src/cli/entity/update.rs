//! `update`: read the object, send only what changes, show before → after.

use std::io::Write;

use anyhow::Result;
use serde_json::{Map, Value, json};

use super::{Entity, account_currency, check_ids};
use crate::api::Client;
use crate::cli::body::{self, BodyArgs};
use crate::cli::context::Context;
use crate::cli::errors::usage;
use crate::output::Format;

/// What an update changes, after comparing with the current object.
pub(crate) struct Update {
    /// The fields that differ from the current object (only these are sent).
    pub changes: Map<String, Value>,
    pub current: Map<String, Value>,
}

/// Reads the current object and keeps only the fields that change.
pub(super) async fn prepare_update(
    client: &Client,
    entity: &Entity,
    advertiser_id: &str,
    id: &str,
    wanted: Map<String, Value>,
) -> Result<Update> {
    let current = client
        .entities(entity.resource)
        .get(advertiser_id, id)
        .await?;
    let changes = wanted
        .into_iter()
        .filter(|(k, v)| current.get(k) != Some(v) && !same_number(current.get(k), v))
        .collect();
    Ok(Update { changes, current })
}

fn same_number(a: Option<&Value>, b: &Value) -> bool {
    matches!((a.and_then(Value::as_f64), b.as_f64()), (Some(x), Some(y)) if x == y)
}

/// Prints `field: before → after` lines (money with the account currency).
pub(super) fn print_diff(ctx: &Context, update: &Update, currency: Option<&str>) {
    for (key, after) in &update.changes {
        let before = update.current.get(key).cloned().unwrap_or(Value::Null);
        let money = matches!(
            key.as_str(),
            "budget" | "bid_price" | "conversion_bid_price" | "roas_bid"
        );
        let unit = match (money, currency) {
            (true, Some(c)) => format!(" {c}"),
            _ => String::new(),
        };
        ctx.notice(&format!(
            "  {key}: {}{unit} → {}{unit}",
            crate::output::records::cell(Some(&before)),
            crate::output::records::cell(Some(after))
        ));
    }
}

/// What the user asked an update to do.
pub(crate) struct UpdateRequest<'a> {
    pub id: &'a str,
    pub body: &'a BodyArgs,
    /// `--diff`: show before → after.
    pub diff: bool,
    /// The fields and values given as flags (they win over `--from-file`).
    pub flags: Map<String, Value>,
}

/// Shared update flow: read, diff, validate, show or send, print the ID or object.
pub(crate) async fn update(
    ctx: &Context,
    entity: &Entity,
    request: UpdateRequest<'_>,
    validate: impl Fn(&Map<String, Value>, Option<&Map<String, Value>>, Option<&str>) -> Vec<String>,
    build_body: impl Fn(&str, &Update) -> Value,
) -> Result<()> {
    let UpdateRequest {
        id,
        body: args,
        diff,
        flags,
    } = request;
    let mut wanted = args.load(&ctx.streams)?;
    body::overlay(&mut wanted, flags);
    // The IDs say which object; they are not changes.
    for key in ["advertiser_id", entity.resource.id_field] {
        wanted.remove(key);
    }
    check_ids(&[id.to_string()])?;
    let advertiser_id = ctx.settings.advertiser_id()?;
    let what = format!("{} update {id}", entity.command);
    if wanted.is_empty() {
        return Err(usage(format!(
            "{what}: no field to change (see --help, or --from-file)"
        )));
    }
    body::refuse_problems(&what, validate(&wanted, None, None))?;
    let (client, _) = ctx.authed_client().await?;
    let update = prepare_update(&client, entity, &advertiser_id, id, wanted).await?;
    if update.changes.is_empty() {
        ctx.notice(&format!(
            "{} {id} already has these values: nothing to change.",
            entity.resource.noun
        ));
        return Ok(());
    }
    let money_changes = update
        .changes
        .keys()
        .any(|k| k.contains("budget") || k.contains("bid"));
    let currency = if money_changes {
        account_currency(ctx, &client, &advertiser_id).await?
    } else {
        None
    };
    body::refuse_problems(
        &what,
        validate(&update.changes, Some(&update.current), currency.as_deref()),
    )?;
    let body = build_body(&advertiser_id, &update);
    if diff || args.dry_run || ctx.settings.global.verbose > 0 {
        ctx.notice(&format!("{} {id}:", entity.resource.noun));
        print_diff(ctx, &update, currency.as_deref());
    }
    if args.dry_run {
        return body::print_dry_run(ctx, &body);
    }
    let updated = client.entities(entity.resource).update(&body).await?;
    if !(diff || ctx.settings.global.verbose > 0) {
        ctx.notice(&format!("Updated {} {id}:", entity.resource.noun));
        print_diff(ctx, &update, currency.as_deref());
    }
    if matches!(ctx.format()?, Format::Json | Format::Ndjson) {
        let mut out = ctx.destination()?;
        serde_json::to_writer(&mut out, &updated)?;
        writeln!(out)?;
        return out.commit();
    }
    let mut out = ctx.destination()?;
    writeln!(out, "{id}")?;
    out.commit()
}

/// The default update body: the IDs plus the changed fields.
pub(crate) fn plain_update_body(entity: &'static Entity) -> impl Fn(&str, &Update) -> Value {
    move |advertiser_id, update| {
        let mut body = Map::new();
        body.insert("advertiser_id".into(), json!(advertiser_id));
        if let Some(id) = update.current.get(entity.resource.id_field) {
            body.insert(entity.resource.id_field.into(), id.clone());
        }
        for (k, v) in &update.changes {
            body.insert(k.clone(), v.clone());
        }
        Value::Object(body)
    }
}
