//! `POST /dmp/custom_audience/file/upload/`: a file of IDs, read whole (at most 50 MB), its MD5
//! checked against `file_signature`, its name and content against the rules.

use axum::Extension;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::response::Response;
use md5::{Digest, Md5};
use serde_json::json;

use super::{File, MD5_TYPES, MULTIPLE_HEADERS, MULTIPLE_TYPES, SHA256_TYPES};
use crate::mock::Mock;
use crate::mock::answer::{error, invalid, ok};
use crate::mock::auth::check_advertiser;
use crate::mock::params::Checked;
use crate::mock::world::Grant;

const MAX_BYTES: usize = 50 * 1000 * 1000;

pub(in crate::mock) async fn upload(
    State(mock): State<Mock>,
    Extension(grant): Extension<Grant>,
    request: Request,
) -> Response {
    let mut logged = serde_json::Map::new();
    let mut response = match read(&mock, &grant, request, &mut logged).await {
        Ok(r) | Err(r) => r,
    };
    // The log shows what was sent, the file's lines included: a test can prove it held hashes.
    response
        .extensions_mut()
        .insert(crate::mock::faults::LoggedBody(serde_json::Value::Object(
            logged,
        )));
    response
}

async fn read(
    mock: &Mock,
    grant: &Grant,
    request: Request,
    logged: &mut serde_json::Map<String, serde_json::Value>,
) -> Checked<Response> {
    let mut multipart = Multipart::from_request(request, &())
        .await
        .map_err(|e| invalid("body", &format!("Not a valid multipart body: {e}")))?;
    let mut fields = std::collections::HashMap::new();
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|e| invalid("body", &e.to_string()))?
    {
        let name = field.name().unwrap_or_default().to_string();
        match field.file_name().map(str::to_string) {
            None => {
                let text = field
                    .text()
                    .await
                    .map_err(|e| invalid(&name, &e.to_string()))?;
                logged.insert(name.clone(), json!(text));
                fields.insert(name, text);
            }
            Some(file_name) => {
                let mut bytes = Vec::new();
                while let Some(chunk) = field
                    .chunk()
                    .await
                    .map_err(|e| invalid("file", &e.to_string()))?
                {
                    if bytes.len() + chunk.len() > MAX_BYTES {
                        return Err(error(40907, "The file is larger than 50 MB."));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                logged.insert("file_name".into(), json!(file_name));
                logged.insert(
                    "file_lines".into(),
                    json!(
                        String::from_utf8_lossy(&bytes)
                            .lines()
                            .map(str::to_string)
                            .collect::<Vec<_>>()
                    ),
                );
                file = Some((file_name, bytes));
            }
        }
    }
    let text = |k: &str| {
        fields
            .get(k)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let advertiser = text("advertiser_id")
        .ok_or_else(|| invalid("advertiser_id", "Missing data for required field."))?;
    check_advertiser(grant, &advertiser)?;
    let signature = text("file_signature")
        .ok_or_else(|| invalid("file_signature", "Missing data for required field."))?;
    let calculate_type = text("calculate_type")
        .ok_or_else(|| invalid("calculate_type", "Missing data for required field."))?;
    if !SHA256_TYPES.contains(&calculate_type.as_str())
        && !MD5_TYPES.contains(&calculate_type.as_str())
        && calculate_type != MULTIPLE_TYPES
    {
        return Err(invalid("calculate_type", "Not a valid calculate type."));
    }
    let (file_name, bytes) =
        file.ok_or_else(|| invalid("file", "Missing data for required field."))?;
    if !(file_name.ends_with(".csv") || file_name.ends_with(".txt")) {
        return Err(error(40908, "The file name must end in .csv or .txt."));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(error(40906, "The file is empty."));
    }
    if hex::encode(Md5::digest(&bytes)) != signature.to_ascii_lowercase() {
        return Err(error(
            40900,
            "The file_signature does not match the file's MD5.",
        ));
    }
    let text = String::from_utf8(bytes).map_err(|_| error(40909, "The file is not text."))?;
    let hashes = if calculate_type == MULTIPLE_TYPES {
        rows_of_hashes(&text)?
    } else {
        hashes_of(&text, &calculate_type)?
    };
    let path = format!("dmp/{advertiser}/{:032x}", rand::random::<u128>());
    mock.change(|world| {
        world.dmp.files.insert(
            path.clone(),
            File {
                advertiser,
                calculate_type,
                hashes,
            },
        );
    });
    Ok(ok(json!({ "file_path": path })))
}

/// A file of one kind: one hash a line, of the width its type says.
fn hashes_of(text: &str, calculate_type: &str) -> Checked<Vec<String>> {
    let width = if SHA256_TYPES.contains(&calculate_type) {
        64
    } else {
        32
    };
    let mut hashes = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if line.len() != width || !line.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(error(
                40909,
                &format!(
                    "The content does not match calculate_type {calculate_type}: every line must be a {width}-character hex hash."
                ),
            ));
        }
        hashes.push(line.to_ascii_lowercase());
    }
    Ok(hashes)
}

/// A file of several kinds (help centre): a header row naming each column — `Email_SHA256`,
/// `Phone_SHA256`, `MAID_SHA256` (any case), each at most three times — then one customer a
/// line, each cell a SHA-256 or blank, at least one filled. A customer is held as its line.
fn rows_of_hashes(text: &str) -> Checked<Vec<String>> {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let refuse = |why: String| {
        error(
            40909,
            &format!("The content does not match calculate_type MULTIPLE_TYPES: {why}"),
        )
    };
    let header: Vec<String> = lines
        .next()
        .unwrap_or_default()
        .split(',')
        .map(|h| h.trim().to_ascii_uppercase())
        .collect();
    for name in &header {
        if !MULTIPLE_HEADERS.contains(&name.as_str()) {
            return Err(refuse(format!(
                "the first line must name the columns ({}); found {name:?}.",
                MULTIPLE_HEADERS.join(", ")
            )));
        }
        if header.iter().filter(|h| *h == name).count() > 3 {
            return Err(refuse(format!("{name} appears more than 3 times.")));
        }
    }
    let mut rows = Vec::new();
    for line in lines {
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        let hex = |c: &&str| c.len() == 64 && c.bytes().all(|b| b.is_ascii_hexdigit());
        if cells.len() != header.len()
            || cells.iter().any(|c| !c.is_empty() && !hex(c))
            || cells.iter().all(|c| c.is_empty())
        {
            return Err(refuse(format!(
                "every line must hold {} cells, each a 64-character hex hash or blank, at least one filled.",
                header.len()
            )));
        }
        rows.push(cells.join(",").to_ascii_lowercase());
    }
    Ok(rows)
}
