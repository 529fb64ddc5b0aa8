//! `create`, `update` and `delete` of customer-file audiences.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use serde_json::{Value, json};

use super::{Audience, Dmp, FLOOR};
use crate::mock::Mock;
use crate::mock::answer::{error, invalid, ok};
use crate::mock::auth::advertiser;
use crate::mock::body_params;
use crate::mock::params::{Checked, Params};
use crate::mock::world::Grant;

/// How long a new or changed audience is calculated unless `audience_ready_ms` says otherwise.
pub(in crate::mock) const AUDIENCE_READY_MS: u64 = 0;

/// How long TikTok takes to match an audience now.
fn ready_ms(mock: &Mock) -> u64 {
    mock.gate
        .faults()
        .audience_ready_ms
        .unwrap_or(AUDIENCE_READY_MS)
}

fn json_request(
    grant: &Grant,
    body: &Bytes,
    then: impl FnOnce(Params, String) -> Checked<Response>,
) -> Response {
    body_params(body)
        .and_then(|params| {
            let advertiser = advertiser(&params, grant)?;
            then(params, advertiser)
        })
        .unwrap_or_else(|e| e)
}

impl Dmp {
    /// The hashes of `paths`, all of `advertiser` and of `calculate_type`.
    fn hashes_of(
        &self,
        paths: &[String],
        advertiser: &str,
        calculate_type: &str,
    ) -> Checked<Vec<String>> {
        let mut all = Vec::new();
        for path in paths {
            let file = self
                .files
                .get(path)
                .filter(|f| f.advertiser == advertiser)
                .ok_or_else(|| invalid("file_paths", &format!("File {path} does not exist.")))?;
            if file.calculate_type != calculate_type {
                return Err(invalid(
                    "calculate_type",
                    &format!(
                        "File {path} was uploaded as {}, not {calculate_type}.",
                        file.calculate_type
                    ),
                ));
            }
            all.extend(file.hashes.iter().cloned());
        }
        Ok(all)
    }
}

fn file_paths(params: &Params) -> Checked<Vec<String>> {
    match params.list("file_paths")? {
        Some(paths) if !paths.is_empty() && paths.len() <= 500 => Ok(paths),
        Some(_) => Err(invalid("file_paths", "Between 1 and 500 file paths.")),
        None => Err(invalid("file_paths", "Missing data for required field.")),
    }
}

pub(in crate::mock) async fn create(
    State(mock): State<Mock>,
    Extension(grant): Extension<Grant>,
    body: Bytes,
) -> Response {
    let ready_ms = ready_ms(&mock);
    json_request(&grant, &body, |params, advertiser| {
        let name = params.required_text("custom_audience_name")?;
        if name.chars().count() > 128 {
            return Err(invalid(
                "custom_audience_name",
                "Length must be between 1 and 128.",
            ));
        }
        let calculate_type = params.required_text("calculate_type")?;
        let paths = file_paths(&params)?;
        let retention = params.integer("retention_in_days", 1, 365, 365)?;
        mock.change(|world| {
            let hashes = world.dmp.hashes_of(&paths, &advertiser, &calculate_type)?;
            let id = world.new_id();
            let audience = Audience {
                calculate_type,
                hashes: hashes.into_iter().collect(),
                ..Audience::new(
                    world,
                    (advertiser, name),
                    (ready_ms, retention),
                    &format!("Created with {} files", paths.len()),
                )
            };
            world.dmp.audiences.insert(id.clone(), audience);
            Ok(ok(json!({ "custom_audience_id": id })))
        })
    })
}

pub(in crate::mock) async fn update(
    State(mock): State<Mock>,
    Extension(grant): Extension<Grant>,
    body: Bytes,
) -> Response {
    let ready_ms = ready_ms(&mock);
    json_request(&grant, &body, |params, advertiser| {
        let id = params.required_id("custom_audience_id")?;
        // TikTok replaces when no action is said.
        let action = params
            .choice("action", &["APPEND", "REMOVE", "REPLACE"])?
            .unwrap_or_else(|| "REPLACE".into());
        let paths = file_paths(&params)?;
        mock.change(|world| {
            let calculate_type = world
                .dmp
                .audiences
                .get(&id)
                .filter(|a| a.advertiser == advertiser)
                .map(|a| a.calculate_type.clone())
                .ok_or_else(|| error(40002, &format!("Custom audience {id} does not exist.")))?;
            let hashes = world.dmp.hashes_of(&paths, &advertiser, &calculate_type)?;
            let now = world.reviews.now_ms();
            let stamp = world.reviews.stamp();
            let Some(audience) = world.dmp.audiences.get_mut(&id) else {
                return Err(error(40002, &format!("Custom audience {id} does not exist.")));
            };
            let mut next = audience.hashes.clone();
            match action.as_str() {
                "APPEND" => next.extend(hashes),
                "REMOVE" => {
                    for h in &hashes {
                        next.remove(h);
                    }
                }
                _ => next = hashes.into_iter().collect(),
            }
            if next.len() < FLOOR && action != "APPEND" {
                return Err(error(
                    40002,
                    &format!("The audience size cannot be less than 1,000 after the {action} operation. Please check the uploaded files and try again."),
                ));
            }
            audience.hashes = next;
            audience.ready_at = now + ready_ms;
            audience.history.insert(0, json!({"action": action, "action_detail": format!("{action} with {} files", paths.len()),
                "editor": "open_api", "msg": "", "opt_time": stamp}));
            Ok(ok(json!({})))
        })
    })
}

pub(in crate::mock) async fn delete(
    State(mock): State<Mock>,
    Extension(grant): Extension<Grant>,
    body: Bytes,
) -> Response {
    json_request(&grant, &body, |params, advertiser| {
        let ids = match params.list("custom_audience_ids")? {
            Some(ids) if !ids.is_empty() && ids.len() <= 100 => ids,
            _ => return Err(invalid("custom_audience_ids", "Between 1 and 100 IDs.")),
        };
        mock.change(|world| {
            for id in &ids {
                if world
                    .dmp
                    .audiences
                    .get(id)
                    .is_none_or(|a| a.advertiser != advertiser)
                {
                    return Err(error(
                        40002,
                        &format!("Custom audience {id} does not exist."),
                    ));
                }
            }
            for id in &ids {
                world.dmp.audiences.remove(id);
            }
            Ok(ok(Value::Object(Default::default())))
        })
    })
}

pub(in crate::mock) async fn lookalike(
    State(mock): State<Mock>,
    Extension(grant): Extension<Grant>,
    body: Bytes,
) -> Response {
    let ready_ms = ready_ms(&mock);
    json_request(&grant, &body, |params, advertiser| {
        let name = params.required_text("custom_audience_name")?;
        let spec = params
            .object("lookalike_spec")?
            .ok_or_else(|| invalid("lookalike_spec", "Missing data for required field."))?;
        let spec_params = Params::Body(spec.clone());
        let source = spec_params.required_id("source_audience_id")?;
        let size =
            spec_params.required_choice("audience_size", &["NARROW", "BALANCED", "BROAD"])?;
        spec_params.required_choice("mobile_os", &["ALL", "ANDROID", "IOS"])?;
        spec_params.boolean("include_source")?.ok_or_else(|| {
            invalid(
                "lookalike_spec.include_source",
                "Missing data for required field.",
            )
        })?;
        if spec_params
            .list("location_ids")?
            .is_none_or(|l| l.is_empty())
        {
            return Err(invalid(
                "lookalike_spec.location_ids",
                "At least one location.",
            ));
        }
        if spec_params.list("placements")?.is_none_or(|l| l.is_empty()) {
            return Err(invalid(
                "lookalike_spec.placements",
                "At least one placement.",
            ));
        }
        mock.change(|world| {
            let base = world
                .dmp
                .audiences
                .get(&source)
                .filter(|a| a.seen_by(&advertiser))
                .ok_or_else(|| {
                    error(40002, &format!("Source audience {source} does not exist."))
                })?;
            if base.lookalike.is_some() {
                return Err(error(
                    40002,
                    "A lookalike cannot be the source of another lookalike.",
                ));
            }
            if base.cover_num() < 100 {
                return Err(error(
                    40002,
                    "The source audience must have at least 100 matched people.",
                ));
            }
            let factor = match size.as_str() {
                "NARROW" => 200,
                "BALANCED" => 1_000,
                _ => 3_000,
            };
            let matched = base.cover_num() * factor;
            let id = world.new_id();
            let audience = Audience {
                lookalike: Some((Value::Object(spec), matched)),
                ..Audience::new(
                    world,
                    (advertiser, name),
                    (ready_ms, 365),
                    "Lookalike created",
                )
            };
            world.dmp.audiences.insert(id.clone(), audience);
            Ok(ok(json!({ "custom_audience_id": id })))
        })
    })
}

pub(in crate::mock) async fn share(
    State(mock): State<Mock>,
    Extension(grant): Extension<Grant>,
    body: Bytes,
) -> Response {
    json_request(&grant, &body, |params, advertiser| {
        let ids = match params.list("custom_audience_ids")? {
            Some(ids) if !ids.is_empty() && ids.len() <= 10 => ids,
            _ => return Err(invalid("custom_audience_ids", "Between 1 and 10 IDs.")),
        };
        let to = match params.list("shared_advertiser_ids")? {
            Some(to) if !to.is_empty() && to.len() <= 10 => to,
            _ => return Err(invalid("shared_advertiser_ids", "Between 1 and 10 IDs.")),
        };
        mock.change(|world| {
            let accounts = world.account_ids();
            if let Some(stranger) = to.iter().find(|a| !accounts.contains(a) || **a == advertiser) {
                return Err(error(40002, &format!("Advertiser {stranger} is not another ad account of the same Business Center.")));
            }
            for id in &ids {
                let audience = world
                    .dmp
                    .audiences
                    .get_mut(id)
                    .filter(|a| a.advertiser == advertiser)
                    .ok_or_else(|| error(40002, &format!("Custom audience {id} does not exist.")))?;
                for account in &to {
                    if !audience.shared_with.contains(account) {
                        audience.shared_with.push(account.clone());
                    }
                }
            }
            Ok(ok(json!({})))
        })
    })
}
