//! What the local record says against what the account's library holds: a recorded ID the
//! account no longer has is dropped, so that its file is uploaded again rather than reported
//! as there.

use std::collections::HashSet;

use anyhow::Result;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::record::{Entry, Records};
use crate::api::Client;
use crate::api::file::MediaKind;

/// TikTok leaves out of its video listing the videos it is still processing (REFERENCE 15.4),
/// so a video recorded this recently is not dropped for being absent.
const PROCESSING_GRACE: chrono::Duration = chrono::Duration::minutes(10);

/// Checks the recorded uploads of `md5s` to `advertiser` with the library's info endpoints
/// (in batches) and drops those whose ID the account no longer has; their MD5s.
pub async fn drop_missing(
    client: &Client,
    records: &Records,
    advertiser: &str,
    md5s: &[String],
) -> Result<Vec<String>> {
    let recorded = records.files(advertiser)?;
    let wanted: Vec<(&String, &Entry)> = md5s
        .iter()
        .filter_map(|md5| recorded.get_key_value(md5))
        .collect();
    let ids_of = |kind: MediaKind| -> Vec<String> {
        wanted
            .iter()
            .filter(|(_, e)| e.kind == kind)
            .map(|(_, e)| e.id.clone())
            .collect()
    };
    let mut present = HashSet::new();
    for kind in [MediaKind::Image, MediaKind::Video] {
        let ids = ids_of(kind);
        if ids.is_empty() {
            continue;
        }
        let listed = match kind {
            MediaKind::Image => client.files().images(advertiser, &ids).await?,
            MediaKind::Video => client.files().videos(advertiser, &ids).await?,
        };
        present.extend(
            listed
                .iter()
                .filter_map(|item| match item.get(kind.id_field()) {
                    Some(Value::String(s)) => Some(s.clone()),
                    Some(Value::Number(n)) => Some(n.to_string()),
                    _ => None,
                }),
        );
    }
    let now = Utc::now();
    let gone: Vec<String> = wanted
        .iter()
        .filter(|(_, e)| !present.contains(&e.id) && !maybe_processing(e, now))
        .map(|(md5, _)| (*md5).clone())
        .collect();
    if !gone.is_empty() {
        records.forget(advertiser, &gone)?;
    }
    Ok(gone)
}

fn maybe_processing(entry: &Entry, now: DateTime<Utc>) -> bool {
    entry.kind == MediaKind::Video
        && DateTime::parse_from_rfc3339(&entry.uploaded_at)
            .is_ok_and(|at| now.signed_duration_since(at) < PROCESSING_GRACE)
}
