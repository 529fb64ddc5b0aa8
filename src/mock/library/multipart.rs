//! A `multipart/form-data` body read as it arrives: text fields kept, the file part hashed and
//! counted (its first bytes kept, to recognise it), never held whole.

use std::collections::HashMap;

use axum::extract::{FromRequest, Multipart, Request};
use axum::response::Response;
use md5::{Digest, Md5};

use crate::mock::answer::{error, invalid};
use crate::mock::params::Checked;

/// Bytes kept from the start of a file part.
const HEAD: usize = 64 * 1024;

/// The file part of a body.
pub(super) struct Received {
    pub field: String,
    pub size: u64,
    pub md5: String,
    pub head: Vec<u8>,
    /// The hasher `continue_from` gave, fed the same bytes (a chunk continuing a file).
    pub continued: Option<Md5>,
}

pub(super) struct Upload {
    pub fields: HashMap<String, String>,
    /// `None` when the read stopped early (the fields read by then are kept).
    pub file: Option<Received>,
    /// The read stopped at `StopAt::Cut`: the caller cuts the connection.
    pub cut: bool,
}

/// How a read of the file part stops early.
#[derive(Clone, Copy)]
pub(super) enum StopAt {
    /// Read it all.
    Never,
    /// Stop after this many bytes: the connection is to be cut.
    Cut(u64),
}

pub(super) fn is_multipart(request: &Request) -> bool {
    request
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"))
}

/// Reads the body, up to `stop`.
/// `limit`: a file part over it is refused with 40907 as soon as it is seen to be.
/// `continue_from`: given the text fields read so far, a hasher to feed the file part to as
/// well.
pub(super) async fn read(
    request: Request,
    limit: u64,
    stop: StopAt,
    continue_from: impl Fn(&HashMap<String, String>) -> Option<Md5>,
) -> Checked<Upload> {
    let mut multipart = Multipart::from_request(request, &())
        .await
        .map_err(|e| invalid("body", &format!("Not a valid multipart body: {e}")))?;
    let mut upload = Upload {
        fields: HashMap::new(),
        file: None,
        cut: false,
    };
    while let Some(mut field) = multipart.next_field().await.map_err(broken)? {
        let name = field.name().unwrap_or_default().to_string();
        if field.file_name().is_none() {
            let text = field.text().await.map_err(broken)?;
            upload.fields.insert(name, text);
            continue;
        }
        let mut hasher = Md5::new();
        let mut continued = continue_from(&upload.fields);
        let mut head = Vec::new();
        let mut size = 0u64;
        while let Some(bytes) = field.chunk().await.map_err(broken)? {
            size += bytes.len() as u64;
            if size > limit {
                return Err(error(40907, "The file is too large."));
            }
            if head.len() < HEAD {
                let take = (HEAD - head.len()).min(bytes.len());
                head.extend_from_slice(&bytes[..take]);
            }
            hasher.update(&bytes);
            if let Some(continued) = &mut continued {
                continued.update(&bytes);
            }
            if let StopAt::Cut(at) = stop
                && size >= at
            {
                upload.cut = true;
                return Ok(upload);
            }
        }
        upload.file = Some(Received {
            field: name,
            size,
            md5: super::hex(&hasher.finalize()),
            head,
            continued,
        });
    }
    Ok(upload)
}

fn broken(e: axum::extract::multipart::MultipartError) -> Response {
    invalid(
        "body",
        &format!("The multipart body could not be read: {e}"),
    )
}
