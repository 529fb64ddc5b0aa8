//! The files a user gives to upload: found (a directory uploads what it holds), recognised by
//! their bytes rather than their extension, checked against TikTok's limits, and fingerprinted
//! (size and MD5, read once, streaming: memory stays flat whatever the size).

use std::io::Read;
use std::path::{Path, PathBuf};

use md5::{Digest, Md5};

use crate::api::file::MediaKind;

/// Largest image TikTok takes.
pub const IMAGE_MAX_BYTES: u64 = 50 * 1024 * 1024;
/// Most pixels (width × height) of an image TikTok takes (1440 × 2560).
pub const IMAGE_MAX_PIXELS: u64 = 3_686_400;

/// The chunk size TikTok's file repository asks for (20 MiB): files bigger than one chunk
/// also get the MD5 of each such chunk when they are read.
pub const CHUNK_GRID: u64 = 20 * 1024 * 1024;

/// A file ready to upload.
#[derive(Debug, Clone)]
pub struct Media {
    pub path: PathBuf,
    pub kind: MediaKind,
    /// `jpeg`, `png`, `mp4`, `mov`, `mpeg`, `avi`, `3gp`.
    pub format: &'static str,
    pub size: u64,
    /// Lowercase hex, as TikTok's `signature`.
    pub md5: String,
    /// For files over one [`CHUNK_GRID`]: the MD5 of each 20 MiB chunk, taken in the same read
    /// as the whole file's. Sent as the chunks' signatures, they let TikTok prove that every
    /// byte it takes is the byte read here (a file changed since is refused chunk by chunk).
    pub chunk_md5s: Vec<String>,
}

/// Why a file cannot be uploaded; each says what to do.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("{0}: no such file or directory")]
    Missing(PathBuf),
    #[error("{0}: cannot be read ({1})")]
    Unreadable(PathBuf, String),
    #[error("{0}: a symbolic link that leads back to itself")]
    SymlinkLoop(PathBuf),
    #[error("{0}: holds no image or video (add --recursive to look in its subdirectories)")]
    NoMedia(PathBuf),
    #[error("{0}: the file is empty")]
    Empty(PathBuf),
    #[error(
        "{0}: not an image (JPG, PNG) or a video (MP4, MOV, MPEG, AVI, 3GP), whatever its name says{1}"
    )]
    NotMedia(PathBuf, String),
    #[error("{0}: {1} bytes, over TikTok's 50 MB for an image: make it smaller")]
    ImageTooLarge(PathBuf, u64),
    #[error(
        "{0}: {1} × {2} pixels, over TikTok's 3,686,400 (1440 × 2560) for an image: scale it down"
    )]
    TooManyPixels(PathBuf, u64, u64),
}

/// The files `paths` name: files as given, the media files of directories (of their
/// subdirectories too with `recursive`), each once, in order.
pub fn collect(paths: &[PathBuf], recursive: bool) -> Result<Vec<PathBuf>, MediaError> {
    let mut files = Vec::new();
    for path in paths {
        let meta = metadata(path)?;
        if meta.is_dir() {
            let before = files.len();
            walk(path, recursive, &mut files)?;
            if files.len() == before {
                return Err(MediaError::NoMedia(path.clone()));
            }
        } else {
            files.push(path.clone());
        }
    }
    let mut seen = std::collections::HashSet::new();
    files.retain(|f| seen.insert(std::fs::canonicalize(f).unwrap_or_else(|_| f.clone())));
    Ok(files)
}

/// A path's metadata (through links), with a loop of links said as such.
fn metadata(path: &Path) -> Result<std::fs::Metadata, MediaError> {
    std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound if std::fs::symlink_metadata(path).is_ok() => {
            MediaError::Missing(path.to_path_buf())
        }
        std::io::ErrorKind::NotFound => MediaError::Missing(path.to_path_buf()),
        _ if e.raw_os_error() == Some(40) => MediaError::SymlinkLoop(path.to_path_buf()),
        _ => MediaError::Unreadable(path.to_path_buf(), e.to_string()),
    })
}

/// The media files of `dir` (by their first bytes), sorted by name.
fn walk(dir: &Path, recursive: bool, into: &mut Vec<PathBuf>) -> Result<(), MediaError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| MediaError::Unreadable(dir.to_path_buf(), e.to_string()))?;
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            if recursive {
                walk(&path, recursive, into)?;
            }
        } else if meta.is_file() && sniff(&head(&path).unwrap_or_default()).is_some() {
            into.push(path);
        }
    }
    Ok(())
}

/// The first bytes of a file (enough to recognise it and read an image's size).
fn head(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut buffer = vec![0u8; 64 * 1024];
    let n = read_full(&mut std::fs::File::open(path)?, &mut buffer)?;
    buffer.truncate(n);
    Ok(buffer)
}

/// What the bytes are: an image or a video TikTok takes, and its format.
pub fn sniff(head: &[u8]) -> Option<(MediaKind, &'static str)> {
    use infer::{image, video};
    if image::is_jpeg(head) {
        Some((MediaKind::Image, "jpeg"))
    } else if image::is_png(head) {
        Some((MediaKind::Image, "png"))
    } else if is_3gp(head) {
        Some((MediaKind::Video, "3gp"))
    } else if video::is_mov(head) {
        Some((MediaKind::Video, "mov"))
    } else if video::is_mp4(head) || video::is_m4v(head) {
        Some((MediaKind::Video, "mp4"))
    } else if video::is_mpeg(head) {
        Some((MediaKind::Video, "mpeg"))
    } else if video::is_avi(head) {
        Some((MediaKind::Video, "avi"))
    } else {
        None
    }
}

/// 3GPP: an ISO media file whose brand is `3gp…` or `3g2…`.
fn is_3gp(head: &[u8]) -> bool {
    head.len() > 11 && &head[4..8] == b"ftyp" && &head[8..10] == b"3g"
}

/// Recognises, checks and fingerprints one file.
pub fn inspect(path: &Path) -> Result<Media, MediaError> {
    let meta = metadata(path)?;
    if meta.len() == 0 {
        return Err(MediaError::Empty(path.to_path_buf()));
    }
    let head = head(path).map_err(|e| MediaError::Unreadable(path.to_path_buf(), e.to_string()))?;
    let Some((kind, format)) = sniff(&head) else {
        let seen = infer::get(&head)
            .map(|t| format!(" (it is {})", t.mime_type()))
            .unwrap_or_default();
        return Err(MediaError::NotMedia(path.to_path_buf(), seen));
    };
    if kind == MediaKind::Image {
        if meta.len() > IMAGE_MAX_BYTES {
            return Err(MediaError::ImageTooLarge(path.to_path_buf(), meta.len()));
        }
        if let Ok(size) = imagesize::blob_size(&head) {
            let (w, h) = (size.width as u64, size.height as u64);
            if w * h > IMAGE_MAX_PIXELS {
                return Err(MediaError::TooManyPixels(path.to_path_buf(), w, h));
            }
        }
    }
    let grid = (meta.len() > CHUNK_GRID).then_some(CHUNK_GRID);
    let print = fingerprint_chunked(path, grid)
        .map_err(|e| MediaError::Unreadable(path.to_path_buf(), e.to_string()))?;
    Ok(Media {
        path: path.to_path_buf(),
        kind,
        format,
        size: print.size,
        md5: print.md5,
        chunk_md5s: print.chunk_md5s,
    })
}

/// A file's size, MD5 and the MD5s of its chunks.
pub struct Fingerprint {
    pub size: u64,
    pub md5: String,
    pub chunk_md5s: Vec<String>,
}

/// Reads the file once: its MD5 on this thread, the MD5 of each `grid`-sized chunk on a
/// second one fed the same buffers (the two hashes take as long as one on two cores).
pub fn fingerprint_chunked(path: &Path, grid: Option<u64>) -> std::io::Result<Fingerprint> {
    let Some(grid) = grid.filter(|g| *g > 0) else {
        let (size, md5) = fingerprint(path)?;
        return Ok(Fingerprint {
            size,
            md5,
            chunk_md5s: Vec::new(),
        });
    };
    let mut file = std::fs::File::open(path)?;
    let (to_chunks, blocks) = std::sync::mpsc::sync_channel::<std::sync::Arc<Vec<u8>>>(4);
    std::thread::scope(|scope| {
        let chunker = scope.spawn(move || {
            let mut md5s = Vec::new();
            let (mut hasher, mut filled) = (Md5::new(), 0u64);
            for block in blocks {
                let mut rest: &[u8] = &block;
                while !rest.is_empty() {
                    let take = rest
                        .len()
                        .min(usize::try_from(grid - filled).unwrap_or(usize::MAX));
                    hasher.update(&rest[..take]);
                    filled += take as u64;
                    rest = &rest[take..];
                    if filled == grid {
                        md5s.push(hex(&std::mem::take(&mut hasher).finalize()));
                        filled = 0;
                    }
                }
            }
            if filled > 0 {
                md5s.push(hex(&hasher.finalize()));
            }
            md5s
        });
        let mut whole = Md5::new();
        let mut size = 0u64;
        let read = (|| loop {
            let mut buffer = vec![0u8; 1024 * 1024];
            let n = read_full(&mut file, &mut buffer)?;
            if n == 0 {
                return Ok::<_, std::io::Error>(());
            }
            buffer.truncate(n);
            whole.update(&buffer);
            size += n as u64;
            if to_chunks.send(std::sync::Arc::new(buffer)).is_err() {
                return Err(std::io::Error::other("the chunk hasher stopped"));
            }
        })();
        drop(to_chunks);
        let chunk_md5s = chunker
            .join()
            .map_err(|_| std::io::Error::other("the chunk hasher failed"))?;
        read?;
        Ok(Fingerprint {
            size,
            md5: hex(&whole.finalize()),
            chunk_md5s,
        })
    })
}

/// Fills `buffer` as far as the file goes.
fn read_full(file: &mut std::fs::File, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        let n = file.read(&mut buffer[filled..])?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    Ok(filled)
}

/// A file's size and MD5, read once in pieces.
pub fn fingerprint(path: &Path) -> std::io::Result<(u64, String)> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Md5::new();
    let mut buffer = vec![0u8; 1024 * 1024];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        size += n as u64;
    }
    Ok((size, hex(&hasher.finalize())))
}

/// Bytes as lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The smallest PNG header of the given size (enough for the size to be read).
    pub(crate) fn png(width: u32, height: u32) -> Vec<u8> {
        let mut bytes = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
        bytes.extend([0, 0, 0, 13]);
        bytes.extend(b"IHDR");
        bytes.extend(width.to_be_bytes());
        bytes.extend(height.to_be_bytes());
        bytes.extend([8, 6, 0, 0, 0, 0, 0, 0, 0]);
        bytes
    }

    #[test]
    fn files_are_known_by_their_bytes() {
        let mp4 = [&[0, 0, 0, 0x18][..], b"ftypisom", &[0; 8]].concat();
        assert_eq!(sniff(&mp4), Some((MediaKind::Video, "mp4")));
        let three_gp = [&[0, 0, 0, 0x18][..], b"ftyp3gp4", &[0; 8]].concat();
        assert_eq!(sniff(&three_gp), Some((MediaKind::Video, "3gp")));
        let mov = [&[0, 0, 0, 0x14][..], b"ftypqt  ", &[0; 8]].concat();
        assert_eq!(sniff(&mov), Some((MediaKind::Video, "mov")));
        assert_eq!(
            sniff(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some((MediaKind::Image, "jpeg"))
        );
        assert_eq!(sniff(&png(10, 10)), Some((MediaKind::Image, "png")));
        assert_eq!(sniff(b"GIF89a"), None);
        assert_eq!(sniff(b"just text"), None);
    }

    #[test]
    fn images_over_the_limits_are_refused_and_others_fingerprinted() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.png");
        std::fs::write(&big, png(2000, 2000)).unwrap();
        assert!(matches!(
            inspect(&big),
            Err(MediaError::TooManyPixels(_, 2000, 2000))
        ));
        let fine = dir.path().join("fine.dat");
        std::fs::write(&fine, png(720, 1280)).unwrap();
        let media = inspect(&fine).unwrap();
        assert_eq!((media.kind, media.format), (MediaKind::Image, "png"));
        assert_eq!(media.size, 33);
        assert_eq!(media.md5, hex(&Md5::digest(png(720, 1280))));
        let text = dir.path().join("clip.mp4");
        std::fs::write(&text, b"not a video").unwrap();
        assert!(matches!(inspect(&text), Err(MediaError::NotMedia(..))));
        let empty = dir.path().join("empty.mp4");
        std::fs::write(&empty, b"").unwrap();
        assert!(matches!(inspect(&empty), Err(MediaError::Empty(_))));
    }

    #[test]
    fn big_files_get_the_md5_of_each_chunk_in_the_same_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.bin");
        let bytes: Vec<u8> = (0..2_500_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &bytes).unwrap();
        let print = fingerprint_chunked(&path, Some(1_000_000)).unwrap();
        assert_eq!(print.size, 2_500_000);
        assert_eq!(print.md5, hex(&Md5::digest(&bytes)));
        let expected: Vec<String> = bytes
            .chunks(1_000_000)
            .map(|c| hex(&Md5::digest(c)))
            .collect();
        assert_eq!(print.chunk_md5s, expected);
        assert!(
            fingerprint_chunked(&path, None)
                .unwrap()
                .chunk_md5s
                .is_empty()
        );
    }

    #[test]
    fn directories_give_their_media_and_a_loop_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.png"), png(10, 10)).unwrap();
        std::fs::write(dir.path().join("notes.txt"), b"hello").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/b.png"), png(10, 10)).unwrap();
        let flat = collect(&[dir.path().to_path_buf()], false).unwrap();
        assert_eq!(flat, [dir.path().join("a.png")]);
        let deep = collect(&[dir.path().to_path_buf()], true).unwrap();
        assert_eq!(deep.len(), 2);
        let empty = dir.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        assert!(matches!(
            collect(&[empty], true),
            Err(MediaError::NoMedia(_))
        ));
        #[cfg(unix)]
        {
            let a = dir.path().join("loop-a");
            let b = dir.path().join("loop-b");
            std::os::unix::fs::symlink(&b, &a).unwrap();
            std::os::unix::fs::symlink(&a, &b).unwrap();
            assert!(matches!(
                collect(&[a], false),
                Err(MediaError::SymlinkLoop(_))
            ));
        }
    }
}
