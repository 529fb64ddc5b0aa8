//! A rules file (TOML), read and checked whole before any request: every rule's level,
//! window, condition (names checked against the metric catalogue, with a did-you-mean),
//! action (one the level has) and guard. Every problem is named with its rule.

use rust_decimal::Decimal;
use serde::Deserialize;

use super::language::{self, Action, Expr};
use crate::watch::Level;

/// The dates a rule's metrics cover, as `report run` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    Today,
    Yesterday,
    /// `last_N_days`: the N days before today (`--last N`).
    Last(u32),
    Lifetime,
}

impl Window {
    /// The days it covers when today is `today` (`None`: the lifetime, which has no first day).
    pub fn days(self, today: chrono::NaiveDate) -> Option<(chrono::NaiveDate, chrono::NaiveDate)> {
        let yesterday = today.pred_opt()?;
        match self {
            Window::Today => Some((today, today)),
            Window::Yesterday => Some((yesterday, yesterday)),
            Window::Last(n) => Some((yesterday - chrono::Days::new(u64::from(n) - 1), yesterday)),
            Window::Lifetime => None,
        }
    }

    pub fn parse(text: &str) -> Result<Window, String> {
        let text = text.trim();
        match text {
            "today" => Ok(Window::Today),
            "yesterday" => Ok(Window::Yesterday),
            "lifetime" => Ok(Window::Lifetime),
            _ => text
                .strip_prefix("last_")
                .and_then(|rest| rest.strip_suffix("_days"))
                .and_then(|n| n.parse::<u32>().ok())
                .filter(|n| (1..=365).contains(n))
                .map(Window::Last)
                .ok_or_else(|| {
                    format!(
                        "window {text:?} is not today, yesterday, last_N_days (N from 1 to 365) or lifetime"
                    )
                }),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    rule: Vec<RawRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: String,
    level: String,
    window: String,
    when: String,
    action: String,
    max_change: Option<String>,
    max_budget: Option<Decimal>,
}

/// One rule, checked.
#[derive(Debug, Clone)]
pub struct Rule {
    pub name: String,
    pub level: Level,
    pub window: Window,
    pub when: Expr,
    pub when_text: String,
    pub action: Action,
    pub max_change_pct: Option<Decimal>,
    pub max_budget: Option<Decimal>,
}

/// Reads a rules file; `is_metric` judges names that are not entity fields.
pub fn read(
    text: &str,
    is_metric: &dyn Fn(&str) -> Result<(), String>,
) -> Result<Vec<Rule>, String> {
    let raw: RawFile = toml::from_str(text).map_err(|e| e.to_string())?;
    if raw.rule.is_empty() {
        return Err("no [[rule]] in the file".into());
    }
    let mut rules = Vec::new();
    let mut problems = Vec::new();
    for (i, r) in raw.rule.into_iter().enumerate() {
        let named = format!("rule {} ({:?})", i + 1, r.name);
        let mut fail = |what: &str, why: String| problems.push(format!("{named}: {what}: {why}"));
        if r.name.trim().is_empty() {
            fail("name", "a rule needs a name".into());
        }
        let level = Level::parse(r.level.trim());
        if level.is_none() {
            fail(
                "level",
                format!("{:?} is not campaign, adgroup or ad", r.level),
            );
        }
        let window = Window::parse(&r.window).map_err(|e| fail("window", e)).ok();
        let when = language::condition(&r.when, is_metric)
            .map_err(|e| fail("when", e))
            .ok();
        let action = language::action(&r.action)
            .map_err(|e| fail("action", e))
            .ok();
        if let (Some(level), Some(action)) = (level, action) {
            let allowed = match (level, action) {
                (_, Action::Enable | Action::Disable) => true,
                (Level::Ad, _) => false,
                (Level::Campaign, Action::SetBid(_)) => false,
                _ => true,
            };
            if !allowed {
                let noun = level.resource().noun;
                let article = if noun.starts_with('a') { "an" } else { "a" };
                fail(
                    "action",
                    format!("{:?} is not something {article} {noun} has", r.action),
                );
            }
        }
        let max_change_pct = match &r.max_change {
            None => None,
            Some(text) => match text.trim().trim_end_matches('%').trim().parse::<Decimal>() {
                Ok(pct) if pct > Decimal::ZERO => Some(pct),
                _ => {
                    fail(
                        "max_change",
                        format!("{text:?} is not a percentage such as \"30%\""),
                    );
                    None
                }
            },
        };
        if let (Some(level), Some(window), Some(when), Some(action)) = (level, window, when, action)
        {
            rules.push(Rule {
                name: r.name,
                level,
                window,
                when,
                when_text: r.when,
                action,
                max_change_pct,
                max_budget: r.max_budget,
            });
        }
    }
    if problems.is_empty() {
        Ok(rules)
    } else {
        Err(problems.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(name: &str) -> Result<(), String> {
        if ["spend", "cost_per_conversion", "complete_payment_roas"].contains(&name) {
            Ok(())
        } else {
            Err(format!("unknown metric {name:?}"))
        }
    }

    #[test]
    fn the_issues_example_reads() {
        let rules = read(
            r#"
[[rule]]
name = "pause expensive ads"
level = "ad"
window = "last_3_days"
when = "spend > 50 and cost_per_conversion > 30"
action = "disable"

[[rule]]
name = "scale winners"
level = "adgroup"
window = "yesterday"
when = "spend > 100 and complete_payment_roas >= 3"
action = "budget * 1.2"
max_change = "30%"
"#,
            &known,
        )
        .unwrap();
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].window, Window::Last(3));
        assert_eq!(rules[1].max_change_pct, Some(Decimal::from(30)));
    }

    #[test]
    fn every_problem_is_named_with_its_rule_before_anything_runs() {
        let error = read(
            r#"
[[rule]]
name = "a"
level = "ads"
window = "last_week"
when = "spnd > 1"
action = "budget * 2"

[[rule]]
name = "b"
level = "ad"
window = "today"
when = "spend > 1"
action = "budget * 2"
"#,
            &known,
        )
        .unwrap_err();
        assert!(error.contains("rule 1 (\"a\"): level"), "{error}");
        assert!(error.contains("rule 1 (\"a\"): window"), "{error}");
        assert!(
            error.contains("unknown metric \"spnd\" at column 1"),
            "{error}"
        );
        assert!(
            error.contains("rule 2 (\"b\"): action: \"budget * 2\" is not something an ad has"),
            "{error}"
        );
        assert!(read("[[rule]]\nname = 1\n", &known).is_err());
        assert!(read("", &known).unwrap_err().contains("no [[rule]]"));
    }
}
