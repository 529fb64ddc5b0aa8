//! Numbers that hold together. Every ad has, for every day it existed, one set of additive
//! quantities (impressions, clicks, spend in cents, ...) drawn deterministically from the seed,
//! the ad and the day. Everything else is built from those: an hour or a breakdown bucket is an
//! exact share of its day (the shares add up to the day, to the cent); a campaign's row is the
//! sum of its ads' rows; a range or a lifetime is the sum of its days; rates and costs are
//! computed from the sums (`ctr` = clicks / impressions, `cost_per_conversion` = spend /
//! conversions, `0.00` when nothing to divide by).

use chrono::NaiveDate;

use crate::catalog;

/// What averages and unique counts are made of: quantities kept beside the additive metrics
/// that are not metrics themselves.
const INGREDIENTS: [&str; 2] = ["play_centiseconds", "reach_raw"];

/// The quantities kept per ad and day: every additive metric of the catalogue, in its order,
/// then the [`INGREDIENTS`]. Money is in cents.
pub(crate) const N: usize = catalog::ADDITIVE_COUNT + INGREDIENTS.len();

/// The name of each quantity, by its index.
pub(crate) const ADDITIVE: [&str; N] = {
    let mut names = [""; N];
    let mut i = 0;
    while i < N {
        names[i] = if i < catalog::ADDITIVE_COUNT {
            catalog::ADDITIVE_METRICS[i]
        } else {
            INGREDIENTS[i - catalog::ADDITIVE_COUNT]
        };
        i += 1;
    }
    names
};

const MONEY: &[&str] = &[
    "spend",
    "billed_cost",
    "cash_spend",
    "voucher_spend",
    "total_purchase_value",
    "total_onsite_shopping_value",
];

pub(crate) type Amounts = [u64; N];

pub(crate) fn index(name: &str) -> Option<usize> {
    ADDITIVE.iter().position(|a| *a == name)
}

fn at(a: &Amounts, name: &str) -> u64 {
    index(name).map_or(0, |i| a[i])
}

pub(crate) fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// One ad's additive quantities on one day.
pub(crate) fn ad_day(seed: u64, ad_id: &str, day: NaiveDate) -> Amounts {
    let mut out = [0; N];
    for (name, value) in drawn(seed, ad_id, day) {
        if let Some(i) = index(name) {
            out[i] = value;
        }
    }
    out
}

/// Each quantity of one ad on one day, by name.
fn drawn(seed: u64, ad_id: &str, day: NaiveDate) -> [(&'static str, u64); N] {
    let h = fnv(&format!("{seed}|{ad_id}|{day}"));
    let r = |salt: u64, m: u64| (h.rotate_left(salt as u32 * 7) ^ salt.wrapping_mul(0x9e37)) % m;
    let impressions = 800 + r(1, 40_000);
    let clicks = impressions * (5 + r(2, 20)) / 1000;
    let spend = impressions * (150 + r(3, 300)) / 1000;
    let conversion = clicks / (15 + r(4, 30));
    let plays = impressions * 6 / 10;
    let p25 = plays * 4 / 10;
    let p50 = p25 * 7 / 10;
    let p75 = p50 * 7 / 10;
    let likes = impressions / (120 + r(5, 60));
    let complete_payment = conversion / 2;
    let purchase = complete_payment;
    let cta_conversion = conversion * 7 / 10;
    let cta_purchase = purchase * 7 / 10;
    [
        ("impressions", impressions),
        ("gross_impressions", impressions + r(6, 100)),
        ("clicks", clicks),
        ("spend", spend),
        ("billed_cost", spend),
        ("cash_spend", spend),
        ("voucher_spend", 0),
        ("conversion", conversion),
        ("real_time_conversion", conversion),
        ("result", conversion),
        ("real_time_result", conversion),
        ("secondary_goal_result", conversion / 2),
        ("video_play_actions", plays),
        ("video_watched_2s", plays / 2),
        ("video_watched_6s", plays * 3 / 10),
        ("video_views_p25", p25),
        ("video_views_p50", p50),
        ("video_views_p75", p75),
        ("video_views_p100", p75 * 7 / 10),
        ("engaged_view", plays * 3 / 20),
        ("likes", likes),
        ("comments", likes / 10),
        ("shares", likes / 8),
        ("follows", likes / 20),
        ("profile_visits", likes / 3),
        ("clicks_on_music_disc", likes / 50),
        ("app_install", conversion / 3),
        ("real_time_app_install", conversion / 3),
        ("total_app_event_add_to_cart", conversion / 2),
        ("complete_payment", complete_payment),
        ("total_pageview", clicks * 2),
        (
            "total_purchase_value",
            complete_payment * (2500 + r(7, 5000)),
        ),
        ("total_onsite_shopping_value", 0),
        ("onsite_shopping", 0),
        ("purchase", purchase),
        ("registration", conversion / 4),
        ("sales_lead", conversion / 5),
        ("vta_purchase", purchase - cta_purchase),
        ("vta_conversion", conversion - cta_conversion),
        ("cta_purchase", cta_purchase),
        ("cta_conversion", cta_conversion),
        ("play_centiseconds", plays * (250 + r(8, 400))),
        ("reach_raw", impressions * 8 / 10),
    ]
}

/// Splits `total` over `weights` exactly: each part rounded down from its running share, so the
/// parts add up to `total`.
pub(crate) fn split(total: u64, weights: &[u64]) -> Vec<u64> {
    let sum: u128 = weights.iter().map(|&w| u128::from(w)).sum();
    if sum == 0 {
        let mut parts = vec![0; weights.len()];
        if let Some(first) = parts.first_mut() {
            *first = total;
        }
        return parts;
    }
    let mut running = 0u128;
    let mut given = 0u64;
    weights
        .iter()
        .map(|&w| {
            running += u128::from(w);
            let upto = (u128::from(total) * running / sum) as u64;
            let part = upto - given;
            given = upto;
            part
        })
        .collect()
}

/// Splits every quantity of `amounts` over `weights`.
pub(crate) fn split_all(amounts: &Amounts, weights: &[u64]) -> Vec<Amounts> {
    let mut parts = vec![[0u64; N]; weights.len()];
    for (q, &total) in amounts.iter().enumerate() {
        for (part, share) in parts.iter_mut().zip(split(total, weights)) {
            part[q] = share;
        }
    }
    parts
}

pub(crate) fn add(into: &mut Amounts, from: &Amounts) {
    for (a, b) in into.iter_mut().zip(from) {
        *a += b;
    }
}

fn money(cents: u64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// `num / den × scale` with two decimals, rounded half up; `0.00` when `den` is 0.
fn ratio(num: u64, den: u64, scale: u64) -> String {
    if den == 0 {
        return "0.00".into();
    }
    let hundredths =
        (u128::from(num) * u128::from(scale) * 100 * 2 + u128::from(den)) / (2 * u128::from(den));
    format!("{}.{:02}", hundredths / 100, hundredths % 100)
}

/// A metric's value for a row whose additive quantities are `a`; `days` is how many days the
/// row covers (people counted on several days are counted once in `reach`).
pub(crate) fn value(metric: &str, a: &Amounts, days: u64) -> Option<String> {
    if let Some(i) = index(metric) {
        return Some(if MONEY.contains(&metric) {
            money(a[i])
        } else {
            a[i].to_string()
        });
    }
    let reach = if days > 1 {
        at(a, "reach_raw") * 85 / 100
    } else {
        at(a, "reach_raw")
    };
    let spend = at(a, "spend");
    let per = |name: &str| ratio(spend, at(a, name) * 100, 1);
    let rate = |num: &str, den: &str| ratio(at(a, num), at(a, den), 100);
    Some(match metric {
        "reach" => reach.to_string(),
        "frequency" => ratio(at(a, "impressions"), reach, 1),
        "ctr" => rate("clicks", "impressions"),
        "cpc" => per("clicks"),
        "cpm" => ratio(spend * 10, at(a, "impressions"), 1),
        "cost_per_1000_reached" => ratio(spend * 10, reach, 1),
        "cost_per_conversion" | "real_time_cost_per_conversion" => per("conversion"),
        "conversion_rate" | "real_time_conversion_rate" => rate("conversion", "clicks"),
        "conversion_rate_v2" | "real_time_conversion_rate_v2" => rate("conversion", "impressions"),
        "cost_per_result" | "real_time_cost_per_result" => per("result"),
        "result_rate" | "real_time_result_rate" => rate("result", "impressions"),
        "cost_per_secondary_goal_result" => per("secondary_goal_result"),
        "secondary_goal_result_rate" => rate("secondary_goal_result", "impressions"),
        "average_video_play" => ratio(
            at(a, "play_centiseconds"),
            at(a, "video_play_actions") * 100,
            1,
        ),
        "average_video_play_per_user" => ratio(at(a, "play_centiseconds"), reach * 100, 1),
        "profile_visits_rate" => rate("profile_visits", "impressions"),
        "cost_per_app_install" => per("app_install"),
        "real_time_app_install_cost" => per("real_time_app_install"),
        "cost_per_total_app_event_add_to_cart" => per("total_app_event_add_to_cart"),
        "value_per_complete_payment" => ratio(
            at(a, "total_purchase_value"),
            at(a, "complete_payment") * 100,
            1,
        ),
        "total_complete_payment_rate" => rate("complete_payment", "clicks"),
        "purchase_rate" => rate("purchase", "clicks"),
        "cost_per_purchase" => per("purchase"),
        "registration_rate" => rate("registration", "clicks"),
        "cost_per_registration" => per("registration"),
        "sales_lead_rate" => rate("sales_lead", "clicks"),
        "cost_per_sales_lead" | "cost_per_total_sales_lead" => per("sales_lead"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::MetricKind;

    #[test]
    fn every_quantity_is_drawn_once() {
        let day = NaiveDate::from_ymd_opt(2025, 3, 1).unwrap();
        let mut drawn: Vec<&str> = drawn(7, "ad", day).iter().map(|(n, _)| *n).collect();
        let mut names = ADDITIVE.to_vec();
        drawn.sort_unstable();
        names.sort_unstable();
        assert_eq!(drawn, names);
    }

    /// Whether every non-attribute metric of the catalogue has a value here (a test keeps the two
    /// lists in step).
    fn covers_catalogue() -> Vec<&'static str> {
        let zero = [0u64; N];
        catalog::METRICS
            .iter()
            .filter(|(name, kind)| {
                !matches!(kind, MetricKind::Attribute(_)) && value(name, &zero, 1).is_none()
            })
            .map(|(name, _)| *name)
            .collect()
    }

    #[test]
    fn every_catalogue_metric_has_a_value() {
        assert!(covers_catalogue().is_empty(), "{:?}", covers_catalogue());
    }

    #[test]
    fn splits_add_up_exactly() {
        for total in [0u64, 1, 7, 12_345, 999_999_999] {
            let parts = split(total, &[3, 0, 5, 11, 1]);
            assert_eq!(parts.iter().sum::<u64>(), total);
        }
        let day = ad_day(
            1,
            "1812000000000000001",
            NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
        );
        let hours = split_all(&day, &[1; 24]);
        let mut sum = [0u64; N];
        for h in &hours {
            add(&mut sum, h);
        }
        assert_eq!(sum, day);
    }

    #[test]
    fn rates_come_from_their_parts() {
        let mut a = [0u64; N];
        a[index("impressions").unwrap()] = 2000;
        a[index("clicks").unwrap()] = 30;
        a[index("spend").unwrap()] = 1234;
        assert_eq!(value("ctr", &a, 1).unwrap(), "1.50");
        assert_eq!(value("cpc", &a, 1).unwrap(), "0.41");
        assert_eq!(value("cpm", &a, 1).unwrap(), "6.17");
        assert_eq!(value("spend", &a, 1).unwrap(), "12.34");
        assert_eq!(value("cost_per_conversion", &a, 1).unwrap(), "0.00");
    }
}
