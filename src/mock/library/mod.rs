//! The creative library of each simulated ad account (REFERENCE 15): uploads of images and
//! videos (direct, or through the chunked file repository and a bind), with TikTok's checks
//! — MD5 against the bytes, sizes and formats, names unique per account, chunk offsets in
//! order — and videos that become usable only after processing. It keeps each file's size and
//! MD5, never its bytes, so a 1 GiB upload costs no memory here.

mod chunks;
mod multipart;
mod read;
mod upload;

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

pub(super) use chunks::{finish, start, transfer};
pub(super) use read::{
    image_info, image_search, name_check, suggest_cover, video_info, video_search,
};
pub(super) use upload::{image_upload, video_upload};

/// The chunk size the repository asks for unless the `chunk_size` fault says otherwise.
const CHUNK_SIZE: u64 = 20 * 1024 * 1024;
/// Smallest file the chunked path takes.
const CHUNKED_MIN: u64 = 20 * 1024 * 1024;
/// How long an `upload_id` or `file_id` lives unless `upload_ttl_secs` says otherwise.
const UPLOAD_TTL_SECS: u64 = 24 * 3600;
const IMAGE_MAX: u64 = 50 * 1024 * 1024;
const IMAGE_MAX_PIXELS: u64 = 3_686_400;
const VIDEO_MAX: u64 = 500 * 1024 * 1024;
const NAME_MAX_CHARS: usize = 100;

/// What a file is: its MD5, size, format and pixels (never its bytes).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Content {
    pub signature: String,
    pub size: u64,
    pub format: String,
    pub width: u64,
    pub height: u64,
}

/// An image or a video of an account's library.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Item {
    pub advertiser_id: String,
    /// `image` or `video`.
    pub kind: String,
    pub id: String,
    pub material_id: String,
    pub file_name: String,
    #[serde(flatten)]
    pub content: Content,
    /// Unix milliseconds.
    pub created_ms: u64,
    /// When processing ends (videos), Unix milliseconds.
    pub ready_ms: u64,
    /// Processing fails: the video is dropped from the listing when it ends.
    pub fails: bool,
}

impl Item {
    fn ready(&self, now: u64) -> bool {
        now >= self.ready_ms
    }

    /// Listed by the info and search endpoints: a processing video shows little, a failed one
    /// is not listed.
    fn listed(&self, now: u64) -> Option<Value> {
        if self.kind == "video" && !self.ready(now) {
            return Some(json!({
                "video_id": self.id, "file_name": self.file_name, "signature": self.content.signature,
                "material_id": self.material_id,
            }));
        }
        if self.fails {
            return None;
        }
        Some(self.object())
    }

    fn object(&self) -> Value {
        let created = iso(self.created_ms);
        if self.kind == "image" {
            json!({
                "image_id": self.id, "material_id": self.material_id,
                "is_carousel_usable": true, "displayable": true,
                "width": self.content.width, "height": self.content.height, "size": self.content.size,
                "format": self.content.format, "signature": self.content.signature, "file_name": self.file_name,
                "image_url": format!("https://p16-sign.example.invalid/{}?x-expires=0", self.id),
                "create_time": created, "modify_time": created,
            })
        } else {
            json!({
                "video_id": self.id, "material_id": self.material_id,
                "video_cover_url": format!("https://p16-sign.example.invalid/{}.jpg", self.id),
                "preview_url": format!("https://v16m.example.invalid/{}.mp4", self.id),
                "width": self.content.width, "height": self.content.height, "size": self.content.size,
                "bit_rate": 2_000_000, "duration": 10.033, "format": self.content.format,
                "file_name": self.file_name, "signature": self.content.signature,
                "displayable": true, "allow_download": true,
                "allowed_placements": ["PLACEMENT_TIKTOK", "PLACEMENT_PANGLE"],
                "create_time": created, "modify_time": created,
            })
        }
    }
}

/// A chunked upload under way (not kept across restarts: TikTok's sessions are short-lived
/// too).
#[derive(Clone)]
pub(super) struct Session {
    pub advertiser_id: String,
    pub kind: String,
    pub name: String,
    pub size: u64,
    pub chunk: u64,
    pub received: u64,
    pub hasher: md5::Md5,
    pub head: Vec<u8>,
    /// The last chunk taken: its offset and MD5 (sending it again is harmless).
    pub last: Option<(u64, String)>,
    pub created_ms: u64,
    pub file_id: Option<String>,
}

/// A finished upload in the file repository, waiting to be bound (24 h).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Stored {
    pub advertiser_id: String,
    pub kind: String,
    pub name: String,
    #[serde(flatten)]
    pub content: Content,
    pub created_ms: u64,
}

/// Everything the library simulation keeps.
#[derive(Default, Clone, Serialize, Deserialize)]
pub(super) struct Library {
    pub items: Vec<Item>,
    pub stored: HashMap<String, Stored>,
    #[serde(skip)]
    pub sessions: HashMap<String, Session>,
}

impl std::fmt::Debug for Library {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Library")
            .field("items", &self.items.len())
            .field("stored", &self.stored.len())
            .field("sessions", &self.sessions.len())
            .finish()
    }
}

impl Library {
    fn named(&self, advertiser: &str, kind: &str, name: &str) -> Option<&Item> {
        self.items
            .iter()
            .find(|i| i.advertiser_id == advertiser && i.kind == kind && i.file_name == name)
    }

    pub(super) fn of<'a>(
        &'a self,
        advertiser: &'a str,
        kind: &'a str,
    ) -> impl Iterator<Item = &'a Item> {
        self.items
            .iter()
            .filter(move |i| i.advertiser_id == advertiser && i.kind == kind)
    }

    /// Adds an item someone else uploaded (a control call): a name held by another file.
    pub(super) fn add_foreign(
        &mut self,
        advertiser: &str,
        kind: &str,
        name: &str,
        material_id: String,
    ) -> Value {
        let now = now_ms();
        let item = Item {
            advertiser_id: advertiser.to_string(),
            kind: kind.to_string(),
            id: media_id(kind),
            material_id,
            file_name: name.to_string(),
            content: Content {
                signature: format!("{:032x}", rand::random::<u128>()),
                size: 1024,
                format: if kind == "image" { "png" } else { "mp4" }.to_string(),
                width: 720,
                height: 1280,
            },
            created_ms: now,
            ready_ms: now,
            fails: false,
        };
        let object = item.object();
        self.items.push(item);
        object
    }

    /// Every upload under way and every file not yet bound expires (a control call); how many.
    pub(super) fn expire_all(&mut self) -> usize {
        for session in self.sessions.values_mut() {
            session.created_ms = 0;
        }
        for stored in self.stored.values_mut() {
            stored.created_ms = 0;
        }
        self.sessions.len() + self.stored.len()
    }

    /// Removes an item (a control call), as deleting it in Ads Manager would.
    pub(super) fn remove(&mut self, id: &str) -> bool {
        let before = self.items.len();
        self.items.retain(|i| i.id != id);
        self.items.len() != before
    }
}

/// How long upload and file IDs live, in milliseconds.
fn ttl_ms(mock: &super::Mock) -> u64 {
    mock.gate
        .faults()
        .upload_ttl_secs
        .unwrap_or(UPLOAD_TTL_SECS)
        * 1000
}

/// Bytes as lowercase hex, as TikTok writes MD5s.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(super) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

fn iso(ms: u64) -> String {
    chrono::DateTime::from_timestamp_millis(ms as i64)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// A new media ID: image IDs hold a `/`, video IDs are alphanumeric (REFERENCE 15.1).
pub(super) fn media_id(kind: &str) -> String {
    let tail = format!("{:024x}", rand::random::<u128>() >> 32);
    if kind == "image" {
        format!("ad-site-i18n-sg/{tail}")
    } else {
        format!("v10033g50000{tail}")
    }
}

/// What the first bytes are, as TikTok's checks would see them: `(kind, format, width,
/// height)`.
fn recognise(head: &[u8]) -> Option<(&'static str, &'static str, u64, u64)> {
    let kind = infer::get(head)?;
    match kind.mime_type() {
        "image/jpeg" | "image/png" => {
            let size = imagesize::blob_size(head).ok()?;
            let format = if kind.mime_type() == "image/png" {
                "png"
            } else {
                "jpeg"
            };
            Some(("image", format, size.width as u64, size.height as u64))
        }
        "video/mp4" | "video/quicktime" | "video/mpeg" | "video/x-msvideo" | "video/x-m4v"
        | "video/3gpp" => Some(("video", kind.extension(), 720, 1280)),
        _ if head.len() > 11 && &head[4..8] == b"ftyp" => Some(("video", "mp4", 720, 1280)),
        _ => None,
    }
}

/// Whether a name is free among the account's images or videos.
fn name_free(library: &Library, advertiser: &str, kind: &str, name: &str) -> bool {
    library.named(advertiser, kind, name).is_none()
}

/// The library object after an upload (what `/file/*/ad/upload/` answers).
fn answer_object(item: &Item) -> Value {
    if item.kind == "video" {
        // A fresh video answers with little more than its ID (REFERENCE 15.3).
        json!([{ "video_id": item.id, "material_id": item.material_id, "file_name": item.file_name, "signature": item.content.signature }])
    } else {
        item.object()
    }
}

/// The items among `ids` of this account, as listed now.
fn listed_among(library: &Library, advertiser: &str, kind: &str, ids: &[String]) -> Vec<Value> {
    let now = now_ms();
    ids.iter()
        .filter_map(|id| {
            library
                .of(advertiser, kind)
                .find(|i| &i.id == id)
                .and_then(|i| i.listed(now))
        })
        .collect()
}

fn object_of(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}
