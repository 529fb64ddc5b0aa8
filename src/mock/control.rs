//! The control API, under `/_mock/` (a path TikTok does not use): for tests and scripts to
//! get the app's credentials and tokens, revoke a token, set faults at run time, read the
//! request log and the quota counters, and reset.
//!
//! * `GET  /_mock/app` → `{"app_id", "app_secret"}`
//! * `GET  /_mock/token` → the token issued at start-up, as plain text (for
//!   `export TIKTOK_ACCESS_TOKEN=$(curl -s .../_mock/token)`)
//! * `POST /_mock/tokens` `{"advertiser_ids": [...]}` (optional) → `{"access_token", "advertiser_ids"}`
//! * `POST /_mock/revoke` `{"access_token"}`
//! * `GET|POST /_mock/faults` → the faults in force; a POST sets the fields it names
//! * `GET  /_mock/requests` → `{"requests": [...]}`, secrets redacted
//! * `GET  /_mock/stats` → accepted and rejected requests per endpoint
//! * `POST /_mock/restate` `{"days": N}` or `{"since": "YYYY-MM-DD"}` → the report numbers
//!   of the last N days (UTC) or from that day on are drawn afresh, as TikTok's late
//!   attribution restates recent days
//! * `POST /_mock/media` `{"advertiser_id", "type": "image"|"video", "file_name"}` → a
//!   library item someone else uploaded (its name is taken, its bytes are not yours)
//! * `POST /_mock/media/remove` `{"id"}` → the image or video gone from its library, as if
//!   deleted in Ads Manager
//! * `POST /_mock/uploads/expire` → every chunked upload under way and every `file_id` not
//!   yet bound expires now, as after 24 hours
//! * `POST /_mock/review`, `/_mock/clock`, `/_mock/budget`, `/_mock/change` → statuses that
//!   move: see `review::control`
//! * `POST /_mock/reset` `{"data": true}` (optional) → no faults, an empty log and counters;
//!   with `data`, the seeded data back (issued tokens stay valid)

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use super::answer::json_response;
use super::world::{APP_ID, account};
use super::{Faults, Mock, auth};

pub(super) fn router() -> Router<Mock> {
    Router::new()
        .route("/app", get(app))
        .route("/token", get(startup_token))
        .route("/tokens", post(tokens))
        .route("/revoke", post(revoke))
        .route("/faults", get(faults).post(set_faults))
        .route("/requests", get(requests))
        .route("/stats", get(stats))
        .route("/reset", post(reset))
        .route("/restate", post(restate))
        .route("/media", post(add_media))
        .route("/media/remove", post(remove_media))
        .route("/uploads/expire", post(expire_uploads))
        .route("/review", post(super::review::control::review))
        .route("/clock", post(super::review::control::clock))
        .route("/budget", post(super::review::control::budget))
        .route("/change", post(super::review::control::change))
        .route("/quota", post(super::review::control::quota))
}

fn answer(value: Value) -> Response {
    json_response(StatusCode::OK, value.to_string())
}

fn refuse(why: &str) -> Response {
    json_response(StatusCode::BAD_REQUEST, json!({ "error": why }).to_string())
}

/// The body as an object (an empty body is an empty object).
fn object(body: &Bytes) -> Result<Map<String, Value>, Response> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(refuse("the body must be a JSON object")),
    }
}

async fn app(State(mock): State<Mock>) -> Response {
    let (app_id, secret) = mock.app();
    answer(json!({"app_id": app_id, "app_secret": secret}))
}

async fn startup_token(State(mock): State<Mock>) -> Response {
    (
        StatusCode::OK,
        [(axum::http::header::CONTENT_TYPE, "text/plain")],
        mock.startup_token().to_string(),
    )
        .into_response()
}

async fn tokens(State(mock): State<Mock>, body: Bytes) -> Response {
    let body = match object(&body) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let advertisers: Vec<String> = match body.get("advertiser_ids") {
        None => mock.accounts(),
        Some(Value::Array(ids)) => ids
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        Some(_) => return refuse("advertiser_ids must be a list"),
    };
    if let Some(unknown) = advertisers.iter().find(|id| account(id).is_none()) {
        return refuse(&format!(
            "{unknown} is not one of the simulator's ad accounts"
        ));
    }
    let token = mock.change(|world| auth::issue_token(world, advertisers.clone()));
    answer(json!({"access_token": token, "advertiser_ids": advertisers, "app_id": APP_ID}))
}

async fn revoke(State(mock): State<Mock>, body: Bytes) -> Response {
    let body = match object(&body) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let Some(token) = body.get("access_token").and_then(Value::as_str) else {
        return refuse("access_token is required");
    };
    let found = mock.change(|world| match world.tokens.get_mut(token) {
        Some(grant) => {
            grant.revoked = true;
            true
        }
        None => false,
    });
    if found {
        answer(json!({"revoked": true}))
    } else {
        refuse("no such token")
    }
}

async fn faults(State(mock): State<Mock>) -> Response {
    answer(json!(mock.gate.faults()))
}

async fn set_faults(State(mock): State<Mock>, body: Bytes) -> Response {
    let body = match object(&body) {
        Ok(b) => b,
        Err(e) => return e,
    };
    match mock.gate.set_faults(&body) {
        Ok(faults) => answer(json!(faults)),
        Err(e) => refuse(&format!("not a fault setting: {e}")),
    }
}

async fn requests(State(mock): State<Mock>) -> Response {
    answer(json!({"requests": mock.gate.log()}))
}

async fn stats(State(mock): State<Mock>) -> Response {
    answer(mock.gate.stats())
}

async fn restate(State(mock): State<Mock>, body: Bytes) -> Response {
    let body = match object(&body) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let today = chrono::Utc::now().date_naive();
    let from = match (body.get("since"), body.get("days")) {
        (Some(Value::String(day)), None) => day.parse::<chrono::NaiveDate>().ok(),
        (None, Some(days)) => days
            .as_u64()
            .filter(|d| *d <= 3650)
            .map(|d| today - chrono::Duration::days(d as i64)),
        _ => None,
    };
    let Some(from) = from else {
        return refuse("restate takes {\"days\": N} or {\"since\": \"YYYY-MM-DD\"}");
    };
    mock.restate(from);
    answer(json!({"restated_from": from.to_string()}))
}

async fn reset(State(mock): State<Mock>, body: Bytes) -> Response {
    let body = match object(&body) {
        Ok(b) => b,
        Err(e) => return e,
    };
    mock.gate.reset(Faults::default());
    if body.get("data") == Some(&Value::Bool(true)) {
        mock.reseed();
    }
    answer(json!({"reset": true}))
}

async fn add_media(State(mock): State<Mock>, body: Bytes) -> Response {
    let body = match object(&body) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let text = |key: &str| body.get(key).and_then(Value::as_str).map(str::to_string);
    let (Some(advertiser), Some(kind), Some(name)) =
        (text("advertiser_id"), text("type"), text("file_name"))
    else {
        return refuse(
            "media takes {\"advertiser_id\", \"type\": \"image\"|\"video\", \"file_name\"}",
        );
    };
    if account(&advertiser).is_none() || !matches!(kind.as_str(), "image" | "video") {
        return refuse("advertiser_id must be a simulator account and type image or video");
    }
    let item = mock.change(|world| {
        let material = world.new_id();
        world
            .library
            .add_foreign(&advertiser, &kind, &name, material)
    });
    answer(item)
}

async fn remove_media(State(mock): State<Mock>, body: Bytes) -> Response {
    let body = match object(&body) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let Some(id) = body.get("id").and_then(Value::as_str) else {
        return refuse("remove takes {\"id\"}");
    };
    if mock.change(|world| world.library.remove(id)) {
        answer(json!({"removed": id}))
    } else {
        refuse("no such image or video")
    }
}

async fn expire_uploads(State(mock): State<Mock>) -> Response {
    let expired = mock.change(|world| world.library.expire_all());
    answer(json!({ "expired": expired }))
}
