//! One file to one ad account, never twice: what the local record holds is not sent again, a
//! file another process is uploading is waited for, small files go in one request and big ones
//! in chunks that resume from the last one TikTok confirmed — and what reaches TikTok is
//! exactly the bytes whose MD5 was taken, or nothing is kept.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use md5::{Digest, Md5};
use serde_json::{Map, Value, json};

use super::media::{Media, hex};
use super::record::{Entry, Partial, Records};
use crate::api::file::{ChunkRange, Uploaded};
use crate::api::{ApiError, Client, Page, PartSource};

/// Files up to this size go in one request; bigger ones in chunks (TikTok's chunked path wants
/// at least 20 MB, and a single request has 10 s at TikTok's end).
pub const DIRECT_MAX: u64 = 20 * 1024 * 1024;

/// How long TikTok keeps a chunked session (24 h), less a margin for the upload itself.
const SESSION_LIFE: Duration = Duration::from_secs(23 * 3600);

/// Codes with which TikTok refuses an `upload_id` or `file_id` (unknown, empty, expired):
/// the upload starts over.
const SESSION_GONE: [i64; 3] = [40905, 40906, 40910];
const SIGNATURE_MISMATCH: i64 = 40900;
const NAME_TAKEN: i64 = 40911;

/// One file for one account, under one name.
#[derive(Debug, Clone)]
pub struct Job {
    pub media: Media,
    pub advertiser: String,
    pub name: String,
}

/// What became of a job that did not fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// `video_id` or `image_id`.
    pub id: String,
    /// Sent now (`false`: found in the local record or in the library, nothing sent).
    pub sent: bool,
}

/// Why a file was not uploaded.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error(
        "{0}: changed while it was being uploaded (its size or MD5 is no longer what it was when \
         the upload began); nothing was kept: upload it again once it is complete"
    )]
    Changed(PathBuf),
    #[error(
        "the name {name:?} is held by another file in ad account {advertiser}{}: choose another \
         with --name (e.g. --name '{{stem}}-{{md5_full}}')",
        material.as_ref().map(|m| format!(" (material {m})")).unwrap_or_default()
    )]
    NameTaken {
        name: String,
        advertiser: String,
        material: Option<String>,
    },
    #[error(
        "ad account {advertiser} already has this file under the name {name:?}: --force uploads \
         a second copy only under a name of its own (e.g. --name '{{stem}}-{{md5}}-2')"
    )]
    SameNameForced { name: String, advertiser: String },
    #[error("{0}{hint}", hint = refusal_hint(.0).map(|h| format!(": {h}")).unwrap_or_default())]
    Api(ApiError),
    #[error(transparent)]
    Local(#[from] anyhow::Error),
}

impl From<ApiError> for UploadError {
    fn from(error: ApiError) -> Self {
        UploadError::Api(error)
    }
}

/// What to do about TikTok's upload refusals (REFERENCE 15.6).
pub fn refusal_hint(error: &ApiError) -> Option<&'static str> {
    Some(match error.code()? {
        40901 => {
            "TikTok is still transcoding the video, or could not: wait a few minutes and run again"
        }
        40904 | 40916 => "TikTok refuses this content; it cannot be uploaded as it is",
        40907 | 40908 | 40909 | 40915 => {
            "TikTok refuses the file's size or format: convert it (MP4/H.264 video, JPG or PNG \
             image, at most 500 MB) and try again"
        }
        40053 => "the video is not usable by this account: upload it again with --force",
        _ => return None,
    })
}

/// Says how far each upload has come: `(job, bytes TikTok holds)`.
pub type OnProgress<'a> = dyn Fn(&Job, u64) + Send + Sync + 'a;

/// Uploads jobs to the library through `client`, with `records` as the memory of what was sent.
pub struct Uploader<'a> {
    client: &'a Client,
    records: &'a Records,
    force: bool,
    on_progress: &'a OnProgress<'a>,
}

impl<'a> Uploader<'a> {
    /// `force`: upload even what the record says is there.
    pub fn new(
        client: &'a Client,
        records: &'a Records,
        force: bool,
        on_progress: &'a OnProgress<'a>,
    ) -> Self {
        Self {
            client,
            records,
            force,
            on_progress,
        }
    }

    /// Uploads one file to one account, unless the record (or the library, under the same
    /// name) already has it. Another process uploading the same bytes to the same account is
    /// waited for first.
    pub async fn upload(&self, job: &Job) -> Result<Outcome, UploadError> {
        let (records, advertiser, md5) = (
            self.records.clone(),
            job.advertiser.clone(),
            job.media.md5.clone(),
        );
        let _held = tokio::task::spawn_blocking(move || records.hold(&advertiser, &md5))
            .await
            .map_err(anyhow::Error::from)??;
        if !self.force
            && let Some(entry) = self.records.get(&job.advertiser, &job.media.md5)?
        {
            return Ok(Outcome {
                id: entry.id,
                sent: false,
            });
        }
        // Checked before sending: the name may be this very file's, uploaded by a run whose
        // answer or record was lost (then nothing is sent), or another file's (refused).
        if let Some(found) = self.find_by_name(job).await? {
            if self.force {
                return Err(UploadError::SameNameForced {
                    name: job.name.clone(),
                    advertiser: job.advertiser.clone(),
                });
            }
            self.remember(job, &found)?;
            return Ok(Outcome {
                id: found.id,
                sent: false,
            });
        }
        let outcome = if job.media.size <= DIRECT_MAX {
            self.direct(job).await
        } else {
            self.chunked(job).await
        };
        match outcome {
            Ok(uploaded) => {
                self.remember(job, &uploaded)?;
                (self.on_progress)(job, job.media.size);
                Ok(Outcome {
                    id: uploaded.id,
                    sent: true,
                })
            }
            Err(UploadError::Api(e)) if e.code() == Some(NAME_TAKEN) => {
                let uploaded = self.adopt(job).await?;
                self.remember(job, &uploaded)?;
                Ok(Outcome {
                    id: uploaded.id,
                    sent: true,
                })
            }
            Err(e) => Err(e),
        }
    }

    /// Whether the library already holds this file under its name: the ID then (a lost answer
    /// to an upload TikTok did make), or [`UploadError::NameTaken`] when another file holds it.
    pub async fn find_by_name(&self, job: &Job) -> Result<Option<Uploaded>, UploadError> {
        let files = self.client.files();
        let checks = files
            .check_names(
                job.media.kind,
                &job.advertiser,
                std::slice::from_ref(&job.name),
            )
            .await?;
        let Some(check) = checks.into_iter().find(|c| c.duplicate) else {
            return Ok(None);
        };
        let taken = || UploadError::NameTaken {
            name: job.name.clone(),
            advertiser: job.advertiser.clone(),
            material: check.duplicate_material_id.clone(),
        };
        let Some(material) = check.duplicate_material_id.clone() else {
            return Err(taken());
        };
        let mut filtering = Map::new();
        filtering.insert("material_ids".into(), json!([material]));
        let holder = first_match(files.search(job.media.kind, &job.advertiser, &filtering)).await?;
        let same_bytes = holder.as_ref().is_some_and(|item| {
            item.get("signature")
                .and_then(Value::as_str)
                .is_some_and(|s| s.eq_ignore_ascii_case(&job.media.md5))
        });
        match holder.and_then(|item| text(&item, job.media.kind.id_field())) {
            Some(id) if same_bytes => Ok(Some(Uploaded {
                id,
                material_id: Some(material),
            })),
            _ => Err(taken()),
        }
    }

    /// After TikTok said the name is taken: the ID, when it is this very file.
    async fn adopt(&self, job: &Job) -> Result<Uploaded, UploadError> {
        self.find_by_name(job).await?.ok_or(UploadError::NameTaken {
            name: job.name.clone(),
            advertiser: job.advertiser.clone(),
            material: None,
        })
    }

    fn remember(&self, job: &Job, uploaded: &Uploaded) -> Result<(), UploadError> {
        let entry = Entry {
            kind: job.media.kind,
            id: uploaded.id.clone(),
            name: job.name.clone(),
            size: job.media.size,
            material_id: uploaded.material_id.clone(),
            uploaded_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        };
        self.records
            .put(&job.advertiser, &job.media.md5, entry)
            .map_err(UploadError::Local)
    }

    /// One request, the whole file streamed from disk with its MD5 for TikTok to check. A
    /// mismatch means the file changed since it was read (refused) or the bytes were damaged
    /// on the way (sent once more).
    async fn direct(&self, job: &Job) -> Result<Uploaded, UploadError> {
        let media = &job.media;
        let mut attempts = 0;
        loop {
            attempts += 1;
            unchanged_size(media)?;
            let source = PartSource::Range {
                path: media.path.clone(),
                offset: 0,
                len: media.size,
            };
            let sent = self
                .client
                .files()
                .upload(media.kind, &job.advertiser, &job.name, &media.md5, source)
                .await;
            match sent {
                Err(e) if e.code() == Some(SIGNATURE_MISMATCH) => {
                    unchanged(media).await?;
                    if attempts >= 2 {
                        return Err(e.into());
                    }
                }
                other => return Ok(other?),
            }
        }
    }

    /// The chunked path: resumed from the record when TikTok still has the session, started
    /// over (once) when it refuses it.
    async fn chunked(&self, job: &Job) -> Result<Uploaded, UploadError> {
        let recorded = self
            .records
            .partial(&job.advertiser, &job.media.md5)?
            .filter(|p| p.size == job.media.size && p.kind == job.media.kind && fresh(p));
        let mut restarted = false;
        let mut session = match recorded {
            Some(partial) => partial,
            None => {
                restarted = true;
                self.start(job).await?
            }
        };
        loop {
            match self.send_from(job, &mut session).await {
                Err(UploadError::Api(e))
                    if !restarted && e.code().is_some_and(|c| SESSION_GONE.contains(&c)) =>
                {
                    tracing::info!(
                        "TikTok no longer has the upload of {} ({e}); starting it over",
                        job.media.path.display()
                    );
                    restarted = true;
                    session = self.start(job).await?;
                }
                other => return other,
            }
        }
    }

    async fn start(&self, job: &Job) -> Result<Partial, UploadError> {
        let media = &job.media;
        let begun = self
            .client
            .files()
            .start_chunked(media.kind, &job.advertiser, &job.name, media.size)
            .await?;
        let partial = Partial {
            kind: media.kind,
            name: job.name.clone(),
            size: media.size,
            upload_id: begun.upload_id,
            next_offset: begun.next.start_offset,
            next_end: begun.next.end_offset,
            file_id: None,
            started_at: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs(),
        };
        if partial.next_offset != 0 {
            return Err(inconsistent(format!(
                "a new upload that starts at byte {}",
                partial.next_offset
            )));
        }
        self.records
            .set_partial(&job.advertiser, &media.md5, Some(partial.clone()))?;
        Ok(partial)
    }

    /// Sends the chunks TikTok has not confirmed, finishes and binds. A chunk on the 20 MiB
    /// grid goes with the MD5 taken when the file was read, so TikTok itself proves that its
    /// bytes are those; a chunk off the grid (a server asking for other sizes) is hashed as it
    /// is sent, into the whole file's MD5 as well (the bytes TikTok had before read again), and
    /// the upload is bound only if that MD5 is the file's.
    async fn send_from(&self, job: &Job, session: &mut Partial) -> Result<Uploaded, UploadError> {
        let media = &job.media;
        let files = self.client.files();
        let changed = |_| UploadError::Changed(media.path.clone());
        let mut whole: Option<Md5> = None;
        (self.on_progress)(job, session.next_offset);
        while session.file_id.is_none() && session.next_offset < media.size {
            unchanged_size(media)?;
            let start = session.next_offset;
            let end = session.next_end.min(media.size);
            if end <= start {
                return Err(inconsistent(format!(
                    "a chunk [{start}, {}) of a file of {} bytes",
                    session.next_end, media.size
                )));
            }
            let on_grid = whole
                .is_none()
                .then(|| grid_md5(media, start, end))
                .flatten();
            let chunk_md5 = match on_grid {
                Some(md5) => md5,
                None => {
                    let before = match whole.take() {
                        Some(hasher) => hasher,
                        None => {
                            let [prefix] = hash_range(&media.path, 0, start, [Md5::new()])
                                .await
                                .map_err(changed)?;
                            prefix
                        }
                    };
                    let (md5, with_chunk) = hash_chunk(&media.path, start, end - start, &before)
                        .await
                        .map_err(changed)?;
                    whole = Some(with_chunk);
                    md5
                }
            };
            let next = self.transfer(job, session, start, end, &chunk_md5).await?;
            if next.start_offset != end.min(media.size) {
                return Err(inconsistent(format!(
                    "after the chunk [{start}, {end}) TikTok asks for [{}, {})",
                    next.start_offset, next.end_offset
                )));
            }
            session.next_offset = next.start_offset;
            session.next_end = next.end_offset;
            self.records
                .set_partial(&job.advertiser, &media.md5, Some(session.clone()))?;
            (self.on_progress)(job, session.next_offset);
        }
        if let Some(whole) = whole
            && hex(&whole.finalize()) != media.md5
        {
            self.records
                .set_partial(&job.advertiser, &media.md5, None)?;
            return Err(UploadError::Changed(media.path.clone()));
        }
        let file_id = match &session.file_id {
            Some(id) => id.clone(),
            None => {
                let id = files
                    .finish_chunked(&job.advertiser, &session.upload_id)
                    .await?;
                session.file_id = Some(id.clone());
                self.records
                    .set_partial(&job.advertiser, &media.md5, Some(session.clone()))?;
                id
            }
        };
        Ok(files
            .bind(media.kind, &job.advertiser, &job.name, &file_id)
            .await?)
    }

    /// One chunk at `start`: sent again once when TikTok says it arrived damaged (and the file
    /// has not changed).
    async fn transfer(
        &self,
        job: &Job,
        session: &Partial,
        start: u64,
        end: u64,
        chunk_md5: &str,
    ) -> Result<ChunkRange, UploadError> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let source = PartSource::Range {
                path: job.media.path.clone(),
                offset: start,
                len: end - start,
            };
            let sent = self
                .client
                .files()
                .transfer_chunk(
                    &job.advertiser,
                    &session.upload_id,
                    start,
                    chunk_md5,
                    source,
                )
                .await;
            match sent {
                Err(e) if e.code() == Some(SIGNATURE_MISMATCH) => {
                    let (again, _) = hash_chunk(&job.media.path, start, end - start, &Md5::new())
                        .await
                        .map_err(|_| UploadError::Changed(job.media.path.clone()))?;
                    if again != chunk_md5 {
                        return Err(UploadError::Changed(job.media.path.clone()));
                    }
                    if attempts >= 2 {
                        return Err(e.into());
                    }
                }
                other => return Ok(other?),
            }
        }
    }
}

/// The MD5 taken at read time of `[start, end)`, when that is one chunk of the 20 MiB grid.
fn grid_md5(media: &Media, start: u64, end: u64) -> Option<String> {
    let grid = super::media::CHUNK_GRID;
    let index = usize::try_from(start / grid).ok()?;
    let aligned = start.is_multiple_of(grid) && end == (start + grid).min(media.size);
    aligned
        .then(|| media.chunk_md5s.get(index).cloned())
        .flatten()
}

/// Whether a recorded session is young enough for TikTok to still have it.
fn fresh(partial: &Partial) -> bool {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    now.saturating_sub(partial.started_at) < SESSION_LIFE.as_secs()
}

fn inconsistent(detail: String) -> UploadError {
    UploadError::Api(ApiError::Inconsistent {
        endpoint: crate::api::file::TRANSFER_PATH.to_string(),
        detail,
    })
}

/// Refuses a file whose size is no longer the one fingerprinted.
fn unchanged_size(media: &Media) -> Result<(), UploadError> {
    match std::fs::metadata(&media.path) {
        Ok(meta) if meta.len() == media.size => Ok(()),
        _ => Err(UploadError::Changed(media.path.clone())),
    }
}

/// Refuses a file whose bytes are no longer the ones fingerprinted.
async fn unchanged(media: &Media) -> Result<(), UploadError> {
    let path = media.path.clone();
    let now = tokio::task::spawn_blocking(move || super::media::fingerprint(&path))
        .await
        .map_err(anyhow::Error::from)?;
    match now {
        Ok((size, md5)) if size == media.size && md5 == media.md5 => Ok(()),
        _ => Err(UploadError::Changed(media.path.clone())),
    }
}

/// `len` bytes of the file from `offset`, read once off the runtime's threads, added to each
/// of `hashers`.
async fn hash_range<const N: usize>(
    path: &Path,
    offset: u64,
    len: u64,
    hashers: [Md5; N],
) -> std::io::Result<[Md5; N]> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        use std::io::{Read, Seek, SeekFrom};
        let mut hashers = hashers;
        let mut file = std::fs::File::open(&path)?;
        file.seek(SeekFrom::Start(offset))?;
        let mut left = len;
        let mut buffer = vec![0u8; 1024 * 1024];
        while left > 0 {
            let want = buffer
                .len()
                .min(usize::try_from(left).unwrap_or(usize::MAX));
            let n = file.read(&mut buffer[..want])?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            for hasher in &mut hashers {
                hasher.update(&buffer[..n]);
            }
            left -= n as u64;
        }
        Ok(hashers)
    })
    .await
    .map_err(std::io::Error::other)?
}

/// A chunk's own MD5, and `whole` continued with the chunk.
async fn hash_chunk(
    path: &Path,
    offset: u64,
    len: u64,
    whole: &Md5,
) -> std::io::Result<(String, Md5)> {
    let [chunk, continued] = hash_range(path, offset, len, [Md5::new(), whole.clone()]).await?;
    Ok((hex(&chunk.finalize()), continued))
}

/// The first item of a search, if any.
async fn first_match(
    pages: impl futures_util::Stream<Item = Result<Page<Map<String, Value>>, ApiError>>,
) -> Result<Option<Map<String, Value>>, ApiError> {
    use futures_util::StreamExt;
    let mut pages = std::pin::pin!(pages);
    match pages.next().await {
        Some(page) => Ok(page?.list.into_iter().next()),
        None => Ok(None),
    }
}

fn text(item: &Map<String, Value>, field: &str) -> Option<String> {
    match item.get(field)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}
