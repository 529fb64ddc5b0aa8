//! The commands campaigns, ad groups and ads share: list, get, create, update, enable,
//! disable, delete. Each entity module supplies its create/update flags and rules.

use std::io::Write;

use anyhow::{Context as _, Result};
use clap::{Args, Subcommand, ValueEnum};
use futures_util::TryStreamExt;
use serde_json::{Map, Value, json};

use super::body::{self, BodyArgs};
use super::context::Context;
use super::errors::{CliError, usage};
use crate::api::entity::{FILTER_IDS_MAX, Resource, STATUS_BATCH, status_body};
use crate::api::{ApiError, Client, ids};
use crate::output::Format;

/// `campaign|adgroup|ad <command>`; `C` and `U` are the entity's create and update flags.
#[derive(Debug, Subcommand)]
pub enum EntityCommand<C: Args, U: Args> {
    /// List (all pages, streamed as they arrive).
    List(ListArgs),
    /// Show one by ID.
    Get(GetArgs),
    /// Create one; prints the new ID.
    Create(C),
    /// Change named fields of one; sends only what changes.
    Update(U),
    /// Switch on (in batches of 20).
    Enable(StatusArgs),
    /// Switch off (in batches of 20).
    Disable(StatusArgs),
    /// Delete for good (asks first on a terminal; needs --yes otherwise).
    Delete(StatusArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusFilter {
    /// Switched on (operation_status ENABLE), not deleted.
    Enabled,
    /// Switched off.
    Disabled,
    /// Deleted only.
    Deleted,
    /// Everything, deleted included.
    All,
    /// Delivering now.
    Delivering,
    /// Not delivering (for any reason).
    NotDelivering,
}

#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    /// Only these IDs (repeat or comma-separate; sent 100 at a time).
    #[arg(long = "id", value_name = "ID", value_delimiter = ',')]
    pub ids: Vec<String>,
    /// Only names containing this text.
    #[arg(long)]
    pub name: Option<String>,
    /// Status filter (deleted objects are left out unless asked for).
    #[arg(long, value_enum)]
    pub status: Option<StatusFilter>,
    /// Only this objective (e.g. TRAFFIC).
    #[arg(long)]
    pub objective: Option<String>,
    /// Created at or after (YYYY-MM-DD or YYYY-MM-DD HH:MM:SS, UTC).
    #[arg(long, value_name = "TIME")]
    pub created_since: Option<String>,
    /// Created at or before (YYYY-MM-DD or YYYY-MM-DD HH:MM:SS, UTC).
    #[arg(long, value_name = "TIME")]
    pub created_until: Option<String>,
    /// Columns, comma-separated (any field of the object; `currency` comes from the account).
    #[arg(long, value_delimiter = ',', value_name = "FIELDS")]
    pub fields: Vec<String>,
    /// Stop after N rows.
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
    /// Rows per request (1-1000).
    #[arg(long, default_value_t = 1000, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub page_size: u32,
    /// Only under these campaigns (ad group and ad lists).
    #[arg(long = "campaign", value_name = "ID", value_delimiter = ',')]
    pub campaigns: Vec<String>,
    /// Only under these ad groups (ad lists).
    #[arg(long = "adgroup", value_name = "ID", value_delimiter = ',')]
    pub adgroups: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct GetArgs {
    pub id: String,
    /// Columns, comma-separated (default: every field on a terminal and in JSON).
    #[arg(long, value_delimiter = ',', value_name = "FIELDS")]
    pub fields: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    /// IDs to change.
    #[arg(required = true, value_name = "ID")]
    pub ids: Vec<String>,
    /// Do not ask before deleting (needed for delete when not on a terminal).
    #[arg(long, short)]
    pub yes: bool,
    /// Print the JSON bodies that would be sent (batches of 20) and change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// How one entity kind plugs into the shared commands.
pub struct Entity {
    pub resource: &'static Resource,
    /// `campaign`, `adgroup`, `ad`: the command name, for messages.
    pub command: &'static str,
    pub default_columns: &'static [&'static str],
    /// Whether `--objective` applies.
    pub objective_filter: bool,
    /// Which parent filters apply: `--campaign` (ad groups, ads), `--adgroup` (ads).
    pub parent_filters: &'static [&'static str],
}

pub async fn list(ctx: &Context, entity: &Entity, args: ListArgs) -> Result<()> {
    let resource = entity.resource;
    let advertiser_id = ctx.advertiser_id()?;
    let filtering = list_filtering(entity, &args)?;
    let columns = chosen_columns(&args.fields, entity.default_columns);
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
        account_currency(ctx, &client, &advertiser_id).await
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
        let pages = client.list_entities(
            resource,
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
        filtering.insert("objective_type".into(), json!(objective));
    }
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
    body::refuse_problems("bad filter", problems)?;
    Ok(filtering)
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

fn chosen_columns(fields: &[String], default: &[&str]) -> Vec<String> {
    let chosen: Vec<String> = fields
        .iter()
        .map(|f| f.trim().to_string())
        .filter(|f| !f.is_empty())
        .collect();
    if chosen.is_empty() {
        default.iter().map(|s| s.to_string()).collect()
    } else {
        chosen
    }
}

/// The account's currency (for budget columns and messages); `None` if it cannot be read.
pub async fn account_currency(
    ctx: &Context,
    client: &Client,
    advertiser_id: &str,
) -> Option<String> {
    match client
        .advertiser_info(&[advertiser_id.to_string()], &["advertiser_id", "currency"])
        .await
    {
        Ok(list) => list
            .first()
            .and_then(|a| a.get("currency"))
            .and_then(Value::as_str)
            .map(str::to_string),
        Err(e) => {
            ctx.notice(&format!("note: could not read the account currency ({e})"));
            None
        }
    }
}

pub async fn get(ctx: &Context, entity: &Entity, args: GetArgs) -> Result<()> {
    check_ids(std::slice::from_ref(&args.id))?;
    let advertiser_id = ctx.advertiser_id()?;
    let (client, _) = ctx.authed_client().await?;
    let object = client
        .get_entity(entity.resource, &advertiser_id, &args.id)
        .await?;
    print_object(ctx, &object, &args.fields, entity.default_columns)
}

/// One object: every field on a terminal (as field/value rows) and in JSON; the chosen or
/// default columns in CSV.
fn print_object(
    ctx: &Context,
    object: &Map<String, Value>,
    fields: &[String],
    default: &[&str],
) -> Result<()> {
    let format = ctx.format()?;
    if format == Format::Table && fields.is_empty() {
        let mut writer = ctx.record_writer(vec!["field".into(), "value".into()])?;
        for (key, value) in object {
            if !value.is_null() {
                let mut row = Map::new();
                row.insert("field".into(), json!(key));
                row.insert("value".into(), value.clone());
                writer.write(&row)?;
            }
        }
        ctx.finish(writer)?;
        return Ok(());
    }
    let columns = if fields.is_empty() && matches!(format, Format::Json | Format::Ndjson) {
        Vec::new()
    } else {
        chosen_columns(fields, default)
    };
    let mut writer = ctx.record_writer(columns)?;
    writer.write(object)?;
    ctx.finish(writer)?;
    Ok(())
}

fn check_ids(ids: &[String]) -> Result<()> {
    let bad: Vec<&String> = ids.iter().filter(|id| !ids::is_valid_id(id)).collect();
    if bad.is_empty() {
        return Ok(());
    }
    Err(usage(format!(
        "not an ID: {} (IDs are digits, e.g. 1812345678901234)",
        bad.iter()
            .map(|s| format!("{s:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

/// Validates, shows (`--dry-run`) or sends a create; prints the new ID(s) or the object.
pub async fn create(
    ctx: &Context,
    entity: &Entity,
    args: &BodyArgs,
    mut body: Map<String, Value>,
    validate: impl Fn(&Map<String, Value>, Option<&str>) -> Vec<String>,
) -> Result<()> {
    let what = format!("{} create", entity.command);
    body::refuse_problems(&what, validate(&body, None))?;
    if entity.resource.idempotent_create {
        // TikTok's idempotency key: a retry after a lost answer creates nothing twice.
        body::default(&mut body, "request_id", json!(idempotency_key()));
    }
    if args.dry_run {
        return body::print_dry_run(ctx, &Value::Object(body));
    }
    let (client, _) = ctx.authed_client().await?;
    if body.contains_key("budget") {
        let advertiser_id = body
            .get("advertiser_id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let currency = account_currency(ctx, &client, &advertiser_id).await;
        body::refuse_problems(&what, validate(&body, currency.as_deref()))?;
    }
    let created = client
        .create_entity(entity.resource, &Value::Object(body))
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

/// What an update changes, after comparing with the current object.
pub struct Update {
    /// The fields that differ from the current object (only these are sent).
    pub changes: Map<String, Value>,
    pub current: Map<String, Value>,
}

/// Reads the current object and keeps only the fields that change.
pub async fn prepare_update(
    client: &Client,
    entity: &Entity,
    advertiser_id: &str,
    id: &str,
    wanted: Map<String, Value>,
) -> Result<Update> {
    let current = client
        .get_entity(entity.resource, advertiser_id, id)
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
pub fn print_diff(ctx: &Context, update: &Update, currency: Option<&str>) {
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
pub struct UpdateRequest<'a> {
    pub id: &'a str,
    pub body: &'a BodyArgs,
    /// `--diff`: show before → after.
    pub diff: bool,
    /// The fields and values given as flags (they win over `--from-file`).
    pub flags: Map<String, Value>,
}

/// Shared update flow: read, diff, validate, show or send, print the ID or object.
pub async fn update(
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
    let advertiser_id = ctx.advertiser_id()?;
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
        account_currency(ctx, &client, &advertiser_id).await
    } else {
        None
    };
    body::refuse_problems(
        &what,
        validate(&update.changes, Some(&update.current), currency.as_deref()),
    )?;
    let body = build_body(&advertiser_id, &update);
    if diff || args.dry_run || ctx.global.verbose > 0 {
        ctx.notice(&format!("{} {id}:", entity.resource.noun));
        print_diff(ctx, &update, currency.as_deref());
    }
    if args.dry_run {
        return body::print_dry_run(ctx, &body);
    }
    let updated = client.update_entity(entity.resource, &body).await?;
    if !(diff || ctx.global.verbose > 0) {
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
pub fn plain_update_body(entity: &'static Entity) -> impl Fn(&str, &Update) -> Value {
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

/// `enable`, `disable`, `delete`: batches of 20, every outcome reported, partial → exit 6.
pub async fn set_status(
    ctx: &Context,
    entity: &Entity,
    args: StatusArgs,
    operation: &str,
) -> Result<()> {
    check_ids(&args.ids)?;
    let advertiser_id = ctx.advertiser_id()?;
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
            .set_entity_status(entity.resource, &advertiser_id, batch, operation)
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
        ctx.advertiser_id()?
    );
    match ctx.ask(&question)? {
        Some(answer) => Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES")),
        None => Err(usage(format!(
            "refusing to delete {} {noun}(s) without confirmation: pass --yes (deleting cannot be undone)",
            ids.len()
        ))),
    }
}

/// What an entity module adds to the shared commands: its create and update flags and flows.
pub trait EntityCommands {
    type Create: Args;
    type Update: Args;
    fn entity() -> &'static Entity;
    fn create(ctx: &Context, args: Self::Create) -> impl Future<Output = Result<()>>;
    fn update(ctx: &Context, args: Self::Update) -> impl Future<Output = Result<()>>;
}

/// Declares `$name` as the commands of an entity module whose `create` and `update`
/// functions take the module's `CreateArgs` and `UpdateArgs`.
macro_rules! entity_commands {
    ($name:ident, $entity:expr) => {
        pub struct $name;

        impl $crate::cli::entity::EntityCommands for $name {
            type Create = CreateArgs;
            type Update = UpdateArgs;

            fn entity() -> &'static $crate::cli::entity::Entity {
                $entity
            }

            async fn create(ctx: &Context, args: CreateArgs) -> Result<()> {
                create(ctx, args).await
            }

            async fn update(ctx: &Context, args: UpdateArgs) -> Result<()> {
                update(ctx, args).await
            }
        }
    };
}
pub(crate) use entity_commands;

/// Runs any entity subcommand.
pub async fn run<E: EntityCommands>(
    ctx: &Context,
    command: EntityCommand<E::Create, E::Update>,
) -> Result<()> {
    let entity = E::entity();
    match command {
        EntityCommand::List(args) => list(ctx, entity, args).await,
        EntityCommand::Get(args) => get(ctx, entity, args).await,
        EntityCommand::Enable(args) => set_status(ctx, entity, args, "ENABLE").await,
        EntityCommand::Disable(args) => set_status(ctx, entity, args, "DISABLE").await,
        EntityCommand::Delete(args) => set_status(ctx, entity, args, "DELETE").await,
        EntityCommand::Create(args) => E::create(ctx, args).await,
        EntityCommand::Update(args) => E::update(ctx, args).await,
    }
}

/// `--budget-mode` in words; the API names follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BudgetMode {
    /// A daily budget.
    Day,
    /// A lifetime budget.
    Total,
    /// No limit.
    Infinite,
    /// An average daily budget over a week (a day may reach 125%).
    DynamicDaily,
}

impl BudgetMode {
    pub fn api_name(self) -> &'static str {
        match self {
            BudgetMode::Day => "BUDGET_MODE_DAY",
            BudgetMode::Total => "BUDGET_MODE_TOTAL",
            BudgetMode::Infinite => "BUDGET_MODE_INFINITE",
            BudgetMode::DynamicDaily => "BUDGET_MODE_DYNAMIC_DAILY_BUDGET",
        }
    }
}
