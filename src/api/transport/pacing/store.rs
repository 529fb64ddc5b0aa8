//! Where the pacing state lives: in a small file shared by every tiktok-ads process of the
//! same app (changed under an advisory lock held for microseconds, never across a wait), in a
//! store shared by processes on several machines (a database table, given by the caller), or
//! in memory when there is neither or it cannot be used.

use std::io::{Read, Seek, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::schedule::State;

/// A place outside this process that holds the app's pacing state as bytes, for processes that
/// do not share a state directory (several machines, containers). One exchange reads the
/// bytes, hands them to `change` and stores what it returns, as one atomic step; a store that
/// finds the bytes changed by another process in between may call `change` again with the new
/// ones (the last call's result is what was stored). It must not wait for long: an error
/// makes the process pace alone.
pub trait SharedState: Send + Sync {
    fn exchange(
        &self,
        change: &mut dyn FnMut(Option<&[u8]>) -> Vec<u8>,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>>;

    /// The bytes as they are, changing nothing (for `doctor`).
    fn read(&self) -> Result<Option<Vec<u8>>, Box<dyn std::error::Error + Send + Sync>>;

    /// Where it is, for messages (no secret in it).
    fn describe(&self) -> String;
}

pub(super) enum Store {
    Memory(Mutex<State>),
    /// A store shared beyond this machine; what cannot be done with it is done in memory.
    Shared {
        shared: Arc<dyn SharedState>,
        fallback: Mutex<State>,
        failed: AtomicBool,
    },
    /// A file shared by processes; what cannot be done with it is done in memory instead.
    File {
        path: PathBuf,
        fallback: Mutex<State>,
        failed: AtomicBool,
        /// This process's turn at the file: its threads queue here rather than on the file
        /// lock, whose waits are polls. It holds the file, opened once (the directory made
        /// once) rather than for every request.
        turn: Mutex<Option<std::fs::File>>,
    },
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl Store {
    pub(super) fn memory() -> Self {
        Store::Memory(Mutex::new(State::default()))
    }

    pub(super) fn file(path: PathBuf) -> Self {
        Store::File {
            path,
            fallback: Mutex::new(State::default()),
            failed: AtomicBool::new(false),
            turn: Mutex::new(None),
        }
    }

    pub(super) fn shared(shared: Arc<dyn SharedState>) -> Self {
        Store::Shared {
            shared,
            fallback: Mutex::new(State::default()),
            failed: AtomicBool::new(false),
        }
    }

    /// Whether the state is shared with other processes right now.
    pub(super) fn is_shared(&self) -> bool {
        match self {
            Store::Memory(_) => false,
            Store::File { failed, .. } | Store::Shared { failed, .. } => {
                !failed.load(Ordering::Relaxed)
            }
        }
    }

    /// Where the state is kept, for `doctor`.
    pub(super) fn describe(&self) -> String {
        match self {
            Store::Memory(_) => "this process alone".to_string(),
            Store::File { path, failed, .. } if !failed.load(Ordering::Relaxed) => {
                format!("the file {}", path.display())
            }
            Store::Shared { shared, failed, .. } if !failed.load(Ordering::Relaxed) => {
                shared.describe()
            }
            Store::File { path, .. } => format!("this process alone ({} unusable)", path.display()),
            Store::Shared { shared, .. } => {
                format!("this process alone ({} unusable)", shared.describe())
            }
        }
    }

    /// Reads the state, changes it, writes it back — one process at a time. `change` may run
    /// more than once (a shared store that met another process's change runs it again).
    pub(super) fn update<T>(&self, mut change: impl FnMut(&mut State) -> T) -> T {
        let (path, fallback, failed, turn) = match self {
            Store::Memory(state) => return change(&mut lock(state)),
            Store::Shared {
                shared,
                fallback,
                failed,
            } => return update_shared(shared.as_ref(), fallback, failed, change),
            Store::File {
                path,
                fallback,
                failed,
                turn,
            } => (path, fallback, failed, turn),
        };
        let mut held = lock(turn);
        if failed.load(Ordering::Relaxed) {
            return change(&mut lock(fallback));
        }
        let give_up = |e: std::io::Error| {
            failed.store(true, Ordering::Relaxed);
            pacing_alone(&format!("the file {}", path.display()), &e);
        };
        let file = match locked(&mut held, path) {
            Ok(file) => file,
            Err(e) => {
                give_up(e);
                return change(&mut lock(fallback));
            }
        };
        // A missing, empty or unreadable state (say, cut by a crash) starts afresh.
        let mut bytes = Vec::new();
        let mut state: State = match file.rewind().and_then(|()| file.read_to_end(&mut bytes)) {
            Ok(_) => decode(&bytes).unwrap_or_default(),
            Err(_) => State::default(),
        };
        let value = change(&mut state);
        if let Err(e) = rewrite(file, &state) {
            give_up(e);
            *lock(fallback) = state;
        }
        if let Err(e) = file.unlock() {
            give_up(e);
            *held = None;
        }
        value
    }

    /// The state as it is (for `doctor`), without changing it.
    pub(super) fn read(&self) -> State {
        match self {
            Store::Memory(state) => lock(state).clone(),
            Store::Shared { shared, .. } => shared
                .read()
                .ok()
                .flatten()
                .and_then(|bytes| decode(&bytes))
                .unwrap_or_default(),
            Store::File { path, .. } => std::fs::read(path)
                .ok()
                .and_then(|bytes| decode(&bytes))
                .unwrap_or_default(),
        }
    }
}

/// The one notice of a process that paces alone because its shared state (`place`) cannot be
/// used.
pub fn pacing_alone(place: &str, why: &dyn std::fmt::Display) {
    tracing::warn!(
        "the shared pacing state in {place} cannot be used ({why}): pacing this process alone, \
         so other runs of the same app may trip TikTok's rate limit"
    );
}

/// One change through a shared store; on its first failure the process paces alone (one
/// notice), so a database that went away never fails the job.
fn update_shared<T>(
    shared: &dyn SharedState,
    fallback: &Mutex<State>,
    failed: &AtomicBool,
    mut change: impl FnMut(&mut State) -> T,
) -> T {
    if failed.load(Ordering::Relaxed) {
        return change(&mut lock(fallback));
    }
    let mut value = None;
    // What the store held before the change, carried on in memory if it cannot take it.
    let mut before = State::default();
    let exchanged = shared.exchange(&mut |bytes| {
        let mut state = bytes.and_then(decode).unwrap_or_default();
        before = state.clone();
        value = Some(change(&mut state));
        encode(&state).unwrap_or_default()
    });
    match (exchanged, value) {
        (Ok(()), Some(value)) => value,
        (result, _) => {
            if !failed.swap(true, Ordering::Relaxed) {
                let why = result
                    .err()
                    .map_or_else(|| "no answer".to_string(), |e| e.to_string());
                pacing_alone(&shared.describe(), &why);
            }
            let mut fallback = lock(fallback);
            *fallback = before;
            change(&mut fallback)
        }
    }
}

/// What starts a state file of this format (another format reads as no state).
const MAGIC: &[u8; 8] = b"ttpace2\n";

/// The state as stored: compact binary (postcard), since every claim reads and writes it.
pub(super) fn encode(state: &State) -> Result<Vec<u8>, postcard::Error> {
    let mut bytes = MAGIC.to_vec();
    postcard::to_io(state, &mut bytes)?;
    Ok(bytes)
}

pub(super) fn decode(bytes: &[u8]) -> Option<State> {
    postcard::from_bytes(bytes.strip_prefix(MAGIC.as_slice())?).ok()
}

/// The state file, created owner-only (with its directory) when missing.
fn open(path: &PathBuf) -> std::io::Result<std::fs::File> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// The held state file under an exclusive lock: opened on first use, and again when it was
/// removed meanwhile (someone cleared the state directory: the others use a new file).
fn locked<'f>(
    held: &'f mut Option<std::fs::File>,
    path: &PathBuf,
) -> std::io::Result<&'f mut std::fs::File> {
    #[cfg(unix)]
    let removed = |file: &std::fs::File| {
        use std::os::unix::fs::MetadataExt;
        !file.metadata().is_ok_and(|m| m.nlink() > 0)
    };
    #[cfg(not(unix))]
    let removed = |_: &std::fs::File| false;
    if held.as_ref().is_none_or(removed) {
        *held = Some(open(path)?);
    }
    let Some(file) = held.as_mut() else {
        return Err(std::io::Error::other("the state file is not open"));
    };
    lock_file(file)?;
    Ok(file)
}

/// An exclusive lock on `file`, waited for at most 2 s.
fn lock_file(file: &std::fs::File) -> std::io::Result<()> {
    // The lock is held for microseconds; one held for long belongs to a process that hangs, and
    // must not hang this one.
    let give_up = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(()),
            Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < give_up => {
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(std::io::Error::other("its lock has been held for over 2 s"));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(e),
        }
    }
}

/// Writes the state over the old one, then cuts what is left of it. Not truncate-then-write:
/// on ext4 a file truncated to zero and rewritten is flushed to disk when closed, which made
/// every request wait for the disk.
fn rewrite(file: &mut std::fs::File, state: &State) -> std::io::Result<()> {
    let text = encode(state).map_err(std::io::Error::other)?;
    file.rewind()?;
    file.write_all(&text)?;
    file.set_len(text.len() as u64)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::api::transport::pacing::EndpointLimit;

    const KEY: &str = "report_integrated_get";

    /// A state after `n` claims by three clients at 1,000 a second.
    fn busy(n: u64) -> State {
        let limit = EndpointLimit::one_window(1000, Duration::from_secs(60));
        let mut state = State::default();
        for i in 0..n {
            state.claim(KEY, &limit, 1_796_663_896_000 + i, 1 + i % 3);
        }
        state.rejected(
            KEY,
            &limit,
            1_796_663_896_000 + n,
            None,
            Duration::from_secs(1),
        );
        state
    }

    #[test]
    fn the_stored_state_reads_back_as_it_was_and_stays_small() {
        let state = busy(4000);
        let bytes = encode(&state).unwrap();
        let back = decode(&bytes).expect("its own format reads back");
        // Both sides compared through one rendering of every field.
        assert_eq!(format!("{back:?}"), format!("{state:?}"));
        assert_eq!(
            back.standings(1_796_663_900_000),
            state.standings(1_796_663_900_000)
        );
        // A few bytes a send: the JSON of the same log took 147 kB.
        assert!(bytes.len() < 4000 * 4, "{} bytes", bytes.len());
    }

    #[test]
    fn a_state_in_another_format_or_cut_short_reads_as_none() {
        assert!(decode(br#"{"endpoints":{}}"#).is_none());
        let bytes = encode(&busy(100)).unwrap();
        assert!(decode(&bytes[..bytes.len() / 2]).is_none());
        assert!(decode(b"").is_none());
    }
}
