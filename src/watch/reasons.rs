//! The reasons of a rejection, attached to the events that move an ad or an ad group into
//! rejected or partly approved: one review-info call per 20 such entities, none otherwise
//! (REFERENCE 16.4: review info only for IDs whose status moved).

use serde_json::Value;

use super::diff::{Event, EventKind};
use super::level::Level;
use crate::api::{ApiError, Client};

/// Adds TikTok's review (as it sent it) to each event of `advertiser_id` that wants one.
pub async fn attach(
    client: &Client,
    advertiser_id: &str,
    events: &mut [Event],
) -> Result<(), ApiError> {
    for level in [Level::Ad, Level::Adgroup] {
        let wanted: Vec<String> = events
            .iter()
            .filter(|e| wants(e, level))
            .map(|e| e.id.clone())
            .collect();
        if wanted.is_empty() {
            continue;
        }
        let reviews = match level {
            Level::Ad => client.reviews().ads(advertiser_id, &wanted).await?,
            _ => client.reviews().adgroups(advertiser_id, &wanted).await?,
        };
        for event in events.iter_mut().filter(|e| wants(e, level)) {
            event.reasons = reviews.get(&event.id).cloned().map(Value::Object);
        }
    }
    Ok(())
}

fn wants(event: &Event, level: Level) -> bool {
    event.level == level
        && matches!(
            event.event,
            EventKind::SecondaryStatus | EventKind::Appeared
        )
        && event.bucket.is_some_and(|b| b.wants_reasons())
}
