//! What a `secondary_status` means for someone watching: rejected, in review, out of budget
//! or money, paused, finished, delivering, deleted — or something else, shown as TikTok wrote
//! it. Matched on parts of the value, so statuses TikTok adds later still land somewhere
//! (REFERENCE 16.2's grouping, rules in its order).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    Deleted,
    Rejected,
    PartlyRejected,
    InReview,
    Budget,
    Paused,
    Finished,
    Delivering,
    Other,
}

impl Bucket {
    pub const ALL: [Bucket; 9] = [
        Bucket::Deleted,
        Bucket::Rejected,
        Bucket::PartlyRejected,
        Bucket::InReview,
        Bucket::Budget,
        Bucket::Paused,
        Bucket::Finished,
        Bucket::Delivering,
        Bucket::Other,
    ];

    /// The bucket of a `secondary_status` value.
    pub fn of(status: &str) -> Bucket {
        let s = status.to_ascii_uppercase();
        let ends = |suffix: &str| s.ends_with(suffix);
        let has = |part: &str| s.contains(part);
        if ends("_DELETE") {
            Bucket::Deleted
        } else if has("REVIEW_PARTIALLY_APPROVED")
            || has("PARTIAL_AUDIT")
            || has("KEYWORDS_PARTIAL_APPROVED")
        {
            Bucket::PartlyRejected
        } else if has("AUDIT_DENY")
            || has("QUALIFICATION_DENY")
            || has("REVIEW_DISAPPROVED")
            || has("KEYWORDS_NOT_AVAILABLE")
        {
            Bucket::Rejected
        } else if has("AUDIT") || has("KEYWORDS_IN_REVIEW") {
            Bucket::InReview
        } else if ends("_BUDGET_EXCEED")
            || ends("_CAMPAIGN_EXCEED")
            || ends("_BALANCE_EXCEED")
            || ends("RF_SHORT_BALANCE")
        {
            Bucket::Budget
        } else if ends("_DISABLE") {
            Bucket::Paused
        } else if ends("_TIME_DONE") || s == "AD_STATUS_DONE" {
            Bucket::Finished
        } else if ends("DELIVERY_OK") || s == "CAMPAIGN_STATUS_ENABLE" {
            Bucket::Delivering
        } else {
            Bucket::Other
        }
    }

    /// The word of `--exit-on` and of the events' `bucket` field.
    pub fn name(self) -> &'static str {
        match self {
            Bucket::Deleted => "deleted",
            Bucket::Rejected => "rejected",
            Bucket::PartlyRejected => "partly_rejected",
            Bucket::InReview => "in_review",
            Bucket::Budget => "budget",
            Bucket::Paused => "paused",
            Bucket::Finished => "finished",
            Bucket::Delivering => "delivering",
            Bucket::Other => "other",
        }
    }

    pub fn parse(word: &str) -> Option<Bucket> {
        Bucket::ALL.into_iter().find(|b| b.name() == word)
    }

    /// Whether a move into it calls for the reasons of the review.
    pub fn wants_reasons(self) -> bool {
        matches!(self, Bucket::Rejected | Bucket::PartlyRejected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_fall_into_the_reference_buckets_in_its_order() {
        let cases = [
            ("AD_STATUS_DELETE", Bucket::Deleted),
            ("ADGROUP_STATUS_CAMPAIGN_DELETE", Bucket::Deleted),
            ("AD_STATUS_AUDIT_DENY", Bucket::Rejected),
            (
                "ADGROUP_STATUS_INDUSTRY_QUALIFICATION_DENY",
                Bucket::Rejected,
            ),
            ("CAMPAIGN_STATUS_REVIEW_DISAPPROVED", Bucket::Rejected),
            (
                "ADGROUP_STATUS_SEARCH_KEYWORDS_NOT_AVAILABLE",
                Bucket::Rejected,
            ),
            (
                "AD_STATUS_REVIEW_PARTIALLY_APPROVED",
                Bucket::PartlyRejected,
            ),
            (
                "AD_STATUS_PARTIAL_AUDIT_DELIVERY_OK",
                Bucket::PartlyRejected,
            ),
            ("AD_STATUS_AUDIT", Bucket::InReview),
            ("ADGROUP_STATUS_REAUDIT", Bucket::InReview),
            ("CAMPAIGN_STATUS_ADVERTISER_AUDIT", Bucket::InReview),
            ("ADGROUP_STATUS_SEARCH_KEYWORDS_IN_REVIEW", Bucket::InReview),
            ("AD_STATUS_BUDGET_EXCEED", Bucket::Budget),
            ("ADGROUP_STATUS_CAMPAIGN_EXCEED", Bucket::Budget),
            ("AD_STATUS_BALANCE_EXCEED", Bucket::Budget),
            ("ADGROUP_STATUS_RF_SHORT_BALANCE", Bucket::Budget),
            ("AD_STATUS_DISABLE", Bucket::Paused),
            ("ADGROUP_STATUS_TIME_DONE", Bucket::Finished),
            ("AD_STATUS_DONE", Bucket::Finished),
            ("AD_STATUS_DELIVERY_OK", Bucket::Delivering),
            ("CAMPAIGN_STATUS_ENABLE", Bucket::Delivering),
            ("AD_STATUS_SOMETHING_NEW", Bucket::Other),
        ];
        for (status, bucket) in cases {
            assert_eq!(Bucket::of(status), bucket, "{status}");
            assert_eq!(Bucket::parse(bucket.name()), Some(bucket));
        }
    }
}
