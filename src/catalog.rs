//! TikTok's reporting vocabulary: the metric and dimension names `/report/integrated/get/`
//! knows, and the attribute names of campaigns, ad groups and ads. The names come from the
//! reference (9.1, 5–7) and from what the official SDK and the widely used connectors (the
//! Airbyte source, the Singer tap) send in production. The CLI checks names against it before
//! any request (a typo is a usage error, not a wasted quota); the simulator rejects what is not
//! in it, as TikTok does.

/// How a metric's value comes about; the simulator derives consistent numbers from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MetricKind {
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
pub(crate) const METRICS: &[(&str, MetricKind)] = &[
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
pub(crate) enum DimensionKind {
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

pub(crate) const DIMENSIONS: &[(&str, DimensionKind)] = &[
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
pub(crate) const CAMPAIGN_FIELDS: &[&str] = &[
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
pub(crate) const ADGROUP_FIELDS: &[&str] = &[
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
pub(crate) const AD_FIELDS: &[&str] = &[
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

// Enumerations of objects' fields (REFERENCE 3, 5–8).

pub const PROMOTION_TYPES: &[&str] = &[
    "WEBSITE",
    "APP_ANDROID",
    "APP_IOS",
    "LEAD_GENERATION",
    "LEAD_GEN_CLICK_TO_TT_DIRECT_MESSAGE",
    "LEAD_GEN_CLICK_TO_SOCIAL_MEDIA_APP_MESSAGE",
    "LEAD_GEN_CLICK_TO_CALL",
    "TIKTOK_SHOP",
    "VIDEO_SHOPPING",
    "LIVE_SHOPPING",
    "WEBSITE_OR_DISPLAY",
    "EXTERNAL_OR_DISPLAY",
    "GAME",
];

pub const PLACEMENT_TYPES: &[&str] = &["PLACEMENT_TYPE_AUTOMATIC", "PLACEMENT_TYPE_NORMAL"];

pub const PLACEMENTS: &[&str] = &[
    "PLACEMENT_TIKTOK",
    "PLACEMENT_PANGLE",
    "PLACEMENT_GLOBAL_APP_BUNDLE",
];

pub const SCHEDULE_TYPES: &[&str] = &["SCHEDULE_FROM_NOW", "SCHEDULE_START_END"];

pub const BILLING_EVENTS: &[&str] = &["CPC", "CPM", "CPV", "OCPM", "OCPC", "GD"];

pub const BID_TYPES: &[&str] = &["BID_TYPE_NO_BID", "BID_TYPE_CUSTOM"];

pub const PACINGS: &[&str] = &["PACING_MODE_SMOOTH", "PACING_MODE_FAST"];

pub const GENDERS: &[&str] = &["GENDER_UNLIMITED", "GENDER_MALE", "GENDER_FEMALE"];

pub const AGE_GROUPS: &[&str] = &[
    "AGE_13_17",
    "AGE_18_24",
    "AGE_25_34",
    "AGE_35_44",
    "AGE_45_54",
    "AGE_55_100",
];

pub const OPTIMIZATION_GOALS: &[&str] = &[
    "CLICK",
    "CONVERT",
    "INSTALL",
    "IN_APP_EVENT",
    "SHOW",
    "REACH",
    "VIDEO_VIEW",
    "ENGAGED_VIEW",
    "ENGAGED_VIEW_FIFTEEN",
    "LEAD_GENERATION",
    "CONVERSATION",
    "FOLLOWERS",
    "PROFILE_VIEWS",
    "PAGE_VISITS",
    "VALUE",
    "AUTOMATIC_VALUE_OPTIMIZATION",
    "GMV",
    "PURCHASES",
    "INITIATE_CHECKOUTS",
    "MT_LIVE_ROOM",
    "PRODUCT_CLICK_IN_LIVE",
    "TRAFFIC_LANDING_PAGE_VIEW",
    "CONVERSION_LEADS",
    "DESTINATION_VISIT",
    "PREFERRED_LEAD",
];

/// Objectives a campaign can be created with.
pub const OBJECTIVES: &[&str] = &[
    "TRAFFIC",
    "REACH",
    "VIDEO_VIEWS",
    "ENGAGEMENT",
    "APP_PROMOTION",
    "WEB_CONVERSIONS",
    "LEAD_GENERATION",
    "PRODUCT_SALES",
    "RF_REACH",
    "TOPVIEW_REACH",
    "BRAND_CONSIDERATION",
    "RF_TRAFFIC",
    "RF_VIDEO_VIEW",
];

/// Objectives of older campaigns: readable and filterable, not creatable.
pub const LEGACY_OBJECTIVES: &[&str] = &[
    "CONVERSIONS",
    "APP_INSTALL",
    "CATALOG_SALES",
    "SHOP_PURCHASES",
    "RF_APP_INSTALL",
    "RF_ENGAGEMENT",
];

pub const SPECIAL_INDUSTRIES: &[&str] = &["HOUSING", "EMPLOYMENT", "CREDIT"];

pub const AD_FORMATS: &[&str] = &[
    "SINGLE_VIDEO",
    "SINGLE_IMAGE",
    "CAROUSEL_ADS",
    "CATALOG_CAROUSEL",
    "LIVE_CONTENT",
];

pub const IDENTITY_TYPES: &[&str] = &["CUSTOMIZED_USER", "AUTH_CODE", "TT_USER", "BC_AUTH_TT"];

/// Every field `/advertiser/info/` can return (REFERENCE 3), in a readable order.
pub const ADVERTISER_INFO_FIELDS: &[&str] = &[
    "advertiser_id",
    "name",
    "status",
    "role",
    "currency",
    "timezone",
    "display_timezone",
    "balance",
    "create_time",
    "company",
    "country",
    "industry",
    "address",
    "language",
    "description",
    "rejection_reason",
    "contacter",
    "email",
    "cellphone_number",
    "telephone_number",
    "license_no",
    "license_url",
    "advertiser_account_type",
    "owner_bc_id",
];

/// Budget modes shared by campaigns and ad groups.
pub(crate) const BUDGET_MODES: &[&str] = &[
    "BUDGET_MODE_INFINITE",
    "BUDGET_MODE_DAY",
    "BUDGET_MODE_TOTAL",
    "BUDGET_MODE_DYNAMIC_DAILY_BUDGET",
];

pub(crate) const OPERATION_STATUSES: &[&str] = &["ENABLE", "DISABLE"];

/// The only fields `/campaign/update/` changes.
pub const CAMPAIGN_UPDATABLE: &[&str] =
    &["campaign_name", "budget", "special_industries", "po_number"];

/// How many of [`METRICS`] are additive.
pub(crate) const ADDITIVE_COUNT: usize = {
    let mut count = 0;
    let mut i = 0;
    while i < METRICS.len() {
        if matches!(METRICS[i].1, MetricKind::Additive) {
            count += 1;
        }
        i += 1;
    }
    count
};

/// The additive metrics of [`METRICS`], in its order.
pub(crate) const ADDITIVE_METRICS: [&str; ADDITIVE_COUNT] = {
    let mut names = [""; ADDITIVE_COUNT];
    let (mut i, mut n) = (0, 0);
    while i < METRICS.len() {
        if matches!(METRICS[i].1, MetricKind::Additive) {
            names[n] = METRICS[i].0;
            n += 1;
        }
        i += 1;
    }
    names
};

/// The fields `/adgroup/update/` changes.
pub(crate) const ADGROUP_UPDATABLE: &[&str] = &[
    "adgroup_name",
    "budget",
    "schedule_start_time",
    "schedule_end_time",
    "location_ids",
    "zipcode_ids",
    "gender",
    "age_groups",
    "languages",
    "operating_systems",
    "audience_ids",
    "excluded_audience_ids",
    "interest_category_ids",
    "dayparting",
    "bid_price",
    "conversion_bid_price",
    "pacing",
    "optimization_goal",
    "optimization_event",
    "pixel_id",
    "frequency",
    "frequency_schedule",
    "comment_disabled",
    "video_download_disabled",
    "share_disabled",
    "schedule_type",
    "placements",
];

/// The fields `/ad/update/` changes (in each of its creatives).
pub(crate) const AD_UPDATABLE: &[&str] = &[
    "ad_name",
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
    "video_id",
    "image_ids",
    "music_id",
    "tiktok_item_id",
    "ad_format",
    "operation_status",
];

pub(crate) fn metric(name: &str) -> Option<MetricKind> {
    METRICS.iter().find(|(n, _)| *n == name).map(|(_, k)| *k)
}

pub(crate) fn dimension(name: &str) -> Option<DimensionKind> {
    DIMENSIONS.iter().find(|(n, _)| *n == name).map(|(_, k)| *k)
}

/// The closest of `known` to `name` when it is near enough to be a typo of it.
pub(crate) fn did_you_mean<'a>(
    name: &str,
    known: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
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
