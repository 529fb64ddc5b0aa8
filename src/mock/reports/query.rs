//! What a report asks for, checked as TikTok checks it (REFERENCE 9): report type × data level ×
//! dimensions × metrics (against the catalogue), dates and their spans, `filtering`'s shape and
//! fields, ordering, paging.

use chrono::NaiveDate;
use serde_json::Value;

use crate::catalog::{self, DimensionKind, Level, MetricKind};
use crate::mock::answer::invalid;
use crate::mock::auth::check_advertiser;
use crate::mock::params::{Checked, Params};
use crate::mock::world::Grant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Time {
    Day,
    Hour,
}

/// One `filtering` condition.
#[derive(Debug, Clone)]
pub(super) struct Filter {
    pub field: String,
    pub negate: bool,
    pub values: Vec<String>,
}

#[derive(Debug, Clone)]
pub(super) struct ReportQuery {
    pub advertisers: Vec<String>,
    /// `advertiser_ids` was used: rows say which account they are of.
    pub multi: bool,
    pub level: Level,
    /// The ID dimension of the level, when asked for.
    pub by_entity: bool,
    pub time: Option<Time>,
    /// The breakdowns (age, gender, country_code, ...), in the order asked.
    pub breakdowns: Vec<String>,
    /// Dimensions in the order asked.
    pub dimensions: Vec<String>,
    pub metrics: Vec<String>,
    /// `None` for a lifetime report.
    pub range: Option<(NaiveDate, NaiveDate)>,
    pub filters: Vec<Filter>,
    /// (metric, descending)
    pub order: Option<(String, bool)>,
    pub total_metrics: bool,
    /// `service_type` RESERVATION on auction accounts: TikTok answers an empty list.
    pub empty: bool,
}

/// The breakdowns the simulator splits numbers over (other catalogue dimensions are refused
/// as not simulated, rather than answered with made-up values).
pub(super) const SIMULATED_BREAKDOWNS: &[&str] = &[
    "country_code",
    "age",
    "gender",
    "platform",
    "province_id",
    "language",
    "placement",
    "ac",
];

const FILTER_FIELDS: &[&str] = &[
    "campaign_ids",
    "adgroup_ids",
    "ad_ids",
    "campaign_status",
    "adgroup_status",
    "ad_status",
    "objective_type",
    "buying_type",
    "promotion_type",
    "campaign_automation_type",
    "country_code",
];
const ASYNC_FILTER_FIELDS: &[&str] = &["campaign_ids", "adgroup_ids", "ad_ids", "country_code"];
const FILTER_TYPES: &[&str] = &[
    "IN",
    "NOT_IN",
    "CONTAIN_ANY_OF",
    "MATCH",
    "GREATER_EQUAL",
    "GREATER_THAN",
    "LOWER_EQUAL",
    "LOWER_THAN",
    "BETWEEN",
];
const STATUS_VALUES: &[&str] = &["STATUS_ALL", "STATUS_NOT_DELETE", "STATUS_DELETE"];
const UNIQUE_METRICS: &[&str] = &[
    "reach",
    "frequency",
    "cost_per_1000_reached",
    "average_video_play_per_user",
];

/// Reads a report query. `sync` applies the synchronous endpoint's date-span limits and
/// filter sizes.
pub(super) fn read(params: &Params, grant: &Grant, sync: bool) -> Checked<ReportQuery> {
    let report_type = read_report_type(params)?;
    let empty = params
        .choice("service_type", &["AUCTION", "RESERVATION"])?
        .is_some_and(|s| s == "RESERVATION");
    params.choice("query_mode", &["REGULAR"])?;
    let (advertisers, multi) = read_advertisers(params, grant)?;
    let level_name = params.required_choice(
        "data_level",
        &[
            "AUCTION_ADVERTISER",
            "AUCTION_CAMPAIGN",
            "AUCTION_ADGROUP",
            "AUCTION_AD",
        ],
    )?;
    let level = Level::from_data_level(&level_name)
        .ok_or_else(|| invalid("data_level", "Not a valid data level."))?;
    let dimensions = params
        .list("dimensions")?
        .filter(|d| !d.is_empty())
        .ok_or_else(|| invalid("dimensions", "Missing data for required field."))?;
    let asked = Asked {
        report_type: &report_type,
        level,
        level_name: &level_name,
        multi,
    };
    let shape = read_dimensions(&dimensions, &asked)?;
    let metrics = read_metrics(params, &asked, &shape)?;
    let range = read_range(params, &shape, sync)?;
    let filters = read_filters(params, sync)?;
    let order = read_order(params)?;
    let total_metrics = params.boolean("enable_total_metrics")?.unwrap_or(false);
    params.boolean("multi_adv_report_in_utc_time")?;
    Ok(ReportQuery {
        advertisers,
        multi,
        level,
        by_entity: shape.by_entity,
        time: shape.time,
        breakdowns: shape.breakdowns,
        dimensions,
        metrics,
        range,
        filters,
        order,
        total_metrics,
        empty,
    })
}

/// What the dimensions and metrics are checked against.
struct Asked<'a> {
    report_type: &'a str,
    level: Level,
    level_name: &'a str,
    /// `advertiser_ids` was used.
    multi: bool,
}

/// What the dimensions ask for: the level's ID, a time, breakdowns.
struct Shape {
    by_entity: bool,
    time: Option<Time>,
    breakdowns: Vec<String>,
}

/// The report type: any of TikTok's, but only BASIC and AUDIENCE are simulated.
fn read_report_type(params: &Params) -> Checked<String> {
    let report_type = params.required_choice(
        "report_type",
        &[
            "BASIC",
            "AUDIENCE",
            "PLAYABLE_MATERIAL",
            "CATALOG",
            "BC",
            "TT_SHOP",
        ],
    )?;
    if !matches!(report_type.as_str(), "BASIC" | "AUDIENCE") {
        return Err(invalid(
            "report_type",
            &format!("{report_type} reports are not simulated (BASIC and AUDIENCE are)."),
        ));
    }
    Ok(report_type)
}

/// `advertiser_ids` (1 to 5, rows then say whose they are) or `advertiser_id`, each granted
/// to the token.
fn read_advertisers(params: &Params, grant: &Grant) -> Checked<(Vec<String>, bool)> {
    let (advertisers, multi) = match params.list("advertiser_ids")? {
        Some(ids) if ids.is_empty() || ids.len() > 5 => {
            return Err(invalid("advertiser_ids", "Between 1 and 5 IDs."));
        }
        Some(ids) => (ids, true),
        None => (vec![params.required_id("advertiser_id")?], false),
    };
    for id in &advertisers {
        check_advertiser(grant, id)?;
    }
    Ok((advertisers, multi))
}

/// Each dimension known, once, matching the level; at most one time; breakdowns the simulator
/// splits numbers by.
fn read_dimensions(dimensions: &[String], asked: &Asked<'_>) -> Checked<Shape> {
    let (level, level_name, multi) = (asked.level, asked.level_name, asked.multi);
    let mut by_entity = false;
    let mut time = None;
    let mut breakdowns = Vec::new();
    for (i, d) in dimensions.iter().enumerate() {
        if dimensions[..i].contains(d) {
            return Err(invalid("dimensions", &format!("{d} is given twice.")));
        }
        match catalog::dimension(d) {
            None => {
                return Err(invalid("dimensions", &format!("Unknown dimension: {d}.")));
            }
            Some(DimensionKind::Id(of)) if of == level => by_entity = true,
            Some(DimensionKind::Id(Level::Advertiser)) if multi => {}
            Some(DimensionKind::Id(_)) => {
                return Err(invalid(
                    "dimensions",
                    &format!("{d} does not match data_level {level_name}."),
                ));
            }
            Some(DimensionKind::Time) => {
                if time.is_some() {
                    return Err(invalid(
                        "dimensions",
                        "Use at most one of stat_time_day and stat_time_hour.",
                    ));
                }
                time = Some(if d == "stat_time_hour" {
                    Time::Hour
                } else {
                    Time::Day
                });
            }
            Some(DimensionKind::Audience) if asked.report_type == "BASIC" => {
                return Err(invalid(
                    "dimensions",
                    &format!("{d} is only available in AUDIENCE reports."),
                ));
            }
            Some(_) if !SIMULATED_BREAKDOWNS.contains(&d.as_str()) => {
                return Err(invalid(
                    "dimensions",
                    &format!("{d} is a TikTok dimension the simulator does not split numbers by."),
                ));
            }
            Some(_) => breakdowns.push(d.clone()),
        }
    }
    Ok(Shape {
        by_entity,
        time,
        breakdowns,
    })
}

/// Each metric known, once: attributes only with the level's ID and at or above the level,
/// unique counts never broken down by audience.
fn read_metrics(params: &Params, asked: &Asked<'_>, shape: &Shape) -> Checked<Vec<String>> {
    let (level, level_name, multi, by_entity) =
        (asked.level, asked.level_name, asked.multi, shape.by_entity);
    let audience = shape
        .breakdowns
        .iter()
        .any(|b| catalog::dimension(b) == Some(DimensionKind::Audience));
    let mut metrics: Vec<String> = Vec::new();
    for m in params
        .list("metrics")?
        .unwrap_or_else(|| vec!["spend".into(), "impressions".into()])
    {
        match catalog::metric(&m) {
            None => return Err(invalid("metrics", &format!("Unknown metric: {m}."))),
            Some(MetricKind::Attribute(_)) if !by_entity && !multi => {
                return Err(invalid(
                    "metrics",
                    &format!(
                        "{m} is an attribute metric: it needs the ID dimension of the data level."
                    ),
                ));
            }
            Some(MetricKind::Attribute(owner)) if owner > level => {
                return Err(invalid(
                    "metrics",
                    &format!(
                        "There is no relation between metric {m} and data_level {level_name}."
                    ),
                ));
            }
            Some(_) if audience && UNIQUE_METRICS.contains(&m.as_str()) => {
                return Err(invalid(
                    "metrics",
                    &format!("{m} counts people and cannot be broken down by audience."),
                ));
            }
            Some(_) if !metrics.contains(&m) => metrics.push(m),
            Some(_) => {}
        }
    }
    Ok(metrics)
}

/// The dates (none for a lifetime report), within the synchronous endpoint's span limits when
/// `sync`.
fn read_range(
    params: &Params,
    shape: &Shape,
    sync: bool,
) -> Checked<Option<(NaiveDate, NaiveDate)>> {
    let (time, breakdowns) = (shape.time, &shape.breakdowns);
    let lifetime = params.boolean("query_lifetime")?.unwrap_or(false);
    Ok(if lifetime {
        if time.is_some() || breakdowns.iter().any(|b| b == "country_code") {
            return Err(invalid(
                "query_lifetime",
                "A lifetime report takes no time or country_code dimension.",
            ));
        }
        None
    } else {
        let date = |key: &str| -> Checked<NaiveDate> {
            let text = params.required_text(key)?;
            if text.len() != 10 {
                return Err(invalid(key, "Not a valid date: use YYYY-MM-DD."));
            }
            NaiveDate::parse_from_str(&text, "%Y-%m-%d")
                .map_err(|_| invalid(key, "Not a valid date: use YYYY-MM-DD."))
        };
        let (start, end) = (date("start_date")?, date("end_date")?);
        if end < start {
            return Err(invalid("end_date", "Must not be earlier than start_date."));
        }
        let days = (end - start).num_days() + 1;
        let (limit, because) = match time {
            Some(Time::Hour) => (1, "when dimensions contain stat_time_hour"),
            Some(Time::Day) => (30, "when dimensions contain stat_time_day"),
            None => (365, "without a time dimension"),
        };
        if sync && days > limit {
            return Err(crate::mock::answer::error(
                40002,
                &format!(
                    "The time span between start_date and end_date cannot exceed {limit} days {because}."
                ),
            ));
        }
        Some((start, end))
    })
}

/// `order_field` (a metric) and `order_type` (descending unless `ASC`).
fn read_order(params: &Params) -> Checked<Option<(String, bool)>> {
    Ok(match params.text("order_field")? {
        Some(field) => match catalog::metric(&field) {
            Some(MetricKind::Attribute(_)) | None => {
                return Err(invalid(
                    "order_field",
                    &format!("{field} is not a metric rows can be ordered by."),
                ));
            }
            Some(_) => Some((
                field,
                params
                    .choice("order_type", &["ASC", "DESC"])?
                    .is_none_or(|o| o == "DESC"),
            )),
        },
        None => None,
    })
}

fn read_filters(params: &Params, sync: bool) -> Checked<Vec<Filter>> {
    let Some(value) = params.json("filtering") else {
        return Ok(Vec::new());
    };
    let value = match value {
        // A GET carries it JSON-encoded; a body may too.
        Value::String(text) => serde_json::from_str(&text)
            .map_err(|_| invalid("filtering", "Not valid JSON: send a JSON array."))?,
        other => other,
    };
    let Value::Array(items) = value else {
        return Err(invalid(
            "filtering",
            "Must be a list of {field_name, filter_type, filter_value} objects.",
        ));
    };
    let allowed = if sync {
        FILTER_FIELDS
    } else {
        ASYNC_FILTER_FIELDS
    };
    items
        .into_iter()
        .map(|item| read_filter(item, allowed, sync))
        .collect()
}

/// One condition: a field this endpoint filters on, `IN` or `NOT_IN`, and a JSON-encoded list
/// of values (at most 100 IDs synchronously, 20,000 asynchronously; statuses TikTok knows).
fn read_filter(item: Value, allowed: &[&str], sync: bool) -> Checked<Filter> {
    let Value::Object(map) = item else {
        return Err(invalid("filtering", "Each filter must be an object."));
    };
    let f = Params::Body(map);
    let field = f.required_choice("field_name", allowed).map_err(|_| {
        invalid(
            "filtering.field_name",
            &format!("Must be one of: {}.", allowed.join(", ")),
        )
    })?;
    let filter_type = f
        .required_choice("filter_type", FILTER_TYPES)
        .map_err(|_| {
            invalid(
                "filtering.filter_type",
                &format!("Must be one of: {}.", FILTER_TYPES.join(", ")),
            )
        })?;
    let Some(Value::String(raw)) = f.json("filter_value") else {
        return Err(invalid(
            "filtering.filter_value",
            "Must be a string (a list is JSON-encoded inside it).",
        ));
    };
    if !matches!(filter_type.as_str(), "IN" | "NOT_IN") {
        return Err(invalid(
            "filtering.filter_type",
            &format!("{filter_type} is not supported for {field}."),
        ));
    }
    let values: Vec<String> = serde_json::from_str(&raw).map_err(|_| {
        invalid(
            "filtering.filter_value",
            "For IN and NOT_IN, a JSON array of strings encoded as a string.",
        )
    })?;
    let most = if sync { 100 } else { 20_000 };
    if field.ends_with("_ids") && values.len() > most {
        return Err(crate::mock::answer::error(
            40011,
            &format!("filtering {field}: at most {most} IDs."),
        ));
    }
    if field.ends_with("_status")
        && let Some(bad) = values.iter().find(|v| !STATUS_VALUES.contains(&v.as_str()))
    {
        return Err(invalid(
            "filtering.filter_value",
            &format!(
                "{bad} is not a status filter: use {}.",
                STATUS_VALUES.join(", ")
            ),
        ));
    }
    Ok(Filter {
        field,
        negate: filter_type == "NOT_IN",
        values,
    })
}
