//! Multipart bodies (uploads), described rather than built, so that each attempt of the one
//! request path sends them anew: a file part is read from disk again for every attempt and
//! streamed, never held whole in memory.

use std::path::PathBuf;

use bytes::Bytes;
use futures_util::stream;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// The fields of a `multipart/form-data` body, and at most one file part.
#[derive(Debug, Clone, Default)]
pub struct Form {
    fields: Vec<(&'static str, String)>,
    file: Option<FilePart>,
}

#[derive(Debug, Clone)]
struct FilePart {
    field: &'static str,
    file_name: String,
    source: PartSource,
}

/// Where a file part's bytes come from.
#[derive(Debug, Clone)]
pub enum PartSource {
    /// Bytes already in memory (shared, not copied per attempt).
    Bytes(Bytes),
    /// `len` bytes of the file at `path` from `offset`, read as they are sent.
    Range {
        path: PathBuf,
        offset: u64,
        len: u64,
    },
}

/// Bytes read at a time from a file part.
const READ_SIZE: usize = 64 * 1024;

impl Form {
    pub fn new() -> Self {
        Self::default()
    }

    /// A text field.
    pub fn text(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.fields.push((name, value.into()));
        self
    }

    /// The file part, sent after the text fields.
    pub fn file(
        mut self,
        field: &'static str,
        file_name: impl Into<String>,
        source: PartSource,
    ) -> Self {
        self.file = Some(FilePart {
            field,
            file_name: file_name.into(),
            source,
        });
        self
    }

    /// The body of one attempt.
    pub(crate) async fn build(&self) -> std::io::Result<reqwest::multipart::Form> {
        let mut form = reqwest::multipart::Form::new();
        for (name, value) in &self.fields {
            form = form.text(*name, value.clone());
        }
        if let Some(part) = &self.file {
            let (body, len) = match &part.source {
                PartSource::Bytes(bytes) => {
                    (reqwest::Body::from(bytes.clone()), bytes.len() as u64)
                }
                PartSource::Range { path, offset, len } => {
                    let mut file = tokio::fs::File::open(path).await?;
                    file.seek(std::io::SeekFrom::Start(*offset)).await?;
                    (
                        reqwest::Body::wrap_stream(read_range(file.take(*len))),
                        *len,
                    )
                }
            };
            let file_part = reqwest::multipart::Part::stream_with_length(body, len)
                .file_name(part.file_name.clone())
                .mime_str("application/octet-stream")
                .map_err(std::io::Error::other)?;
            form = form.part(part.field, file_part);
        }
        Ok(form)
    }
}

/// A file range as a stream of chunks.
fn read_range(
    reader: tokio::io::Take<tokio::fs::File>,
) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    stream::try_unfold(reader, |mut reader| async move {
        let mut buffer = vec![0u8; READ_SIZE];
        let n = reader.read(&mut buffer).await?;
        if n == 0 {
            return Ok(None);
        }
        buffer.truncate(n);
        Ok(Some((Bytes::from(buffer), reader)))
    })
}
