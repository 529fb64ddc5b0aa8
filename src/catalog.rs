//! TikTok's reporting vocabulary: the metric and dimension names `/report/integrated/get/`
//! knows, and the attribute names of campaigns, ad groups and ads. The names come from the
//! reference (9.1, 5–7) and from what the official SDK and the widely used connectors (the
//! Airbyte source, the Singer tap) send in production. The CLI checks names against it before
//! any request (a typo is a usage error, not a wasted quota); the simulator rejects what is not
//! in it, as TikTok does.

/// How a metric's value comes about; the simulator derives consistent numbers from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// A count or an amount that adds up over days, hours and breakdowns.
    Additive,
    /// Computed from additive ones (a rate, a cost per, an average).
    Derived,
    /// Counted once per person (reach): it does not add up.
    Unique,
    /// A property of the entity a row is about, not a number (`campaign_name`), defined from
    /// this level down.
    Attribute(Level),
}

/// The reporting levels, from the top.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Advertiser,
    Campaign,
    Adgroup,
    Ad,
}

impl Level {
    /// The `data_level` TikTok names it by.
    pub fn data_level(self) -> &'static str {
        match self {
            Level::Advertiser => "AUCTION_ADVERTISER",
            Level::Campaign => "AUCTION_CAMPAIGN",
            Level::Adgroup => "AUCTION_ADGROUP",
            Level::Ad => "AUCTION_AD",
        }
    }

    pub fn from_data_level(name: &str) -> Option<Level> {
        [
            Level::Advertiser,
            Level::Campaign,
            Level::Adgroup,
            Level::Ad,
        ]
        .into_iter()
        .find(|l| l.data_level() == name)
    }

    /// The status filter field of this level (reports drop deleted objects by default).
    pub fn status_field(self) -> &'static str {
        match self {
            Level::Advertiser | Level::Ad => "ad_status",
            Level::Campaign => "campaign_status",
            Level::Adgroup => "adgroup_status",
        }
    }

    /// The ID dimension of the level.
    pub fn id_dimension(self) -> &'static str {
        match self {
            Level::Advertiser => "advertiser_id",
            Level::Campaign => "campaign_id",
            Level::Adgroup => "adgroup_id",
            Level::Ad => "ad_id",
        }
    }
}

use Level::*;
use MetricKind::*;

/// Every metric name, with its kind.
pub const METRICS: &[(&str, MetricKind)] = &[
    // Cost
    ("spend", Additive),
    ("billed_cost", Additive),
    ("cash_spend", Additive),
    ("voucher_spend", Additive),
    ("cpc", Derived),
    ("cpm", Derived),
    ("cost_per_1000_reached", Derived),
    // Delivery
    ("impressions", Additive),
    ("gross_impressions", Additive),
    ("clicks", Additive),
    ("ctr", Derived),
    ("reach", Unique),
    ("frequency", Derived),
    // Conversions and results
    ("conversion", Additive),
    ("cost_per_conversion", Derived),
    ("conversion_rate", Derived),
    ("conversion_rate_v2", Derived),
    ("real_time_conversion", Additive),
    ("real_time_cost_per_conversion", Derived),
    ("real_time_conversion_rate", Derived),
    ("real_time_conversion_rate_v2", Derived),
    ("result", Additive),
    ("cost_per_result", Derived),
    ("result_rate", Derived),
    ("real_time_result", Additive),
    ("real_time_cost_per_result", Derived),
    ("real_time_result_rate", Derived),
    ("secondary_goal_result", Additive),
    ("cost_per_secondary_goal_result", Derived),
    ("secondary_goal_result_rate", Derived),
    // Video
    ("video_play_actions", Additive),
    ("video_watched_2s", Additive),
    ("video_watched_6s", Additive),
    ("video_views_p25", Additive),
    ("video_views_p50", Additive),
    ("video_views_p75", Additive),
    ("video_views_p100", Additive),
    ("average_video_play", Derived),
    ("average_video_play_per_user", Derived),
    ("engaged_view", Additive),
    // Engagement
    ("likes", Additive),
    ("comments", Additive),
    ("shares", Additive),
    ("follows", Additive),
    ("profile_visits", Additive),
    ("profile_visits_rate", Derived),
    ("clicks_on_music_disc", Additive),
    // App
    ("app_install", Additive),
    ("cost_per_app_install", Derived),
    ("real_time_app_install", Additive),
    ("real_time_app_install_cost", Derived),
    ("total_app_event_add_to_cart", Additive),
    ("cost_per_total_app_event_add_to_cart", Derived),
    // Web and shop events
    ("complete_payment", Additive),
    ("value_per_complete_payment", Derived),
    ("total_complete_payment_rate", Derived),
    ("total_pageview", Additive),
    ("total_purchase_value", Additive),
    ("total_onsite_shopping_value", Additive),
    ("onsite_shopping", Additive),
    ("purchase", Additive),
    ("purchase_rate", Derived),
    ("cost_per_purchase", Derived),
    ("registration", Additive),
    ("registration_rate", Derived),
    ("cost_per_registration", Derived),
    ("sales_lead", Additive),
    ("sales_lead_rate", Derived),
    ("cost_per_sales_lead", Derived),
    ("cost_per_total_sales_lead", Derived),
    ("vta_purchase", Additive),
    ("vta_conversion", Additive),
    ("cta_purchase", Additive),
    ("cta_conversion", Additive),
    // Attributes (only with an ID dimension)
    ("advertiser_name", Attribute(Advertiser)),
    ("advertiser_id", Attribute(Advertiser)),
    ("currency", Attribute(Advertiser)),
    ("timezone", Attribute(Advertiser)),
    ("campaign_name", Attribute(Campaign)),
    ("campaign_id", Attribute(Campaign)),
    ("objective_type", Attribute(Campaign)),
    ("campaign_budget", Attribute(Campaign)),
    ("campaign_dedicate_type", Attribute(Campaign)),
    ("split_test", Attribute(Campaign)),
    ("rf_campaign_type", Attribute(Campaign)),
    ("app_promotion_type", Attribute(Campaign)),
    ("adgroup_name", Attribute(Adgroup)),
    ("adgroup_id", Attribute(Adgroup)),
    ("placement_type", Attribute(Adgroup)),
    ("promotion_type", Attribute(Adgroup)),
    ("budget", Attribute(Adgroup)),
    ("bid", Attribute(Adgroup)),
    ("bid_strategy", Attribute(Adgroup)),
    ("billing_event", Attribute(Adgroup)),
    ("smart_target", Attribute(Adgroup)),
    ("opt_status", Attribute(Adgroup)),
    ("tt_app_id", Attribute(Adgroup)),
    ("tt_app_name", Attribute(Adgroup)),
    ("mobile_app_id", Attribute(Adgroup)),
    ("dpa_target_audience_type", Attribute(Adgroup)),
    ("ad_name", Attribute(Ad)),
    ("ad_text", Attribute(Ad)),
    ("call_to_action", Attribute(Ad)),
    ("image_mode", Attribute(Ad)),
    ("is_smart_creative", Attribute(Ad)),
];

/// What a dimension groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DimensionKind {
    /// An entity's ID (one per query; it must match the data level).
    Id(Level),
    /// Days or hours in the account's time zone (at most one).
    Time,
    /// A breakdown available in BASIC and AUDIENCE reports.
    Basic,
    /// A breakdown available only in AUDIENCE reports.
    Audience,
}

use DimensionKind::*;

pub const DIMENSIONS: &[(&str, DimensionKind)] = &[
    ("advertiser_id", Id(Advertiser)),
    ("campaign_id", Id(Campaign)),
    ("adgroup_id", Id(Adgroup)),
    ("ad_id", Id(Ad)),
    ("stat_time_day", Time),
    ("stat_time_hour", Time),
    ("country_code", Basic),
    ("ad_type", Basic),
    ("custom_event_type", Basic),
    ("event_source_id", Basic),
    ("page_id", Basic),
    ("component_name", Basic),
    ("post_id", Basic),
    ("search_terms", Basic),
    ("age", Audience),
    ("gender", Audience),
    ("province_id", Audience),
    ("dma_id", Audience),
    ("language", Audience),
    ("platform", Audience),
    ("placement", Audience),
    ("ac", Audience),
    ("interest_category", Audience),
    ("interest_category_tier2", Audience),
    ("interest_category_tier3", Audience),
    ("interest_category_tier4", Audience),
    ("contextual_tag", Audience),
];

/// The fields of a campaign object (`fields` of `/campaign/get/`).
pub const CAMPAIGN_FIELDS: &[&str] = &[
    "advertiser_id",
    "campaign_id",
    "campaign_name",
    "objective_type",
    "objective",
    "campaign_type",
    "budget_mode",
    "budget",
    "budget_optimize_on",
    "operation_status",
    "secondary_status",
    "bid_type",
    "optimization_goal",
    "deep_bid_type",
    "roas_bid",
    "create_time",
    "modify_time",
    "is_new_structure",
    "is_smart_performance_campaign",
    "is_search_campaign",
    "is_advanced_dedicated_campaign",
    "campaign_automation_type",
    "special_industries",
    "app_id",
    "app_promotion_type",
    "rf_campaign_type",
    "sales_destination",
    "campaign_product_source",
    "po_number",
];

/// The fields of an ad group object (`fields` of `/adgroup/get/`).
pub const ADGROUP_FIELDS: &[&str] = &[
    "advertiser_id",
    "campaign_id",
    "campaign_name",
    "adgroup_id",
    "adgroup_name",
    "create_time",
    "modify_time",
    "operation_status",
    "secondary_status",
    "promotion_type",
    "placement_type",
    "placements",
    "location_ids",
    "zipcode_ids",
    "gender",
    "age_groups",
    "languages",
    "operating_systems",
    "audience_ids",
    "excluded_audience_ids",
    "interest_category_ids",
    "budget_mode",
    "budget",
    "scheduled_budget",
    "schedule_type",
    "schedule_start_time",
    "schedule_end_time",
    "dayparting",
    "optimization_goal",
    "optimization_event",
    "billing_event",
    "bid_type",
    "bid_price",
    "conversion_bid_price",
    "deep_bid_type",
    "pacing",
    "frequency",
    "frequency_schedule",
    "pixel_id",
    "app_id",
    "creative_material_mode",
    "comment_disabled",
    "video_download_disabled",
    "share_disabled",
    "is_new_structure",
    "skip_learning_phase",
];

/// The fields of an ad object (`fields` of `/ad/get/`).
pub const AD_FIELDS: &[&str] = &[
    "advertiser_id",
    "campaign_id",
    "campaign_name",
    "adgroup_id",
    "adgroup_name",
    "ad_id",
    "ad_name",
    "create_time",
    "modify_time",
    "operation_status",
    "secondary_status",
    "ad_format",
    "ad_text",
    "ad_texts",
    "call_to_action",
    "call_to_action_id",
    "landing_page_url",
    "deeplink",
    "deeplink_type",
    "identity_type",
    "identity_id",
    "display_name",
    "avatar_icon_web_uri",
    "profile_image_url",
    "video_id",
    "image_ids",
    "music_id",
    "tiktok_item_id",
    "playable_url",
    "is_aco",
    "creative_authorized",
    "tracking_pixel_id",
    "is_new_structure",
];

pub fn metric(name: &str) -> Option<MetricKind> {
    METRICS.iter().find(|(n, _)| *n == name).map(|(_, k)| *k)
}

pub fn dimension(name: &str) -> Option<DimensionKind> {
    DIMENSIONS.iter().find(|(n, _)| *n == name).map(|(_, k)| *k)
}

/// The closest of `known` to `name` when it is near enough to be a typo of it.
pub fn did_you_mean<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    known
        .into_iter()
        .map(|candidate| (strsim::damerau_levenshtein(name, candidate), candidate))
        .filter(|&(distance, candidate)| distance <= (candidate.len() / 4).max(2))
        .min_by_key(|&(distance, _)| distance)
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_within_each_list() {
        for names in [
            METRICS.iter().map(|m| m.0).collect::<Vec<_>>(),
            DIMENSIONS.iter().map(|d| d.0).collect(),
            CAMPAIGN_FIELDS.to_vec(),
            ADGROUP_FIELDS.to_vec(),
            AD_FIELDS.to_vec(),
        ] {
            let mut sorted = names.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), names.len());
        }
    }

    #[test]
    fn near_misses_are_suggested_and_strangers_are_not() {
        let metrics = || METRICS.iter().map(|m| m.0);
        assert_eq!(did_you_mean("impresions", metrics()), Some("impressions"));
        assert_eq!(did_you_mean("spnd", metrics()), Some("spend"));
        assert_eq!(
            did_you_mean("cost_per_conversoin", metrics()),
            Some("cost_per_conversion")
        );
        assert_eq!(did_you_mean("banana", metrics()), None);
    }
}
