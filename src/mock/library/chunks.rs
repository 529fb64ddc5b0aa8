//! The file repository's chunked path (REFERENCE 15.5): `start` opens a session and says the
//! first byte range it wants, `transfer` takes each chunk in order with its MD5 (the same
//! chunk sent again is answered as before; any other offset is refused), `finish` gives the
//! `file_id` to bind. Sessions and file IDs expire.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::response::Response;
use md5::Digest;
use serde_json::json;

use super::multipart::{self, StopAt};
use super::{
    CHUNK_SIZE, CHUNKED_MIN, Content, NAME_MAX_CHARS, Session, Stored, hex, now_ms, recognise,
    ttl_ms,
};
use crate::mock::answer::{error, invalid, ok};
use crate::mock::auth::advertiser;
use crate::mock::faults::{CutConnection, LoggedBody};
use crate::mock::params::{Checked, Params};
use crate::mock::world::Grant;
use crate::mock::{Mock, body_params};

/// Where a cut chunk's connection is dropped.
const CUT_AT: u64 = 256 * 1024;
/// Largest chunk taken (the repository asks for 20 MiB).
const CHUNK_LIMIT: u64 = 256 * 1024 * 1024;

pub(in crate::mock) async fn start(
    State(mock): State<Mock>,
    Extension(grant): Extension<Grant>,
    body: Bytes,
) -> Response {
    let outcome = (|| {
        let params = body_params(&body)?;
        let advertiser_id = advertiser(&params, &grant)?;
        let size = params
            .required_text("size")?
            .parse::<u64>()
            .map_err(|_| invalid("size", "Not a valid integer."))?;
        if size < CHUNKED_MIN {
            return Err(invalid(
                "size",
                "A chunked upload is for files of at least 20 MB: upload smaller files directly.",
            ));
        }
        let kind = params
            .choice("content_type", &["image", "video", "music"])?
            .ok_or_else(|| invalid("content_type", "Missing data for required field."))?;
        if kind == "music" {
            return Err(invalid(
                "content_type",
                "The simulator takes image and video.",
            ));
        }
        let name = params.text("name")?.unwrap_or_default();
        if name.chars().count() > NAME_MAX_CHARS {
            return Err(invalid("name", "At most 100 characters."));
        }
        let chunk = mock.gate.faults().chunk_size.unwrap_or(CHUNK_SIZE).max(1);
        let upload_id = mock.change(|world| {
            let id = world.new_id();
            world.library.sessions.insert(
                id.clone(),
                Session {
                    advertiser_id,
                    kind,
                    name: name.clone(),
                    size,
                    chunk,
                    received: 0,
                    hasher: md5::Md5::new(),
                    head: Vec::new(),
                    last: None,
                    created_ms: now_ms(),
                    file_id: None,
                },
            );
            id
        });
        Ok(ok(json!({
            "upload_id": upload_id, "file_name": name,
            "start_offset": 0, "end_offset": chunk.min(size),
        })))
    })();
    outcome.unwrap_or_else(|e| e)
}

/// The session `upload_id` names, for this token's account and still alive.
fn session_of(mock: &Mock, params: &Params, grant: &Grant) -> Checked<(String, String, Session)> {
    let advertiser_id = advertiser(params, grant)?;
    let upload_id = params.required_text("upload_id")?;
    let session = mock
        .world()
        .library
        .sessions
        .get(&upload_id)
        .filter(|s| s.advertiser_id == advertiser_id)
        .cloned()
        .ok_or_else(|| error(40905, "The upload does not exist."))?;
    if now_ms().saturating_sub(session.created_ms) > ttl_ms(mock) {
        return Err(error(40910, "The upload has expired: start it again."));
    }
    Ok((advertiser_id, upload_id, session))
}

fn next_range(session: &Session) -> serde_json::Value {
    let start = session.received;
    json!({"start_offset": start, "end_offset": (start + session.chunk).min(session.size)})
}

pub(in crate::mock) async fn transfer(
    State(mock): State<Mock>,
    Extension(grant): Extension<Grant>,
    request: Request,
) -> Response {
    if !multipart::is_multipart(&request) {
        return invalid("body", "A chunk is sent as multipart/form-data.");
    }
    let cut = mock.gate.take(|f| &mut f.cut_chunk_next);
    let stop = if cut {
        StopAt::Cut(CUT_AT)
    } else {
        StopAt::Never
    };
    // The chunk continues the file's MD5 only when it is the one expected next.
    let continue_from = |fields: &std::collections::HashMap<String, String>| {
        let world = mock.world();
        let session = world.library.sessions.get(fields.get("upload_id")?)?;
        let offset: u64 = fields.get("start_offset")?.parse().ok()?;
        (offset == session.received).then(|| session.hasher.clone())
    };
    let body = match multipart::read(request, CHUNK_LIMIT, stop, continue_from).await {
        Ok(body) => body,
        Err(e) => return e,
    };
    let logged = json!({
        "upload_id": body.fields.get("upload_id"),
        "start_offset": body.fields.get("start_offset"),
        "signature": body.fields.get("signature"),
        "bytes": body.file.as_ref().map(|f| f.size),
    });
    let mut response = if body.cut {
        let mut response = error(50000, "cut");
        response.extensions_mut().insert(CutConnection);
        response
    } else {
        take_chunk(&mock, &grant, body).unwrap_or_else(|e| e)
    };
    response.extensions_mut().insert(LoggedBody(logged));
    response
}

fn take_chunk(mock: &Mock, grant: &Grant, body: multipart::Upload) -> Checked<Response> {
    let params = Params::Query(body.fields.clone());
    let (_, upload_id, session) = session_of(mock, &params, grant)?;
    let offset = params
        .required_text("start_offset")?
        .parse::<u64>()
        .map_err(|_| invalid("start_offset", "Not a valid integer."))?;
    let signature = params.required_text("signature")?;
    let Some(chunk) = body.file.filter(|f| f.field == "file") else {
        return Err(invalid("file", "Missing data for required field."));
    };
    if !chunk.md5.eq_ignore_ascii_case(&signature) {
        return Err(error(
            40900,
            "The chunk's signature does not match its content: check the MD5.",
        ));
    }
    if session.last.as_ref() == Some(&(offset, chunk.md5.clone())) {
        return Ok(ok(next_range(&session)));
    }
    if offset != session.received {
        return Err(invalid(
            "start_offset",
            &format!(
                "Expected {}, the first byte not yet received.",
                session.received
            ),
        ));
    }
    let expected = session.chunk.min(session.size - session.received);
    if chunk.size != expected {
        return Err(invalid(
            "file",
            &format!(
                "The chunk at {offset} must be {expected} bytes, not {}.",
                chunk.size
            ),
        ));
    }
    if mock.gate.take(|f| &mut f.fail_chunk_next) {
        return Err(error(50000, "System error, please try again later."));
    }
    let Some(continued) = chunk.continued else {
        return Err(invalid(
            "body",
            "Send upload_id and start_offset before the file part.",
        ));
    };
    let updated = mock.change(|world| {
        let session = world.library.sessions.get_mut(&upload_id)?;
        session.hasher = continued;
        if session.head.is_empty() {
            session.head = chunk.head.clone();
        }
        session.received += chunk.size;
        session.last = Some((offset, chunk.md5.clone()));
        Some(next_range(session))
    });
    updated
        .map(ok)
        .ok_or_else(|| error(40905, "The upload does not exist."))
}

pub(in crate::mock) async fn finish(
    State(mock): State<Mock>,
    Extension(grant): Extension<Grant>,
    body: Bytes,
) -> Response {
    let outcome = (|| {
        let params = body_params(&body)?;
        let (advertiser_id, upload_id, session) = session_of(&mock, &params, &grant)?;
        if session.received != session.size {
            return Err(invalid(
                "upload_id",
                &format!(
                    "The upload is incomplete: {} of {} bytes received.",
                    session.received, session.size
                ),
            ));
        }
        let (kind, format, width, height) = match recognise(&session.head) {
            Some(found) if found.0 == session.kind => found,
            _ => {
                return Err(error(
                    40908,
                    &format!("The file is not a supported {} format.", session.kind),
                ));
            }
        };
        let now = now_ms();
        let file_id = mock.change(|world| {
            if let Some(id) = &session.file_id {
                return id.clone();
            }
            let id = world.new_id();
            world.library.stored.insert(
                id.clone(),
                Stored {
                    advertiser_id,
                    kind: kind.to_string(),
                    name: session.name.clone(),
                    content: Content {
                        signature: hex(&session.hasher.clone().finalize()),
                        size: session.size,
                        format: format.to_string(),
                        width,
                        height,
                    },
                    created_ms: now,
                },
            );
            if let Some(s) = world.library.sessions.get_mut(&upload_id) {
                s.file_id = Some(id.clone());
            }
            id
        });
        Ok(ok(json!({
            "file_id": file_id, "file_name": session.name,
            "size": session.size,
            "create_time": chrono::Utc::now().format("%Y-%m-%d %H:%M:%S").to_string(),
        })))
    })();
    outcome.unwrap_or_else(|e| e)
}
