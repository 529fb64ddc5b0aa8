//! Two snapshots of an account compared: one event per change, in a fixed order (level, then
//! entity ID, then field), so that the same two snapshots always give the same events.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::bucket::Bucket;
use super::level::{Level, Snapshot};

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// An entity that was not there before.
    Appeared,
    /// An entity no longer listed at all (deleted ones are listed, as deleted).
    Removed,
    OperationStatus,
    SecondaryStatus,
    Budget,
    Bid,
    Name,
    Schedule,
}

impl EventKind {
    pub const ALL: [EventKind; 8] = [
        EventKind::Appeared,
        EventKind::Removed,
        EventKind::OperationStatus,
        EventKind::SecondaryStatus,
        EventKind::Budget,
        EventKind::Bid,
        EventKind::Name,
        EventKind::Schedule,
    ];

    pub fn name(self) -> &'static str {
        match self {
            EventKind::Appeared => "appeared",
            EventKind::Removed => "removed",
            EventKind::OperationStatus => "operation_status",
            EventKind::SecondaryStatus => "secondary_status",
            EventKind::Budget => "budget",
            EventKind::Bid => "bid",
            EventKind::Name => "name",
            EventKind::Schedule => "schedule",
        }
    }

    pub fn parse(word: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.name() == word)
    }
}

/// One change of one entity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// When it was seen (the snapshot's time), RFC 3339 UTC.
    pub time: String,
    pub advertiser_id: String,
    pub level: Level,
    pub id: String,
    pub name: Option<String>,
    pub event: EventKind,
    /// The field that changed (`None` for appeared and removed).
    pub field: Option<String>,
    pub from: Value,
    pub to: Value,
    /// The delivery bucket of the new `secondary_status` (and of an entity that appeared).
    pub bucket: Option<Bucket>,
    /// The review's reasons, for a move into rejected or partly approved.
    pub reasons: Option<Value>,
}

/// The fields of a level that make an event of each kind.
fn watched_fields(level: Level) -> Vec<(&'static str, EventKind)> {
    let mut fields = vec![
        ("operation_status", EventKind::OperationStatus),
        ("secondary_status", EventKind::SecondaryStatus),
        (level.resource().name_field, EventKind::Name),
    ];
    for field in level.settings() {
        let kind = match *field {
            "budget" | "budget_mode" => EventKind::Budget,
            "bid_price" => EventKind::Bid,
            _ => EventKind::Schedule,
        };
        fields.push((field, kind));
    }
    fields
}

fn bucket_of(value: &Value) -> Option<Bucket> {
    value.as_str().map(Bucket::of)
}

/// The events that lead from `before` to `now` for one account. A level `before` did not
/// watch is a baseline: its entities are not reported as new.
pub fn diff(advertiser_id: &str, before: &Snapshot, now: &Snapshot) -> Vec<Event> {
    let mut events = Vec::new();
    for (level, current) in &now.levels {
        let Some(previous) = before.levels.get(level) else {
            continue;
        };
        let name_field = level.resource().name_field;
        let event = |id: &str, entity: &Map<String, Value>, kind, field: Option<&str>, from, to| {
            let bucket = match kind {
                EventKind::SecondaryStatus => bucket_of(&to),
                EventKind::Appeared => entity.get("secondary_status").and_then(bucket_of),
                _ => None,
            };
            Event {
                time: now.taken_at.clone(),
                advertiser_id: advertiser_id.to_string(),
                level: *level,
                id: id.to_string(),
                name: entity
                    .get(name_field)
                    .and_then(Value::as_str)
                    .map(str::to_string),
                event: kind,
                field: field.map(str::to_string),
                from,
                to,
                bucket,
                reasons: None,
            }
        };
        let ids: BTreeMap<&String, ()> = previous
            .keys()
            .chain(current.keys())
            .map(|id| (id, ()))
            .collect();
        for id in ids.keys() {
            match (previous.get(*id), current.get(*id)) {
                (None, Some(entity)) => events.push(event(
                    id,
                    entity,
                    EventKind::Appeared,
                    None,
                    Value::Null,
                    entity
                        .get("secondary_status")
                        .cloned()
                        .unwrap_or(Value::Null),
                )),
                (Some(entity), None) => events.push(event(
                    id,
                    entity,
                    EventKind::Removed,
                    None,
                    entity
                        .get("secondary_status")
                        .cloned()
                        .unwrap_or(Value::Null),
                    Value::Null,
                )),
                (Some(old), Some(new)) => {
                    for (field, kind) in watched_fields(*level) {
                        let (from, to) = (
                            old.get(field).cloned().unwrap_or(Value::Null),
                            new.get(field).cloned().unwrap_or(Value::Null),
                        );
                        if from != to && !(from.is_null() && kind == EventKind::SecondaryStatus) {
                            events.push(event(id, new, kind, Some(field), from, to));
                        }
                    }
                }
                (None, None) => {}
            }
        }
    }
    events
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn snapshot(at: &str, ads: Value, adgroups: Option<Value>) -> Snapshot {
        let level = |list: Value| -> BTreeMap<String, Map<String, Value>> {
            list.as_array()
                .unwrap()
                .iter()
                .map(|e| {
                    let id = e["ad_id"].as_str().or(e["adgroup_id"].as_str()).unwrap();
                    (id.to_string(), e.as_object().unwrap().clone())
                })
                .collect()
        };
        let mut levels = BTreeMap::new();
        levels.insert(Level::Ad, level(ads));
        if let Some(adgroups) = adgroups {
            levels.insert(Level::Adgroup, level(adgroups));
        }
        Snapshot {
            taken_at: at.into(),
            levels,
        }
    }

    #[test]
    fn each_change_is_one_event_with_its_bucket_in_a_fixed_order() {
        let before = snapshot(
            "t0",
            json!([
                {"ad_id": "1", "ad_name": "a", "operation_status": "ENABLE", "secondary_status": "AD_STATUS_AUDIT"},
                {"ad_id": "2", "ad_name": "b", "operation_status": "ENABLE", "secondary_status": "AD_STATUS_DELIVERY_OK"},
                {"ad_id": "3", "ad_name": "c", "operation_status": "ENABLE", "secondary_status": "AD_STATUS_DELIVERY_OK"},
            ]),
            None,
        );
        let now = snapshot(
            "t1",
            json!([
                {"ad_id": "1", "ad_name": "a", "operation_status": "ENABLE", "secondary_status": "AD_STATUS_AUDIT_DENY"},
                {"ad_id": "2", "ad_name": "b2", "operation_status": "DISABLE", "secondary_status": "AD_STATUS_DISABLE"},
                {"ad_id": "4", "ad_name": "d", "operation_status": "ENABLE", "secondary_status": "AD_STATUS_AUDIT"},
            ]),
            Some(json!([{"adgroup_id": "9", "adgroup_name": "g"}])),
        );
        let events = diff("7", &before, &now);
        let summary: Vec<(&str, &str, Option<Bucket>)> = events
            .iter()
            .map(|e| (e.id.as_str(), e.event.name(), e.bucket))
            .collect();
        assert_eq!(
            summary,
            [
                ("1", "secondary_status", Some(Bucket::Rejected)),
                ("2", "operation_status", None),
                ("2", "secondary_status", Some(Bucket::Paused)),
                ("2", "name", None),
                ("3", "removed", None),
                ("4", "appeared", Some(Bucket::InReview)),
            ],
            "the ad groups are a baseline: the first time they are watched"
        );
        assert_eq!(events[0].from, json!("AD_STATUS_AUDIT"));
        assert_eq!(events[0].time, "t1");
        assert!(
            diff("7", &now, &now).is_empty(),
            "nothing changed, nothing said"
        );
    }

    #[test]
    fn a_status_that_appears_where_there_was_none_is_not_a_change() {
        let before = snapshot(
            "t0",
            json!([{"ad_id": "1", "operation_status": "ENABLE"}]),
            None,
        );
        let now = snapshot(
            "t1",
            json!([{"ad_id": "1", "operation_status": "ENABLE", "secondary_status": "AD_STATUS_DELIVERY_OK"}]),
            None,
        );
        assert!(diff("7", &before, &now).is_empty());
    }
}
