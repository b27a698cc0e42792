//! The RDB codec as replication uses it: a snapshot serialised for a full sync (with the
//! replication aux fields, so a replica that saves it can resume with a partial resync),
//! and a master's payload loaded into a fresh dataset.

use std::io;

use super::persistence::{load_options, write_options};
use super::State;
use crate::rdb::{self, Aux, ReplAux};
use crate::replication::{LoadedDataset, RdbStats, SyncSnapshot};

/// Serialises a snapshot as an RDB, recording the replication id and offset it stands for.
pub fn write_rdb(
    state: &State,
    snapshot: &SyncSnapshot,
    out: &mut dyn io::Write,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> io::Result<RdbStats> {
    let settings = state.settings();
    let aux = Aux {
        ctime: snapshot.keyspace.taken_at_ms / 1000,
        used_mem: crate::telemetry::process::allocated_bytes(),
        repl: Some(ReplAux {
            stream_db: 0,
            id: snapshot.replid.clone(),
            offset: snapshot.offset as i64,
        }),
        functions: snapshot.functions.clone(),
        aof_base: false,
    };
    let opts = rdb::WriteOptions {
        stop: Some(stop),
        ..write_options(&settings)
    };
    let stats = rdb::write_snapshot(&snapshot.keyspace, &aux, &opts, out)
        .map_err(|e| io::Error::other(e.to_string()))?;
    Ok(RdbStats {
        bytes: stats.bytes,
        keys: stats.keys,
    })
}

/// Loads a master's RDB into a new dataset; already-expired keys are kept (the master's
/// DELs will come), as a Redis replica does. Its progress goes to
/// [`State::load_progress`] (begun and ended with the loading state).
pub fn load_rdb(state: &State, input: &mut dyn io::Read) -> Result<LoadedDataset, String> {
    let settings = state.settings();
    let opts = rdb::LoadOptions {
        progress: Some(state.load_progress.tracker()),
        ..load_options(&settings, true)
    };
    let loaded = rdb::load(input, &opts).map_err(|e| match e.offset() {
        // Redis's wording for an RDB it cannot read, which operators' tools look for.
        Some(off) => format!("Internal error in RDB reading offset {off}: {e}"),
        None => format!("Internal error in RDB: {e}"),
    })?;
    Ok(LoadedDataset {
        functions: loaded.aux.functions,
        keyspace: loaded.keyspace,
        keys: loaded.stats.keys_loaded,
    })
}
