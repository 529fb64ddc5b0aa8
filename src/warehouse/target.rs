//! A database as the target of `report sync`: opened and fitted before anything is fetched,
//! it tells the report layer how far each account got, keeps entity snapshots, and hands over
//! the sink the report's rows go to (see [`crate::report::incremental`]).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use anyhow::Result;

use super::sink::{Committed, DbSink};
use super::{Destination, TableShape, Warehouse, entities};
use crate::report::entities::Snapshot;
use crate::report::incremental::{SyncTarget, Synced};

/// An open database, its report table fitted, with what has been committed so far.
pub struct SyncInto {
    warehouse: Box<dyn Warehouse>,
    shape: TableShape,
    synced: BTreeMap<String, Synced>,
    committed: Arc<Mutex<Committed>>,
}

impl SyncInto {
    /// Opens `destination` (taking its sync lock), fits the report's table to `shape` and, with
    /// `with_entities`, the entity tables; reads each account's progress. Blocks.
    pub fn open(destination: &Destination, shape: TableShape, with_entities: bool) -> Result<Self> {
        let mut warehouse = super::open(destination)?;
        warehouse.prepare(&shape)?;
        if with_entities {
            entities::prepare(warehouse.as_mut())?;
        }
        let synced = warehouse.progress(&shape.name)?;
        Ok(Self {
            warehouse,
            shape,
            synced,
            committed: Arc::default(),
        })
    }

    /// What the run has committed: filled as windows and entity tables commit, also when the
    /// run fails later.
    pub fn committed(&self) -> Arc<Mutex<Committed>> {
        self.committed.clone()
    }
}

impl SyncTarget for SyncInto {
    type Sink = DbSink;

    fn synced(&self) -> &BTreeMap<String, Synced> {
        &self.synced
    }

    fn store_entities(
        &mut self,
        advertiser: &str,
        snapshot: &Snapshot,
        synced_at: &str,
    ) -> Result<()> {
        let counts = entities::store(self.warehouse.as_mut(), advertiser, snapshot, synced_at)?;
        let mut committed = self.committed.lock().unwrap_or_else(|p| p.into_inner());
        for (table, c) in counts {
            committed.entities.entry(table).or_default().add(c);
        }
        Ok(())
    }

    fn into_sink(self, synced_at: String) -> Result<DbSink> {
        DbSink::start(self.warehouse, self.shape, synced_at, self.committed)
    }
}
