//! Where `watch` keeps each account's last snapshot: a JSON file in the state directory (per
//! environment and host), or the database of `--into` (`entity_snapshot`, with every event in
//! `entity_events`). Either way the account's lock file in the state directory is held from
//! reading the old snapshot until the new one is saved.

use std::collections::BTreeMap;

use anyhow::{Context as _, Result};
use serde_json::{Map, Value};

use crate::fsutil::FileLock;
use crate::warehouse::Destination;
use crate::warehouse::watch_tables::{self, StoredEntity, StoredSnapshot};
use crate::watch::store::Snapshots;
use crate::watch::{Event, Level, Snapshot};

#[derive(Clone)]
pub(super) struct Keep {
    snapshots: Snapshots,
    into: Option<Destination>,
}

/// An account's snapshot, held (locked) for this round.
pub(super) struct Held {
    keep: Keep,
    advertiser: String,
    _lock: FileLock,
    pub previous: Option<Snapshot>,
}

impl Keep {
    pub(super) fn new(snapshots: Snapshots, into: Option<Destination>) -> Self {
        Self { snapshots, into }
    }

    /// Where snapshots are, for messages.
    pub(super) fn shown(&self) -> String {
        match &self.into {
            Some(destination) => destination.shown(),
            None => self.snapshots.dir().display().to_string(),
        }
    }

    /// Takes the account's lock (waiting for another watch to finish with it) and reads its
    /// last snapshot.
    pub(super) async fn hold(&self, advertiser: &str) -> Result<Held> {
        let keep = self.clone();
        let advertiser = advertiser.to_string();
        tokio::task::spawn_blocking(move || {
            let lock = keep.snapshots.lock(&advertiser)?;
            let previous = match &keep.into {
                None => keep.snapshots.read(&advertiser)?,
                Some(destination) => watch_tables::load(destination, &advertiser)
                    .with_context(|| format!("reading the snapshot in {}", destination.shown()))?
                    .map(from_stored),
            };
            Ok(Held {
                keep,
                advertiser,
                _lock: lock,
                previous,
            })
        })
        .await
        .context("reading the snapshot")?
    }
}

impl Held {
    /// Saves `snapshot` (with `events`, kept as history in a database). Call it only once the
    /// events are out.
    pub(super) async fn save(&mut self, snapshot: &Snapshot, events: &[Event]) -> Result<()> {
        let keep = self.keep.clone();
        let advertiser = self.advertiser.clone();
        let owned = snapshot.clone();
        let rows: Vec<Map<String, Value>> = events
            .iter()
            .filter_map(|e| match serde_json::to_value(e) {
                Ok(Value::Object(map)) => Some(map),
                _ => None,
            })
            .collect();
        tokio::task::spawn_blocking(move || match &keep.into {
            None => keep.snapshots.write(&advertiser, &owned),
            Some(destination) => {
                watch_tables::save(destination, &advertiser, &to_stored(&owned), &rows)
                    .with_context(|| format!("saving the snapshot in {}", destination.shown()))
            }
        })
        .await
        .context("saving the snapshot")??;
        self.previous = Some(snapshot.clone());
        Ok(())
    }
}

fn to_stored(snapshot: &Snapshot) -> StoredSnapshot {
    StoredSnapshot {
        levels: snapshot
            .levels
            .keys()
            .map(|l| l.name().to_string())
            .collect(),
        taken_at: snapshot.taken_at.clone(),
        entities: snapshot
            .levels
            .iter()
            .flat_map(|(level, entities)| {
                entities.iter().map(|(id, fields)| StoredEntity {
                    level: level.name().to_string(),
                    id: id.clone(),
                    fields: fields.clone(),
                })
            })
            .collect(),
    }
}

fn from_stored(stored: StoredSnapshot) -> Snapshot {
    let mut levels: BTreeMap<Level, BTreeMap<String, Map<String, Value>>> = stored
        .levels
        .iter()
        .filter_map(|l| Level::parse(l))
        .map(|l| (l, BTreeMap::new()))
        .collect();
    for entity in stored.entities {
        if let Some(entities) = Level::parse(&entity.level).and_then(|l| levels.get_mut(&l)) {
            entities.insert(entity.id, entity.fields);
        }
    }
    Snapshot {
        taken_at: stored.taken_at,
        levels,
    }
}
