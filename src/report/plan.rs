//! A report plan: what is asked for (the request spec and the output columns) and, per ad
//! account, the dates in its own time zone split into the windows TikTok allows.

use chrono::{Duration as Days, NaiveDate, Utc};

use super::error::ReportError;
use super::observer::Observer;
use super::sink::Failure;
use super::spec::{DAY, Filter, HOUR, ReportSpec};
use super::window::{Window, split_windows};
use crate::accounts::AccountFacts;
use crate::api::report::PAGE_SIZE_MAX;

pub const DEFAULT_METRICS: &[&str] = &[
    "spend",
    "impressions",
    "clicks",
    "ctr",
    "cpc",
    "cpm",
    "conversion",
    "cost_per_conversion",
];

/// `--metrics all-basic`: the common BASIC metrics (REFERENCE 9.1).
pub const ALL_BASIC_METRICS: &[&str] = &[
    "spend",
    "billed_cost",
    "cash_spend",
    "voucher_spend",
    "cpc",
    "cpm",
    "cost_per_1000_reached",
    "impressions",
    "gross_impressions",
    "clicks",
    "ctr",
    "reach",
    "frequency",
    "conversion",
    "cost_per_conversion",
    "conversion_rate",
    "conversion_rate_v2",
    "real_time_conversion",
    "result",
    "cost_per_result",
    "result_rate",
    "video_play_actions",
    "video_watched_2s",
    "video_watched_6s",
    "video_views_p25",
    "video_views_p50",
    "video_views_p75",
    "video_views_p100",
    "average_video_play",
    "engaged_view",
    "likes",
    "comments",
    "shares",
    "follows",
    "profile_visits",
    "app_install",
    "real_time_app_install",
];

pub const REPORT_TYPES: &[&str] = &[
    "BASIC",
    "AUDIENCE",
    "PLAYABLE_MATERIAL",
    "CATALOG",
    "TT_SHOP",
];

pub use crate::catalog::Level;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breakdown {
    /// One row per day (`stat_time_day`; at most 30 days per request).
    Day,
    /// One row per hour (`stat_time_hour`; one day per request).
    Hour,
    /// Totals over the range (at most 365 days per request).
    None,
}

/// What a report asks for, as a person would say it (the CLI's flags, or a library caller's
/// choices); [`build`] checks it and turns it into a [`Plan`].
#[derive(Debug, Clone)]
pub struct PlanRequest {
    pub report_type: String,
    pub start: Option<NaiveDate>,
    pub end: Option<NaiveDate>,
    pub last: Option<u32>,
    pub yesterday: bool,
    pub lifetime: bool,
    pub level: Level,
    pub breakdown: Breakdown,
    pub dimensions: Vec<String>,
    pub metrics: Vec<String>,
    /// `field=v1,v2` (IN) or `field!=v1,v2` (NOT_IN).
    pub filters: Vec<String>,
    pub include_deleted: bool,
    pub order_by: Option<String>,
    pub desc: bool,
    pub page_size: u32,
    /// Pass metric and dimension names that are not in the catalogue (newer than this tool).
    pub allow_unknown_metrics: bool,
}

impl Default for PlanRequest {
    fn default() -> Self {
        Self {
            report_type: "BASIC".into(),
            start: None,
            end: None,
            last: None,
            yesterday: false,
            lifetime: false,
            level: Level::Campaign,
            breakdown: Breakdown::Day,
            dimensions: Vec::new(),
            metrics: Vec::new(),
            filters: Vec::new(),
            include_deleted: false,
            order_by: None,
            desc: false,
            page_size: PAGE_SIZE_MAX,
            allow_unknown_metrics: false,
        }
    }
}

/// The dates asked for, before they meet an account's time zone.
#[derive(Debug, Clone, Copy)]
pub enum Dates {
    Range(NaiveDate, NaiveDate),
    Last(u32),
    Yesterday,
    Lifetime,
}

/// The spec and columns of a report; per-account dates come later.
#[derive(Debug, Clone)]
pub struct Plan {
    pub spec: ReportSpec,
    pub dates: Dates,
    /// Columns TikTok fills (dimensions then metrics, in the user's order).
    pub data_columns: Vec<String>,
}

/// Checks a request, listing every problem at once, and plans it.
pub fn build(args: &PlanRequest) -> Result<Plan, ReportError> {
    let mut problems = Vec::new();
    let report_type = args.report_type.trim().to_ascii_uppercase();
    if !REPORT_TYPES.contains(&report_type.as_str()) {
        problems.push(format!(
            "report type {report_type:?} is not valid: expected one of {}",
            REPORT_TYPES.join(", ")
        ));
    }
    let dates = read_dates(args, &mut problems)?;
    // Lifetime reports take no time dimension: the default `--by day` is dropped for them.
    let lifetime = matches!(dates, Dates::Lifetime);
    let dimensions = read_dimensions(args, lifetime, &mut problems);
    let metrics = read_metrics(args, &dimensions);
    if matches!(report_type.as_str(), "BASIC" | "AUDIENCE") {
        check_names(args, &report_type, &dimensions, &metrics, &mut problems);
    }
    let filtering = read_filtering(args, &mut problems);
    if !problems.is_empty() {
        let list: Vec<String> = problems.iter().map(|p| format!("  - {p}")).collect();
        return Err(ReportError::Invalid(format!(
            "bad report flags:\n{}",
            list.join("\n")
        )));
    }
    let data_columns = dimensions.iter().chain(&metrics).cloned().collect();
    let spec = ReportSpec {
        data_level: matches!(
            report_type.as_str(),
            "BASIC" | "AUDIENCE" | "CATALOG" | "TT_SHOP"
        )
        .then(|| args.level.data_level().to_string()),
        report_type,
        dimensions,
        metrics,
        filtering,
        order_field: args.order_by.clone(),
        order_type: args
            .order_by
            .as_ref()
            .map(|_| if args.desc { "DESC" } else { "ASC" }.to_string()),
        page_size: args.page_size.clamp(1, PAGE_SIZE_MAX),
        lifetime,
    };
    Ok(Plan {
        spec,
        dates,
        data_columns,
    })
}

/// The dates asked for: a range (its end not before its start), the last N days, yesterday,
/// or the lifetime; none given is refused at once.
fn read_dates(args: &PlanRequest, problems: &mut Vec<String>) -> Result<Dates, ReportError> {
    Ok(
        match (
            args.start,
            args.end,
            args.last,
            args.yesterday,
            args.lifetime,
        ) {
            (Some(start), Some(end), ..) => {
                if end < start {
                    problems.push(format!("--end {end} is before --start {start}"));
                }
                Dates::Range(start, end)
            }
            (_, _, Some(n), ..) => Dates::Last(n),
            (.., true, _) => Dates::Yesterday,
            (.., true) => Dates::Lifetime,
            _ => {
                return Err(ReportError::Invalid(
                "which dates? give --start YYYY-MM-DD --end YYYY-MM-DD, --last N, --yesterday or --lifetime"
                    .into(),
            ));
            }
        },
    )
}

/// The level's ID, the time breakdown (none for a lifetime), then the other dimensions asked
/// for, each once.
fn read_dimensions(args: &PlanRequest, lifetime: bool, problems: &mut Vec<String>) -> Vec<String> {
    let time_dimension = match args.breakdown {
        Breakdown::Day => Some(DAY),
        Breakdown::Hour => Some(HOUR),
        Breakdown::None => None,
    };
    let mut dimensions = vec![args.level.id_dimension().to_string()];
    if let Some(t) = time_dimension.filter(|_| !lifetime) {
        dimensions.push(t.to_string());
    }
    for d in &args.dimensions {
        let d = d.trim().to_string();
        if d.is_empty() || dimensions.contains(&d) {
            continue;
        }
        if lifetime && (d == DAY || d == HOUR || d == "country_code") {
            problems.push(format!("--lifetime takes no {d} dimension"));
        }
        dimensions.push(d);
    }
    if dimensions.iter().any(|d| d == DAY) && dimensions.iter().any(|d| d == HOUR) {
        problems.push("use one time breakdown: stat_time_day or stat_time_hour, not both".into());
    }
    dimensions
}

/// The metrics asked for (the defaults when none; `all-basic` expanded), each once and none
/// that is also a dimension.
fn read_metrics(args: &PlanRequest, dimensions: &[String]) -> Vec<String> {
    let mut metrics: Vec<String> = Vec::new();
    let requested: Vec<String> = if args.metrics.is_empty() {
        DEFAULT_METRICS.iter().map(|s| s.to_string()).collect()
    } else {
        args.metrics.clone()
    };
    for m in requested {
        let m = m.trim().to_string();
        if m == "all-basic" {
            for basic in ALL_BASIC_METRICS {
                if !metrics.iter().any(|x| x == basic) {
                    metrics.push(basic.to_string());
                }
            }
        } else if !m.is_empty() && !metrics.contains(&m) && !dimensions.contains(&m) {
            metrics.push(m);
        }
    }
    metrics
}

/// The `--filter`s, and with deleted entities included, their status filters.
fn read_filtering(args: &PlanRequest, problems: &mut Vec<String>) -> Vec<Filter> {
    let mut filtering = Vec::new();
    for text in &args.filters {
        match parse_filter(text) {
            Ok(f) => filtering.push(f),
            Err(e) => problems.push(e),
        }
    }
    if args.include_deleted {
        for field in [args.level.status_field(), "ad_status"] {
            if !filtering.iter().any(|f: &Filter| f.field_name == field) {
                filtering.push(Filter::list(field, "IN", &["STATUS_ALL".to_string()]));
            }
        }
    }
    filtering
}

/// Checks metric and dimension names against TikTok's catalogue (BASIC and AUDIENCE
/// reports), so that a typo costs no request: unknown names (with the nearest known one),
/// attributes of a level below the report's, audience breakdowns in a BASIC report.
fn check_names(
    args: &PlanRequest,
    report_type: &str,
    dimensions: &[String],
    metrics: &[String],
    problems: &mut Vec<String>,
) {
    use crate::catalog::{self, DimensionKind, MetricKind};
    let unknown = |kind: &str, name: &str, suggestion: Option<&str>| {
        let hint = suggestion.map_or(String::new(), |s| format!(" (did you mean {s}?)"));
        format!(
            "unknown {kind} {name:?}{hint}; a name newer than this tool's catalogue passes with \
             --allow-unknown-metrics"
        )
    };
    for d in dimensions {
        match catalog::dimension(d) {
            None if !args.allow_unknown_metrics => problems.push(unknown(
                "dimension",
                d,
                catalog::did_you_mean(d, catalog::DIMENSIONS.iter().map(|x| x.0)),
            )),
            Some(DimensionKind::Audience) if report_type == "BASIC" => problems.push(format!(
                "{d} is an AUDIENCE breakdown: add --report-type AUDIENCE"
            )),
            Some(DimensionKind::Id(level)) if level != args.level => problems.push(format!(
                "{d} is the ID of another level: use --level {} instead",
                format!("{level:?}").to_lowercase()
            )),
            _ => {}
        }
    }
    let order_by = args.order_by.iter().filter(|o| !metrics.contains(o));
    for m in metrics.iter().chain(order_by) {
        match catalog::metric(m) {
            None if !args.allow_unknown_metrics => problems.push(unknown(
                "metric",
                m,
                catalog::did_you_mean(m, catalog::METRICS.iter().map(|x| x.0)),
            )),
            Some(MetricKind::Attribute(owner)) if owner > args.level => problems.push(format!(
                "{m} describes {}s: it needs --level {} or below",
                format!("{owner:?}").to_lowercase(),
                format!("{owner:?}").to_lowercase()
            )),
            _ => {}
        }
    }
}

/// `field=a,b` → IN, `field!=a,b` → NOT_IN.
pub fn parse_filter(text: &str) -> Result<Filter, String> {
    let (field, filter_type, values) = if let Some((field, values)) = text.split_once("!=") {
        (field, "NOT_IN", values)
    } else if let Some((field, values)) = text.split_once('=') {
        (field, "IN", values)
    } else {
        return Err(format!(
            "--filter {text:?} is not FIELD=VALUES (e.g. campaign_ids=1812345678901234,1812345678905678)"
        ));
    };
    let field = field.trim();
    let values: Vec<String> = values
        .split(',')
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect();
    if field.is_empty() || values.is_empty() {
        return Err(format!(
            "--filter {text:?} needs a field and at least one value"
        ));
    }
    Ok(Filter::list(field, filter_type, &values))
}

/// Whether the dates asked for depend on the accounts' time zones: relative dates do, and so
/// does a range that may reach today somewhere on Earth (its end would be clamped there).
/// A range that ended before yesterday in UTC is the same range in every zone.
pub fn needs_time_zone(plan: &Plan, utc_today: NaiveDate) -> bool {
    match plan.dates {
        Dates::Lifetime => false,
        Dates::Yesterday | Dates::Last(_) => true,
        Dates::Range(_, end) => end >= utc_today - Days::days(1),
    }
}

/// Today in a time zone as TikTok names it: an IANA name (`America/New_York`, `Etc/GMT-8`)
/// or an offset (`UTC+08:00`, `GMT-5`, `+05:30`). `None` when the name means nothing.
pub fn today_in(timezone: &str) -> Option<NaiveDate> {
    let now = Utc::now();
    if let Ok(tz) = timezone.trim().parse::<chrono_tz::Tz>() {
        return Some(now.with_timezone(&tz).date_naive());
    }
    utc_offset(timezone).map(|offset| now.with_timezone(&offset).date_naive())
}

/// `UTC+08:00`, `GMT-5`, `UTC`, `+05:30` as a fixed offset.
fn utc_offset(name: &str) -> Option<chrono::FixedOffset> {
    let name = name.trim();
    let rest = name
        .strip_prefix("UTC")
        .or_else(|| name.strip_prefix("GMT"))
        .unwrap_or(name);
    if rest.is_empty() {
        return chrono::FixedOffset::east_opt(0);
    }
    let (sign, digits) = match rest.as_bytes().first()? {
        b'+' => (1, &rest[1..]),
        b'-' => (-1, &rest[1..]),
        _ => return None,
    };
    let (hours, minutes) = match digits.split_once(':') {
        Some((h, m)) => (h, m),
        None if digits.len() == 4 => digits.split_at(2),
        None => (digits, "0"),
    };
    let hours: i32 = hours.parse().ok().filter(|h| (0..=14).contains(h))?;
    let minutes: i32 = minutes.parse().ok().filter(|m| (0..60).contains(m))?;
    chrono::FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
}

/// An account's windows judged in its own time zone. When the dates depend on the zone and
/// it is not known, this fails (a transient failure: TikTok did not say), rather than guess
/// the day in UTC; dates that do not depend on it go on.
pub fn dates_for(
    plan: &Plan,
    advertiser: &str,
    account: Option<&AccountFacts>,
    utc_today: NaiveDate,
) -> Result<AccountDates, ReportError> {
    let zone = account.and_then(|a| a.timezone.as_deref());
    let today = match zone.and_then(today_in) {
        Some(today) => today,
        None if needs_time_zone(plan, utc_today) => {
            let why = match zone {
                Some(zone) => format!("TikTok names it {zone:?}, which is no time zone known here"),
                None => "TikTok's /advertiser/info/ did not give it".to_string(),
            };
            return Err(ReportError::AccountFacts(format!(
                "the time zone of advertiser {advertiser} is unknown ({why}): --yesterday, --last and \
                 a range reaching today are days in the account's own zone, so nothing was asked for \
                 rather than the wrong days; try again, or give --start/--end dates before yesterday"
            )));
        }
        None => utc_today,
    };
    account_windows(plan, today).map_err(ReportError::Invalid)
}

/// An account ready to be fetched: its windows, in date order.
#[derive(Debug, Clone)]
pub struct PlannedAccount {
    pub advertiser: String,
    pub windows: Vec<Option<Window>>,
}

/// The accounts of a run, planned; those that could not be are failures of their own.
pub struct Planned {
    pub accounts: Vec<PlannedAccount>,
    pub failures: Vec<Failure>,
    /// How many accounts the run covers, planned or not.
    pub advertisers: usize,
}

impl Planned {
    /// `advertiser` cannot be fetched: it fails on its own, the others go on.
    pub fn fail(&mut self, advertiser: &str, error: anyhow::Error) {
        self.accounts.retain(|a| a.advertiser != advertiser);
        self.failures.push(Failure {
            advertiser: advertiser.to_string(),
            window: None,
            error,
        });
    }
}

/// Plans each account's windows (saying its notes through `observer`). An account whose dates
/// need a time zone TikTok did not give, or (with `require_facts`) whose currency or time zone
/// is unknown, fails on its own; when it is the run's only account, the run fails.
pub fn plan_accounts(
    plan: &Plan,
    advertisers: &[String],
    facts: &std::collections::BTreeMap<String, AccountFacts>,
    require_facts: bool,
    utc_today: NaiveDate,
    observer: &dyn Observer,
) -> Result<Planned, ReportError> {
    let mut planned = Planned {
        accounts: Vec::new(),
        failures: Vec::new(),
        advertisers: advertisers.len(),
    };
    for advertiser in advertisers {
        let account = facts.get(advertiser);
        let dates = dates_for(plan, advertiser, account, utc_today).and_then(|dates| {
            if require_facts {
                let wanted = ["currency".to_string(), "timezone".to_string()];
                super::columns::lead_cells(&wanted, advertiser, account)?;
            }
            Ok(dates)
        });
        match dates {
            Ok(dates) => {
                for note in &dates.notes {
                    observer.note(&format!("advertiser {advertiser}: {note}"));
                }
                planned.accounts.push(PlannedAccount {
                    advertiser: advertiser.clone(),
                    windows: dates.windows,
                });
            }
            Err(error) if advertisers.len() == 1 => return Err(error),
            Err(error) => planned.fail(advertiser, error.into()),
        }
    }
    Ok(planned)
}

/// The single range covering all windows (an async task has no span limit).
pub fn whole_range(windows: &[Option<Window>]) -> Option<Window> {
    match (windows.first(), windows.last()) {
        (Some(Some(first)), Some(Some(last))) => Some(Window {
            start: first.start,
            end: last.end,
        }),
        _ => None,
    }
}

/// An account's windows, or why there are none; notes say what was adjusted.
pub struct AccountDates {
    pub windows: Vec<Option<Window>>,
    pub notes: Vec<String>,
}

pub fn account_windows(plan: &Plan, today: NaiveDate) -> Result<AccountDates, String> {
    let yesterday = today - Days::days(1);
    let mut notes = Vec::new();
    let (start, end) = match plan.dates {
        Dates::Lifetime => {
            return Ok(AccountDates {
                windows: vec![None],
                notes,
            });
        }
        Dates::Yesterday => (yesterday, yesterday),
        Dates::Last(n) => (yesterday - Days::days(i64::from(n) - 1), yesterday),
        Dates::Range(start, end) => {
            if start > today {
                return Err(format!(
                    "the range starts on {start}, after today ({today}) in the account's time zone: there is no data yet"
                ));
            }
            if end > today {
                notes.push(format!(
                    "--end {end} is in the future in the account's time zone: clamped to today ({today}), whose numbers are still moving"
                ));
                (start, today)
            } else {
                (start, end)
            }
        }
    };
    let windows = split_windows(start, end, plan.spec.max_span_days())
        .into_iter()
        .map(Some)
        .collect();
    Ok(AccountDates { windows, notes })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn plan(dates: Dates, by: &str) -> Plan {
        let spec = ReportSpec {
            report_type: "BASIC".into(),
            data_level: None,
            dimensions: vec!["campaign_id".into(), by.into()],
            metrics: vec![],
            filtering: vec![],
            order_field: None,
            order_type: None,
            page_size: 1000,
            lifetime: false,
        };
        Plan {
            spec,
            dates,
            data_columns: vec![],
        }
    }

    #[test]
    fn future_end_is_clamped_and_future_start_refused() {
        let p = plan(Dates::Range(date("2025-01-01"), date("2025-01-31")), DAY);
        let dates = account_windows(&p, date("2025-01-20")).unwrap();
        assert_eq!(dates.windows.len(), 1);
        assert_eq!(dates.windows[0].unwrap().end, date("2025-01-20"));
        assert!(dates.notes[0].contains("clamped"));
        assert!(account_windows(&p, date("2024-12-31")).is_err());
    }

    #[test]
    fn last_and_yesterday_end_yesterday() {
        let p = plan(Dates::Last(7), DAY);
        let w = account_windows(&p, date("2025-03-10")).unwrap().windows;
        assert_eq!(
            w[0].unwrap(),
            Window {
                start: date("2025-03-03"),
                end: date("2025-03-09")
            }
        );
        let p = plan(Dates::Yesterday, HOUR);
        let w = account_windows(&p, date("2025-03-01")).unwrap().windows;
        assert_eq!(
            w[0].unwrap(),
            Window {
                start: date("2025-02-28"),
                end: date("2025-02-28")
            }
        );
    }

    #[test]
    fn filters() {
        let f = parse_filter("campaign_ids=1,2").unwrap();
        assert_eq!(
            (
                f.field_name.as_str(),
                f.filter_type.as_str(),
                f.filter_value.as_str()
            ),
            ("campaign_ids", "IN", r#"["1","2"]"#)
        );
        assert_eq!(
            parse_filter("country_code!=US").unwrap().filter_type,
            "NOT_IN"
        );
        assert!(parse_filter("nonsense").is_err());
        assert!(parse_filter("x=").is_err());
    }

    #[test]
    fn time_zones_decide_today() {
        assert!(today_in("Etc/GMT-1").is_some());
        assert!(today_in("Asia/Tokyo").is_some());
        assert!(today_in("Mars/Olympus").is_none());
        assert_eq!(
            utc_offset("UTC+08:00"),
            chrono::FixedOffset::east_opt(8 * 3600)
        );
        assert_eq!(utc_offset("GMT-5"), chrono::FixedOffset::west_opt(5 * 3600));
        assert_eq!(
            utc_offset("+0530"),
            chrono::FixedOffset::east_opt(5 * 3600 + 1800)
        );
        assert_eq!(utc_offset("UTC"), chrono::FixedOffset::east_opt(0));
        assert_eq!(utc_offset("UTC+15"), None);
        assert_eq!(utc_offset("Tokyo"), None);
    }

    #[test]
    fn only_dates_that_may_reach_today_need_the_zone() {
        let today = date("2025-03-10");
        assert!(needs_time_zone(&plan(Dates::Yesterday, DAY), today));
        assert!(needs_time_zone(&plan(Dates::Last(7), DAY), today));
        assert!(!needs_time_zone(&plan(Dates::Lifetime, DAY), today));
        let range = |end| plan(Dates::Range(date("2025-01-01"), date(end)), DAY);
        assert!(!needs_time_zone(&range("2025-03-08"), today));
        assert!(needs_time_zone(&range("2025-03-09"), today));
        let unknown = AccountFacts::default();
        assert!(dates_for(&plan(Dates::Yesterday, DAY), "1", Some(&unknown), today).is_err());
        assert!(dates_for(&range("2025-03-08"), "1", Some(&unknown), today).is_ok());
        let tokyo = AccountFacts {
            currency: None,
            timezone: Some("Asia/Tokyo".into()),
        };
        assert!(dates_for(&plan(Dates::Yesterday, DAY), "1", Some(&tokyo), today).is_ok());
    }
}
