//! Derived metrics computed from daily sums (`rules run --from`): a rate or a cost per over
//! several days is the ratio of the days' sums, never an average of daily ratios. Computed
//! exactly and rounded to two decimals, as TikTok reports them; nothing to divide by gives no
//! value (which never matches).

use rust_decimal::{Decimal, RoundingStrategy};

/// A derived metric: its additive parts and how they make it.
struct Formula {
    name: &'static str,
    numerator: &'static str,
    denominator: &'static str,
    scale: i64,
}

const FORMULAS: &[Formula] = &[
    Formula {
        name: "cpc",
        numerator: "spend",
        denominator: "clicks",
        scale: 1,
    },
    Formula {
        name: "cpm",
        numerator: "spend",
        denominator: "impressions",
        scale: 1000,
    },
    Formula {
        name: "ctr",
        numerator: "clicks",
        denominator: "impressions",
        scale: 100,
    },
    Formula {
        name: "cost_per_conversion",
        numerator: "spend",
        denominator: "conversion",
        scale: 1,
    },
    Formula {
        name: "conversion_rate",
        numerator: "conversion",
        denominator: "clicks",
        scale: 100,
    },
];

/// The additive metrics `metric` is computed from, when it is one this knows.
pub fn parts(metric: &str) -> Option<[&'static str; 2]> {
    FORMULAS
        .iter()
        .find(|f| f.name == metric)
        .map(|f| [f.numerator, f.denominator])
}

/// The metrics that have a formula (for messages).
pub fn known() -> Vec<&'static str> {
    FORMULAS.iter().map(|f| f.name).collect()
}

/// `metric` from the sums of its parts.
pub fn compute(
    metric: &str,
    numerator: Option<Decimal>,
    denominator: Option<Decimal>,
) -> Option<Decimal> {
    let formula = FORMULAS.iter().find(|f| f.name == metric)?;
    let (n, d) = (numerator?, denominator?);
    if d.is_zero() {
        return None;
    }
    Some(
        (n * Decimal::from(formula.scale) / d)
            .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Option<Decimal> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn ratios_come_from_sums_not_from_daily_ratios() {
        // Day 1: 10 spent, 1 conversion (10.00); day 2: 90 spent, 9 conversions (10.00).
        assert_eq!(
            compute("cost_per_conversion", d("100"), d("10")),
            d("10.00")
        );
        assert_eq!(compute("ctr", d("3"), d("400")), d("0.75"));
        assert_eq!(compute("cpm", d("12.345"), d("1000")), d("12.35"));
        assert_eq!(compute("cpc", d("1"), d("0")), None, "nothing to divide by");
        assert_eq!(compute("cpc", d("1"), None), None);
        assert_eq!(parts("ctr"), Some(["clicks", "impressions"]));
        assert_eq!(parts("reach"), None);
    }
}
