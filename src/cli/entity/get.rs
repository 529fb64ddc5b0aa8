//! `get`: one object by ID.

use anyhow::Result;
use serde_json::{Map, Value, json};

use super::{Entity, GetArgs, account_currency, check_ids, chosen_columns};
use crate::cli::context::Context;
use crate::output::Format;

pub(crate) async fn get(ctx: &Context, entity: &Entity, args: GetArgs) -> Result<()> {
    check_ids(std::slice::from_ref(&args.id))?;
    let columns = chosen_columns(entity, &args.fields)?;
    let advertiser_id = ctx.settings.advertiser_id()?;
    let (client, _) = ctx.authed_client().await?;
    let mut object = client
        .entities(entity.resource)
        .get(&advertiser_id, &args.id)
        .await?;
    // The account's currency fills the `currency` column, as in `list`.
    let whole = args.fields.is_empty() && ctx.format()? != Format::Csv;
    if !whole
        && columns.iter().any(|c| c == "currency")
        && !object.contains_key("currency")
        && let Some(currency) = account_currency(ctx, &client, &advertiser_id).await?
    {
        object.insert("currency".into(), json!(currency));
    }
    print_object(ctx, &object, &args.fields, columns)
}

/// One object: every field on a terminal (as field/value rows) and in JSON; the chosen or
/// default columns in CSV.
fn print_object(
    ctx: &Context,
    object: &Map<String, Value>,
    fields: &[String],
    columns: Vec<String>,
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
        columns
    };
    let mut writer = ctx.record_writer(columns)?;
    writer.write(object)?;
    ctx.finish(writer)?;
    Ok(())
}
