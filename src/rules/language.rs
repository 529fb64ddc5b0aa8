//! The rule language: a condition over report metrics and entity fields (`spend > 50 and
//! cost_per_conversion > 30`, `name ~ "brand"`, `not (…)`), parsed by a grammar
//! (`grammar.pest`) into a tree and checked before any request — an unknown name is refused
//! with its column and the nearest known name — then evaluated with exact decimals. A metric
//! TikTok sent as `-`, or did not send, makes its comparison unknown, and an unknown condition
//! never matches (`not` of unknown is unknown too). Actions: `enable`, `disable`,
//! `budget = N`, `budget * F`, `budget + N`, `budget - N`, `bid = N`.

use std::collections::BTreeMap;

use pest::Parser as _;
use pest::iterators::Pair;
use pest_derive::Parser;
use rust_decimal::Decimal;

#[derive(Parser)]
#[grammar = "rules/grammar.pest"]
struct Grammar;

/// Entity fields a condition may name (everything else must be a metric).
pub const FIELDS: &[&str] = &[
    "name",
    "operation_status",
    "secondary_status",
    "budget",
    "bid_price",
];

#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Metric(String),
    Field(String),
    Number(Decimal),
    Text(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
    Ne,
    Contains,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Compare(Operand, Op, Operand),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Action {
    Enable,
    Disable,
    SetBudget(Decimal),
    ScaleBudget(Decimal),
    AddBudget(Decimal),
    SetBid(Decimal),
}

/// Parses a condition; `is_metric` says which names are metrics. Errors name the column.
pub fn condition(
    text: &str,
    is_metric: &dyn Fn(&str) -> Result<(), String>,
) -> Result<Expr, String> {
    let mut pairs = Grammar::parse(Rule::condition, text).map_err(|e| syntax(text, e))?;
    let condition = pairs.next().ok_or("an empty condition")?;
    let or = condition.into_inner().next().ok_or("an empty condition")?;
    expr(or, is_metric)
}

fn syntax(text: &str, error: pest::error::Error<Rule>) -> String {
    let column = match error.line_col {
        pest::error::LineColLocation::Pos((_, c))
        | pest::error::LineColLocation::Span((_, c), _) => c,
    };
    let expected = match &error.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } if !positives.is_empty() => {
            let names: Vec<&str> = positives.iter().map(rule_name).collect();
            format!("expected {}", names.join(" or "))
        }
        _ => "unexpected text".into(),
    };
    format!(
        "{expected} at column {column}:\n    {text}\n    {}^",
        " ".repeat(column.saturating_sub(1))
    )
}

fn rule_name(rule: &Rule) -> &'static str {
    match rule {
        Rule::cmp_op => "a comparison (> >= < <= == != ~)",
        Rule::number | Rule::string | Rule::ident => "a metric, a field or a value",
        Rule::and_op | Rule::or_op => "and/or",
        Rule::EOI => "the end",
        Rule::status_action | Rule::target => "enable, disable, budget or bid",
        Rule::action_op => "= * + -",
        _ => "something else",
    }
}

fn expr(
    pair: Pair<'_, Rule>,
    is_metric: &dyn Fn(&str) -> Result<(), String>,
) -> Result<Expr, String> {
    match pair.as_rule() {
        Rule::or_expr | Rule::and_expr => {
            let joined_by_and = pair.as_rule() == Rule::and_expr;
            let mut parts = pair
                .into_inner()
                .filter(|p| !matches!(p.as_rule(), Rule::and_op | Rule::or_op));
            let first = parts.next().ok_or("an empty condition")?;
            let mut tree = expr(first, is_metric)?;
            for next in parts {
                let right = Box::new(expr(next, is_metric)?);
                tree = if joined_by_and {
                    Expr::And(Box::new(tree), right)
                } else {
                    Expr::Or(Box::new(tree), right)
                };
            }
            Ok(tree)
        }
        Rule::not_expr => {
            let mut inner = pair.into_inner();
            let first = inner.next().ok_or("an empty condition")?;
            if first.as_rule() == Rule::not_op {
                let rest = inner.next().ok_or("nothing after not")?;
                Ok(Expr::Not(Box::new(expr(rest, is_metric)?)))
            } else {
                expr(first, is_metric)
            }
        }
        Rule::comparison => {
            let mut inner = pair.into_inner();
            let (Some(left), Some(op), Some(right)) = (inner.next(), inner.next(), inner.next())
            else {
                return Err("an incomplete comparison".into());
            };
            let op = match op.as_str() {
                ">" => Op::Gt,
                ">=" => Op::Ge,
                "<" => Op::Lt,
                "<=" => Op::Le,
                "==" | "=" => Op::Eq,
                "!=" => Op::Ne,
                _ => Op::Contains,
            };
            Ok(Expr::Compare(
                operand(left, is_metric)?,
                op,
                operand(right, is_metric)?,
            ))
        }
        _ => Err(format!("unexpected {:?}", pair.as_str())),
    }
}

fn operand(
    pair: Pair<'_, Rule>,
    is_metric: &dyn Fn(&str) -> Result<(), String>,
) -> Result<Operand, String> {
    let text = pair.as_str();
    match pair.as_rule() {
        Rule::number => text
            .parse()
            .map(Operand::Number)
            .map_err(|_| format!("{text} is not a number")),
        Rule::string => Ok(Operand::Text(
            pair.into_inner()
                .next()
                .map(|p| p.as_str().to_string())
                .unwrap_or_default(),
        )),
        _ if FIELDS.contains(&text) => Ok(Operand::Field(text.to_string())),
        _ => match is_metric(text) {
            Ok(()) => Ok(Operand::Metric(text.to_string())),
            Err(why) => {
                let (_, column) = pair.line_col();
                Err(format!("{why} at column {column}"))
            }
        },
    }
}

/// Parses an action.
pub fn action(text: &str) -> Result<Action, String> {
    let mut pairs =
        Grammar::parse(Rule::action, text.trim()).map_err(|e| syntax(text.trim(), e))?;
    let inner = pairs
        .next()
        .and_then(|a| a.into_inner().next())
        .ok_or("an empty action")?;
    match inner.as_rule() {
        Rule::status_action if inner.as_str().eq_ignore_ascii_case("enable") => Ok(Action::Enable),
        Rule::status_action => Ok(Action::Disable),
        _ => {
            let mut parts = inner.into_inner();
            let (Some(target), Some(op), Some(number)) = (parts.next(), parts.next(), parts.next())
            else {
                return Err("an incomplete action".into());
            };
            let n: Decimal = number
                .as_str()
                .parse()
                .map_err(|_| "not a number".to_string())?;
            match (target.as_str(), op.as_str()) {
                ("budget", "=") => Ok(Action::SetBudget(n)),
                ("budget", "*") => Ok(Action::ScaleBudget(n)),
                ("budget", "+") => Ok(Action::AddBudget(n)),
                ("budget", "-") => Ok(Action::AddBudget(-n)),
                ("bid", "=") => Ok(Action::SetBid(n)),
                (t, o) => Err(format!(
                    "{t} {o} is not an action: a bid is set with bid = N"
                )),
            }
        }
    }
}

/// The names of metrics a condition reads, in order of first use.
pub fn metrics(expr: &Expr) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut visit = |o: &Operand| {
        if let Operand::Metric(m) = o
            && !out.contains(m)
        {
            out.push(m.clone());
        }
    };
    fn walk(e: &Expr, f: &mut dyn FnMut(&Operand)) {
        match e {
            Expr::Compare(a, _, b) => {
                f(a);
                f(b);
            }
            Expr::And(a, b) | Expr::Or(a, b) => {
                walk(a, f);
                walk(b, f);
            }
            Expr::Not(a) => walk(a, f),
        }
    }
    walk(expr, &mut visit);
    out
}

/// An entity's values: metrics and fields by name, as TikTok sent them (`None`: not sent).
pub type Values = BTreeMap<String, Option<String>>;

fn value(operand: &Operand, values: &Values) -> Option<Value> {
    let named = |name: &str| {
        values
            .get(name)
            .cloned()
            .flatten()
            .filter(|v| v.trim() != "-")
    };
    match operand {
        Operand::Number(n) => Some(Value::Number(*n)),
        Operand::Text(t) => Some(Value::Text(t.clone())),
        Operand::Metric(m) | Operand::Field(m) => {
            let raw = named(m)?;
            Some(match raw.trim().parse::<Decimal>() {
                Ok(n) => Value::Number(n),
                Err(_) => Value::Text(raw),
            })
        }
    }
}

enum Value {
    Number(Decimal),
    Text(String),
}

/// Kleene logic: `None` is unknown, and an unknown condition does not match.
pub fn eval(expr: &Expr, values: &Values) -> Option<bool> {
    match expr {
        Expr::Compare(a, op, b) => {
            let (a, b) = (value(a, values)?, value(b, values)?);
            match (a, b) {
                (Value::Number(a), Value::Number(b)) => Some(match op {
                    Op::Gt => a > b,
                    Op::Ge => a >= b,
                    Op::Lt => a < b,
                    Op::Le => a <= b,
                    Op::Eq => a == b,
                    Op::Ne => a != b,
                    Op::Contains => a.to_string().contains(&b.to_string()),
                }),
                (a, b) => {
                    let text = |v: Value| match v {
                        Value::Number(n) => n.to_string(),
                        Value::Text(t) => t,
                    };
                    let (a, b) = (text(a), text(b));
                    match op {
                        Op::Eq => Some(a == b),
                        Op::Ne => Some(a != b),
                        Op::Contains => Some(a.to_lowercase().contains(&b.to_lowercase())),
                        _ => None,
                    }
                }
            }
        }
        Expr::And(a, b) => match (eval(a, values), eval(b, values)) {
            (Some(false), _) | (_, Some(false)) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        },
        Expr::Or(a, b) => match (eval(a, values), eval(b, values)) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), Some(false)) => Some(false),
            _ => None,
        },
        Expr::Not(a) => eval(a, values).map(|v| !v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(name: &str) -> Result<(), String> {
        match name {
            "spend" | "cost_per_conversion" | "ctr" => Ok(()),
            other => Err(format!("{other:?} is not a metric")),
        }
    }

    fn values(pairs: &[(&str, Option<&str>)]) -> Values {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
            .collect()
    }

    #[test]
    fn conditions_parse_into_a_tree_with_and_before_or() {
        let e = condition(
            "spend > 50 and cost_per_conversion > 30 or not (ctr <= 1.5)",
            &known,
        )
        .unwrap();
        assert!(matches!(e, Expr::Or(_, _)), "{e:?}");
        assert_eq!(metrics(&e), ["spend", "cost_per_conversion", "ctr"]);
        let named = condition(
            "name ~ \"Brand\" AND secondary_status != \"AD_STATUS_DISABLE\"",
            &known,
        )
        .unwrap();
        assert!(matches!(named, Expr::And(_, _)));
    }

    #[test]
    fn errors_point_at_the_column() {
        let typo = condition("spend > 5 and spnd > 3", &known).unwrap_err();
        assert!(
            typo.contains("\"spnd\" is not a metric at column 15"),
            "{typo}"
        );
        let broken = condition("spend >> 5", &known).unwrap_err();
        assert!(broken.contains("column 8"), "{broken}");
        assert!(
            condition("spend > ", &known)
                .unwrap_err()
                .contains("column 9")
        );
    }

    #[test]
    fn exact_decimals_and_missing_values_never_match() {
        let e = condition("cost_per_conversion > 30", &known).unwrap();
        assert_eq!(
            eval(&e, &values(&[("cost_per_conversion", Some("30.01"))])),
            Some(true)
        );
        assert_eq!(
            eval(&e, &values(&[("cost_per_conversion", Some("30.00"))])),
            Some(false)
        );
        assert_eq!(
            eval(&e, &values(&[("cost_per_conversion", Some("-"))])),
            None
        );
        assert_eq!(eval(&e, &values(&[])), None);
        let not = condition("not (cost_per_conversion > 30)", &known).unwrap();
        assert_eq!(
            eval(&not, &values(&[("cost_per_conversion", Some("-"))])),
            None,
            "not unknown is unknown"
        );
        let or = condition("cost_per_conversion > 30 or spend > 1", &known).unwrap();
        assert_eq!(
            eval(
                &or,
                &values(&[("cost_per_conversion", None), ("spend", Some("2"))])
            ),
            Some(true)
        );
    }

    #[test]
    fn actions_read_as_written() {
        assert_eq!(action("disable").unwrap(), Action::Disable);
        assert_eq!(action(" ENABLE ").unwrap(), Action::Enable);
        assert_eq!(
            action("budget * 1.2").unwrap(),
            Action::ScaleBudget("1.2".parse().unwrap())
        );
        assert_eq!(
            action("budget - 10").unwrap(),
            Action::AddBudget("-10".parse().unwrap())
        );
        assert_eq!(
            action("bid = 1.5").unwrap(),
            Action::SetBid("1.5".parse().unwrap())
        );
        assert!(action("bid * 2").unwrap_err().contains("bid = N"));
        assert!(action("pause").is_err());
    }
}
