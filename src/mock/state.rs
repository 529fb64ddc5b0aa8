//! The simulator's data: seeded ad accounts, campaigns, ad groups and ads, issued codes and
//! tokens, report tasks. Deterministic: the same IDs and names on every start.

use std::collections::{BTreeMap, HashMap, HashSet};

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::{Mock, body_json, error, json_param, ok};

pub const APP_ADVERTISERS: &[SeedAccount] = &[
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

pub struct Task {
    pub advertiser_id: String,
    pub body: Map<String, Value>,
    pub checks: u32,
    pub canceled: bool,
}

pub struct MockState {
    pub entities: BTreeMap<&'static str, Vec<Map<String, Value>>>,
    pub codes: HashSet<String>,
    pub revoked: HashSet<String>,
    pub tasks: HashMap<String, Task>,
    /// `request_id` idempotency keys of creates → the ID created.
    pub idempotency: HashMap<String, String>,
    next_id: u64,
}

impl MockState {
    pub fn seeded() -> Self {
        let mut state = Self {
            entities: BTreeMap::new(),
            codes: HashSet::new(),
            revoked: HashSet::new(),
            tasks: HashMap::new(),
            idempotency: HashMap::new(),
            next_id: 1_812_000_000_000_000,
        };
        let objectives = ["TRAFFIC", "WEB_CONVERSIONS", "REACH"];
        for account in APP_ADVERTISERS {
            for (c, objective) in objectives.iter().enumerate() {
                let campaign_id = state.new_id();
                let campaign = json!({
                    "advertiser_id": account.id, "campaign_id": campaign_id,
                    "campaign_name": format!("{} campaign {}", &account.name[11..], c + 1),
                    "objective_type": objective, "budget_mode": "BUDGET_MODE_DAY", "budget": 100.0 * (c as f64 + 1.0),
                    "operation_status": "ENABLE", "secondary_status": "CAMPAIGN_STATUS_ENABLE",
                    "campaign_type": "REGULAR_CAMPAIGN", "create_time": format!("2025-01-0{} 09:00:00", c + 1),
                    "modify_time": format!("2025-01-0{} 09:00:00", c + 1)});
                state.push("campaign", campaign);
                for g in 0..2 {
                    let adgroup_id = state.new_id();
                    state.push("adgroup", json!({
                        "advertiser_id": account.id, "campaign_id": campaign_id, "adgroup_id": adgroup_id,
                        "adgroup_name": format!("Ad group {}.{}", c + 1, g + 1), "budget_mode": "BUDGET_MODE_DAY",
                        "budget": 20.0 + 10.0 * g as f64, "optimization_goal": "CLICK", "billing_event": "CPC",
                        "placement_type": "PLACEMENT_TYPE_AUTOMATIC", "schedule_type": "SCHEDULE_FROM_NOW",
                        "schedule_start_time": "2025-01-01 00:00:00", "pacing": "PACING_MODE_SMOOTH",
                        "bid_type": "BID_TYPE_NO_BID", "location_ids": ["6252001"],
                        "operation_status": "ENABLE", "secondary_status": "ADGROUP_STATUS_DELIVERY_OK",
                        "create_time": "2025-01-02 10:00:00", "modify_time": "2025-01-02 10:00:00"}));
                    for a in 0..2 {
                        let ad_id = state.new_id();
                        state.push("ad", json!({
                            "advertiser_id": account.id, "campaign_id": campaign_id, "adgroup_id": adgroup_id,
                            "ad_id": ad_id, "ad_name": format!("Ad {}.{}.{}", c + 1, g + 1, a + 1),
                            "ad_format": "SINGLE_VIDEO", "ad_text": "Spring colours are here",
                            "identity_type": "CUSTOMIZED_USER", "identity_id": "7300000000000000111",
                            "video_id": "v10000000000demo", "call_to_action": "SHOP_NOW",
                            "landing_page_url": "https://shop.example.com/spring", "tracking_pixel_id": 0,
                            "operation_status": "ENABLE", "secondary_status": "AD_STATUS_DELIVERY_OK",
                            "create_time": "2025-01-03 11:00:00", "modify_time": "2025-01-03 11:00:00"}));
                    }
                }
            }
        }
        state
    }

    pub fn new_id(&mut self) -> String {
        self.next_id += 1;
        self.next_id.to_string()
    }

    fn push(&mut self, kind: &'static str, value: Value) {
        if let Value::Object(map) = value {
            self.entities.entry(kind).or_default().push(map);
        }
    }

    pub fn issue_code(&mut self) -> String {
        let code = format!("mock-auth-code-{:016x}", rand::random::<u64>());
        self.codes.insert(code.clone());
        code
    }
}

pub fn account(id: &str) -> Option<&'static SeedAccount> {
    APP_ADVERTISERS.iter().find(|a| a.id == id)
}

pub async fn access_token(State(mock): State<Mock>, body: Bytes) -> Response {
    let body = match body_json(&body) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let text = |k: &str| {
        body.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    if text("app_id").is_empty() || text("secret").is_empty() {
        return error(
            40101,
            "Invalid auth parameters: app_id and secret are required.",
        );
    }
    if !mock.state().codes.remove(&text("auth_code")) {
        return error(
            40110,
            "The auth_code has expired or has already been used. Please re-authorize.",
        );
    }
    let token = format!("mock-token-{:016x}", rand::random::<u64>());
    ok(json!({"access_token": token,
              "advertiser_ids": APP_ADVERTISERS.iter().map(|a| a.id).collect::<Vec<_>>(),
              "scope": [1, 2, 3, 4]}))
}

pub async fn authorized_advertisers(Query(q): Query<HashMap<String, String>>) -> Response {
    if q.get("app_id").is_none_or(|v| v.is_empty()) || q.get("secret").is_none_or(|v| v.is_empty())
    {
        return error(40002, "app_id and secret are required.");
    }
    let list: Vec<Value> = APP_ADVERTISERS
        .iter()
        .map(|a| json!({"advertiser_id": a.id, "advertiser_name": a.name}))
        .collect();
    ok(json!({"list": list}))
}

pub async fn revoke(State(mock): State<Mock>, body: Bytes) -> Response {
    let body = match body_json(&body) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let token = body
        .get("access_token")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if token.is_empty() {
        return error(40002, "access_token is required.");
    }
    mock.state().revoked.insert(token.to_string());
    ok(
        json!({"app_id": body.get("app_id").cloned().unwrap_or(Value::Null),
              "advertiser_ids": APP_ADVERTISERS.iter().map(|a| a.id).collect::<Vec<_>>()}),
    )
}

pub async fn user_info() -> Response {
    ok(
        json!({"core_user_id": "7012345678900000001", "display_name": "mock-user",
              "email": "m***@example.invalid", "create_time": 1_651_234_567}),
    )
}

pub async fn advertiser_info(Query(q): Query<HashMap<String, String>>) -> Response {
    let Some(Value::Array(ids)) = json_param(&q, "advertiser_ids") else {
        return error(40002, "advertiser_ids: a JSON array of IDs is required.");
    };
    let mut list = Vec::new();
    for id in ids.iter().filter_map(Value::as_str) {
        match account(id) {
            Some(a) => list.push(
                json!({"advertiser_id": a.id, "name": a.name, "status": "STATUS_ENABLE",
                "role": "ROLE_ADVERTISER", "currency": a.currency, "timezone": a.timezone,
                "display_timezone": a.timezone, "balance": 1000.0, "create_time": 1_672_531_200,
                "company": a.company, "country": a.country, "advertiser_account_type": "AUCTION"}),
            ),
            None => return error(40001, &format!("No permission to operate advertiser {id}.")),
        }
    }
    ok(json!({"list": list}))
}

/// `page` (from 1) and `page_size` (1 to `max`) of a list request, or TikTok's 40002.
pub(crate) fn page_params(q: &HashMap<String, String>, max: u64) -> Result<(u64, u64), Response> {
    let page = q
        .get("page")
        .and_then(|p| p.parse::<u64>().ok())
        .unwrap_or(1)
        .max(1);
    let size = q
        .get("page_size")
        .and_then(|p| p.parse::<u64>().ok())
        .unwrap_or(10);
    if size == 0 || size > max {
        return Err(error(
            40002,
            &format!("page_size must be between 1 and {max}."),
        ));
    }
    Ok((page, size))
}

/// One page of `items` with its `page_info`.
pub(crate) fn paged(items: Vec<Value>, q: &HashMap<String, String>, max: u64) -> Response {
    let (page, size) = match page_params(q, max) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let total = items.len() as u64;
    let list: Vec<Value> = items
        .into_iter()
        .skip(((page - 1) * size) as usize)
        .take(size as usize)
        .collect();
    ok(
        json!({"list": list, "page_info": {"page": page, "page_size": size, "total_number": total,
                                           "total_page": total.div_ceil(size)}}),
    )
}

pub async fn bc_get(Query(q): Query<HashMap<String, String>>) -> Response {
    let bc = json!({"bc_info": {"bc_id": BC_ID, "name": "Demo Agency BC", "company": "Demo Agency",
        "currency": "USD", "timezone": "Etc/GMT", "status": "ENABLE", "type": "AGENCY"},
        "user_role": "ADMIN"});
    paged(vec![bc], &q, 50)
}

pub async fn bc_assets(Query(q): Query<HashMap<String, String>>) -> Response {
    if q.get("bc_id").map(String::as_str) != Some(BC_ID) {
        return error(40001, "No permission for this Business Center.");
    }
    if q.get("asset_type").map(String::as_str) != Some("ADVERTISER") {
        return paged(Vec::new(), &q, 50);
    }
    let items = APP_ADVERTISERS
        .iter()
        .map(|a| json!({"asset_id": a.id, "asset_name": a.name, "asset_type": "ADVERTISER",
            "advertiser_status": "STATUS_ENABLE", "advertiser_role": "ADMIN", "relation_type": "OWNER_BC",
            "relation_status": "BOUND"}))
        .collect();
    paged(items, &q, 50)
}

pub async fn regions(Query(q): Query<HashMap<String, String>>) -> Response {
    if !matches!(json_param(&q, "placements"), Some(Value::Array(_))) {
        return error(40002, "placements: a JSON array is required.");
    }
    ok(json!({"region_list": ["US", "DE"], "region_info": [
        {"location_id": "6252001", "name": "United States", "parent_id": "0", "region_code": "US",
         "country_code": "US", "next_level_ids": ["5332921"], "area_type": "ADMIN", "level": "COUNTRY"},
        {"location_id": "5332921", "name": "California", "parent_id": "6252001", "region_code": "US-CA",
         "country_code": "US", "next_level_ids": [], "area_type": "ADMIN", "level": "PROVINCE"},
        {"location_id": "2921044", "name": "Germany", "parent_id": "0", "region_code": "DE",
         "country_code": "DE", "next_level_ids": [], "area_type": "ADMIN", "level": "COUNTRY"}]}))
}
