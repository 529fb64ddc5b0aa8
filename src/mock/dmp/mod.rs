//! Customer-file audiences (`/dmp/custom_audience/*`), as strict as TikTok: uploads in
//! multipart with their MD5 checked, `.csv`/`.txt` names, content that must be what
//! `calculate_type` says (64-hex lines for the SHA-256 types); audiences as sets of hashes that
//! APPEND, REMOVE and REPLACE change (REPLACE when no action is sent, as TikTok does), never
//! below 1,000; a matched size computed from the hashes; a calculation delay; expiry on the
//! simulator's clock. The request log shows what was sent: hashes, never a raw value.

mod read;
mod upload;
mod write;

pub(in crate::mock) use read::{get, list};
pub(in crate::mock) use upload::upload;
pub(in crate::mock) use write::{create, delete, lookalike, share, update};

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The SHA-256 calculate types (lines must be 64 hex digits).
pub(super) const SHA256_TYPES: &[&str] = &[
    "EMAIL_SHA256",
    "PHONE_SHA256",
    "IDFA_SHA256",
    "GAID_SHA256",
    "FIRST_SHA256",
    "MAID_SHA256",
];
/// Several kinds in one file: a header row names the columns.
pub(super) const MULTIPLE_TYPES: &str = "MULTIPLE_TYPES";
/// The column names of a file of several kinds (the help centre's, upper-cased).
pub(super) const MULTIPLE_HEADERS: &[&str] = &["EMAIL_SHA256", "PHONE_SHA256", "MAID_SHA256"];
pub(super) const MD5_TYPES: &[&str] = &["IDFA_MD5", "GAID_MD5", "FIRST_MD5", "MAID_MD5"];

/// An audience needs this many people after an update.
pub(super) const FLOOR: usize = 1_000;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(in crate::mock) struct Dmp {
    files: BTreeMap<String, File>,
    audiences: BTreeMap<String, Audience>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct File {
    advertiser: String,
    calculate_type: String,
    hashes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Audience {
    advertiser: String,
    name: String,
    calculate_type: String,
    hashes: BTreeSet<String>,
    create_time: String,
    /// Simulator milliseconds when the calculation ends.
    ready_at: u64,
    /// Simulator milliseconds when it expires.
    expires_at: u64,
    history: Vec<Value>,
    /// A lookalike's spec and size.
    #[serde(default)]
    lookalike: Option<(Value, usize)>,
    /// Other ad accounts it is shared with.
    #[serde(default)]
    shared_with: Vec<String>,
}

impl Audience {
    /// A new audience of `advertiser`, calculated `ready_ms` from now and kept `days`.
    pub(super) fn new(
        world: &crate::mock::world::World,
        (advertiser, name): (String, String),
        (ready_ms, days): (u64, u64),
        created: &str,
    ) -> Self {
        let now = world.reviews.now_ms();
        Self {
            advertiser,
            name,
            calculate_type: String::new(),
            hashes: BTreeSet::new(),
            create_time: world.reviews.stamp(),
            ready_at: now + ready_ms,
            expires_at: now + days * 86_400_000,
            history: vec![json!({"action": "CREATE", "action_detail": created,
                "editor": "open_api", "msg": "", "opt_time": world.reviews.stamp()})],
            lookalike: None,
            shared_with: Vec::new(),
        }
    }

    /// Whether `advertiser` sees it (its own, or shared with it).
    fn seen_by(&self, advertiser: &str) -> bool {
        self.advertiser == advertiser || self.shared_with.iter().any(|a| a == advertiser)
    }

    /// Matched people: about two thirds of the hashes, decided by each hash.
    fn cover_num(&self) -> usize {
        if let Some((_, size)) = &self.lookalike {
            return *size;
        }
        self.hashes
            .iter()
            .filter(|h| {
                h.as_bytes()
                    .first()
                    .is_some_and(|b| b"0123456789a".contains(b))
            })
            .count()
    }

    fn details(&self, id: &str, now_ms: u64, viewer: &str) -> Value {
        let calculating = now_ms < self.ready_at;
        let kind = if self.lookalike.is_some() {
            "Lookalike Audience"
        } else {
            "Customer File Audience"
        };
        let expired = now_ms >= self.expires_at;
        let stamp = |ms: u64| {
            chrono::DateTime::from_timestamp_millis(ms as i64)
                .unwrap_or_default()
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        };
        json!({
            "audience_id": id, "name": self.name, "type": kind, "audience_type": kind,
            "audience_sub_type": "NORMAL",
            "calculate_type": self.calculate_type,
            "cover_num": if calculating { 0 } else { self.cover_num() },
            "is_valid": !calculating && !expired,
            "is_expiring": !expired && self.expires_at.saturating_sub(now_ms) < 60 * 86_400_000,
            "shared": !self.shared_with.is_empty(), "is_creator": self.advertiser == viewer,
            "owner_id": self.advertiser,
            "create_time": self.create_time, "expired_time": stamp(self.expires_at),
            "msg": if calculating { "Calculating" } else if expired { "Expired" } else { "" },
            "error_msg": "", "lookalike_spec": self.lookalike.as_ref().map(|(spec, _)| spec.clone()),
            "enhancement_status": null,
        })
    }
}
