//! `list`: every page, streamed as it arrives, filtered as asked (`--id` sent 100 at a time).

use anyhow::{Context as _, Result};
use futures_util::TryStreamExt;
use serde_json::{Map, Value, json};

use super::{Entity, ListArgs, StatusFilter, account_currency, chosen_columns};
use crate::api::entity::FILTER_IDS_MAX;
use crate::api::ids;
use crate::cli::body;
use crate::cli::context::Context;
use crate::output::Format;

pub(crate) async fn list(ctx: &Context, entity: &Entity, args: ListArgs) -> Result<()> {
    let resource = entity.resource;
    let advertiser_id = ctx.settings.advertiser_id()?;
    let filtering = list_filtering(entity, &args)?;
    let columns = chosen_columns(entity, &args.fields)?;
    let whole_objects =
        args.fields.is_empty() && matches!(ctx.format()?, Format::Json | Format::Ndjson);
    let mut fields: Option<Vec<String>> = (!whole_objects).then(|| {
        columns
            .iter()
            .filter(|c| *c != "currency")
            .cloned()
            .collect()
    });
    if args.status == Some(StatusFilter::Enabled)
        && let Some(f) = fields.as_mut()
        && !f.iter().any(|c| c == "operation_status")
    {
        f.push("operation_status".into());
    }
    let (client, _) = ctx.authed_client().await?;
    let currency = if columns.iter().any(|c| c == "currency") && !whole_objects {
        account_currency(ctx, &client, &advertiser_id).await?
    } else {
        None
    };

    let mut writer = ctx.record_writer(if whole_objects { Vec::new() } else { columns })?;
    let mut written = 0u64;
    let limit = args.limit.unwrap_or(u64::MAX);
    // One pass per chunk of at most 100 IDs (or one pass without an ID filter).
    let id_chunks: Vec<Option<&[String]>> = if args.ids.is_empty() {
        vec![None]
    } else {
        args.ids.chunks(FILTER_IDS_MAX).map(Some).collect()
    };
    'chunks: for chunk in id_chunks {
        let mut filtering = filtering.clone();
        if let Some(ids) = chunk {
            filtering.insert(resource.ids_key.into(), json!(ids));
        }
        let pages = client.entities(resource).list(
            &advertiser_id,
            &filtering,
            fields.as_deref(),
            args.page_size,
        );
        futures_util::pin_mut!(pages);
        while let Some(page) = pages
            .try_next()
            .await
            .with_context(|| format!("listing {}s", resource.noun))?
        {
            for mut record in page.list {
                if args.status == Some(StatusFilter::Enabled)
                    && record.get("operation_status").and_then(Value::as_str) != Some("ENABLE")
                {
                    continue;
                }
                if let Some(currency) = &currency {
                    record.entry("currency").or_insert_with(|| json!(currency));
                }
                writer.write(&record)?;
                written += 1;
                if written >= limit {
                    break 'chunks;
                }
            }
            writer.flush()?;
        }
    }
    ctx.finish(writer)?;
    Ok(())
}

fn list_filtering(entity: &Entity, args: &ListArgs) -> Result<Map<String, Value>> {
    let mut problems = Vec::new();
    let mut filtering = Map::new();
    for id in args.ids.iter().chain(&args.campaigns).chain(&args.adgroups) {
        if !ids::is_valid_id(id) {
            problems.push(format!("{id:?} is not an ID: expected digits"));
        }
    }
    for (flag, given) in [
        ("campaign", !args.campaigns.is_empty()),
        ("adgroup", !args.adgroups.is_empty()),
    ] {
        if given && !entity.parent_filters.contains(&flag) {
            problems.push(format!(
                "--{flag} does not apply to {} list",
                entity.command
            ));
        }
    }
    if !args.campaigns.is_empty() {
        check_id_count(&mut problems, "--campaign", args.campaigns.len());
        filtering.insert("campaign_ids".into(), json!(args.campaigns));
    }
    if !args.adgroups.is_empty() {
        check_id_count(&mut problems, "--adgroup", args.adgroups.len());
        filtering.insert("adgroup_ids".into(), json!(args.adgroups));
    }
    if let Some(name) = &args.name {
        filtering.insert(entity.resource.name_field.into(), json!(name));
    }
    let primary_status = match args.status {
        Some(StatusFilter::Disabled) => Some("STATUS_DISABLE"),
        Some(StatusFilter::Deleted) => Some("STATUS_DELETE"),
        Some(StatusFilter::All) => Some("STATUS_ALL"),
        Some(StatusFilter::Delivering) => Some("STATUS_DELIVERY_OK"),
        Some(StatusFilter::NotDelivering) => Some("STATUS_NOT_DELIVERY"),
        Some(StatusFilter::Enabled) | None => None,
    };
    if let Some(status) = primary_status {
        filtering.insert("primary_status".into(), json!(status));
    }
    if let Some(objective) = &args.objective {
        filtering.insert(
            "objective_type".into(),
            json!(objective_filter(entity, objective, &mut problems)),
        );
    }
    creation_filters(args, &mut filtering, &mut problems);
    body::refuse_problems("bad filter", problems)?;
    Ok(filtering)
}

/// `--objective`, upper-cased, for campaigns only and one TikTok knows.
fn objective_filter(entity: &Entity, objective: &str, problems: &mut Vec<String>) -> String {
    let objective = objective.trim().to_ascii_uppercase();
    let known = crate::api::campaign::OBJECTIVES
        .iter()
        .chain(crate::api::campaign::LEGACY_OBJECTIVES);
    if !entity.objective_filter {
        problems.push(format!(
            "--objective does not apply to {}s",
            entity.resource.noun
        ));
    } else if !known.clone().any(|o| *o == objective) {
        problems.push(format!(
            "objective {objective:?} is not valid: expected one of {}",
            known.copied().collect::<Vec<_>>().join(", ")
        ));
    }
    objective
}

/// `--created-since` and `--created-until` as TikTok's creation time filters (a day alone
/// means its start, or its end for `--created-until`).
fn creation_filters(
    args: &ListArgs,
    filtering: &mut Map<String, Value>,
    problems: &mut Vec<String>,
) {
    for (flag, text, key, end_of_day) in [
        (
            "--created-since",
            &args.created_since,
            "creation_filter_start_time",
            false,
        ),
        (
            "--created-until",
            &args.created_until,
            "creation_filter_end_time",
            true,
        ),
    ] {
        if let Some(text) = text {
            match creation_time(text, end_of_day) {
                Some(time) => {
                    filtering.insert(key.into(), json!(time));
                }
                None => problems.push(format!(
                    "{flag} {text:?} is not a date: expected YYYY-MM-DD or YYYY-MM-DD HH:MM:SS"
                )),
            }
        }
    }
}

fn check_id_count(problems: &mut Vec<String>, flag: &str, count: usize) {
    if count > FILTER_IDS_MAX {
        problems.push(format!(
            "{flag} takes at most {FILTER_IDS_MAX} IDs, not {count}"
        ));
    }
}

fn creation_time(text: &str, end_of_day: bool) -> Option<String> {
    let text = text.trim();
    if let Ok(date) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let time = if end_of_day { "23:59:59" } else { "00:00:00" };
        return Some(format!("{date} {time}"));
    }
    chrono::NaiveDateTime::parse_from_str(text, crate::api::rules::TIME_FORMAT)
        .ok()
        .map(|t| t.format(crate::api::rules::TIME_FORMAT).to_string())
}
