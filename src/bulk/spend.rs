//! What a new budget is compared with (TikTok: at least 105 % of the spend so far): today's
//! spend in the account's own time zone for daily budgets, the lifetime spend for lifetime
//! budgets — from a report, exactly as TikTok sent it.

use std::collections::BTreeMap;

use anyhow::Result;

use crate::accounts::AccountFacts;
use crate::api::Client;
use crate::report::collect::collect;
use crate::report::plan::{Breakdown, PlanRequest, today_in};
use crate::watch::Level;

/// Spend so far per entity ID (decimal text as TikTok sent it), for the campaigns or ad groups
/// of one account; `lifetime` names those whose budget is a lifetime budget.
pub async fn spent(
    client: &Client,
    level: Level,
    advertiser_id: &str,
    facts: &BTreeMap<String, AccountFacts>,
    lifetime: &[String],
) -> Result<BTreeMap<String, String>> {
    let report_level = match level {
        Level::Campaign => crate::report::Level::Campaign,
        Level::Adgroup => crate::report::Level::Adgroup,
        Level::Ad => crate::report::Level::Ad,
    };
    let id_column = format!("{}_id", level.name());
    let today = facts
        .get(advertiser_id)
        .and_then(|f| f.timezone.as_deref())
        .and_then(today_in)
        .unwrap_or_else(|| chrono::Utc::now().date_naive());
    let base = PlanRequest {
        level: report_level,
        breakdown: Breakdown::None,
        dimensions: vec![id_column.clone()],
        metrics: vec!["spend".into()],
        ..PlanRequest::default()
    };
    let mut requests = vec![(
        PlanRequest {
            start: Some(today),
            end: Some(today),
            ..base.clone()
        },
        false,
    )];
    if !lifetime.is_empty() {
        requests.push((
            PlanRequest {
                lifetime: true,
                ..base
            },
            true,
        ));
    }
    let accounts = vec![advertiser_id.to_string()];
    let utc_today = chrono::Utc::now().date_naive();
    let mut spent = BTreeMap::new();
    for (request, is_lifetime) in requests {
        let rows = collect(client, &request, &accounts, facts, utc_today).await?;
        let (Some(id), Some(spend)) = (rows.index(&id_column), rows.index("spend")) else {
            continue;
        };
        for (_, cells) in rows.rows {
            let (Some(Some(entity)), Some(Some(amount))) = (cells.get(id), cells.get(spend)) else {
                continue;
            };
            if lifetime.contains(entity) == is_lifetime {
                spent.insert(entity.clone(), amount.clone());
            }
        }
    }
    Ok(spent)
}
