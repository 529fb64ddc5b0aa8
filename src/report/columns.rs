//! The columns a run writes before the report's own: `advertiser_id` when several accounts
//! share one output, `currency` and `timezone` with account info — and their values.

use super::error::ReportError;
use super::plan::Plan;
use crate::accounts::AccountFacts;

/// Columns written before the report's own: `advertiser_id` when several accounts may be in
/// one output (unless it is already a dimension), `currency,timezone` with account info.
pub fn prefix_columns(plan: &Plan, many_accounts: bool, with_account_info: bool) -> Vec<String> {
    let mut prefix = Vec::new();
    if (many_accounts || with_account_info)
        && !plan.data_columns.iter().any(|c| c == "advertiser_id")
    {
        prefix.push("advertiser_id".to_string());
    }
    if with_account_info {
        prefix.extend(["currency".to_string(), "timezone".to_string()]);
    }
    prefix
}

/// The values of the prefix columns for one account; an account whose currency or time zone
/// TikTok did not give fails rather than print empty cells.
pub fn lead_cells(
    prefix: &[String],
    advertiser: &str,
    account: Option<&AccountFacts>,
) -> Result<Vec<Option<String>>, ReportError> {
    let cells: Vec<Option<String>> = prefix
        .iter()
        .map(|c| match c.as_str() {
            "advertiser_id" => Some(advertiser.to_string()),
            "currency" => account.and_then(|a| a.currency.clone()),
            _ => account.and_then(|a| a.timezone.clone()),
        })
        .collect();
    if let Some((missing, _)) = prefix.iter().zip(&cells).find(|(_, cell)| cell.is_none()) {
        return Err(ReportError::AccountFacts(format!(
            "the {missing} of advertiser {advertiser} is unknown (TikTok's /advertiser/info/ did not \
             give it), so --with-account-info cannot fill its column: try again"
        )));
    }
    Ok(cells)
}
