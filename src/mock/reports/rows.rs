//! A report's rows from the simulator's objects: one group per entity of the data level (or one
//! for the whole account without an ID dimension), the ads under it that the filters keep, on
//! the days each ad existed, split by hour and breakdowns, summed per row.

use std::collections::BTreeMap;

use chrono::{Duration as Days, NaiveDate};
use serde_json::{Map, Value};

use super::numbers::{self, Amounts, N};
use super::query::{Filter, ReportQuery, Time};
use crate::catalog::{self, Level, MetricKind};
use crate::mock::world::{SeedAccount, World, account};

/// One ad with the objects above it.
#[derive(Clone, Copy)]
struct Chain<'a> {
    account: &'static SeedAccount,
    campaign: &'a Map<String, Value>,
    adgroup: &'a Map<String, Value>,
    ad: &'a Map<String, Value>,
}

fn text<'a>(map: &'a Map<String, Value>, key: &str) -> &'a str {
    map.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn date_of(stamp: &str) -> Option<NaiveDate> {
    stamp
        .get(..10)
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
}

impl Chain<'_> {
    fn deleted(&self) -> [bool; 3] {
        [self.campaign, self.adgroup, self.ad].map(|e| text(e, "operation_status") == "DELETE")
    }

    /// The days the ad delivered: from its creation to today, or to the day it (or what it is
    /// in) was deleted.
    fn days(&self, today: NaiveDate) -> (NaiveDate, NaiveDate) {
        let from = date_of(text(self.ad, "create_time")).unwrap_or(today);
        let until = [self.campaign, self.adgroup, self.ad]
            .iter()
            .filter(|e| text(e, "operation_status") == "DELETE")
            .filter_map(|e| date_of(text(e, "modify_time")))
            .min()
            .unwrap_or(today)
            .min(today);
        (from, until)
    }

    fn id_at(&self, level: Level) -> &str {
        match level {
            Level::Advertiser => self.account.id,
            Level::Campaign => text(self.campaign, "campaign_id"),
            Level::Adgroup => text(self.adgroup, "adgroup_id"),
            Level::Ad => text(self.ad, "ad_id"),
        }
    }
}

fn keeps(filter: &Filter, value: &str) -> bool {
    filter.values.iter().any(|v| v == value) != filter.negate
}

/// Whether the statuses of the chain pass the status filters. TikTok's report filters
/// `campaign_status`, `adgroup_status` and `ad_status` each default to STATUS_NOT_DELETE;
/// `ad_status` decides alone when given (REFERENCE 9.2: it is how deleted spend is reached).
fn status_passes(chain: &Chain<'_>, filters: &[Filter]) -> bool {
    let [campaign, adgroup, ad] = chain.deleted();
    let passes = |deleted: bool, filter: Option<&Filter>| {
        let status = if deleted {
            "STATUS_DELETE"
        } else {
            "STATUS_NOT_DELETE"
        };
        match filter {
            None => !deleted,
            Some(f) => {
                let matches = f.values.iter().any(|v| v == "STATUS_ALL" || v == status);
                matches != f.negate
            }
        }
    };
    let find = |field: &str| filters.iter().find(|f| f.field == field);
    if let Some(ad_filter) = find("ad_status") {
        return passes(campaign || adgroup || ad, Some(ad_filter));
    }
    passes(campaign, find("campaign_status")) && passes(adgroup, find("adgroup_status")) && !ad
}

fn chain_passes(chain: &Chain<'_>, filters: &[Filter]) -> bool {
    status_passes(chain, filters)
        && filters.iter().all(|f| match f.field.as_str() {
            "campaign_ids" => keeps(f, text(chain.campaign, "campaign_id")),
            "adgroup_ids" => keeps(f, text(chain.adgroup, "adgroup_id")),
            "ad_ids" => keeps(f, text(chain.ad, "ad_id")),
            "objective_type" => keeps(f, text(chain.campaign, "objective_type")),
            "promotion_type" => keeps(f, text(chain.adgroup, "promotion_type")),
            "campaign_automation_type" => {
                keeps(f, text(chain.campaign, "campaign_automation_type"))
            }
            "buying_type" => keeps(f, "AUCTION"),
            _ => true,
        })
}

fn chains<'a>(world: &'a World, advertiser: &str) -> Vec<Chain<'a>> {
    let Some(account) = account(advertiser) else {
        return Vec::new();
    };
    world
        .all("ad")
        .iter()
        .filter(|ad| text(ad, "advertiser_id") == advertiser)
        .filter_map(|ad| {
            let adgroup = world.find("adgroup", text(ad, "adgroup_id"))?;
            let campaign = world.find("campaign", text(ad, "campaign_id"))?;
            Some(Chain {
                account,
                campaign,
                adgroup,
                ad,
            })
        })
        .collect()
}

/// The values a breakdown splits numbers over, with their usual weights.
fn bucket_values(dimension: &str, account: &SeedAccount) -> Vec<(&'static str, u64)> {
    let home_us = account.country == "US";
    match dimension {
        "country_code" if home_us => vec![("US", 70), ("CA", 20), ("GB", 10)],
        "country_code" => vec![("DE", 60), ("AT", 25), ("FR", 15)],
        "province_id" if home_us => vec![("5332921", 40), ("5128638", 35), ("4736286", 25)],
        "province_id" => vec![("2951839", 40), ("2861876", 35), ("2950157", 25)],
        "age" => vec![
            ("AGE_13_17", 5),
            ("AGE_18_24", 30),
            ("AGE_25_34", 30),
            ("AGE_35_44", 18),
            ("AGE_45_54", 10),
            ("AGE_55_100", 7),
        ],
        "gender" => vec![("FEMALE", 52), ("MALE", 45), ("NONE", 3)],
        "platform" => vec![("ANDROID", 55), ("IPHONE", 40), ("IPAD", 5)],
        "language" if home_us => vec![("en", 85), ("es", 15)],
        "language" => vec![("de", 80), ("en", 20)],
        "placement" => vec![("PLACEMENT_TIKTOK", 85), ("PLACEMENT_PANGLE", 15)],
        _ => vec![("WIFI", 55), ("4G", 35), ("5G", 10)],
    }
}

/// Every combination of the breakdowns' values, with a weight that varies by ad and day.
fn combinations(
    breakdowns: &[String],
    account: &SeedAccount,
    salt: &str,
) -> Vec<(Vec<&'static str>, u64)> {
    let mut combos: Vec<(Vec<&'static str>, u64)> = vec![(Vec::new(), 1)];
    for d in breakdowns {
        let values = bucket_values(d, account);
        combos = combos
            .into_iter()
            .flat_map(|(prefix, weight)| {
                values.iter().map(move |(v, w)| {
                    let jitter = 80 + numbers::fnv(&format!("{salt}|{d}|{v}")) % 40;
                    let mut combo = prefix.clone();
                    combo.push(*v);
                    (combo, weight * w * jitter)
                })
            })
            .collect();
    }
    combos
}

/// One row before formatting.
pub(super) struct Row {
    pub dimensions: Vec<(String, String)>,
    pub amounts: Amounts,
    pub days: u64,
    chain: RowEntity,
}

/// What a row is about, for its attribute metrics.
#[derive(Clone)]
struct RowEntity {
    account: &'static SeedAccount,
    campaign: Option<Map<String, Value>>,
    adgroup: Option<Map<String, Value>>,
    ad: Option<Map<String, Value>>,
}

pub(super) fn rows(world: &World, query: &ReportQuery, today: NaiveDate) -> Vec<Row> {
    if query.empty {
        return Vec::new();
    }
    let split = Split::of(query);
    let mut out = Vec::new();
    for advertiser in &query.advertisers {
        for ((_, group_id), members) in groups(world, advertiser, query) {
            let cells = cells(world, query, &split, &members, today);
            out.extend(group_rows(query, advertiser, &group_id, &members, cells));
        }
    }
    if let Some((metric, descending)) = &query.order {
        let key = |row: &Row| {
            numbers::value(metric, &row.amounts, row.days)
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        out.sort_by(|a, b| {
            let order = key(a).total_cmp(&key(b));
            if *descending { order.reverse() } else { order }
        });
    }
    out
}

/// What a row's numbers are split by: the breakdowns asked for, and `country_code` too when a
/// country filter needs it (dropped from the row again when it was not asked for).
struct Split {
    breakdowns: Vec<String>,
    country_filter: Option<Filter>,
    hidden_country: bool,
}

impl Split {
    fn of(query: &ReportQuery) -> Self {
        let country_filter = query
            .filters
            .iter()
            .find(|f| f.field == "country_code")
            .cloned();
        let mut breakdowns = query.breakdowns.clone();
        let hidden_country =
            country_filter.is_some() && !breakdowns.iter().any(|b| b == "country_code");
        if hidden_country {
            breakdowns.push("country_code".into());
        }
        Self {
            breakdowns,
            country_filter,
            hidden_country,
        }
    }

    /// A combination's values as the row shows them; `None` when the country filter drops it.
    fn kept(&self, mut combo: Vec<&'static str>) -> Option<Vec<&'static str>> {
        if let Some(filter) = &self.country_filter {
            let country_at = self
                .breakdowns
                .iter()
                .position(|b| b == "country_code")
                .unwrap_or(0);
            if !combo.get(country_at).is_some_and(|c| keeps(filter, c)) {
                return None;
            }
            if self.hidden_country {
                combo.pop();
            }
        }
        Some(combo)
    }
}

/// The advertiser's ads that pass the filters, grouped by the entity a row is about (all in one
/// group without the level's ID dimension), in ID order.
fn groups<'w>(
    world: &'w World,
    advertiser: &str,
    query: &ReportQuery,
) -> BTreeMap<(u64, String), Vec<Chain<'w>>> {
    let mut groups: BTreeMap<(u64, String), Vec<Chain<'_>>> = BTreeMap::new();
    for chain in chains(world, advertiser) {
        if !chain_passes(&chain, &query.filters) {
            continue;
        }
        let id = if query.by_entity {
            chain.id_at(query.level).to_string()
        } else {
            String::new()
        };
        groups
            .entry((id.parse().unwrap_or(0), id))
            .or_default()
            .push(chain);
    }
    groups
}

/// A group's amounts per (time key, breakdown values), with the first and last day they cover.
type Cells = BTreeMap<(String, Vec<&'static str>), (Amounts, NaiveDate, NaiveDate)>;

/// Every day of every ad of a group within the range, split by time and breakdowns and summed
/// into cells.
fn cells(
    world: &World,
    query: &ReportQuery,
    split: &Split,
    members: &[Chain<'_>],
    today: NaiveDate,
) -> Cells {
    let mut cells = Cells::new();
    for chain in members {
        let (from, until) = chain.days(today);
        let (start, end) = match query.range {
            Some((s, e)) => (s.max(from), e.min(until)),
            None => (from, until),
        };
        let ad_id = text(chain.ad, "ad_id");
        let mut day = start;
        while day <= end {
            let amounts = numbers::ad_day(world.seed_on(day), ad_id, day);
            for (time_key, part) in by_time(query.time, &amounts, ad_id, day) {
                let combos = combinations(
                    &split.breakdowns,
                    chain.account,
                    &format!("{ad_id}|{time_key}|{day}"),
                );
                let weights: Vec<u64> = combos.iter().map(|c| c.1).collect();
                for ((combo, _), share) in
                    combos.into_iter().zip(numbers::split_all(&part, &weights))
                {
                    let Some(combo) = split.kept(combo) else {
                        continue;
                    };
                    let cell = cells
                        .entry((time_key.clone(), combo))
                        .or_insert(([0; N], day, day));
                    numbers::add(&mut cell.0, &share);
                    cell.1 = cell.1.min(day);
                    cell.2 = cell.2.max(day);
                }
            }
            day += Days::days(1);
        }
    }
    cells
}

/// One ad's day as the time dimension wants it: 24 hours (shares that add up to the day, more
/// by day than by night), the day, or no time at all.
fn by_time(
    time: Option<Time>,
    amounts: &Amounts,
    ad_id: &str,
    day: NaiveDate,
) -> Vec<(String, Amounts)> {
    match time {
        Some(Time::Hour) => {
            const SHAPE: [u64; 24] = [
                1, 1, 1, 1, 1, 2, 3, 4, 5, 6, 6, 7, 8, 8, 7, 7, 7, 8, 9, 10, 10, 8, 5, 3,
            ];
            let weights: Vec<u64> = (0..24u64)
                .map(|h| {
                    SHAPE[h as usize] * (80 + numbers::fnv(&format!("{ad_id}|{day}|{h}")) % 40)
                })
                .collect();
            numbers::split_all(amounts, &weights)
                .into_iter()
                .enumerate()
                .map(|(h, a)| (format!("{day} {h:02}:00:00"), a))
                .collect()
        }
        Some(Time::Day) => vec![(format!("{day} 00:00:00"), *amounts)],
        None => vec![(String::new(), *amounts)],
    }
}

/// The rows of one group: a row per cell, its dimensions in the order asked.
fn group_rows(
    query: &ReportQuery,
    advertiser: &str,
    group_id: &str,
    members: &[Chain<'_>],
    cells: Cells,
) -> Vec<Row> {
    let Some(first) = members.first() else {
        return Vec::new();
    };
    let entity = RowEntity {
        account: first.account,
        campaign: (query.level >= Level::Campaign && query.by_entity)
            .then(|| first.campaign.clone()),
        adgroup: (query.level >= Level::Adgroup && query.by_entity).then(|| first.adgroup.clone()),
        ad: (query.level >= Level::Ad && query.by_entity).then(|| first.ad.clone()),
    };
    cells
        .into_iter()
        .map(|((time_key, combo), (amounts, first_day, last_day))| {
            let mut combo_values = combo.into_iter();
            let dimensions = query
                .dimensions
                .iter()
                .map(|d| {
                    let value = match catalog::dimension(d) {
                        Some(catalog::DimensionKind::Id(Level::Advertiser)) => {
                            advertiser.to_string()
                        }
                        Some(catalog::DimensionKind::Id(_)) => group_id.to_string(),
                        Some(catalog::DimensionKind::Time) => time_key.clone(),
                        _ => combo_values.next().unwrap_or("-").to_string(),
                    };
                    (d.clone(), value)
                })
                .collect();
            Row {
                dimensions,
                amounts,
                days: (last_day - first_day).num_days().unsigned_abs() + 1,
                chain: entity.clone(),
            }
        })
        .collect()
}

fn number(map: Option<&Map<String, Value>>, key: &str) -> String {
    map.and_then(|m| m.get(key))
        .and_then(Value::as_f64)
        .map_or_else(|| "-".to_string(), |n| format!("{n:.2}"))
}

fn field(map: Option<&Map<String, Value>>, key: &str) -> String {
    map.and_then(|m| m.get(key))
        .and_then(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "-".to_string())
}

impl Row {
    /// The row's value of `metric`, as TikTok writes it.
    pub(super) fn metric(&self, metric: &str) -> String {
        if let Some(MetricKind::Attribute(_)) = catalog::metric(metric) {
            return self.attribute(metric);
        }
        numbers::value(metric, &self.amounts, self.days).unwrap_or_else(|| "-".to_string())
    }

    fn attribute(&self, name: &str) -> String {
        let e = &self.chain;
        let (campaign, adgroup, ad) = (e.campaign.as_ref(), e.adgroup.as_ref(), e.ad.as_ref());
        match name {
            "advertiser_name" => e.account.name.to_string(),
            "advertiser_id" => e.account.id.to_string(),
            "currency" => e.account.currency.to_string(),
            "timezone" => e.account.timezone.to_string(),
            "campaign_name" | "campaign_id" | "objective_type" => field(campaign, name),
            "campaign_budget" => number(campaign, "budget"),
            "budget" if adgroup.is_none() => number(campaign, "budget"),
            "budget" => number(adgroup, "budget"),
            "bid" => number(adgroup, "bid_price"),
            "opt_status" => field(ad.or(adgroup), "operation_status"),
            "adgroup_name" | "adgroup_id" | "placement_type" | "promotion_type"
            | "billing_event" => field(adgroup, name),
            "ad_name" | "ad_text" | "call_to_action" => field(ad, name),
            "is_smart_creative" => "false".to_string(),
            _ => "-".to_string(),
        }
    }
}

/// The sums over all rows, as `total_metrics` (attributes are `-`).
pub(super) fn totals(rows: &[Row], metrics: &[String]) -> Map<String, Value> {
    let mut sum = [0u64; N];
    let mut days = 0;
    for row in rows {
        numbers::add(&mut sum, &row.amounts);
        days = days.max(row.days);
    }
    metrics
        .iter()
        .map(|m| {
            let value = match catalog::metric(m) {
                Some(MetricKind::Attribute(_)) => "-".to_string(),
                _ => numbers::value(m, &sum, days.max(2)).unwrap_or_else(|| "-".into()),
            };
            (m.clone(), Value::String(value))
        })
        .collect()
}
