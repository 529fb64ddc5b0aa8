//! Reading the library back: info by ID (at most 100 images or 60 videos a call), search
//! (paged, newest first), name checks (at most 20 a call) and a video's suggested covers.

use std::collections::HashMap;

use axum::Extension;
use axum::extract::{Query, State};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::{Item, listed_among, media_id, now_ms, object_of};
use crate::mock::Mock;
use crate::mock::answer::{error, invalid, ok, paged};
use crate::mock::auth::advertiser;
use crate::mock::params::{Checked, Params};
use crate::mock::world::Grant;

type Q = Query<HashMap<String, String>>;

fn answer(outcome: Checked<Response>) -> Response {
    outcome.unwrap_or_else(|e| e)
}

pub(in crate::mock) async fn image_info(
    State(mock): State<Mock>,
    Extension(grant): Extension<Grant>,
    Query(q): Q,
) -> Response {
    answer(info(
        &mock,
        &grant,
        &Params::Query(q),
        "image",
        "image_ids",
        100,
    ))
}

pub(in crate::mock) async fn video_info(
    State(mock): State<Mock>,
    Extension(grant): Extension<Grant>,
    Query(q): Q,
) -> Response {
    answer(info(
        &mock,
        &grant,
        &Params::Query(q),
        "video",
        "video_ids",
        60,
    ))
}

fn info(
    mock: &Mock,
    grant: &Grant,
    params: &Params,
    kind: &str,
    key: &str,
    most: usize,
) -> Checked<Response> {
    let advertiser_id = advertiser(params, grant)?;
    let ids = params
        .list(key)?
        .ok_or_else(|| invalid(key, "Missing data for required field."))?;
    if ids.is_empty() || ids.len() > most {
        return Err(invalid(
            key,
            &format!("Between 1 and {most} IDs per request."),
        ));
    }
    let world = mock.world();
    let list = listed_among(&world.library, &advertiser_id, kind, &ids);
    Ok(ok(json!({ "list": list })))
}

pub(in crate::mock) async fn image_search(
    State(mock): State<Mock>,
    Extension(grant): Extension<Grant>,
    Query(q): Q,
) -> Response {
    answer(search(&mock, &grant, &Params::Query(q), "image"))
}

pub(in crate::mock) async fn video_search(
    State(mock): State<Mock>,
    Extension(grant): Extension<Grant>,
    Query(q): Q,
) -> Response {
    answer(search(&mock, &grant, &Params::Query(q), "video"))
}

fn search(mock: &Mock, grant: &Grant, params: &Params, kind: &str) -> Checked<Response> {
    let advertiser_id = advertiser(params, grant)?;
    let page = params.integer("page", 1, u64::MAX, 1)?;
    let size = params.integer("page_size", 1, 100, 20)?;
    let filtering = params.object("filtering")?.unwrap_or_default();
    let strings = |key: &str| -> Checked<Option<Vec<String>>> {
        match filtering.get(key) {
            None => Ok(None),
            Some(Value::Array(items)) => Ok(Some(
                items
                    .iter()
                    .map(|v| match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect(),
            )),
            Some(_) => Err(invalid(&format!("filtering.{key}"), "Not a valid list.")),
        }
    };
    let ids = strings(&format!("{kind}_ids"))?;
    let materials = strings("material_ids")?;
    let name = filtering
        .get("video_name")
        .and_then(Value::as_str)
        .map(str::to_lowercase);
    let now = now_ms();
    let world = mock.world();
    let mut items: Vec<&Item> = world
        .library
        .of(&advertiser_id, kind)
        .filter(|i| ids.as_ref().is_none_or(|ids| ids.contains(&i.id)))
        .filter(|i| {
            materials
                .as_ref()
                .is_none_or(|m| m.contains(&i.material_id))
        })
        .filter(|i| {
            name.as_ref()
                .is_none_or(|n| i.file_name.to_lowercase().contains(n))
        })
        .collect();
    items.sort_by_key(|i| std::cmp::Reverse(i.created_ms));
    let listed: Vec<Value> = items.iter().filter_map(|i| i.listed(now)).collect();
    Ok(paged(listed, page, size))
}

pub(in crate::mock) async fn name_check(
    State(mock): State<Mock>,
    Extension(grant): Extension<Grant>,
    Query(q): Q,
) -> Response {
    answer((|| {
        let params = Params::Query(q);
        let advertiser_id = advertiser(&params, &grant)?;
        let world = mock.world();
        let check = |name: &str, file_type: &str| -> Checked<Value> {
            let kind = match file_type {
                "VIDEO" => "video",
                "IMAGE" => "image",
                _ => return Err(invalid("file_type", "Must be one of: VIDEO, IMAGE.")),
            };
            let holder = world.library.named(&advertiser_id, kind, name);
            Ok(json!({
                "file_name": name,
                "duplicate": holder.is_some(),
                "duplicate_material_id": holder.map(|h| h.material_id.clone()),
            }))
        };
        if let Some(files) = params.json("files") {
            let Value::Array(files) = files else {
                return Err(invalid("files", "Not a valid list of objects."));
            };
            if files.is_empty() || files.len() > 20 {
                return Err(invalid("files", "Between 1 and 20 files per request."));
            }
            let results = files
                .into_iter()
                .map(|file| {
                    let file = object_of(file);
                    let name = file.get("file_name").and_then(Value::as_str);
                    let file_type = file
                        .get("file_type")
                        .and_then(Value::as_str)
                        .unwrap_or("VIDEO");
                    match name {
                        Some(name) => check(name, file_type),
                        None => Err(invalid(
                            "files.file_name",
                            "Missing data for required field.",
                        )),
                    }
                })
                .collect::<Checked<Vec<Value>>>()?;
            return Ok(ok(json!({ "batch_results": results })));
        }
        let name = params.required_text("file_name")?;
        let file_type = params.text("file_type")?.unwrap_or_else(|| "VIDEO".into());
        let mut single = object_of(check(&name, &file_type)?);
        single.remove("file_name");
        Ok(ok(Value::Object(single)))
    })())
}

pub(in crate::mock) async fn suggest_cover(
    State(mock): State<Mock>,
    Extension(grant): Extension<Grant>,
    Query(q): Q,
) -> Response {
    answer((|| {
        let params = Params::Query(q);
        let advertiser_id = advertiser(&params, &grant)?;
        let video_id = params.required_text("video_id")?;
        let number = params.integer("poster_number", 1, 10, 10)?;
        let now = now_ms();
        let covers = mock.change(|world| -> Checked<Vec<Value>> {
            let Some(video) = world
                .library
                .of(&advertiser_id, "video")
                .find(|i| i.id == video_id && i.listed(now).is_some() && i.ready(now))
                .cloned()
            else {
                return Err(error(
                    40001,
                    "You have insufficient permissions for some videos: they do not exist in \
                     this account or are still being processed.",
                ));
            };
            let mut covers = Vec::new();
            for n in 1..=number {
                let name = format!("{} cover {n}", video.file_name);
                let existing = world.library.named(&advertiser_id, "image", &name).cloned();
                let cover = match existing {
                    Some(cover) => cover,
                    None => {
                        let cover = Item {
                            kind: "image".into(),
                            id: media_id("image"),
                            material_id: world.new_id(),
                            file_name: name,
                            content: super::Content {
                                format: "jpeg".into(),
                                size: 40_000,
                                signature: format!("{:032x}", rand::random::<u128>()),
                                ..video.content.clone()
                            },
                            created_ms: now,
                            ready_ms: now,
                            fails: false,
                            ..video.clone()
                        };
                        world.library.items.push(cover.clone());
                        cover
                    }
                };
                covers.push(json!({
                    "id": cover.id, "width": cover.content.width, "height": cover.content.height,
                    "url": format!("https://p16-sign.example.invalid/{}?x-expires=0", cover.id),
                }));
            }
            Ok(covers)
        })?;
        let list: Vec<Value> = covers;
        Ok(ok(
            json!({ "list": list, "extra": Map::<String, Value>::new() }),
        ))
    })())
}
