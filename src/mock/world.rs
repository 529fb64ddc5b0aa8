//! The simulator's data: the app, its ad accounts and Business Center, campaigns, ad groups
//! and ads with TikTok's field sets and 19-digit IDs, issued auth codes and tokens, report
//! tasks. Deterministic per seed; serializable, so `--state-file` can keep it across restarts.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// The simulated app's ID (not a secret; its secret is made at start-up or taken from
/// `TIKTOK_APP_SECRET`).
pub const APP_ID: &str = "7100000000000000001";

pub const BC_ID: &str = "7000000000000000001";

#[derive(Debug, Clone, Copy)]
pub struct SeedAccount {
    pub id: &'static str,
    pub name: &'static str,
    pub currency: &'static str,
    pub timezone: &'static str,
    pub company: &'static str,
    pub country: &'static str,
}

pub(super) const APP_ADVERTISERS: &[SeedAccount] = &[
    SeedAccount {
        id: "7300000000000000001",
        name: "Demo Shoes US",
        currency: "USD",
        timezone: "America/New_York",
        company: "Demo Shoes Inc.",
        country: "US",
    },
    SeedAccount {
        id: "7300000000000000002",
        name: "Demo Shoes EU",
        currency: "EUR",
        timezone: "Europe/Berlin",
        company: "Demo Shoes GmbH",
        country: "DE",
    },
];

/// Ad accounts a larger world (`mock --accounts N`) adds after the first two, in order.
const MORE_ADVERTISERS: &[SeedAccount] = &{
    const fn more(id: &'static str, name: &'static str, timezone: &'static str) -> SeedAccount {
        SeedAccount {
            id,
            name,
            currency: "USD",
            timezone,
            company: "Demo Shoes Group",
            country: "US",
        }
    }
    [
        more("7300000000000000003", "Demo Shoes 03", "America/Chicago"),
        more("7300000000000000004", "Demo Shoes 04", "America/Denver"),
        more(
            "7300000000000000005",
            "Demo Shoes 05",
            "America/Los_Angeles",
        ),
        more("7300000000000000006", "Demo Shoes 06", "Europe/London"),
        more("7300000000000000007", "Demo Shoes 07", "Europe/Paris"),
        more("7300000000000000008", "Demo Shoes 08", "Asia/Tokyo"),
        more("7300000000000000009", "Demo Shoes 09", "Asia/Singapore"),
        more("7300000000000000010", "Demo Shoes 10", "Australia/Sydney"),
        more("7300000000000000011", "Demo Shoes 11", "America/Sao_Paulo"),
        more("7300000000000000012", "Demo Shoes 12", "Asia/Kolkata"),
    ]
};

/// The most ad accounts a world can have.
pub const MAX_ACCOUNTS: usize = 12;

/// How big the seeded world is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorldSize {
    /// Ad accounts (2 to [`MAX_ACCOUNTS`]).
    pub accounts: usize,
    /// Ad groups of each live campaign (each with two ads).
    pub adgroups_per_campaign: usize,
}

impl Default for WorldSize {
    fn default() -> Self {
        Self {
            accounts: 2,
            adgroups_per_campaign: 2,
        }
    }
}

/// Any account a world may have; a world's own are [`World::accounts`].
pub(super) fn account(id: &str) -> Option<&'static SeedAccount> {
    APP_ADVERTISERS
        .iter()
        .chain(MORE_ADVERTISERS)
        .find(|a| a.id == id)
}

/// An auth code: single use, valid for an hour.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Code {
    pub advertisers: Vec<String>,
    /// Unix seconds.
    pub expires_at: i64,
}

/// What a token may do.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Grant {
    pub advertisers: Vec<String>,
    pub revoked: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Task {
    pub advertiser_id: String,
    pub body: Map<String, Value>,
    pub checks: u32,
    pub canceled: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct World {
    pub seed: u64,
    pub app_secret: String,
    /// `campaign`, `adgroup`, `ad` → objects, in creation order.
    pub entities: BTreeMap<String, Vec<Map<String, Value>>>,
    pub codes: HashMap<String, Code>,
    pub tokens: HashMap<String, Grant>,
    pub tasks: HashMap<String, Task>,
    /// Creates' `request_id` idempotency keys → the ID created.
    pub idempotency: HashMap<String, String>,
    /// Restatements (`/_mock/restate`): from each day on, numbers drawn afresh, as TikTok's
    /// late attribution changes recent days.
    #[serde(default)]
    pub restated: Vec<(chrono::NaiveDate, u64)>,
    /// Each account's images and videos, and the uploads under way.
    #[serde(default)]
    pub library: super::library::Library,
    /// Reviews under way and decided, budgets spent, the simulator's clock.
    #[serde(default)]
    pub reviews: super::review::Reviews,
    /// Daily budgets set for the next day: ad group → the account's date they were set on.
    #[serde(default)]
    pub pending_budgets: BTreeMap<String, String>,
    /// Active ad group quotas set through `/_mock/quota`, per account.
    #[serde(default)]
    pub adgroup_quotas: BTreeMap<String, u64>,
    #[serde(default)]
    pub size: WorldSize,
    /// Customer-file audiences and their uploaded files.
    #[serde(default)]
    pub dmp: super::dmp::Dmp,
    next_id: u64,
}

/// 40 lowercase hex characters, like TikTok's tokens.
pub(super) fn new_token() -> String {
    format!(
        "{:032x}{:08x}",
        rand::random::<u128>(),
        rand::random::<u32>()
    )
}

impl World {
    /// The seed of one day's numbers: the world's, changed by every restatement covering it.
    pub(super) fn seed_on(&self, day: chrono::NaiveDate) -> u64 {
        self.restated
            .iter()
            .filter(|(from, _)| *from <= day)
            .fold(self.seed, |seed, (_, salt)| {
                super::reports::numbers::fnv(&format!("{seed}|{salt}"))
            })
    }

    /// The seeded world: per account three live campaigns (two ad groups of two ads each) and
    /// one deleted campaign with its ad group and ad (its spend is real, reports show it only
    /// with deleted objects included). Everything dates from 2023, so reports of any recent
    /// range have rows.
    pub(super) fn seeded(seed: u64, app_secret: String, size: WorldSize) -> Self {
        let mut world = Self {
            seed,
            app_secret,
            entities: BTreeMap::new(),
            codes: HashMap::new(),
            tokens: HashMap::new(),
            tasks: HashMap::new(),
            idempotency: HashMap::new(),
            restated: Vec::new(),
            library: Default::default(),
            reviews: Default::default(),
            pending_budgets: BTreeMap::new(),
            adgroup_quotas: BTreeMap::new(),
            size,
            dmp: Default::default(),
            next_id: 1_812_000_000_000_000_000 + (seed % 1000) * 1_000_000_000_000,
        };
        let plans = [
            ("campaign 1", "TRAFFIC", 100.0, "2023-03-01 09:00:00", None),
            (
                "campaign 2",
                "WEB_CONVERSIONS",
                200.0,
                "2023-04-01 09:00:00",
                None,
            ),
            ("campaign 3", "REACH", 300.0, "2023-05-01 09:00:00", None),
            (
                "spring clearance",
                "TRAFFIC",
                150.0,
                "2023-02-01 09:00:00",
                Some("2025-06-30 18:00:00"),
            ),
        ];
        let accounts: Vec<&'static SeedAccount> = world.accounts().collect();
        for account in accounts {
            for (c, (name, objective, budget, created, deleted)) in plans.iter().enumerate() {
                let label = &account.name[11..];
                let campaign = world.campaign(&CampaignSeed {
                    advertiser: account.id,
                    name: &format!("{label} {name}"),
                    objective,
                    budget: *budget,
                    created,
                });
                let (groups, ads) = if deleted.is_some() {
                    (1, 1)
                } else {
                    (size.adgroups_per_campaign, 2)
                };
                for g in 0..groups {
                    let adgroup =
                        world.adgroup(&campaign, &format!("Ad group {}.{}", c + 1, g + 1));
                    for a in 0..ads {
                        world.ad(&adgroup, &format!("Ad {}.{}.{}", c + 1, g + 1, a + 1));
                    }
                }
                if let Some(when) = deleted {
                    world.set_status("campaign", &campaign, "DELETE", when);
                }
            }
        }
        world
    }

    /// The world's ad accounts.
    pub(super) fn accounts(&self) -> impl Iterator<Item = &'static SeedAccount> + use<> {
        APP_ADVERTISERS
            .iter()
            .chain(MORE_ADVERTISERS)
            .take(self.size.accounts.clamp(2, MAX_ACCOUNTS))
    }

    /// The IDs of the world's ad accounts.
    pub(super) fn account_ids(&self) -> Vec<String> {
        self.accounts().map(|a| a.id.to_string()).collect()
    }

    pub(super) fn new_id(&mut self) -> String {
        self.next_id += 1;
        self.next_id.to_string()
    }

    pub(super) fn all(&self, kind: &str) -> &[Map<String, Value>] {
        self.entities.get(kind).map_or(&[], Vec::as_slice)
    }

    pub(super) fn find(&self, kind: &str, id: &str) -> Option<&Map<String, Value>> {
        let key = format!("{kind}_id");
        self.all(kind)
            .iter()
            .find(|e| e.get(&key).and_then(Value::as_str) == Some(id))
    }

    pub(super) fn find_mut(&mut self, kind: &str, id: &str) -> Option<&mut Map<String, Value>> {
        let key = format!("{kind}_id");
        self.entities.get_mut(kind).and_then(|all| {
            all.iter_mut()
                .find(|e| e.get(&key).and_then(Value::as_str) == Some(id))
        })
    }

    /// A change made elsewhere (in Ads Manager): the fields an object of its kind has, its
    /// status through [`set_status`](Self::set_status), `modify_time` now; a budget given to
    /// an ad group that had run out lets it deliver again.
    pub(super) fn change_from_outside(
        &mut self,
        kind: &str,
        id: &str,
        fields: &Map<String, Value>,
    ) -> Result<Value, String> {
        let Some(current) = self.find(kind, id) else {
            return Err(format!("no {kind} {id}"));
        };
        if let Some(unknown) = fields
            .keys()
            .find(|k| !current.contains_key(*k) || k.ends_with("_id"))
        {
            return Err(format!("{unknown} is not a field a {kind} lets you change"));
        }
        let stamp = self.reviews.stamp();
        if let Some(status) = fields.get("operation_status") {
            match status.as_str() {
                Some(s @ ("ENABLE" | "DISABLE" | "DELETE")) => self.set_status(kind, id, s, &stamp),
                _ => return Err("operation_status is ENABLE, DISABLE or DELETE".into()),
            }
        }
        if let Some(object) = self.find_mut(kind, id) {
            for (key, value) in fields {
                if key != "operation_status" {
                    object.insert(key.clone(), value.clone());
                }
            }
            object.insert("modify_time".into(), json!(stamp));
        }
        if kind == "adgroup" && fields.contains_key("budget") {
            self.set_out_of_budget(id, false);
        }
        Ok(self
            .find(kind, id)
            .cloned()
            .map(Value::Object)
            .unwrap_or_default())
    }

    pub(super) fn push(&mut self, kind: &str, object: Map<String, Value>) {
        self.entities
            .entry(kind.to_string())
            .or_default()
            .push(object);
    }

    /// Sets an object's `operation_status` and the matching `secondary_status`; deleting a
    /// campaign or an ad group deletes what is in it.
    pub(super) fn set_status(&mut self, kind: &str, id: &str, status: &str, when: &str) {
        if status == "DELETE" {
            let (child, parent_key) = match kind {
                "campaign" => ("adgroup", "campaign_id"),
                "adgroup" => ("ad", "adgroup_id"),
                _ => ("", ""),
            };
            let children: Vec<String> = self
                .all(child)
                .iter()
                .filter(|e| text(e, parent_key) == id && text(e, "operation_status") != "DELETE")
                .map(|e| text(e, &format!("{child}_id")).to_string())
                .collect();
            for c in children {
                self.set_status(child, &c, "DELETE", when);
            }
        }
        let prefix = match kind {
            "campaign" => "CAMPAIGN_STATUS_",
            "adgroup" => "ADGROUP_STATUS_",
            _ => "AD_STATUS_",
        };
        let secondary = match status {
            "DELETE" | "DISABLE" => format!("{prefix}{status}"),
            _ => self.enabled_secondary(kind, id),
        };
        if let Some(object) = self.find_mut(kind, id) {
            object.insert("operation_status".into(), json!(status));
            object.insert("secondary_status".into(), json!(secondary));
            object.insert("modify_time".into(), json!(when));
        }
    }

    fn campaign(&mut self, seed: &CampaignSeed<'_>) -> String {
        let id = self.new_id();
        let object = campaign_object(&id, seed);
        self.push("campaign", object);
        id
    }

    fn adgroup(&mut self, campaign_id: &str, name: &str) -> String {
        let id = self.new_id();
        let Some(campaign) = self.find("campaign", campaign_id).cloned() else {
            return id;
        };
        let mut object = adgroup_defaults(&campaign, &id, name);
        let created = text(&campaign, "create_time").replace("09:00", "10:00");
        object.insert("create_time".into(), json!(created));
        object.insert("modify_time".into(), json!(created));
        self.push("adgroup", object);
        id
    }

    fn ad(&mut self, adgroup_id: &str, name: &str) -> String {
        let id = self.new_id();
        let Some(adgroup) = self.find("adgroup", adgroup_id).cloned() else {
            return id;
        };
        let mut object = ad_defaults(&adgroup, &id);
        object.insert("ad_name".into(), json!(name));
        object.insert("ad_text".into(), json!("Spring colours are here"));
        object.insert("video_id".into(), json!("v10033g50000demo0000000000000001"));
        object.insert("call_to_action".into(), json!("SHOP_NOW"));
        object.insert(
            "landing_page_url".into(),
            json!("https://shop.example.com/spring"),
        );
        object.insert("identity_type".into(), json!("CUSTOMIZED_USER"));
        object.insert("identity_id".into(), json!("7300000000000000111"));
        object.insert("display_name".into(), json!("Demo Shoes"));
        let created = text(&adgroup, "create_time").replace("10:00", "11:00");
        object.insert("create_time".into(), json!(created));
        object.insert("modify_time".into(), json!(created));
        self.push("ad", object);
        id
    }
}

struct CampaignSeed<'a> {
    advertiser: &'a str,
    name: &'a str,
    objective: &'a str,
    budget: f64,
    created: &'a str,
}

fn text<'a>(map: &'a Map<String, Value>, key: &str) -> &'a str {
    map.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn campaign_object(id: &str, seed: &CampaignSeed<'_>) -> Map<String, Value> {
    object(json!({
        "advertiser_id": seed.advertiser, "campaign_id": id, "campaign_name": seed.name,
        "objective_type": seed.objective, "objective": "LANDING_PAGE",
        "campaign_type": "REGULAR_CAMPAIGN", "budget_mode": "BUDGET_MODE_DAY",
        "budget": seed.budget, "budget_optimize_on": false, "operation_status": "ENABLE",
        "secondary_status": "CAMPAIGN_STATUS_ENABLE", "bid_type": null,
        "optimization_goal": null, "deep_bid_type": null, "roas_bid": 0.0,
        "create_time": seed.created, "modify_time": seed.created, "is_new_structure": true,
        "is_smart_performance_campaign": false, "is_search_campaign": false,
        "is_advanced_dedicated_campaign": false, "campaign_automation_type": "MANUAL",
        "special_industries": [], "app_id": null, "app_promotion_type": null,
        "rf_campaign_type": null, "sales_destination": null, "campaign_product_source": null,
        "po_number": null,
    }))
}

/// A new campaign object from a create request's checked fields.
pub(super) fn new_campaign(
    id: &str,
    advertiser: &str,
    fields: &Map<String, Value>,
    now: &str,
) -> Map<String, Value> {
    let mut object = campaign_object(
        id,
        &CampaignSeed {
            advertiser,
            name: "",
            objective: "",
            budget: 0.0,
            created: now,
        },
    );
    overlay(&mut object, fields);
    object
}

/// An ad group of `campaign` with TikTok's defaults for what a create does not say.
pub(super) fn adgroup_defaults(
    campaign: &Map<String, Value>,
    id: &str,
    name: &str,
) -> Map<String, Value> {
    object(json!({
        "advertiser_id": text(campaign, "advertiser_id"), "campaign_id": text(campaign, "campaign_id"),
        "campaign_name": text(campaign, "campaign_name"), "adgroup_id": id, "adgroup_name": name,
        "promotion_type": "WEBSITE", "placement_type": "PLACEMENT_TYPE_AUTOMATIC",
        "placements": ["PLACEMENT_TIKTOK", "PLACEMENT_PANGLE"], "location_ids": ["6252001"],
        "zipcode_ids": [], "gender": "GENDER_UNLIMITED", "age_groups": ["AGE_18_24", "AGE_25_34"],
        "languages": [], "operating_systems": [], "audience_ids": [], "excluded_audience_ids": [],
        "interest_category_ids": [], "budget_mode": "BUDGET_MODE_DAY", "budget": 20.0,
        "scheduled_budget": 0.0, "schedule_type": "SCHEDULE_FROM_NOW",
        "schedule_start_time": text(campaign, "create_time"), "schedule_end_time": null,
        "dayparting": null, "optimization_goal": "CLICK", "optimization_event": null,
        "billing_event": "CPC", "bid_type": "BID_TYPE_NO_BID", "bid_price": 0.0,
        "conversion_bid_price": 0.0, "deep_bid_type": null, "pacing": "PACING_MODE_SMOOTH",
        "frequency": null, "frequency_schedule": null, "pixel_id": null, "app_id": null,
        "creative_material_mode": "CUSTOM", "comment_disabled": false,
        "video_download_disabled": false, "share_disabled": false, "is_new_structure": true,
        "skip_learning_phase": false, "operation_status": "ENABLE",
        "secondary_status": "ADGROUP_STATUS_DELIVERY_OK",
        "create_time": text(campaign, "create_time"), "modify_time": text(campaign, "create_time"),
    }))
}

/// An ad of `adgroup` with TikTok's defaults for what a create does not say.
pub(super) fn ad_defaults(adgroup: &Map<String, Value>, id: &str) -> Map<String, Value> {
    object(json!({
        "advertiser_id": text(adgroup, "advertiser_id"), "campaign_id": text(adgroup, "campaign_id"),
        "campaign_name": text(adgroup, "campaign_name"), "adgroup_id": text(adgroup, "adgroup_id"),
        "adgroup_name": text(adgroup, "adgroup_name"), "ad_id": id, "ad_name": "",
        "ad_format": "SINGLE_VIDEO", "ad_text": null, "ad_texts": null, "call_to_action": null,
        "call_to_action_id": null, "landing_page_url": null, "deeplink": null,
        "deeplink_type": "NORMAL", "identity_type": null, "identity_id": null,
        "display_name": null, "avatar_icon_web_uri": null, "profile_image_url": null,
        "video_id": null, "image_ids": [], "music_id": null, "tiktok_item_id": null,
        "playable_url": null, "is_aco": false, "creative_authorized": false,
        "tracking_pixel_id": 0, "is_new_structure": true, "operation_status": "ENABLE",
        "secondary_status": "AD_STATUS_DELIVERY_OK",
        "create_time": text(adgroup, "create_time"), "modify_time": text(adgroup, "create_time"),
    }))
}

/// Copies `fields` over `object` (the keys an object of its kind has, nothing else).
pub(super) fn overlay(object: &mut Map<String, Value>, fields: &Map<String, Value>) {
    for (key, value) in fields {
        if object.contains_key(key) {
            object.insert(key.clone(), value.clone());
        }
    }
}
