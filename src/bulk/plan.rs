//! A plan: for each entity a file names, its live values, the changes field by field (from →
//! to), and every reason a change would be refused — decided before anything is sent, and
//! kept (as JSON) with the live values it was made against, so `bulk apply` can tell what
//! changed since.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::checks;
use super::columns;
use super::sheet::Wanted;
use crate::accounts::AccountFacts;
use crate::watch::Level;

/// The version of the plan file's shape.
pub const PLAN_VERSION: u32 = 1;

const TIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub field: String,
    pub from: Value,
    pub to: Value,
}

/// One entity of a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub advertiser_id: String,
    pub level: Level,
    pub id: String,
    pub name: Option<String>,
    /// Where it came from in the file (none for an undo).
    pub line: Option<u64>,
    /// What the plan was made against: the editable fields and the budget mode, as read.
    pub live: Map<String, Value>,
    pub changes: Vec<Change>,
    /// Why it will not be changed (then nothing of it is).
    pub refused: Vec<String>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub tiktok_ads_plan: u32,
    /// RFC 3339, UTC.
    pub made_at: String,
    pub level: Level,
    /// The file (or journal) it was made from.
    pub source: String,
    pub entries: Vec<Entry>,
}

/// What a plan comes to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub changes: usize,
    pub entities: usize,
    pub accounts: usize,
    pub refused: usize,
    pub warnings: usize,
}

/// A value as people read it: text as it is, nothing as a dash, numbers as TikTok wrote them.
pub fn shown(value: &Value) -> String {
    match value {
        Value::Null => "—".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Plan {
    /// The entries of each account, in account order.
    pub fn by_account(&self) -> BTreeMap<&str, Vec<&Entry>> {
        let mut by_account: BTreeMap<&str, Vec<&Entry>> = BTreeMap::new();
        for entry in &self.entries {
            by_account
                .entry(&entry.advertiser_id)
                .or_default()
                .push(entry);
        }
        by_account
    }

    pub fn summary(&self) -> Summary {
        let doing: Vec<&Entry> = self
            .entries
            .iter()
            .filter(|e| e.refused.is_empty())
            .collect();
        let accounts: std::collections::BTreeSet<&str> =
            doing.iter().map(|e| e.advertiser_id.as_str()).collect();
        Summary {
            changes: doing.iter().map(|e| e.changes.len()).sum(),
            entities: doing.iter().filter(|e| !e.changes.is_empty()).count(),
            accounts: accounts.len(),
            refused: self.entries.len() - doing.len(),
            warnings: self.entries.iter().map(|e| e.warnings.len()).sum(),
        }
    }
}

/// Refuses changes that move a budget too far or too high.
#[derive(Debug, Clone, Default)]
pub struct Guards {
    /// `--max-change PCT`.
    pub max_change_pct: Option<Decimal>,
    /// `--max-budget AMOUNT`.
    pub max_budget: Option<Decimal>,
}

/// What a plan is judged against besides the entities themselves.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub now: DateTime<Utc>,
    pub accounts: BTreeMap<String, AccountFacts>,
    /// Spend so far by entity ID (today's, or the lifetime's for lifetime budgets).
    pub spent: BTreeMap<String, String>,
    /// Campaign ID → its budget is optimised (CBO).
    pub cbo: BTreeMap<String, bool>,
    /// Advertiser → (active ad group quota, used).
    pub quota: BTreeMap<String, (u64, u64)>,
    pub guards: Guards,
}

/// An entity as read: its account and fields.
pub type LiveEntity = (String, Map<String, Value>);

fn decimal(value: &Value) -> Option<Decimal> {
    match value {
        Value::Number(n) => n.to_string().parse().ok(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Whether the live value already is what the file asks for.
pub fn same(field: &str, live: &Value, wanted: &Value) -> bool {
    if columns::is_amount(field) {
        return match (decimal(live), decimal(wanted)) {
            (Some(a), Some(b)) => a == b,
            _ => live == wanted,
        };
    }
    text(live) == text(wanted)
}

/// The value a cell asks for, typed as TikTok takes it (amounts as numbers).
fn typed(field: &str, cell: &str) -> Result<Value, String> {
    if columns::is_amount(field) {
        let amount: Decimal = cell
            .parse()
            .map_err(|_| format!("{field} {cell:?} is not an amount"))?;
        return serde_json::from_str::<serde_json::Number>(&amount.normalize().to_string())
            .map(Value::Number)
            .map_err(|_| format!("{field} {cell:?} is not an amount"));
    }
    if field == "operation_status" {
        let status = cell.to_ascii_uppercase();
        return match status.as_str() {
            "ENABLE" | "DISABLE" | "DELETE" => Ok(Value::String(status)),
            _ => Err(format!(
                "operation_status {cell:?} is not ENABLE, DISABLE or DELETE"
            )),
        };
    }
    Ok(Value::String(cell.to_string()))
}

/// Makes the plan of `rows` (a file's, or an undo's) against `live` entities by ID.
pub fn make(
    level: Level,
    source: &str,
    rows: &[Wanted],
    live: &BTreeMap<String, LiveEntity>,
    facts: &Facts,
) -> Plan {
    let mut lines: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for row in rows {
        lines.entry(row.id.as_str()).or_default().push(row.line);
    }
    // Ad groups switched on, per account, against its quota (in file order).
    let mut enabling: BTreeMap<String, u64> = BTreeMap::new();
    let mut entries = Vec::new();
    for row in rows {
        let mut entry = Entry {
            advertiser_id: row.advertiser_id.clone().unwrap_or_default(),
            level,
            id: row.id.clone(),
            name: None,
            line: (row.line > 0).then_some(row.line),
            live: Map::new(),
            changes: Vec::new(),
            refused: Vec::new(),
            warnings: Vec::new(),
        };
        let seen = &lines[row.id.as_str()];
        if seen.len() > 1 {
            entry.refused.push(format!(
                "it appears on more than one line ({}): keep one",
                seen.iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let Some((advertiser, fields)) = live.get(&row.id) else {
            entry.refused.push(format!(
                "no {} {} in {}",
                level.resource().noun,
                row.id,
                row.advertiser_id
                    .as_deref()
                    .map_or("the ad accounts given".to_string(), |a| format!(
                        "ad account {a}"
                    ))
            ));
            entries.push(entry);
            continue;
        };
        if let Some(given) = &row.advertiser_id
            && given != advertiser
        {
            entry
                .refused
                .push(format!("it is in ad account {advertiser}, not {given}"));
        }
        entry.advertiser_id = advertiser.clone();
        entry.name = fields
            .get(level.resource().name_field)
            .and_then(Value::as_str)
            .map(str::to_string);
        for field in columns::editable(level).iter().chain(&["budget_mode"]) {
            if let Some(v) = fields.get(*field) {
                entry.live.insert(field.to_string(), v.clone());
            }
        }
        let field_text = |f: &str| fields.get(f).map(text).unwrap_or_default();
        if field_text("operation_status") == "DELETE" {
            entry
                .refused
                .push("it is deleted: a deleted entity cannot change".into());
        }
        if let Some(mode) = &row.budget_mode
            && *mode != field_text("budget_mode")
        {
            entry.refused.push(format!(
                "budget_mode cannot change ({} at TikTok, {mode} in the file)",
                field_text("budget_mode")
            ));
        }
        for (field, cell) in &row.set {
            let current = fields.get(field).cloned().unwrap_or(Value::Null);
            let to = match typed(field, cell) {
                Ok(v) => v,
                Err(why) => {
                    entry.refused.push(why);
                    continue;
                }
            };
            if same(field, &current, &to) {
                continue;
            }
            entry.refused.extend(check(
                level, field, &current, &to, advertiser, fields, facts,
            ));
            entry.warnings.extend(warn(field, &current, &to));
            if level == Level::Adgroup && field == "operation_status" && to == "ENABLE" {
                let (total, used) = facts
                    .quota
                    .get(advertiser)
                    .copied()
                    .unwrap_or((u64::MAX, 0));
                let more = enabling.entry(advertiser.clone()).or_default();
                if used + *more + 1 > total {
                    entry.refused.push(format!(
                        "the account's active ad group quota is full ({used} of {total} in use): \
                         TikTok would switch it off again"
                    ));
                } else {
                    *more += 1;
                }
            }
            entry.changes.push(Change {
                field: field.clone(),
                from: current,
                to,
            });
        }
        if !entry.changes.is_empty() || !entry.refused.is_empty() {
            entries.push(entry);
        }
    }
    Plan {
        tiktok_ads_plan: PLAN_VERSION,
        made_at: facts.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        level,
        source: source.to_string(),
        entries,
    }
}

/// Why TikTok (or a guard) would refuse `field` going from `from` to `to`.
fn check(
    level: Level,
    field: &str,
    from: &Value,
    to: &Value,
    advertiser: &str,
    fields: &Map<String, Value>,
    facts: &Facts,
) -> Vec<String> {
    let mut refused = Vec::new();
    let account = facts.accounts.get(advertiser);
    let mode = fields.get("budget_mode").map(text).unwrap_or_default();
    match field {
        "budget" | "scheduled_budget" => {
            let Some(amount) = decimal(to) else {
                return vec![format!("{field} is not an amount")];
            };
            if field == "scheduled_budget" && amount == Decimal::ZERO {
                let today = fields.get("budget").map(text).unwrap_or_default();
                return vec![format!(
                    "TikTok has no way to withdraw a next-day budget: set scheduled_budget to today's budget ({today}) to keep it"
                )];
            }
            if mode == "BUDGET_MODE_INFINITE" {
                refused.push("it has no budget (BUDGET_MODE_INFINITE)".into());
            }
            if field == "scheduled_budget" && mode == "BUDGET_MODE_TOTAL" {
                refused.push(
                    "scheduled_budget is the next day's daily budget: a lifetime budget changes in budget"
                        .into(),
                );
            }
            let campaign = fields.get("campaign_id").map(text).unwrap_or_default();
            if level == Level::Adgroup && facts.cbo.get(&campaign).copied().unwrap_or(false) {
                refused.push(format!(
                    "its campaign {campaign} optimises the budget (CBO): change the campaign's budget instead"
                ));
            }
            let lifetime = mode == "BUDGET_MODE_TOTAL";
            // Tomorrow's budget starts from nothing spent.
            let id = fields
                .get(&format!("{}_id", level.name()))
                .map(text)
                .unwrap_or_default();
            let when = if lifetime {
                "over its lifetime"
            } else {
                "today"
            };
            let spent = (field == "budget")
                .then(|| facts.spent.get(&id).and_then(|s| s.parse::<Decimal>().ok()))
                .flatten()
                .map(|s| (s, when));
            refused.extend(checks::budget(
                level,
                &mode,
                amount,
                account.and_then(|a| a.currency.as_deref()),
                spent,
            ));
            match checks::local_time(facts.now, account.and_then(|a| a.timezone.as_deref())) {
                Some(local) if checks::in_budget_lock(local) => refused.push(format!(
                    "budgets cannot change from 23:55 to midnight in the account's time zone (it is {} there)",
                    local.format("%H:%M")
                )),
                Some(_) => {}
                None => refused.push(
                    "the account's time zone is unknown, so the 23:55 budget lock cannot be ruled out".into(),
                ),
            }
            if let Some(max) = facts.guards.max_budget
                && amount > max
            {
                refused.push(format!("{amount} is above --max-budget {max}"));
            }
            if let (Some(max), Some(old)) = (facts.guards.max_change_pct, decimal(from))
                && let Some(pct) = checks::change_pct(old, amount)
                && pct.abs() > max
            {
                refused.push(format!("it moves {pct:+}%, beyond --max-change {max}%"));
            }
        }
        "bid_price" if decimal(to).is_none_or(|b| b <= Decimal::ZERO) => {
            refused.push(format!("bid_price is positive, not {}", text(to)));
        }
        "schedule_end_time" => match NaiveDateTime::parse_from_str(&text(to), TIME_FORMAT) {
            Err(_) => refused.push(format!(
                "schedule_end_time {:?} is not YYYY-MM-DD HH:MM:SS (UTC)",
                text(to)
            )),
            Ok(end) if end <= facts.now.naive_utc() => {
                refused.push(format!("schedule_end_time {end} is in the past"))
            }
            Ok(end) => {
                let start = fields
                    .get("schedule_start_time")
                    .map(text)
                    .unwrap_or_default();
                if NaiveDateTime::parse_from_str(&start, TIME_FORMAT).is_ok_and(|s| end <= s) {
                    refused.push(format!(
                        "schedule_end_time {end} is not after the start {start}"
                    ));
                }
            }
        },
        name if name.ends_with("_name") => {
            let chars = text(to).chars().count();
            if chars > 512 {
                refused.push(format!("{name} has {chars} characters; TikTok takes 512"));
            }
        }
        _ => {}
    }
    refused
}

/// Where TikTok's help centre advises against a change.
fn warn(field: &str, from: &Value, to: &Value) -> Vec<String> {
    let mut warnings = Vec::new();
    if matches!(field, "budget" | "scheduled_budget")
        && let (Some(old), Some(new)) = (decimal(from), decimal(to))
        && let Some(pct) = checks::change_pct(old, new)
        && pct.abs() > Decimal::from(50)
    {
        warnings.push(format!(
            "{field} moves {pct:+}%: TikTok advises changes within ±50% after the learning phase"
        ));
    }
    if field == "operation_status" && to == "DELETE" {
        warnings.push(
            "a deleted entity cannot be switched on again (undo cannot bring it back)".into(),
        );
    }
    warnings
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;

    fn row(line: u64, id: &str, set: &[(&str, &str)]) -> Wanted {
        Wanted {
            line,
            advertiser_id: Some("7".into()),
            id: id.into(),
            set: set
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            budget_mode: None,
        }
    }

    fn group(id: &str, campaign: &str, budget: f64, status: &str) -> LiveEntity {
        let fields = json!({
            "adgroup_id": id, "campaign_id": campaign, "adgroup_name": format!("g{id}"),
            "operation_status": status, "budget_mode": "BUDGET_MODE_DAY", "budget": budget,
            "scheduled_budget": 0.0, "bid_price": 0.0, "schedule_end_time": null,
        });
        ("7".into(), fields.as_object().unwrap().clone())
    }

    fn facts(hour_utc: u32) -> Facts {
        Facts {
            now: Utc.with_ymd_and_hms(2026, 12, 7, hour_utc, 57, 0).unwrap(),
            accounts: BTreeMap::from([(
                "7".to_string(),
                AccountFacts {
                    currency: Some("USD".into()),
                    timezone: Some("Asia/Tokyo".into()),
                },
            )]),
            spent: BTreeMap::from([("1".to_string(), "30.00".to_string())]),
            cbo: BTreeMap::from([("c2".to_string(), true)]),
            quota: BTreeMap::from([("7".to_string(), (3, 2))]),
            guards: Guards::default(),
        }
    }

    #[test]
    fn each_change_is_checked_and_what_would_not_change_is_left_out() {
        let live: BTreeMap<String, LiveEntity> = [
            ("1", group("1", "c1", 40.0, "ENABLE")),
            ("2", group("2", "c2", 40.0, "ENABLE")),
            ("3", group("3", "c1", 40.0, "DISABLE")),
            ("4", group("4", "c1", 40.0, "DISABLE")),
            ("5", group("5", "c1", 40.0, "DELETE")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let rows = vec![
            row(2, "1", &[("budget", "31"), ("adgroup_name", "g1")]),
            row(3, "2", &[("budget", "50")]),
            row(4, "3", &[("operation_status", "enable")]),
            row(5, "4", &[("operation_status", "ENABLE")]),
            row(6, "5", &[("budget", "60")]),
            row(7, "9", &[("budget", "60")]),
            row(8, "1", &[("budget", "40.00")]),
        ];
        let plan = make(Level::Adgroup, "live.csv", &rows, &live, &facts(3));
        let by_line = |line: u64| plan.entries.iter().find(|e| e.line == Some(line)).unwrap();
        assert!(
            by_line(2)
                .refused
                .iter()
                .any(|r| r.contains("more than one line (2, 8)"))
        );
        assert!(
            by_line(2)
                .refused
                .iter()
                .any(|r| r.contains("below 105% of the 30.00 already spent today")),
            "{:?}",
            by_line(2).refused
        );
        assert_eq!(by_line(2).changes.len(), 1, "the name is already g1");
        assert!(by_line(3).refused[0].contains("optimises the budget (CBO)"));
        assert!(by_line(4).refused.is_empty());
        assert_eq!(by_line(4).changes[0].to, json!("ENABLE"));
        assert!(
            by_line(5).refused[0].contains("quota is full (2 of 3 in use)"),
            "{:?}",
            by_line(5)
        );
        assert!(by_line(6).refused[0].contains("deleted"));
        assert!(by_line(7).refused[0].contains("no ad group 9 in ad account 7"));
        assert!(by_line(8).changes.is_empty(), "40.00 is 40.0");
        assert!(
            by_line(4).live.contains_key("budget_mode"),
            "the live values are kept"
        );
        let summary = plan.summary();
        assert_eq!((summary.entities, summary.refused), (1, 6));
    }

    #[test]
    fn the_lock_guards_and_warnings_apply_to_budgets() {
        let live: BTreeMap<String, LiveEntity> =
            [("3".to_string(), group("3", "c1", 40.0, "ENABLE"))].into();
        let rows = vec![row(2, "3", &[("budget", "100")])];
        // 14:57 UTC is 23:57 in Tokyo: locked.
        let locked = make(Level::Adgroup, "f", &rows, &live, &facts(14));
        assert!(
            locked.entries[0].refused[0].contains("23:55 to midnight"),
            "{:?}",
            locked.entries[0]
        );
        let open = make(Level::Adgroup, "f", &rows, &live, &facts(3));
        assert!(open.entries[0].refused.is_empty());
        assert!(
            open.entries[0].warnings[0].contains("+150%"),
            "{:?}",
            open.entries[0].warnings
        );
        let mut guarded = facts(3);
        guarded.guards = Guards {
            max_change_pct: Some(Decimal::from(50)),
            max_budget: Some(Decimal::from(80)),
        };
        let refused = &make(Level::Adgroup, "f", &rows, &live, &guarded).entries[0].refused;
        assert!(
            refused.iter().any(|r| r.contains("above --max-budget 80")),
            "{refused:?}"
        );
        assert!(
            refused
                .iter()
                .any(|r| r.contains("+150%, beyond --max-change 50%")),
            "{refused:?}"
        );
        let mut mode = rows.clone();
        mode[0].budget_mode = Some("BUDGET_MODE_TOTAL".into());
        let refused = &make(Level::Adgroup, "f", &mode, &live, &facts(3)).entries[0].refused;
        assert!(
            refused[0].contains("budget_mode cannot change"),
            "{refused:?}"
        );
    }
}
