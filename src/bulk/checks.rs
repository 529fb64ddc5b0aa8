//! What TikTok would refuse in a change, found before anything is sent (REFERENCE 17): a
//! budget under 105 % of the spend so far, below the currency's floor or finer than its
//! precision, an ad group budget under campaign budget optimisation, a change of budget mode,
//! a budget changed in the 23:55–00:00 lock of the account's time zone, a status TikTok does
//! not take. Each check says why in words a person can act on.

use chrono::{DateTime, NaiveDateTime, Timelike, Utc};
use rust_decimal::Decimal;

use crate::watch::Level;

/// Currencies without a minor unit (budgets in whole units).
const WHOLE_UNIT_CURRENCIES: &[&str] = &["JPY", "KRW", "VND", "CLP", "ISK", "PYG", "UGX"];

/// Decimal places a currency's amounts may have.
pub fn places(currency: &str) -> u32 {
    if WHOLE_UNIT_CURRENCIES.contains(&currency) {
        0
    } else {
        2
    }
}

/// The account's local time, when its zone is known.
pub fn local_time(now: DateTime<Utc>, timezone: Option<&str>) -> Option<NaiveDateTime> {
    let zone: chrono_tz::Tz = timezone?.parse().ok()?;
    Some(now.with_timezone(&zone).naive_local())
}

/// Refused from 23:55 to midnight, account time.
pub fn in_budget_lock(local: NaiveDateTime) -> bool {
    local.hour() == 23 && local.minute() >= 55
}

/// The smallest budget TikTok takes, in US dollars (other currencies' floors are not
/// published: TikTok's own message covers them).
pub fn floor_usd(level: Level, budget_mode: &str) -> Option<Decimal> {
    match (level, budget_mode) {
        (Level::Campaign, "BUDGET_MODE_DAY" | "BUDGET_MODE_TOTAL") => Some(Decimal::from(50)),
        (Level::Adgroup, "BUDGET_MODE_DAY" | "BUDGET_MODE_DYNAMIC_DAILY_BUDGET") => {
            Some(Decimal::from(20))
        }
        _ => None,
    }
}

/// The new amount against the rules of a budget: positive, the currency's precision and floor,
/// 105 % of `spent` (when given). Every reason it is refused.
pub fn budget(
    level: Level,
    budget_mode: &str,
    amount: Decimal,
    currency: Option<&str>,
    spent: Option<(Decimal, &str)>,
) -> Vec<String> {
    let mut refused = Vec::new();
    if amount <= Decimal::ZERO {
        refused.push(format!("a budget is positive, not {amount}"));
        return refused;
    }
    if let Some(currency) = currency {
        let places = places(currency);
        if amount.normalize().scale() > places {
            refused.push(format!(
                "{amount} has more than {places} decimal place{} ({currency})",
                if places == 1 { "" } else { "s" }
            ));
        }
        if currency == "USD"
            && let Some(floor) = floor_usd(level, budget_mode)
            && amount < floor
        {
            refused.push(format!(
                "{amount} USD is below TikTok's minimum of {floor} USD"
            ));
        }
    }
    if let Some((spent, when)) = spent {
        let minimum = spent * Decimal::new(105, 2);
        if amount < minimum {
            refused.push(format!(
                "{amount} is below 105% of the {spent} already spent {when} (at least {})",
                minimum.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::AwayFromZero)
            ));
        }
    }
    refused
}

/// How far a budget moves, in percent of the old one (`None` from zero).
pub fn change_pct(from: Decimal, to: Decimal) -> Option<Decimal> {
    (from != Decimal::ZERO).then(|| {
        ((to - from) / from * Decimal::from(100))
            .round_dp(1)
            .normalize()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    #[test]
    fn the_lock_is_judged_in_the_accounts_zone_not_in_utc() {
        // 14:57 UTC is 23:57 in Tokyo (UTC+9): locked there, not in New York.
        let now = Utc.with_ymd_and_hms(2026, 12, 7, 14, 57, 0).unwrap();
        assert!(in_budget_lock(local_time(now, Some("Asia/Tokyo")).unwrap()));
        assert!(!in_budget_lock(
            local_time(now, Some("America/New_York")).unwrap()
        ));
        let before = Utc.with_ymd_and_hms(2026, 12, 7, 14, 54, 59).unwrap();
        assert!(!in_budget_lock(
            local_time(before, Some("Asia/Tokyo")).unwrap()
        ));
        let midnight = Utc.with_ymd_and_hms(2026, 12, 7, 15, 0, 0).unwrap();
        assert!(!in_budget_lock(
            local_time(midnight, Some("Asia/Tokyo")).unwrap()
        ));
        assert!(local_time(now, Some("Mars/Olympus")).is_none());
    }

    #[test]
    fn budgets_keep_to_spend_precision_and_floor() {
        let spent = Some((d("100.00"), "today"));
        assert!(
            budget(
                Level::Adgroup,
                "BUDGET_MODE_DAY",
                d("105"),
                Some("USD"),
                spent
            )
            .is_empty()
        );
        let low = budget(
            Level::Adgroup,
            "BUDGET_MODE_DAY",
            d("104.99"),
            Some("USD"),
            spent,
        );
        assert_eq!(
            low,
            ["104.99 is below 105% of the 100.00 already spent today (at least 105.00)"]
        );
        let fine = budget(
            Level::Adgroup,
            "BUDGET_MODE_DAY",
            d("30.505"),
            Some("USD"),
            None,
        );
        assert!(fine[0].contains("more than 2 decimal places"), "{fine:?}");
        let yen = budget(
            Level::Campaign,
            "BUDGET_MODE_DAY",
            d("5000.5"),
            Some("JPY"),
            None,
        );
        assert!(yen[0].contains("more than 0 decimal places"), "{yen:?}");
        assert!(
            budget(
                Level::Campaign,
                "BUDGET_MODE_DAY",
                d("5000"),
                Some("JPY"),
                None
            )
            .is_empty()
        );
        let under = budget(
            Level::Campaign,
            "BUDGET_MODE_DAY",
            d("40"),
            Some("USD"),
            None,
        );
        assert_eq!(under, ["40 USD is below TikTok's minimum of 50 USD"]);
        assert_eq!(change_pct(d("20"), d("35")), Some(d("75")));
        assert_eq!(change_pct(d("0"), d("35")), None);
    }
}
