//! The columns of a bulk file, per level: what `bulk export` writes, what a user may edit (a
//! value sets it, a blank cell or a missing column leaves it), and what is there to read only.

use crate::watch::Level;

/// What `bulk export` writes, in order.
pub fn export(level: Level) -> &'static [&'static str] {
    match level {
        Level::Campaign => &[
            "advertiser_id",
            "campaign_id",
            "campaign_name",
            "operation_status",
            "secondary_status",
            "budget_mode",
            "budget",
            "budget_optimize_on",
            "spend_so_far",
        ],
        Level::Adgroup => &[
            "advertiser_id",
            "campaign_id",
            "adgroup_id",
            "adgroup_name",
            "operation_status",
            "secondary_status",
            "budget_mode",
            "budget",
            "scheduled_budget",
            "bid_price",
            "schedule_end_time",
            "spend_so_far",
        ],
        Level::Ad => &[
            "advertiser_id",
            "campaign_id",
            "adgroup_id",
            "ad_id",
            "ad_name",
            "operation_status",
            "secondary_status",
        ],
    }
}

/// The columns a value in sets. An ad's name changes with its creative (`ad update`), not here.
pub fn editable(level: Level) -> &'static [&'static str] {
    match level {
        Level::Campaign => &["campaign_name", "operation_status", "budget"],
        Level::Adgroup => &[
            "adgroup_name",
            "operation_status",
            "budget",
            "scheduled_budget",
            "bid_price",
            "schedule_end_time",
        ],
        Level::Ad => &["operation_status"],
    }
}

/// Columns holding amounts (compared as exact decimals, sent as numbers).
pub fn is_amount(column: &str) -> bool {
    matches!(column, "budget" | "scheduled_budget" | "bid_price")
}

/// The level a file is about, from its ID columns (the most specific one present).
pub fn level_of(headers: &[String]) -> Option<Level> {
    let has = |c: &str| headers.iter().any(|h| h == c);
    if has("ad_id") {
        Some(Level::Ad)
    } else if has("adgroup_id") {
        Some(Level::Adgroup)
    } else if has("campaign_id") {
        Some(Level::Campaign)
    } else {
        None
    }
}

/// The fields read from TikTok for a level (the export's columns TikTok fills).
pub fn fetched(level: Level) -> Vec<String> {
    export(level)
        .iter()
        .filter(|c| {
            **c != "spend_so_far" && !(**c == "budget_optimize_on" && level != Level::Campaign)
        })
        .map(|c| c.to_string())
        .collect()
}
