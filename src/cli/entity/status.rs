//! `enable`, `disable`, `delete`: batches of 20, every ID's outcome reported.

use anyhow::Result;
use serde_json::{Map, Value, json};

use super::{Entity, StatusArgs, check_ids};
use crate::api::entity::{STATUS_BATCH, status_body};
use crate::cli::body;
use crate::cli::context::Context;
use crate::cli::errors::{CliError, usage};

/// `enable`, `disable`, `delete`: batches of 20, every outcome reported, partial → exit 6.
pub(crate) async fn set_status(
    ctx: &Context,
    entity: &Entity,
    args: StatusArgs,
    operation: &str,
) -> Result<()> {
    check_ids(&args.ids)?;
    let advertiser_id = ctx.settings.advertiser_id()?;
    let mut ids = args.ids.clone();
    ids.dedup();
    if args.dry_run {
        let bodies: Vec<Value> = ids
            .chunks(STATUS_BATCH)
            .map(|batch| status_body(entity.resource, &advertiser_id, batch, operation))
            .collect();
        return body::print_dry_run(ctx, &Value::Array(bodies));
    }
    if operation == "DELETE" && !args.yes && !confirm_delete(ctx, entity, &ids)? {
        ctx.notice("Nothing was deleted.");
        return Ok(());
    }
    let (client, _) = ctx.authed_client().await?;
    let id_field = entity.resource.id_field;
    let mut writer = ctx.record_writer(vec![id_field.into(), "result".into(), "message".into()])?;
    let mut failed = 0usize;
    let mut last_error = None;
    for batch in ids.chunks(STATUS_BATCH) {
        let outcome = match client
            .entities(entity.resource)
            .set_status(&advertiser_id, batch, operation)
            .await
        {
            Ok(outcome) => outcome,
            Err(e) if e.is_auth() => return Err(e.into()),
            Err(e) => {
                for id in batch {
                    writer.write(&status_row(id_field, id, "failed", &e.to_string()))?;
                }
                failed += batch.len();
                last_error = Some(e);
                continue;
            }
        };
        for id in batch {
            if let Some((_, message)) = outcome.failed.iter().find(|(f, _)| f == id) {
                writer.write(&status_row(id_field, id, "failed", message))?;
                failed += 1;
            } else if outcome.changed.contains(id) {
                writer.write(&status_row(id_field, id, "ok", operation))?;
            } else {
                writer.write(&status_row(
                    id_field,
                    id,
                    "failed",
                    "not confirmed by TikTok",
                ))?;
                failed += 1;
            }
        }
    }
    ctx.finish(writer)?;
    match (failed, last_error) {
        (0, _) => Ok(()),
        (n, Some(e)) if n == ids.len() => Err(e.into()),
        (n, _) => Err(CliError::Partial(format!(
            "{n} of {} {}(s) could not be changed (see the rows marked failed)",
            ids.len(),
            entity.resource.noun
        ))
        .into()),
    }
}

fn status_row(id_field: &str, id: &str, result: &str, message: &str) -> Map<String, Value> {
    let mut row = Map::new();
    row.insert(id_field.into(), json!(id));
    row.insert("result".into(), json!(result));
    row.insert("message".into(), json!(message));
    row
}

/// Asks on the terminal; true when the user said yes. Off a terminal deleting needs `--yes`.
fn confirm_delete(ctx: &Context, entity: &Entity, ids: &[String]) -> Result<bool> {
    let noun = entity.resource.noun;
    let question = format!(
        "Delete {} {noun}(s) ({}) in ad account {}? This cannot be undone. [y/N] ",
        ids.len(),
        ids.join(", "),
        ctx.settings.advertiser_id()?
    );
    match ctx.ask(&question)? {
        Some(answer) => Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES")),
        None => Err(usage(format!(
            "refusing to delete {} {noun}(s) without confirmation: pass --yes (deleting cannot be undone)",
            ids.len()
        ))),
    }
}
