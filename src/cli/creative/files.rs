//! What the creative commands share: the local record of this host, the files given (checked
//! before anything is sent: exit 2 names each bad one), the jobs they make, and a file or an
//! ID given to `ad create` made into an ID of the library.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::{Context as _, Result};

use crate::api::Client;
use crate::api::file::MediaKind;
use crate::cli::context::Context;
use crate::cli::errors::usage;
use crate::cli::settings::check_advertiser_id;
use crate::creative::media::{self, Media};
use crate::creative::name;
use crate::creative::record::Records;
use crate::creative::upload::{Job, Uploader};
use crate::creative::wait::{VideoState, WaitOptions, wait_until_ready};

/// The record of uploads to this run's host (`<state dir>/uploads/<environment@host>/`).
pub(super) fn records(ctx: &Context) -> Result<Records> {
    Ok(Records::new(crate::cli::scope::state_subdir(
        ctx, "uploads",
    )?))
}

/// The ad accounts to upload to: `--advertiser` (several allowed), else the profile's.
pub(super) fn advertisers(ctx: &Context) -> Result<Vec<String>> {
    let given = ctx.settings.advertisers_given();
    if given.is_empty() {
        return Err(usage(
            "no advertiser: pass --advertiser ID (several: --advertiser A,B), set \
             TIKTOK_ADVERTISER_ID, or run `tiktok-ads config set advertiser_id ID`",
        ));
    }
    for id in &given {
        check_advertiser_id(id)?;
    }
    let mut seen = std::collections::HashSet::new();
    Ok(given
        .into_iter()
        .filter(|id| seen.insert(id.clone()))
        .collect())
}

/// The files `paths` name, recognised, checked and fingerprinted (read once, off the
/// runtime). Every problem is said at once, one line per file, as a usage error.
pub(super) async fn inspect(paths: Vec<PathBuf>, recursive: bool) -> Result<Vec<Media>> {
    tokio::task::spawn_blocking(move || {
        let files = media::collect(&paths, recursive).map_err(|e| usage(e.to_string()))?;
        let mut found = Vec::new();
        let mut problems = Vec::new();
        for file in files {
            match media::inspect(&file) {
                Ok(m) => found.push(m),
                Err(e) => problems.push(e.to_string()),
            }
        }
        if problems.is_empty() {
            Ok(found)
        } else {
            Err(usage(problems.join("\n")))
        }
    })
    .await
    .context("reading the files")?
}

/// One job per file and account, named by `template`. Two different files that the template
/// would give the same name are refused (TikTok would refuse the second).
pub(super) fn jobs(media: &[Media], advertisers: &[String], template: &str) -> Result<Vec<Job>> {
    let mut named: HashMap<(MediaKind, String), &Media> = HashMap::new();
    let mut problems = Vec::new();
    let mut names = Vec::with_capacity(media.len());
    for m in media {
        match name::render(template, &m.path, &m.md5) {
            Ok(n) => {
                if let Some(other) = named.get(&(m.kind, n.clone()))
                    && other.md5 != m.md5
                {
                    problems.push(format!(
                        "{} and {} would both be named {n:?} in the library: use a --name \
                         template with {{md5}}",
                        other.path.display(),
                        m.path.display()
                    ));
                }
                named.entry((m.kind, n.clone())).or_insert(m);
                names.push(n);
            }
            Err(e) => problems.push(e.to_string()),
        }
    }
    if !problems.is_empty() {
        return Err(usage(problems.join("\n")));
    }
    Ok(advertisers
        .iter()
        .flat_map(|advertiser| {
            media.iter().zip(&names).map(|(m, n)| Job {
                media: m.clone(),
                advertiser: advertiser.clone(),
                name: n.clone(),
            })
        })
        .collect())
}

/// A `--video`/`--cover` value: a file on disk, or an ID of the library.
#[derive(Debug, Clone)]
pub(crate) enum MediaRef {
    File(PathBuf),
    Id(String),
}

impl MediaRef {
    /// A path that exists is a file; anything else an ID.
    pub(crate) fn parse(value: &str) -> Self {
        let path = PathBuf::from(value);
        if path.exists() {
            MediaRef::File(path)
        } else {
            MediaRef::Id(value.to_string())
        }
    }
}

/// The library ID of `reference` for `advertiser`: an ID as given; a file found in the local
/// record, else uploaded now (named by the default template) and, for a video, waited for
/// until TikTok has processed it. With `client` `None` (a dry run) nothing is sent: a file
/// not in the record is said and stands as a placeholder.
pub(crate) async fn resolve_media(
    ctx: &Context,
    client: Option<&Client>,
    advertiser: &str,
    reference: &MediaRef,
    kind: MediaKind,
) -> Result<String> {
    let path = match reference {
        MediaRef::Id(id) => return Ok(id.clone()),
        MediaRef::File(path) => path.clone(),
    };
    let found = inspect(vec![path.clone()], false).await?;
    let Some(file) = found.into_iter().next() else {
        return Err(usage(format!(
            "{}: holds no image or video",
            path.display()
        )));
    };
    if file.kind != kind {
        let article = |k: MediaKind| match k {
            MediaKind::Image => "an image",
            MediaKind::Video => "a video",
        };
        return Err(usage(format!(
            "{}: {}, where {} is needed",
            path.display(),
            article(file.kind),
            article(kind)
        )));
    }
    let records = records(ctx)?;
    let Some(client) = client else {
        return Ok(match records.get(advertiser, &file.md5)? {
            Some(entry) => entry.id,
            None => {
                ctx.notice(&format!(
                    "would upload {} ({} bytes, MD5 {}) to ad account {advertiser}",
                    path.display(),
                    file.size,
                    file.md5
                ));
                format!("<{} of {}>", kind.id_field(), path.display())
            }
        });
    };
    let job = jobs(&[file], &[advertiser.to_string()], name::DEFAULT_TEMPLATE)?
        .into_iter()
        .next()
        .context("no upload job")?;
    let bar = ctx.progress();
    bar.set_message(format!("uploading {}", path.display()));
    let on_progress = |_: &Job, _: u64| {};
    let uploader = Uploader::new(client, &records, false, &on_progress);
    let outcome = uploader
        .upload(&job)
        .await
        .map_err(super::upload::upload_error)?;
    if kind == MediaKind::Video {
        bar.set_message(format!("waiting for TikTok to process {}", path.display()));
        let options = WaitOptions {
            poll_first: std::time::Duration::from_secs(3),
            timeout: std::time::Duration::from_secs(600),
        };
        let states = wait_until_ready(
            client,
            advertiser,
            std::slice::from_ref(&outcome.id),
            &options,
            &|_| {},
        )
        .await?;
        bar.finish_and_clear();
        match states.get(&outcome.id) {
            Some(VideoState::Ready(_)) => {}
            Some(state) => {
                return Err(anyhow::anyhow!(
                    "video {} ({}) is {} at TikTok after 600 s: {}",
                    outcome.id,
                    path.display(),
                    state.word(),
                    super::wait::advice(state, &outcome.id)
                ));
            }
            None => {}
        }
    } else {
        bar.finish_and_clear();
    }
    Ok(outcome.id)
}
