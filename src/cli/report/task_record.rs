//! What `report task create` remembers of each task it made (advertiser, spec, dates), so that
//! `report task download` can later check the download against TikTok's own row count. Kept
//! under the state directory, one small JSON file per task; tasks expire at TikTok after 30
//! days, and so do these files.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use crate::api::ids::is_valid_id;
use crate::report::spec::TaskRecord;

/// TikTok keeps tasks 30 days; a day more covers time zones.
const KEEP: Duration = Duration::from_secs(31 * 24 * 3600);

fn dir() -> Option<PathBuf> {
    crate::config::state_dir().ok().map(|d| d.join("tasks"))
}

fn path(task_id: &str) -> Option<PathBuf> {
    // Task IDs are digits; anything else never becomes part of a path.
    is_valid_id(task_id)
        .then(dir)
        .flatten()
        .map(|d| d.join(format!("{task_id}.json")))
}

/// Remembers a task; an error says why it could not (the caller decides how loudly).
pub(crate) fn save(task_id: &str, record: &TaskRecord) -> anyhow::Result<()> {
    let path = path(task_id).ok_or_else(|| anyhow::anyhow!("no place to keep task {task_id}"))?;
    let text = serde_json::to_vec(record)?;
    crate::fsutil::write_private_atomic(&path, &text)?;
    prune();
    Ok(())
}

/// The record of a task made on this machine, if there is one.
pub(crate) fn load(task_id: &str) -> Option<TaskRecord> {
    let text = std::fs::read(path(task_id)?).ok()?;
    serde_json::from_slice(&text).ok()
}

/// Drops the records of tasks TikTok no longer keeps.
fn prune() {
    let Some(entries) = dir().and_then(|d| std::fs::read_dir(d).ok()) else {
        return;
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|modified| now.duration_since(modified).ok())
            .is_some_and(|age| age > KEEP);
        if old {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}
