//! `POST /file/image/ad/upload/` and `/file/video/ad/upload/`: a file in a multipart body
//! (`UPLOAD_BY_FILE`, checked against its MD5), or a JSON body binding a `file_id` of the
//! repository (`UPLOAD_BY_FILE_ID`) or an existing video (`UPLOAD_BY_VIDEO_ID`). Every upload
//! makes a new ID, even of the same bytes; names are unique per account.

use std::collections::HashMap;

use axum::Extension;
use axum::extract::{Request, State};
use axum::response::Response;
use serde_json::{Value, json};

use super::multipart::{self, StopAt};
use super::{
    Content, IMAGE_MAX, IMAGE_MAX_PIXELS, Item, NAME_MAX_CHARS, VIDEO_MAX, answer_object, media_id,
    name_free, now_ms, recognise,
};
use crate::mock::Mock;
use crate::mock::answer::{error, invalid, ok};
use crate::mock::auth::advertiser;
use crate::mock::faults::LoggedBody;
use crate::mock::params::{Checked, Params};
use crate::mock::world::Grant;

pub(in crate::mock) async fn image_upload(
    State(mock): State<Mock>,
    Extension(grant): Extension<Grant>,
    request: Request,
) -> Response {
    upload(mock, grant, request, "image").await
}

pub(in crate::mock) async fn video_upload(
    State(mock): State<Mock>,
    Extension(grant): Extension<Grant>,
    request: Request,
) -> Response {
    upload(mock, grant, request, "video").await
}

async fn upload(mock: Mock, grant: Grant, request: Request, kind: &'static str) -> Response {
    let outcome = if multipart::is_multipart(&request) {
        by_file(&mock, &grant, request, kind).await
    } else {
        match axum::body::to_bytes(request.into_body(), 1 << 20).await {
            Ok(bytes) => match crate::mock::body_params(&bytes) {
                Ok(params) => by_reference(&mock, &grant, &params, kind),
                Err(e) => Err(e),
            },
            Err(_) => Err(invalid("body", "The request body could not be read.")),
        }
    };
    outcome.unwrap_or_else(|e| e)
}

/// A name as TikTok keeps it: cut at 100 characters.
fn kept_name(name: &str) -> String {
    name.chars().take(NAME_MAX_CHARS).collect()
}

async fn by_file(mock: &Mock, grant: &Grant, request: Request, kind: &str) -> Checked<Response> {
    let limit = if kind == "image" {
        IMAGE_MAX
    } else {
        VIDEO_MAX
    };
    let body = multipart::read(request, limit, StopAt::Never, |_| None).await?;
    let params = Params::Query(body.fields.clone());
    let logged = logged_fields(&body.fields);
    let with_log = |mut r: Response| {
        r.extensions_mut().insert(LoggedBody(logged.clone()));
        r
    };
    let outcome = (|| {
        let advertiser_id = advertiser(&params, grant)?;
        let upload_type = params
            .text("upload_type")?
            .unwrap_or_else(|| "UPLOAD_BY_FILE".into());
        if upload_type != "UPLOAD_BY_FILE" {
            return Err(invalid(
                "upload_type",
                "A multipart body uploads a file (UPLOAD_BY_FILE); send the other types as JSON.",
            ));
        }
        let (file_field, signature_field) = if kind == "image" {
            ("image_file", "image_signature")
        } else {
            ("video_file", "video_signature")
        };
        let signature = params.required_text(signature_field)?;
        let Some(file) = body.file.as_ref().filter(|f| f.field == file_field) else {
            return Err(invalid(file_field, "Missing data for required field."));
        };
        if file.size == 0 {
            return Err(error(40906, "The file is empty."));
        }
        if !file.md5.eq_ignore_ascii_case(&signature) {
            return Err(error(
                40900,
                "The file's signature does not match its content: check the MD5.",
            ));
        }
        let (found_kind, format, width, height) = match recognise(&file.head) {
            Some(found) if found.0 == kind => found,
            _ => {
                return Err(error(
                    40908,
                    &format!("The file is not a supported {kind} format."),
                ));
            }
        };
        if found_kind == "image" && width * height > IMAGE_MAX_PIXELS {
            return Err(invalid(
                file_field,
                "The image is larger than 3,686,400 pixels (1440 x 2560).",
            ));
        }
        let name = kept_name(&params.text("file_name")?.unwrap_or_else(|| "upload".into()));
        let content = Content {
            signature: file.md5.clone(),
            size: file.size,
            format: format.to_string(),
            width,
            height,
        };
        let item = mock.change(|world| add(mock, world, &advertiser_id, kind, name, &content))?;
        Ok(ok(answer_object(&item)))
    })();
    Ok(with_log(outcome.unwrap_or_else(|e| e)))
}

/// A new item of the account's library holding `content` under `name` (unique per account):
/// a new ID, whatever else the library holds.
fn add(
    mock: &Mock,
    world: &mut crate::mock::world::World,
    advertiser_id: &str,
    kind: &str,
    name: String,
    content: &Content,
) -> Checked<Item> {
    if !name_free(&world.library, advertiser_id, kind, &name) {
        return Err(name_taken(&name));
    }
    let now = now_ms();
    let (ready_ms, fails) = processing(mock, kind, now);
    let item = Item {
        advertiser_id: advertiser_id.to_string(),
        kind: kind.to_string(),
        id: media_id(kind),
        material_id: world.new_id(),
        file_name: name,
        content: content.clone(),
        created_ms: now,
        ready_ms,
        fails,
    };
    world.library.items.push(item.clone());
    Ok(item)
}

/// When a new video is processed, and whether processing fails (the faults decide).
fn processing(mock: &Mock, kind: &str, now: u64) -> (u64, bool) {
    if kind != "video" {
        return (now, false);
    }
    let ready_ms = now + mock.gate.faults().video_ready_ms;
    (ready_ms, mock.gate.take(|f| &mut f.transcode_fail_next))
}

fn name_taken(name: &str) -> Response {
    error(
        40911,
        &format!("The material name '{name}' already exists. Please use another name."),
    )
}

/// The text fields of a multipart body for the request log (the file part is not logged).
fn logged_fields(fields: &HashMap<String, String>) -> Value {
    Value::Object(fields.iter().map(|(k, v)| (k.clone(), json!(v))).collect())
}

/// `UPLOAD_BY_FILE_ID` (a finished chunked upload) or `UPLOAD_BY_VIDEO_ID`, in JSON.
fn by_reference(mock: &Mock, grant: &Grant, params: &Params, kind: &str) -> Checked<Response> {
    let advertiser_id = advertiser(params, grant)?;
    let upload_type = params.required_text("upload_type")?;
    match upload_type.as_str() {
        "UPLOAD_BY_FILE_ID" => {}
        "UPLOAD_BY_VIDEO_ID" if kind == "video" => {
            let video_id = params.required_text("video_id")?;
            let world = mock.world();
            return match world
                .library
                .of(&advertiser_id, "video")
                .find(|i| i.id == video_id)
            {
                Some(item) => Ok(ok(answer_object(item))),
                None => Err(error(
                    40053,
                    "The video ID is not valid for this advertiser.",
                )),
            };
        }
        "UPLOAD_BY_FILE" => {
            return Err(invalid(
                "upload_type",
                "UPLOAD_BY_FILE takes a multipart/form-data body.",
            ));
        }
        _ => {
            return Err(invalid(
                "upload_type",
                "The simulator takes UPLOAD_BY_FILE and UPLOAD_BY_FILE_ID (and UPLOAD_BY_VIDEO_ID for videos).",
            ));
        }
    }
    let file_id = params.required_text("file_id")?;
    let name = params.text("file_name")?.map(|n| kept_name(&n));
    let ttl = super::ttl_ms(mock);
    let item = mock.change(|world| -> Checked<Item> {
        let Some(stored) = world
            .library
            .stored
            .get(&file_id)
            .filter(|s| s.advertiser_id == advertiser_id)
            .cloned()
        else {
            return Err(error(40905, "The file does not exist."));
        };
        let now = now_ms();
        if now.saturating_sub(stored.created_ms) > ttl {
            return Err(error(40910, "The file has expired: upload it again."));
        }
        if stored.kind != kind {
            return Err(error(
                40908,
                &format!("The file is not a supported {kind} format."),
            ));
        }
        if kind == "image" && stored.content.width * stored.content.height > IMAGE_MAX_PIXELS {
            return Err(invalid(
                "file_id",
                "The image is larger than 3,686,400 pixels.",
            ));
        }
        let name = name.clone().unwrap_or_else(|| stored.name.clone());
        add(mock, world, &advertiser_id, kind, name, &stored.content)
    })?;
    Ok(ok(answer_object(&item)))
}
