//! Flags shared by `report run` and `report task create`.

use chrono::NaiveDate;
use clap::Args;

use crate::cli::choices;
use crate::report::{Breakdown, Level, PlanRequest};

/// Earliest date a report may ask for: TikTok's ad platform has no data before it, and a date
/// before it is almost always a typo (`24-03-01` read as the year 24).
const FIRST_YEAR: i32 = 2010;

/// A calendar date as the API takes it: `YYYY-MM-DD`, four-digit year, from 2010 to a year
/// from today. Anything else is refused before a request is planned.
pub(super) fn parse_date(text: &str) -> Result<NaiveDate, String> {
    parse_date_on(text, chrono::Utc::now().date_naive())
}

fn parse_date_on(text: &str, today: NaiveDate) -> Result<NaiveDate, String> {
    let text = text.trim();
    let shaped = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    let date = shaped
        .then(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
        .flatten()
        .ok_or_else(|| format!("{text:?} is not a date: expected YYYY-MM-DD, e.g. 2025-01-31"))?;
    let latest = today + chrono::Duration::days(366);
    let earliest = NaiveDate::from_ymd_opt(FIRST_YEAR, 1, 1).unwrap_or(NaiveDate::MIN);
    if date < earliest || date > latest {
        return Err(format!(
            "{text} is out of range: dates run from {earliest} to {latest} (a year from today)"
        ));
    }
    Ok(date)
}

#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// First day, YYYY-MM-DD, in the ad account's time zone.
    #[arg(long, value_name = "DATE", requires = "end", value_parser = parse_date,
          conflicts_with_all = ["last", "yesterday", "lifetime"])]
    pub start: Option<NaiveDate>,
    /// Last day (inclusive), YYYY-MM-DD.
    #[arg(long, value_name = "DATE", requires = "start", value_parser = parse_date)]
    pub end: Option<NaiveDate>,
    /// The N days ending yesterday.
    #[arg(long, value_name = "N", conflicts_with_all = ["yesterday", "lifetime"],
          value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub last: Option<u32>,
    /// Yesterday only.
    #[arg(long, conflicts_with = "lifetime")]
    pub yesterday: bool,
    /// The whole history (no dates, no time breakdown).
    #[arg(long)]
    pub lifetime: bool,
    #[command(flatten)]
    pub what: ShapeArgs,
    /// Include deleted campaigns, ad groups and ads (their spend is left out otherwise).
    #[arg(long)]
    pub include_deleted: bool,
    /// Sort by this metric (ascending unless --desc).
    #[arg(long, value_name = "METRIC")]
    pub order_by: Option<String>,
    /// Sort descending.
    #[arg(long, requires = "order_by")]
    pub desc: bool,
}

/// What a report holds and for whom (shared by `report run` and `report sync`).
#[derive(Debug, Clone, Args)]
pub struct ShapeArgs {
    /// Level of the rows; its ID dimension is added for you.
    #[arg(long, value_name = "LEVEL", default_value = "campaign",
          value_parser = choices::parser(choices::LEVELS))]
    pub level: Level,
    /// Time breakdown.
    #[arg(long = "by", value_name = "BREAKDOWN", default_value = "day",
          value_parser = choices::parser(choices::BREAKDOWNS))]
    pub breakdown: Breakdown,
    /// Extra dimensions, comma-separated (e.g. country_code).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub dimensions: Vec<String>,
    /// Metrics, comma-separated, in output order; `all-basic` for the large set.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub metrics: Vec<String>,
    /// BASIC, AUDIENCE, PLAYABLE_MATERIAL, CATALOG or TT_SHOP.
    #[arg(long, default_value = "BASIC", value_name = "TYPE")]
    pub report_type: String,
    /// Filter rows: `field=v1,v2` (IN) or `field!=v1,v2` (NOT_IN); repeatable.
    #[arg(long = "filter", value_name = "FIELD=VALUES")]
    pub filters: Vec<String>,
    /// Rows per request (1-1000).
    #[arg(long, default_value_t = 1000, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub page_size: u32,
    /// Pass metric and dimension names that are not in the tool's catalogue (names TikTok
    /// added after this version); they are checked only by TikTok then.
    #[arg(long)]
    pub allow_unknown_metrics: bool,
    /// Every ad account the token reaches.
    #[arg(long)]
    pub all_advertisers: bool,
    /// Every ad account of this Business Center.
    #[arg(long, value_name = "BC_ID", conflicts_with = "all_advertisers")]
    pub bc: Option<String>,
}

impl ReportArgs {
    /// The report these flags ask for.
    pub fn request(&self) -> PlanRequest {
        PlanRequest {
            start: self.start,
            end: self.end,
            last: self.last,
            yesterday: self.yesterday,
            lifetime: self.lifetime,
            include_deleted: self.include_deleted,
            order_by: self.order_by.clone(),
            desc: self.desc,
            ..self.what.request()
        }
    }
}

impl ShapeArgs {
    /// The report these flags ask for, without dates.
    pub fn request(&self) -> PlanRequest {
        PlanRequest {
            report_type: self.report_type.clone(),
            level: self.level,
            breakdown: self.breakdown,
            dimensions: self.dimensions.clone(),
            metrics: self.metrics.clone(),
            filters: self.filters.clone(),
            page_size: self.page_size,
            allow_unknown_metrics: self.allow_unknown_metrics,
            ..PlanRequest::default()
        }
    }

    /// Whether several accounts may share the output.
    pub fn many_accounts(&self) -> bool {
        self.all_advertisers || self.bc.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_have_four_digit_years_in_a_sane_range() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        assert_eq!(
            parse_date_on("2025-01-31", today),
            Ok(NaiveDate::from_ymd_opt(2025, 1, 31).unwrap())
        );
        assert_eq!(
            parse_date_on(" 2027-11-30 ", today),
            Ok(NaiveDate::from_ymd_opt(2027, 11, 30).unwrap())
        );
        for bad in [
            "24-03-01",
            "0024-03-01",
            "2009-12-31",
            "2027-12-02",
            "2025-1-31",
            "2025/01/31",
            "+2025-01-31",
            "20250-01-31",
            "2025-02-30",
            "",
        ] {
            assert!(parse_date_on(bad, today).is_err(), "{bad}");
        }
        assert!(
            parse_date_on("24-03-01", today)
                .unwrap_err()
                .contains("YYYY-MM-DD")
        );
        assert!(
            parse_date_on("2009-12-31", today)
                .unwrap_err()
                .contains("out of range")
        );
    }
}
