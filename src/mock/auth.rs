//! Authentication as TikTok does it: the consent page issues single-use auth codes valid for an
//! hour, the code exchange checks the app's ID and secret, tokens are the ones issued here and
//! each reaches the ad accounts it was granted; unknown or revoked tokens answer 40105.

use std::collections::HashMap;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;

use super::answer::{error, ok};
use super::params::{Checked, Params};
use super::world::{APP_ID, Code, Grant, World, account, new_token};
use super::{Mock, body_params};

const CODE_LIFETIME_SECS: i64 = 3600;

/// The token of a request, checked: 40104 without one, 40105 for one not issued here or
/// revoked.
pub(super) fn authorize(world: &World, headers: &HeaderMap) -> Checked<Grant> {
    let token = headers
        .get("Access-Token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .trim();
    if token.is_empty() {
        return Err(error(
            40104,
            "Access token is empty. Set it in the Access-Token request header.",
        ));
    }
    match world.tokens.get(token) {
        Some(grant) if !grant.revoked => Ok(grant.clone()),
        _ => Err(error(
            40105,
            "Access token is incorrect or has been revoked.",
        )),
    }
}

/// 40001 unless the token was granted the ad account.
pub(super) fn check_advertiser(grant: &Grant, advertiser_id: &str) -> Checked<()> {
    if grant.advertisers.iter().any(|a| a == advertiser_id) {
        Ok(())
    } else {
        Err(error(
            40001,
            &format!(
                "No permission to operate advertiser {advertiser_id}. Please check whether the \
                 advertiser is authorized for this access token."
            ),
        ))
    }
}

/// Issues a token for `advertisers` (a control call, or the start-up token).
pub(super) fn issue_token(world: &mut World, advertisers: Vec<String>) -> String {
    let token = new_token();
    world.tokens.insert(
        token.clone(),
        Grant {
            advertisers,
            revoked: false,
        },
    );
    token
}

fn check_app(world: &World, params: &Params) -> Checked<()> {
    let app_id = params.required_text("app_id")?;
    let secret = params.required_text("secret")?;
    if app_id != APP_ID || secret != world.app_secret {
        return Err(error(
            40101,
            "Invalid auth parameters: app_id and secret do not match a developer app.",
        ));
    }
    Ok(())
}

/// The consent page: the user approves every ad account at once, and is sent back with a
/// code, as TikTok does.
pub(super) async fn consent(
    State(mock): State<Mock>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let refuse = |why: &str| (StatusCode::BAD_REQUEST, why.to_string()).into_response();
    if q.get("app_id").map(String::as_str) != Some(APP_ID) {
        return refuse("app_id is missing or not a developer app's ID");
    }
    let Some(redirect) = q.get("redirect_uri").filter(|r| !r.is_empty()) else {
        return refuse("redirect_uri is required");
    };
    let Ok(mut target) = url::Url::parse(redirect) else {
        return refuse("redirect_uri is not a URL");
    };
    let code = format!("{:032x}", rand::random::<u128>());
    mock.change(|world| {
        world.codes.insert(
            code.clone(),
            Code {
                advertisers: world.account_ids(),
                expires_at: chrono::Utc::now().timestamp() + CODE_LIFETIME_SECS,
            },
        );
    });
    {
        let mut pairs = target.query_pairs_mut();
        pairs
            .append_pair("auth_code", &code)
            .append_pair("code", &code);
        if let Some(state) = q.get("state") {
            pairs.append_pair("state", state);
        }
    }
    Redirect::to(target.as_str()).into_response()
}

pub(super) async fn access_token(State(mock): State<Mock>, body: Bytes) -> Response {
    let params = match body_params(&body) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let outcome = mock.change(|world| -> Checked<(String, Vec<String>)> {
        let code = params.required_text("auth_code")?;
        check_app(world, &params)?;
        let now = chrono::Utc::now().timestamp();
        match world.codes.remove(&code) {
            Some(c) if c.expires_at > now => {
                let token = issue_token(world, c.advertisers.clone());
                Ok((token, c.advertisers))
            }
            _ => Err(error(
                40110,
                "The auth_code has expired or has already been used. Please re-authorize to \
                 obtain a new auth_code.",
            )),
        }
    });
    match outcome {
        Ok((token, advertisers)) => ok(json!({
            "access_token": token, "advertiser_ids": advertisers, "scope": [1, 2, 3, 4, 7, 10]
        })),
        Err(e) => e,
    }
}

pub(super) async fn authorized_advertisers(
    State(mock): State<Mock>,
    Extension(grant): Extension<Grant>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Err(e) = check_app(&mock.world(), &Params::Query(q)) {
        return e;
    }
    let list: Vec<_> = grant
        .advertisers
        .iter()
        .filter_map(|id| account(id))
        .map(|a| json!({"advertiser_id": a.id, "advertiser_name": a.name}))
        .collect();
    ok(json!({"list": list}))
}

pub(super) async fn revoke(State(mock): State<Mock>, body: Bytes) -> Response {
    let params = match body_params(&body) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let outcome = mock.change(|world| -> Checked<Vec<String>> {
        let token = params.required_text("access_token")?;
        check_app(world, &params)?;
        match world.tokens.get_mut(&token) {
            Some(grant) if !grant.revoked => {
                grant.revoked = true;
                Ok(grant.advertisers.clone())
            }
            _ => Err(error(
                40105,
                "Access token is incorrect or has been revoked.",
            )),
        }
    });
    match outcome {
        Ok(advertisers) => ok(json!({"app_id": APP_ID, "advertiser_ids": advertisers})),
        Err(e) => e,
    }
}

pub(super) async fn user_info() -> Response {
    ok(json!({
        "core_user_id": "7012345678900000001", "display_name": "mock-user",
        "email": "m***@example.invalid", "avatar_url": null, "create_time": 1_651_234_567
    }))
}

/// The advertiser of a request: required, and granted to the token.
pub(super) fn advertiser(params: &Params, grant: &Grant) -> Checked<String> {
    let id = params.required_id("advertiser_id")?;
    check_advertiser(grant, &id)?;
    Ok(id)
}
