//! What state an audience is in, decided as REFERENCE 18.4 suggests: TikTok has no
//! "calculating" value — an audience that is not valid, has no error and has not reached its
//! expiry is being calculated.

use serde_json::{Map, Value};

/// `calculating`, `ready`, `expiring`, `expired` or `failed`.
pub fn status(details: &Map<String, Value>, now_utc: chrono::NaiveDateTime) -> &'static str {
    let text = |k: &str| details.get(k).and_then(Value::as_str).unwrap_or_default();
    let flag = |k: &str| details.get(k).and_then(Value::as_bool).unwrap_or(false);
    // By this machine's clock, or by TikTok's word when its clock is ahead of ours.
    let expired = chrono::NaiveDateTime::parse_from_str(text("expired_time"), "%Y-%m-%d %H:%M:%S")
        .is_ok_and(|t| t <= now_utc)
        || (!flag("is_valid") && text("msg").to_ascii_lowercase().contains("expired"));
    if !text("error_msg").is_empty() {
        "failed"
    } else if expired {
        "expired"
    } else if !flag("is_valid") {
        "calculating"
    } else if flag("is_expiring") {
        "expiring"
    } else {
        "ready"
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_state_comes_from_validity_errors_and_expiry() {
        let now = chrono::NaiveDate::from_ymd_opt(2026, 12, 7)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap();
        let state = |v: Value| status(v.as_object().unwrap(), now);
        let later = "2027-06-01 00:00:00";
        assert_eq!(
            state(json!({"is_valid": false, "error_msg": "", "expired_time": later})),
            "calculating"
        );
        assert_eq!(
            state(json!({"is_valid": true, "expired_time": later})),
            "ready"
        );
        assert_eq!(
            state(json!({"is_valid": true, "is_expiring": true, "expired_time": later})),
            "expiring"
        );
        assert_eq!(
            state(json!({"is_valid": false, "expired_time": "2026-12-01 00:00:00"})),
            "expired"
        );
        assert_eq!(
            state(json!({"is_valid": false, "msg": "Expired", "expired_time": later})),
            "expired",
            "TikTok's clock ahead of this machine's"
        );
        assert_eq!(
            state(json!({"is_valid": false, "error_msg": "bad file", "expired_time": later})),
            "failed"
        );
    }
}
